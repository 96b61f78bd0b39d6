//! The storage operations, grouped by aggregate, and their one SQL implementation.
//!
//! Both backends run the same statements: `$n` placeholders, `RETURNING` and `ON CONFLICT` mean
//! the same in PostgreSQL and SQLite. [`impl_queries!`] stamps the implementation out for each
//! backend's connection type so the SQL exists once; the backends differ only in pooling,
//! migrations and how event sequence numbers are serialised.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flightdeck_model::{ApiToken, AuditEntry, Id, LiveEvent, Role, User};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{
    ApiTokenRecord, AuditFilter, NewApiToken, NewAudit, NewSession, NewUser, Session, StoreError,
    StoreResult, UserPatch, UserRecord,
};

/// How much longer than the live-event retention an event the notifier has not planned is kept.
pub const UNNOTIFIED_GRACE: chrono::TimeDelta = chrono::TimeDelta::days(6);

#[async_trait]
pub trait Queries: Send {
    // --- users ---
    async fn count_users(&mut self) -> StoreResult<i64>;
    /// Active (not disabled) admins, to refuse demoting or disabling the last one.
    async fn count_active_admins(&mut self) -> StoreResult<i64>;
    async fn insert_user(&mut self, new: &NewUser) -> StoreResult<User>;
    async fn user_by_id(&mut self, id: Id) -> StoreResult<Option<UserRecord>>;
    async fn user_by_username(&mut self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Users ordered by id, after `after` when given.
    async fn list_users(&mut self, after: Option<Id>, limit: u32) -> StoreResult<Vec<User>>;
    async fn update_user(
        &mut self,
        id: Id,
        patch: &UserPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;
    async fn record_login(&mut self, id: Id, now: DateTime<Utc>) -> StoreResult<()>;

    // --- sessions ---
    async fn insert_session(&mut self, new: &NewSession) -> StoreResult<Session>;
    async fn session_by_id(&mut self, id: Id) -> StoreResult<Option<Session>>;
    /// The session whose current or previous refresh token has this digest.
    async fn session_by_refresh_digest(&mut self, digest: &str) -> StoreResult<Option<Session>>;
    /// Rotates the refresh token, but only if `expected_digest` is still the current one, so
    /// two concurrent refreshes with the same token cannot both win.
    async fn rotate_session(
        &mut self,
        id: Id,
        expected_digest: &str,
        new_digest: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn revoke_session(&mut self, id: Id, now: DateTime<Utc>) -> StoreResult<()>;
    async fn revoke_user_sessions(&mut self, user_id: Id, now: DateTime<Utc>) -> StoreResult<u64>;

    // --- API tokens ---
    async fn insert_api_token(&mut self, new: &NewApiToken) -> StoreResult<ApiToken>;
    async fn api_token_by_id(&mut self, id: Id) -> StoreResult<Option<ApiTokenRecord>>;
    async fn api_token_by_digest(&mut self, digest: &str) -> StoreResult<Option<ApiTokenRecord>>;
    /// Tokens newest first; only `user_id`'s when given.
    async fn list_api_tokens(
        &mut self,
        user_id: Option<Id>,
        before: Option<Id>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>>;
    /// Revokes a live token; `None` when it does not exist or was already revoked.
    async fn revoke_api_token(
        &mut self,
        id: Id,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ApiToken>>;
    /// Records use, at most once per `min_interval_secs` so busy scripts do not write per call.
    async fn touch_api_token(
        &mut self,
        id: Id,
        now: DateTime<Utc>,
        min_interval_secs: i64,
    ) -> StoreResult<()>;

    // --- audit ---
    async fn insert_audit(&mut self, new: &NewAudit, now: DateTime<Utc>)
    -> StoreResult<AuditEntry>;
    /// Entries newest first.
    async fn list_audit(
        &mut self,
        filter: &AuditFilter,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;

    // --- live events ---
    /// Appends an event and returns it with its sequence number. Call it last in a transaction:
    /// on PostgreSQL it serialises event writers until commit, so `seq` order is commit order.
    async fn insert_event(
        &mut self,
        kind: &str,
        data: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> StoreResult<LiveEvent>;
    async fn events_after(&mut self, seq: i64, limit: u32) -> StoreResult<Vec<LiveEvent>>;
    /// The `seq`s of [`Queries::events_after`], without reading the payloads.
    async fn event_seqs_after(&mut self, seq: i64, limit: u32) -> StoreResult<Vec<i64>>;
    /// The oldest retained seq and the newest, if any event is stored.
    async fn event_bounds(&mut self) -> StoreResult<Option<(i64, i64)>>;
    /// Deletes events older than `older_than`, except the newest one and those the notifier has
    /// not planned yet (kept up to [`UNNOTIFIED_GRACE`] longer, so a notifier that was down for
    /// a day still sends what happened meanwhile).
    async fn prune_events(&mut self, older_than: DateTime<Utc>) -> StoreResult<u64>;

    // --- settings ---
    async fn get_setting(&mut self, key: &str) -> StoreResult<Option<String>>;
    /// Sets or (with `None`) removes a setting.
    async fn put_setting(
        &mut self,
        key: &str,
        value: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Stores `value` unless the key exists; returns what is stored either way, so replicas
    /// racing to generate the same secret all end up with the first one.
    async fn init_setting(
        &mut self,
        key: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<String>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    username: String,
    password_hash: String,
    role: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
}

impl UserRow {
    pub(crate) fn into_record(self) -> StoreResult<UserRecord> {
        Ok(UserRecord {
            user: User {
                id: self.id,
                username: self.username,
                role: parse_role(&self.role)?,
                disabled: self.disabled,
                created_at: self.created_at,
                last_login_at: self.last_login_at,
            },
            password_hash: self.password_hash,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    refresh_digest: String,
    previous_digest: Option<String>,
    created_at: DateTime<Utc>,
    refreshed_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.id,
            user_id: r.user_id,
            refresh_digest: r.refresh_digest,
            previous_digest: r.previous_digest,
            created_at: r.created_at,
            refreshed_at: r.refreshed_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiTokenRow {
    id: Uuid,
    user_id: Uuid,
    owner: String,
    name: String,
    prefix: String,
    role: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl ApiTokenRow {
    pub(crate) fn into_record(self) -> StoreResult<ApiTokenRecord> {
        Ok(ApiTokenRecord {
            user_id: self.user_id,
            token: ApiToken {
                id: self.id,
                name: self.name,
                prefix: self.prefix,
                role: parse_role(&self.role)?,
                owner: self.owner,
                created_at: self.created_at,
                expires_at: self.expires_at,
                last_used_at: self.last_used_at,
                revoked_at: self.revoked_at,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: Uuid,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    target_type: String,
    target_id: String,
    before: Option<Json<serde_json::Value>>,
    after: Option<Json<serde_json::Value>>,
    reason: Option<String>,
    request_id: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            before: r.before.map(|j| j.0),
            after: r.after.map(|j| j.0),
            reason: r.reason,
            request_id: r.request_id,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    seq: i64,
    kind: String,
    at: DateTime<Utc>,
    data: Json<serde_json::Value>,
}

impl From<EventRow> for LiveEvent {
    fn from(r: EventRow) -> Self {
        LiveEvent {
            seq: r.seq,
            kind: r.kind,
            at: r.at,
            data: r.data.0,
        }
    }
}

fn parse_role(s: &str) -> StoreResult<Role> {
    s.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))
}

/// `token.` → (None, Some("token.")); `token.create` → (Some(..), None).
pub(crate) fn split_action(action: &Option<String>) -> (Option<&str>, Option<&str>) {
    match action.as_deref() {
        Some(a) if a.ends_with('.') => (None, Some(a)),
        Some(a) => (Some(a), None),
        None => (None, None),
    }
}

pub(crate) const USER_COLUMNS: &str =
    "id, username, password_hash, role, disabled, created_at, last_login_at";
pub(crate) const TOKEN_SELECT: &str = "SELECT t.id, t.user_id, u.username AS owner, t.name, \
     t.prefix, t.role, t.created_at, t.expires_at, t.last_used_at, t.revoked_at \
     FROM api_tokens t JOIN users u ON u.id = t.user_id";
pub(crate) const SESSION_COLUMNS: &str = "id, user_id, refresh_digest, previous_digest, \
     created_at, refreshed_at, expires_at, revoked_at";
pub(crate) const AUDIT_COLUMNS: &str =
    "id, at, actor, action, target_type, target_id, before, after, reason, request_id";

/// Implements [`Queries`] for `$wrapper<C>` where `C` dereferences to `$conn` (a pooled
/// connection or a transaction). `$event_lock` runs before each event insert.
macro_rules! impl_queries {
    ($wrapper:ident, $conn:ty, $event_lock:expr) => {
        #[async_trait::async_trait]
        impl<C> $crate::Queries for $wrapper<C>
        where
            C: std::ops::DerefMut<Target = $conn> + Send,
        {
            async fn count_users(&mut self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *self.0).await?)
            }

            async fn count_active_admins(&mut self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = FALSE",
                )
                .fetch_one(&mut *self.0)
                .await?)
            }

            async fn insert_user(&mut self, new: &NewUser) -> StoreResult<User> {
                let row: UserRow = sqlx::query_as(&format!(
                    "INSERT INTO users (id, username, password_hash, role, disabled, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING {USER_COLUMNS}"
                ))
                .bind(new.id)
                .bind(&new.username)
                .bind(&new.password_hash)
                .bind(new.role.as_str())
                .bind(new.now)
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into_record()?.user)
            }

            async fn user_by_id(&mut self, id: Id) -> StoreResult<Option<UserRecord>> {
                let row: Option<UserRow> =
                    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *self.0)
                        .await?;
                row.map(UserRow::into_record).transpose()
            }

            async fn user_by_username(&mut self, username: &str) -> StoreResult<Option<UserRecord>> {
                let row: Option<UserRow> =
                    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"))
                        .bind(username)
                        .fetch_optional(&mut *self.0)
                        .await?;
                row.map(UserRow::into_record).transpose()
            }

            async fn list_users(&mut self, after: Option<Id>, limit: u32) -> StoreResult<Vec<User>> {
                let rows: Vec<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
                ))
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter().map(|r| Ok(r.into_record()?.user)).collect()
            }

            async fn update_user(
                &mut self,
                id: Id,
                patch: &UserPatch,
                now: DateTime<Utc>,
            ) -> StoreResult<User> {
                let row: UserRow = sqlx::query_as(&format!(
                    "UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled), \
                     password_hash = COALESCE($4, password_hash), updated_at = $5 \
                     WHERE id = $1 RETURNING {USER_COLUMNS}"
                ))
                .bind(id)
                .bind(patch.role.map(|r| r.as_str()))
                .bind(patch.disabled)
                .bind(patch.password_hash.as_deref())
                .bind(now)
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into_record()?.user)
            }

            async fn record_login(&mut self, id: Id, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE users SET last_login_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn insert_session(&mut self, new: &NewSession) -> StoreResult<Session> {
                let row: SessionRow = sqlx::query_as(&format!(
                    "INSERT INTO sessions (id, user_id, refresh_digest, created_at, refreshed_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $4, $5) RETURNING {SESSION_COLUMNS}"
                ))
                .bind(new.id)
                .bind(new.user_id)
                .bind(&new.refresh_digest)
                .bind(new.now)
                .bind(new.expires_at)
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into())
            }

            async fn session_by_id(&mut self, id: Id) -> StoreResult<Option<Session>> {
                let row: Option<SessionRow> =
                    sqlx::query_as(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *self.0)
                        .await?;
                Ok(row.map(Into::into))
            }

            async fn session_by_refresh_digest(&mut self, digest: &str) -> StoreResult<Option<Session>> {
                let row: Option<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE refresh_digest = $1 OR previous_digest = $1"
                ))
                .bind(digest)
                .fetch_optional(&mut *self.0)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn rotate_session(
                &mut self,
                id: Id,
                expected_digest: &str,
                new_digest: &str,
                now: DateTime<Utc>,
                expires_at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE sessions SET previous_digest = refresh_digest, refresh_digest = $3, \
                     refreshed_at = $4, expires_at = $5 \
                     WHERE id = $1 AND refresh_digest = $2 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(expected_digest)
                .bind(new_digest)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *self.0)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_session(&mut self, id: Id, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn revoke_user_sessions(&mut self, user_id: Id, now: DateTime<Utc>) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                )
                .bind(user_id)
                .bind(now)
                .execute(&mut *self.0)
                .await?;
                Ok(done.rows_affected())
            }

            async fn insert_api_token(&mut self, new: &NewApiToken) -> StoreResult<ApiToken> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, user_id, name, prefix, digest, role, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(new.id)
                .bind(new.user_id)
                .bind(&new.name)
                .bind(&new.prefix)
                .bind(&new.digest)
                .bind(new.role.as_str())
                .bind(new.now)
                .bind(new.expires_at)
                .execute(&mut *self.0)
                .await?;
                self.api_token_by_id(new.id).await?.map(|r| r.token).ok_or(StoreError::NotFound)
            }

            async fn api_token_by_id(&mut self, id: Id) -> StoreResult<Option<ApiTokenRecord>> {
                let row: Option<ApiTokenRow> = sqlx::query_as(&format!("{TOKEN_SELECT} WHERE t.id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *self.0)
                    .await?;
                row.map(ApiTokenRow::into_record).transpose()
            }

            async fn api_token_by_digest(&mut self, digest: &str) -> StoreResult<Option<ApiTokenRecord>> {
                let row: Option<ApiTokenRow> =
                    sqlx::query_as(&format!("{TOKEN_SELECT} WHERE t.digest = $1"))
                        .bind(digest)
                        .fetch_optional(&mut *self.0)
                        .await?;
                row.map(ApiTokenRow::into_record).transpose()
            }

            async fn list_api_tokens(
                &mut self,
                user_id: Option<Id>,
                before: Option<Id>,
                limit: u32,
            ) -> StoreResult<Vec<ApiToken>> {
                let rows: Vec<ApiTokenRow> = sqlx::query_as(&format!(
                    "{TOKEN_SELECT} WHERE ($1 IS NULL OR t.user_id = $1) AND ($2 IS NULL OR t.id < $2) \
                     ORDER BY t.id DESC LIMIT $3"
                ))
                .bind(user_id)
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter().map(|r| Ok(r.into_record()?.token)).collect()
            }

            async fn revoke_api_token(
                &mut self,
                id: Id,
                now: DateTime<Utc>,
            ) -> StoreResult<Option<ApiToken>> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *self.0)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                Ok(self.api_token_by_id(id).await?.map(|r| r.token))
            }

            async fn touch_api_token(
                &mut self,
                id: Id,
                now: DateTime<Utc>,
                min_interval_secs: i64,
            ) -> StoreResult<()> {
                let stale_before = now - chrono::Duration::seconds(min_interval_secs);
                sqlx::query(
                    "UPDATE api_tokens SET last_used_at = $2 \
                     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
                )
                .bind(id)
                .bind(now)
                .bind(stale_before)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn insert_audit(&mut self, new: &NewAudit, now: DateTime<Utc>) -> StoreResult<AuditEntry> {
                let row: AuditRow = sqlx::query_as(&format!(
                    "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     RETURNING {AUDIT_COLUMNS}"
                ))
                .bind(Uuid::now_v7())
                .bind(now)
                .bind(&new.actor)
                .bind(&new.action)
                .bind(&new.target_type)
                .bind(&new.target_id)
                .bind(new.before.as_ref().map(Json))
                .bind(new.after.as_ref().map(Json))
                .bind(new.reason.as_deref())
                .bind(new.request_id.as_deref())
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into())
            }

            async fn list_audit(&mut self, filter: &AuditFilter, limit: u32) -> StoreResult<Vec<AuditEntry>> {
                let (exact, prefix) = split_action(&filter.action);
                let rows: Vec<AuditRow> = sqlx::query_as(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE ($1 IS NULL OR actor = $1) \
                     AND ($2 IS NULL OR action = $2) \
                     AND ($3 IS NULL OR substr(action, 1, length($3)) = $3) \
                     AND ($4 IS NULL OR target_type = $4) AND ($5 IS NULL OR target_id = $5) \
                     AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7) \
                     AND ($8 IS NULL OR id < $8) ORDER BY id DESC LIMIT $9"
                ))
                .bind(filter.actor.as_deref())
                .bind(exact)
                .bind(prefix)
                .bind(filter.target_type.as_deref())
                .bind(filter.target_id.as_deref())
                .bind(filter.since)
                .bind(filter.until)
                .bind(filter.before_id)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn insert_event(
                &mut self,
                kind: &str,
                data: &serde_json::Value,
                now: DateTime<Utc>,
            ) -> StoreResult<LiveEvent> {
                let lock: &str = $event_lock;
                if !lock.is_empty() {
                    sqlx::query(lock).execute(&mut *self.0).await?;
                }
                let row: EventRow = sqlx::query_as(
                    "INSERT INTO events (kind, at, data) VALUES ($1, $2, $3) RETURNING seq, kind, at, data",
                )
                .bind(kind)
                .bind(now)
                .bind(Json(data))
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into())
            }

            async fn events_after(&mut self, seq: i64, limit: u32) -> StoreResult<Vec<LiveEvent>> {
                let rows: Vec<EventRow> = sqlx::query_as(
                    "SELECT seq, kind, at, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(seq)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn event_seqs_after(&mut self, seq: i64, limit: u32) -> StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar("SELECT seq FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(seq)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.0)
                    .await?)
            }

            async fn event_bounds(&mut self) -> StoreResult<Option<(i64, i64)>> {
                let row: (Option<i64>, Option<i64>) =
                    sqlx::query_as("SELECT MIN(seq), MAX(seq) FROM events")
                        .fetch_one(&mut *self.0)
                        .await?;
                Ok(row.0.zip(row.1))
            }

            async fn prune_events(&mut self, older_than: DateTime<Utc>) -> StoreResult<u64> {
                // Keep the newest event whatever its age: it anchors `seq` for reconnecting
                // clients (and SQLite's AUTOINCREMENT would not reuse numbers anyway). Keep the
                // events the notifier has not planned yet too (it may be down), for up to
                // `UNNOTIFIED_GRACE` more.
                let done = sqlx::query(
                    "DELETE FROM events WHERE at < $1 AND seq < (SELECT MAX(seq) FROM events) \
                     AND (at < $2 OR seq <= (SELECT COALESCE(MIN(seq), 0) FROM notifier_cursor))",
                )
                .bind(older_than)
                .bind(older_than - crate::queries::UNNOTIFIED_GRACE)
                .execute(&mut *self.0)
                .await?;
                Ok(done.rows_affected())
            }

            async fn get_setting(&mut self, key: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn put_setting(&mut self, key: &str, value: Option<&str>, now: DateTime<Utc>) -> StoreResult<()> {
                match value {
                    Some(value) => {
                        sqlx::query(
                            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                        )
                        .bind(key)
                        .bind(value)
                        .bind(now)
                        .execute(&mut *self.0)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(&mut *self.0).await?;
                    }
                }
                Ok(())
            }

            async fn init_setting(
                &mut self,
                key: &str,
                value: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<String> {
                sqlx::query(
                    "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .bind(value)
                .bind(now)
                .execute(&mut *self.0)
                .await?;
                self.get_setting(key).await?.ok_or(StoreError::NotFound)
            }
        }
    };
}

pub(crate) use impl_queries;
