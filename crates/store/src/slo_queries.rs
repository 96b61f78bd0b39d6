//! Storage for SLOs and their evaluation history. An SLO row keeps the wire [`Slo`] whole as
//! JSON (definition and latest evaluation are always read and written together); the history
//! keeps one row per evaluation for trend charts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flightdeck_model::{Id, Slo, SloBurnRate};
use sqlx::types::Json;
use uuid::Uuid;

use crate::StoreResult;

/// One stored evaluation of an SLO.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SloHistoryRow {
    pub at: DateTime<Utc>,
    pub current: Option<f64>,
    pub budget_remaining: Option<f64>,
    pub burn_rates: Json<Vec<SloBurnRate>>,
    pub error: Option<String>,
}

#[async_trait]
pub trait SloQueries: Send {
    /// Inserts a new SLO; a (component, name) already taken is a conflict.
    async fn insert_slo(&mut self, slo: &Slo) -> StoreResult<Slo>;
    async fn slo_by_id(&mut self, id: Id) -> StoreResult<Option<Slo>>;
    /// SLOs of one component, or all, by component and name.
    async fn list_slos(&mut self, component: Option<&str>) -> StoreResult<Vec<Slo>>;
    /// Deletes an SLO and its history; whether it existed.
    async fn delete_slo(&mut self, id: Id) -> StoreResult<bool>;
    /// Stores `slo` (after an evaluation) and appends its evaluation to the history.
    async fn record_slo_evaluation(&mut self, slo: &Slo, at: DateTime<Utc>) -> StoreResult<()>;
    /// The newest `limit` evaluations of an SLO, oldest first.
    async fn slo_history(&mut self, id: Id, limit: u32) -> StoreResult<Vec<SloHistoryRow>>;
    /// The newest `limit` evaluations of an SLO at or after `since` (all when `None`), oldest
    /// first.
    async fn slo_history_since(
        &mut self,
        id: Id,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<SloHistoryRow>>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct SloRow {
    pub(crate) body: Json<Slo>,
}

pub(crate) fn new_history_id() -> Uuid {
    Uuid::now_v7()
}

/// Implements [`SloQueries`] for `$wrapper<C>`.
macro_rules! impl_slo_queries {
    ($wrapper:ident, $conn:ty) => {
        #[async_trait::async_trait]
        impl<C> $crate::SloQueries for $wrapper<C>
        where
            C: std::ops::DerefMut<Target = $conn> + Send,
        {
            async fn insert_slo(
                &mut self,
                slo: &flightdeck_model::Slo,
            ) -> StoreResult<flightdeck_model::Slo> {
                sqlx::query(
                    "INSERT INTO slos (id, component, name, body, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(slo.id)
                .bind(&slo.component)
                .bind(&slo.name)
                .bind(sqlx::types::Json(slo))
                .bind(slo.created_at)
                .execute(&mut *self.0)
                .await?;
                Ok(slo.clone())
            }

            async fn slo_by_id(
                &mut self,
                id: flightdeck_model::Id,
            ) -> StoreResult<Option<flightdeck_model::Slo>> {
                let row: Option<$crate::slo_queries::SloRow> =
                    sqlx::query_as("SELECT body FROM slos WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *self.0)
                        .await?;
                Ok(row.map(|r| r.body.0))
            }

            async fn list_slos(
                &mut self,
                component: Option<&str>,
            ) -> StoreResult<Vec<flightdeck_model::Slo>> {
                let rows: Vec<$crate::slo_queries::SloRow> = sqlx::query_as(
                    "SELECT body FROM slos WHERE ($1 IS NULL OR component = $1) \
                     ORDER BY component, name",
                )
                .bind(component)
                .fetch_all(&mut *self.0)
                .await?;
                Ok(rows.into_iter().map(|r| r.body.0).collect())
            }

            async fn delete_slo(&mut self, id: flightdeck_model::Id) -> StoreResult<bool> {
                sqlx::query("DELETE FROM slo_history WHERE slo_id = $1")
                    .bind(id)
                    .execute(&mut *self.0)
                    .await?;
                let done = sqlx::query("DELETE FROM slos WHERE id = $1")
                    .bind(id)
                    .execute(&mut *self.0)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn record_slo_evaluation(
                &mut self,
                slo: &flightdeck_model::Slo,
                at: chrono::DateTime<chrono::Utc>,
            ) -> StoreResult<()> {
                let updated = sqlx::query("UPDATE slos SET body = $2, updated_at = $3 WHERE id = $1")
                    .bind(slo.id)
                    .bind(sqlx::types::Json(slo))
                    .bind(at)
                    .execute(&mut *self.0)
                    .await?;
                if updated.rows_affected() == 0 {
                    // Deleted while it was being evaluated: nothing to record.
                    return Ok(());
                }
                sqlx::query(
                    "INSERT INTO slo_history (id, slo_id, at, current, budget_remaining, burn_rates, error) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind($crate::slo_queries::new_history_id())
                .bind(slo.id)
                .bind(at)
                .bind(slo.current)
                .bind(slo.budget_remaining)
                .bind(sqlx::types::Json(&slo.burn_rates))
                .bind(slo.error.as_deref())
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn slo_history(
                &mut self,
                id: flightdeck_model::Id,
                limit: u32,
            ) -> StoreResult<Vec<$crate::SloHistoryRow>> {
                let mut rows: Vec<$crate::SloHistoryRow> = sqlx::query_as(
                    "SELECT at, current, budget_remaining, burn_rates, error FROM slo_history \
                     WHERE slo_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
                )
                .bind(id)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                rows.reverse();
                Ok(rows)
            }

            async fn slo_history_since(
                &mut self,
                id: flightdeck_model::Id,
                since: Option<chrono::DateTime<chrono::Utc>>,
                limit: u32,
            ) -> StoreResult<Vec<$crate::SloHistoryRow>> {
                let mut rows: Vec<$crate::SloHistoryRow> = sqlx::query_as(
                    "SELECT at, current, budget_remaining, burn_rates, error FROM slo_history \
                     WHERE slo_id = $1 AND ($2 IS NULL OR at >= $2) \
                     ORDER BY at DESC, id DESC LIMIT $3",
                )
                .bind(id)
                .bind(since)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                rows.reverse();
                Ok(rows)
            }
        }
    };
}
pub(crate) use impl_slo_queries;
