//! Storage for notifications: silences, channels (the wire types whole as JSON), the delivery
//! log (unique per dedupe key and channel) and the notifier's cursor into `events`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flightdeck_model::{Delivery, DeliveryStatus, Id, NotificationChannel, Silence};
use sqlx::types::Json;

use crate::StoreResult;

/// Filters for the delivery log, newest first.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub channel: Option<Id>,
    pub status: Option<DeliveryStatus>,
    /// Only deliveries older than this one (the cursor).
    pub before_id: Option<Id>,
}

#[async_trait]
pub trait NotifyQueries: Send {
    async fn insert_silence(&mut self, silence: &Silence) -> StoreResult<()>;
    async fn update_silence(&mut self, silence: &Silence) -> StoreResult<()>;
    async fn silence_by_id(&mut self, id: Id) -> StoreResult<Option<Silence>>;
    /// Every silence, newest first; `ending_after`: only those that end later (the live ones).
    async fn list_silences(
        &mut self,
        ending_after: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<Silence>>;

    /// A name already taken is a conflict.
    async fn insert_channel(&mut self, channel: &NotificationChannel) -> StoreResult<()>;
    async fn update_channel(&mut self, channel: &NotificationChannel) -> StoreResult<()>;
    async fn channel_by_id(&mut self, id: Id) -> StoreResult<Option<NotificationChannel>>;
    /// By name.
    async fn list_channels(&mut self) -> StoreResult<Vec<NotificationChannel>>;
    async fn delete_channel(&mut self, id: Id) -> StoreResult<bool>;

    /// Inserts a delivery unless one with its (dedupe key, channel) exists; whether it did.
    async fn insert_delivery(&mut self, delivery: &Delivery) -> StoreResult<bool>;
    async fn update_delivery(&mut self, delivery: &Delivery) -> StoreResult<()>;
    async fn delivery_by_id(&mut self, id: Id) -> StoreResult<Option<Delivery>>;
    /// Pending deliveries, soonest due first.
    async fn pending_deliveries(&mut self, limit: u32) -> StoreResult<Vec<Delivery>>;
    async fn list_deliveries(
        &mut self,
        filter: &DeliveryFilter,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;

    async fn notifier_cursor(&mut self, name: &str) -> StoreResult<Option<i64>>;
    async fn set_notifier_cursor(
        &mut self,
        name: &str,
        seq: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct SilenceRow {
    pub(crate) body: Json<Silence>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChannelRow {
    pub(crate) body: Json<NotificationChannel>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    pub(crate) body: Json<Delivery>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CursorRow {
    pub(crate) seq: i64,
}

/// Implements [`NotifyQueries`] for `$wrapper<C>`.
macro_rules! impl_notify_queries {
    ($wrapper:ident, $conn:ty) => {
        #[async_trait::async_trait]
        impl<C> $crate::NotifyQueries for $wrapper<C>
        where
            C: std::ops::DerefMut<Target = $conn> + Send,
        {
            async fn insert_silence(&mut self, s: &flightdeck_model::Silence) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO silences (id, starts_at, ends_at, body, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(s.id)
                .bind(s.starts_at)
                .bind(s.ends_at)
                .bind(sqlx::types::Json(s))
                .bind(s.created_at)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn update_silence(&mut self, s: &flightdeck_model::Silence) -> StoreResult<()> {
                sqlx::query("UPDATE silences SET starts_at = $2, ends_at = $3, body = $4 WHERE id = $1")
                    .bind(s.id)
                    .bind(s.starts_at)
                    .bind(s.ends_at)
                    .bind(sqlx::types::Json(s))
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn silence_by_id(
                &mut self,
                id: flightdeck_model::Id,
            ) -> StoreResult<Option<flightdeck_model::Silence>> {
                let row: Option<$crate::notify_queries::SilenceRow> =
                    sqlx::query_as("SELECT body FROM silences WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *self.0)
                        .await?;
                Ok(row.map(|r| r.body.0))
            }

            async fn list_silences(
                &mut self,
                ending_after: Option<chrono::DateTime<chrono::Utc>>,
            ) -> StoreResult<Vec<flightdeck_model::Silence>> {
                let rows: Vec<$crate::notify_queries::SilenceRow> =
                    sqlx::query_as("SELECT body FROM silences ORDER BY id DESC")
                        .fetch_all(&mut *self.0)
                        .await?;
                // Filtered here rather than in SQL: SQLite compares timestamps as text.
                Ok(rows
                    .into_iter()
                    .map(|r| r.body.0)
                    .filter(|s| ending_after.is_none_or(|t| s.ends_at > t))
                    .collect())
            }

            async fn insert_channel(
                &mut self,
                c: &flightdeck_model::NotificationChannel,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO notification_channels (id, name, body, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(c.id)
                .bind(&c.name)
                .bind(sqlx::types::Json(c))
                .bind(c.created_at)
                .bind(c.updated_at)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn update_channel(
                &mut self,
                c: &flightdeck_model::NotificationChannel,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE notification_channels SET name = $2, body = $3, updated_at = $4 WHERE id = $1",
                )
                .bind(c.id)
                .bind(&c.name)
                .bind(sqlx::types::Json(c))
                .bind(c.updated_at)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn channel_by_id(
                &mut self,
                id: flightdeck_model::Id,
            ) -> StoreResult<Option<flightdeck_model::NotificationChannel>> {
                let row: Option<$crate::notify_queries::ChannelRow> =
                    sqlx::query_as("SELECT body FROM notification_channels WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *self.0)
                        .await?;
                Ok(row.map(|r| r.body.0))
            }

            async fn list_channels(
                &mut self,
            ) -> StoreResult<Vec<flightdeck_model::NotificationChannel>> {
                let rows: Vec<$crate::notify_queries::ChannelRow> =
                    sqlx::query_as("SELECT body FROM notification_channels ORDER BY name")
                        .fetch_all(&mut *self.0)
                        .await?;
                Ok(rows.into_iter().map(|r| r.body.0).collect())
            }

            async fn delete_channel(&mut self, id: flightdeck_model::Id) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM notification_channels WHERE id = $1")
                    .bind(id)
                    .execute(&mut *self.0)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn insert_delivery(&mut self, d: &flightdeck_model::Delivery) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO notification_deliveries \
                     (id, channel_id, dedupe_key, event_seq, status, next_attempt_at, body, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (dedupe_key, channel_id) DO NOTHING",
                )
                .bind(d.id)
                .bind(d.channel_id)
                .bind(&d.dedupe_key)
                .bind(d.event_seq)
                .bind(d.status.as_str())
                .bind(d.next_attempt_at)
                .bind(sqlx::types::Json(d))
                .bind(d.created_at)
                .bind(d.updated_at)
                .execute(&mut *self.0)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn update_delivery(&mut self, d: &flightdeck_model::Delivery) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE notification_deliveries SET status = $2, next_attempt_at = $3, body = $4, \
                     updated_at = $5 WHERE id = $1",
                )
                .bind(d.id)
                .bind(d.status.as_str())
                .bind(d.next_attempt_at)
                .bind(sqlx::types::Json(d))
                .bind(d.updated_at)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn delivery_by_id(
                &mut self,
                id: flightdeck_model::Id,
            ) -> StoreResult<Option<flightdeck_model::Delivery>> {
                let row: Option<$crate::notify_queries::DeliveryRow> =
                    sqlx::query_as("SELECT body FROM notification_deliveries WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *self.0)
                        .await?;
                Ok(row.map(|r| r.body.0))
            }

            async fn pending_deliveries(
                &mut self,
                limit: u32,
            ) -> StoreResult<Vec<flightdeck_model::Delivery>> {
                let rows: Vec<$crate::notify_queries::DeliveryRow> = sqlx::query_as(
                    "SELECT body FROM notification_deliveries WHERE status = 'pending' \
                     ORDER BY next_attempt_at, id LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                Ok(rows.into_iter().map(|r| r.body.0).collect())
            }

            async fn list_deliveries(
                &mut self,
                filter: &$crate::DeliveryFilter,
                limit: u32,
            ) -> StoreResult<Vec<flightdeck_model::Delivery>> {
                let rows: Vec<$crate::notify_queries::DeliveryRow> = sqlx::query_as(
                    "SELECT body FROM notification_deliveries \
                     WHERE ($1 IS NULL OR channel_id = $1) AND ($2 IS NULL OR status = $2) \
                     AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
                )
                .bind(filter.channel)
                .bind(filter.status.map(|s| s.as_str()))
                .bind(filter.before_id)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                Ok(rows.into_iter().map(|r| r.body.0).collect())
            }

            async fn notifier_cursor(&mut self, name: &str) -> StoreResult<Option<i64>> {
                let row: Option<$crate::notify_queries::CursorRow> =
                    sqlx::query_as("SELECT seq FROM notifier_cursor WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&mut *self.0)
                        .await?;
                Ok(row.map(|r| r.seq))
            }

            async fn set_notifier_cursor(
                &mut self,
                name: &str,
                seq: i64,
                now: chrono::DateTime<chrono::Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO notifier_cursor (name, seq, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(seq)
                .bind(now)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_notify_queries;
