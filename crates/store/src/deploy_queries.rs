//! Storage for the Deployment & Rollback Manager: catalog, deployments, targets, timeline,
//! output, executors and the webhook inbox. Same single-SQL approach as [`crate::queries`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flightdeck_model::{
    Deployment, DeploymentEvent, DeploymentKind, DeploymentStatus, Environment, EnvironmentLock,
    FreezeWindow, Id, LogLine, LogStream, Service,
};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{
    DeploymentFilter, DeploymentRecord, EnvironmentPatch, InboxRecord, InboxState, NewDeployment,
    NewDeploymentEvent, NewEnvironment, NewInbox, NewService, ServicePatch, StatusChange,
    StoreError, StoreResult, TargetRecord,
};

#[async_trait]
pub trait DeployQueries: Send {
    // --- services ---
    async fn insert_service(&mut self, new: &NewService) -> StoreResult<Service>;
    async fn service_by_slug(&mut self, slug: &str) -> StoreResult<Option<Service>>;
    /// All services by slug (the catalog is small; webhooks match against all of it).
    async fn list_services(&mut self) -> StoreResult<Vec<Service>>;
    async fn update_service(
        &mut self,
        id: Id,
        patch: &ServicePatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Service>;

    // --- environments ---
    async fn insert_environment(&mut self, new: &NewEnvironment) -> StoreResult<Environment>;
    async fn environment_by_slug(&mut self, slug: &str) -> StoreResult<Option<Environment>>;
    /// All environments by rank, then slug.
    async fn list_environments(&mut self) -> StoreResult<Vec<Environment>>;
    async fn update_environment(
        &mut self,
        id: Id,
        patch: &EnvironmentPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Environment>;
    async fn set_environment_lock(
        &mut self,
        id: Id,
        lock: Option<&EnvironmentLock>,
        now: DateTime<Utc>,
    ) -> StoreResult<Environment>;

    // --- deployments ---
    /// Fails with a conflict on `deployments_one_active` when the target already has an active
    /// deployment.
    async fn insert_deployment(&mut self, new: &NewDeployment) -> StoreResult<DeploymentRecord>;
    async fn deployment_by_id(&mut self, id: Id) -> StoreResult<Option<DeploymentRecord>>;
    /// The deployment a CI system's events are about (`github:deployment:42`).
    async fn deployment_by_external_id(
        &mut self,
        external_id: &str,
    ) -> StoreResult<Option<DeploymentRecord>>;
    /// Links a deployment started here to the CI system's record of it.
    async fn set_external_id(&mut self, id: Id, external_id: &str) -> StoreResult<()>;
    async fn deployment_by_callback_digest(
        &mut self,
        digest: &str,
    ) -> StoreResult<Option<DeploymentRecord>>;
    async fn active_deployment(
        &mut self,
        service_id: Id,
        environment_id: Id,
    ) -> StoreResult<Option<DeploymentRecord>>;
    /// Newest first.
    async fn list_deployments(
        &mut self,
        filter: &DeploymentFilter,
        limit: u32,
    ) -> StoreResult<Vec<Deployment>>;
    /// The deployment to the same target right after `after` (ids are UUIDv7: creation order).
    async fn next_deployment(
        &mut self,
        service_id: Id,
        environment_id: Id,
        after: Id,
    ) -> StoreResult<Option<Deployment>>;
    /// A target's deployments, newest first (for choosing rollback targets).
    async fn target_history(
        &mut self,
        service_id: Id,
        environment_id: Id,
        limit: u32,
    ) -> StoreResult<Vec<Deployment>>;
    async fn update_deployment_status(
        &mut self,
        id: Id,
        change: &StatusChange,
    ) -> StoreResult<DeploymentRecord>;
    async fn set_marked_bad(&mut self, id: Id, bad: bool) -> StoreResult<DeploymentRecord>;
    /// Deployments that finished in `[since, until)`, for DORA figures.
    async fn finished_deployments(
        &mut self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<Deployment>>;

    // --- targets ---
    async fn set_target_current(
        &mut self,
        service_id: Id,
        environment_id: Id,
        deployment_id: Id,
        version: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn target(
        &mut self,
        service_id: Id,
        environment_id: Id,
    ) -> StoreResult<Option<TargetRecord>>;
    /// Every target of an environment that has run something.
    async fn environment_targets(&mut self, environment_id: Id) -> StoreResult<Vec<TargetRecord>>;
    /// For an environment: what each target runs now (`current`) and its newest deployment
    /// (`latest`), in two queries whatever the number of services.
    async fn environment_deployments(
        &mut self,
        environment_id: Id,
    ) -> StoreResult<(Vec<Deployment>, Vec<Deployment>)>;

    // --- timeline and output ---
    async fn insert_deployment_event(
        &mut self,
        new: &NewDeploymentEvent,
    ) -> StoreResult<DeploymentEvent>;
    async fn deployment_events(&mut self, deployment_id: Id) -> StoreResult<Vec<DeploymentEvent>>;
    /// Appends lines, numbering them after the last stored line.
    async fn append_logs(
        &mut self,
        deployment_id: Id,
        lines: &[(LogStream, String)],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<LogLine>>;
    async fn deployment_logs(
        &mut self,
        deployment_id: Id,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<LogLine>>;

    // --- executors ---
    /// Sets the executor of an environment (`service_id` None) or of one target.
    async fn put_executor(
        &mut self,
        environment_id: Id,
        service_id: Option<Id>,
        config: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The target's own executor, else its environment's.
    async fn executor_for(
        &mut self,
        service_id: Id,
        environment_id: Id,
    ) -> StoreResult<Option<serde_json::Value>>;

    // --- inbox ---
    /// Stores a delivery; false when (source, delivery id) is already stored.
    async fn insert_inbox(&mut self, new: &NewInbox) -> StoreResult<bool>;
    /// Stores many deliveries in one statement (the ingest path's group commit); for each row,
    /// whether it was new.
    async fn insert_inbox_batch(&mut self, rows: &[NewInbox]) -> StoreResult<Vec<bool>>;
    /// Pending CI/CD deliveries (not alert notifications), oldest first, locked for this
    /// transaction where the database can.
    async fn claim_inbox(&mut self, limit: u32) -> StoreResult<Vec<InboxRecord>>;
    /// Pending alert notifications (sources [`crate::ALERT_INBOX_SOURCES`]), oldest first, after
    /// taking the alert-apply lock for this transaction (PostgreSQL; SQLite has one writer). One
    /// applier at a time across replicas, so a group's notifications apply in the order they
    /// were stored, never a later state before an earlier one.
    async fn claim_alert_inbox(&mut self, limit: u32) -> StoreResult<Vec<InboxRecord>>;
    /// Finishes many deliveries in one statement: (id, state, note).
    async fn finish_inbox_batch(
        &mut self,
        rows: &[(Id, InboxState, Option<String>)],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn inbox_delivery(&mut self, id: Id) -> StoreResult<Option<InboxRecord>>;
    /// Deletes alert notifications applied before `before` (their effect is in the alerts, their
    /// history and the audit log); CI/CD deliveries and failed notifications are kept.
    async fn prune_alert_inbox(&mut self, before: DateTime<Utc>) -> StoreResult<u64>;
    async fn finish_inbox(
        &mut self,
        id: Id,
        state: InboxState,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Newest first, optionally in one state and from one source.
    async fn list_inbox(
        &mut self,
        state: Option<InboxState>,
        source: Option<&str>,
        before: Option<Id>,
        limit: u32,
    ) -> StoreResult<Vec<InboxRecord>>;
    async fn inbox_depth(&mut self) -> StoreResult<i64>;
    /// When the oldest delivery still pending arrived: how far behind the workers are.
    async fn inbox_oldest_pending(&mut self) -> StoreResult<Option<DateTime<Utc>>>;

    // --- idempotency ---
    async fn idempotent_response(
        &mut self,
        key: &IdempotencyKey,
    ) -> StoreResult<Option<StoredResponse>>;
    /// Fails with a conflict when the key was saved meanwhile (a concurrent retry).
    async fn save_idempotent_response(
        &mut self,
        key: &IdempotencyKey,
        response: &StoredResponse,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Who sent which key to which endpoint.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub actor: String,
    pub endpoint: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// A digest of the request body, so a key reused for a different request is refused.
    pub request_digest: String,
    pub status: u16,
    pub body: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ServiceRow {
    id: Uuid,
    slug: String,
    name: String,
    team: Option<String>,
    repositories: Json<Vec<String>>,
    created_at: DateTime<Utc>,
}

impl From<ServiceRow> for Service {
    fn from(r: ServiceRow) -> Self {
        Service {
            id: r.id,
            slug: r.slug,
            name: r.name,
            team: r.team,
            repositories: r.repositories.0,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EnvironmentRow {
    id: Uuid,
    slug: String,
    name: String,
    rank: i32,
    protected: bool,
    aliases: Json<Vec<String>>,
    freeze_windows: Json<Vec<FreezeWindow>>,
    lock_reason: Option<String>,
    locked_by: Option<String>,
    locked_at: Option<DateTime<Utc>>,
    lock_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<EnvironmentRow> for Environment {
    fn from(r: EnvironmentRow) -> Self {
        let lock = match (r.lock_reason, r.locked_by, r.locked_at) {
            (Some(reason), Some(locked_by), Some(locked_at)) => Some(EnvironmentLock {
                reason,
                locked_by,
                locked_at,
                expires_at: r.lock_expires_at,
            }),
            _ => None,
        };
        Environment {
            id: r.id,
            slug: r.slug,
            name: r.name,
            rank: r.rank,
            protected: r.protected,
            aliases: r.aliases.0,
            lock,
            freeze_windows: r.freeze_windows.0,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeploymentRow {
    id: Uuid,
    service_id: Uuid,
    environment_id: Uuid,
    service: String,
    environment: String,
    version: String,
    kind: String,
    status: String,
    description: Option<String>,
    created_by: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    previous_version: Option<String>,
    rollback_to: Option<Uuid>,
    reason: Option<String>,
    marked_bad: bool,
    source: String,
    external_id: Option<String>,
    commit_sha: Option<String>,
    commit_url: Option<String>,
    ci_url: Option<String>,
    committed_at: Option<DateTime<Utc>>,
    executor: String,
}

impl DeploymentRow {
    pub(crate) fn into_record(self) -> StoreResult<DeploymentRecord> {
        let kind = match self.kind.as_str() {
            "deploy" => DeploymentKind::Deploy,
            "rollback" => DeploymentKind::Rollback,
            other => return Err(StoreError::Corrupt(format!("deployment kind `{other}`"))),
        };
        let status: DeploymentStatus = self.status.parse().map_err(StoreError::Corrupt)?;
        Ok(DeploymentRecord {
            service_id: self.service_id,
            environment_id: self.environment_id,
            external_id: self.external_id,
            deployment: Deployment {
                id: self.id,
                service: self.service,
                environment: self.environment,
                version: self.version,
                kind,
                status,
                description: self.description,
                created_by: self.created_by,
                created_at: self.created_at,
                started_at: self.started_at,
                finished_at: self.finished_at,
                previous_version: self.previous_version,
                rollback_to: self.rollback_to,
                reason: self.reason,
                marked_bad: self.marked_bad,
                source: self.source,
                commit_sha: self.commit_sha,
                commit_url: self.commit_url,
                ci_url: self.ci_url,
                committed_at: self.committed_at,
                executor: self.executor,
                callback: None,
            },
        })
    }
}

pub(crate) fn deployments(rows: Vec<DeploymentRow>) -> StoreResult<Vec<Deployment>> {
    rows.into_iter()
        .map(|r| Ok(r.into_record()?.deployment))
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeploymentEventRow {
    id: Uuid,
    deployment_id: Uuid,
    at: DateTime<Utc>,
    status: Option<String>,
    actor: String,
    message: String,
}

impl DeploymentEventRow {
    pub(crate) fn into_event(self) -> StoreResult<DeploymentEvent> {
        Ok(DeploymentEvent {
            id: self.id,
            deployment_id: self.deployment_id,
            at: self.at,
            status: self
                .status
                .map(|s| s.parse())
                .transpose()
                .map_err(StoreError::Corrupt)?,
            actor: self.actor,
            message: self.message,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LogRow {
    deployment_id: Uuid,
    n: i64,
    at: DateTime<Utc>,
    stream: String,
    line: String,
}

impl From<LogRow> for LogLine {
    fn from(r: LogRow) -> Self {
        let stream = match r.stream.as_str() {
            "stdout" => LogStream::Stdout,
            "stderr" => LogStream::Stderr,
            _ => LogStream::System,
        };
        LogLine {
            deployment_id: r.deployment_id,
            n: r.n,
            at: r.at,
            stream,
            line: r.line,
        }
    }
}

pub(crate) fn stream_name(s: LogStream) -> &'static str {
    match s {
        LogStream::Stdout => "stdout",
        LogStream::Stderr => "stderr",
        LogStream::System => "system",
    }
}

pub(crate) fn kind_name(k: DeploymentKind) -> &'static str {
    match k {
        DeploymentKind::Deploy => "deploy",
        DeploymentKind::Rollback => "rollback",
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct InboxRow {
    id: Uuid,
    source: String,
    delivery_id: String,
    received_at: DateTime<Utc>,
    event_type: Option<String>,
    body: String,
    state: String,
    attempts: i32,
    note: Option<String>,
    processed_at: Option<DateTime<Utc>>,
}

impl InboxRow {
    pub(crate) fn into_record(self) -> StoreResult<InboxRecord> {
        Ok(InboxRecord {
            state: InboxState::parse(&self.state)
                .ok_or_else(|| StoreError::Corrupt(format!("inbox state `{}`", self.state)))?,
            id: self.id,
            source: self.source,
            delivery_id: self.delivery_id,
            received_at: self.received_at,
            event_type: self.event_type,
            body: self.body,
            attempts: self.attempts,
            note: self.note,
            processed_at: self.processed_at,
        })
    }
}

pub(crate) const SERVICE_COLUMNS: &str = "id, slug, name, team, repositories, created_at";
pub(crate) const ENVIRONMENT_COLUMNS: &str = "id, slug, name, rank, protected, aliases, freeze_windows, \
     lock_reason, locked_by, locked_at, lock_expires_at, created_at";
pub(crate) const DEPLOYMENT_SELECT: &str = "SELECT d.id, d.service_id, d.environment_id, s.slug AS service, \
     e.slug AS environment, d.version, d.kind, d.status, d.description, d.created_by, d.created_at, \
     d.started_at, d.finished_at, d.previous_version, d.rollback_to, d.reason, d.marked_bad, d.source, \
     d.external_id, d.commit_sha, d.commit_url, d.ci_url, d.committed_at, d.executor \
     FROM deployments d JOIN services s ON s.id = d.service_id JOIN environments e ON e.id = d.environment_id";
/// The inbox source of Alertmanager's notifications.
pub const ALERTMANAGER_SOURCE: &str = "alertmanager";
/// The inbox source of the generic alert webhook's notifications.
pub const GENERIC_ALERTS_SOURCE: &str = "alerts";
/// The inbox sources whose deliveries are alert notifications, applied by the alert applier
/// rather than the CI/CD inbox worker.
pub const ALERT_INBOX_SOURCES: [&str; 2] = [ALERTMANAGER_SOURCE, GENERIC_ALERTS_SOURCE];
/// [`ALERT_INBOX_SOURCES`] as an SQL list (checked by the test at the end of this file).
pub(crate) const ALERT_SOURCES_SQL: &str = "('alertmanager', 'alerts')";

pub(crate) const INBOX_COLUMNS: &str =
    "id, source, delivery_id, received_at, event_type, body, state, attempts, note, processed_at";

/// Implements [`DeployQueries`] for `$wrapper<C>`; `$claim_lock` follows the inbox claim query
/// (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers on several replicas never take the same
/// delivery; SQLite has one writer and needs nothing); `$apply_lock` serialises alert appliers
/// (empty: nothing to run).
macro_rules! impl_deploy_queries {
    ($wrapper:ident, $db:ty, $conn:ty, $claim_lock:expr, $apply_lock:expr) => {
        #[async_trait::async_trait]
        impl<C> $crate::DeployQueries for $wrapper<C>
        where
            C: std::ops::DerefMut<Target = $conn> + Send,
        {
            async fn insert_service(&mut self, new: &NewService) -> StoreResult<Service> {
                let row: ServiceRow = sqlx::query_as(&format!(
                    "INSERT INTO services (id, slug, name, team, repositories, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {SERVICE_COLUMNS}"
                ))
                .bind(new.id)
                .bind(&new.slug)
                .bind(&new.name)
                .bind(new.team.as_deref())
                .bind(Json(&new.repositories))
                .bind(new.now)
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into())
            }

            async fn service_by_slug(&mut self, slug: &str) -> StoreResult<Option<Service>> {
                let row: Option<ServiceRow> =
                    sqlx::query_as(&format!("SELECT {SERVICE_COLUMNS} FROM services WHERE slug = $1"))
                        .bind(slug)
                        .fetch_optional(&mut *self.0)
                        .await?;
                Ok(row.map(Into::into))
            }

            async fn list_services(&mut self) -> StoreResult<Vec<Service>> {
                let rows: Vec<ServiceRow> =
                    sqlx::query_as(&format!("SELECT {SERVICE_COLUMNS} FROM services ORDER BY slug"))
                        .fetch_all(&mut *self.0)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn update_service(&mut self, id: Id, patch: &ServicePatch, now: DateTime<Utc>) -> StoreResult<Service> {
                let row: ServiceRow = sqlx::query_as(&format!(
                    "UPDATE services SET name = COALESCE($2, name), \
                     team = CASE WHEN $3 IS NULL THEN team ELSE NULLIF($3, '') END, \
                     repositories = COALESCE($4, repositories), updated_at = $5 WHERE id = $1 \
                     RETURNING {SERVICE_COLUMNS}"
                ))
                .bind(id)
                .bind(patch.name.as_deref())
                .bind(patch.team.as_deref())
                .bind(patch.repositories.as_ref().map(Json))
                .bind(now)
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into())
            }

            async fn insert_environment(&mut self, new: &NewEnvironment) -> StoreResult<Environment> {
                let row: EnvironmentRow = sqlx::query_as(&format!(
                    "INSERT INTO environments (id, slug, name, rank, protected, aliases, freeze_windows, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                     RETURNING {ENVIRONMENT_COLUMNS}"
                ))
                .bind(new.id)
                .bind(&new.slug)
                .bind(&new.name)
                .bind(new.rank)
                .bind(new.protected)
                .bind(Json(&new.aliases))
                .bind(Json(&new.freeze_windows))
                .bind(new.now)
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into())
            }

            async fn environment_by_slug(&mut self, slug: &str) -> StoreResult<Option<Environment>> {
                let row: Option<EnvironmentRow> =
                    sqlx::query_as(&format!("SELECT {ENVIRONMENT_COLUMNS} FROM environments WHERE slug = $1"))
                        .bind(slug)
                        .fetch_optional(&mut *self.0)
                        .await?;
                Ok(row.map(Into::into))
            }

            async fn list_environments(&mut self) -> StoreResult<Vec<Environment>> {
                let rows: Vec<EnvironmentRow> = sqlx::query_as(&format!(
                    "SELECT {ENVIRONMENT_COLUMNS} FROM environments ORDER BY rank, slug"
                ))
                .fetch_all(&mut *self.0)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn update_environment(
                &mut self,
                id: Id,
                patch: &EnvironmentPatch,
                now: DateTime<Utc>,
            ) -> StoreResult<Environment> {
                let row: EnvironmentRow = sqlx::query_as(&format!(
                    "UPDATE environments SET name = COALESCE($2, name), rank = COALESCE($3, rank), \
                     protected = COALESCE($4, protected), aliases = COALESCE($5, aliases), \
                     freeze_windows = COALESCE($6, freeze_windows), updated_at = $7 WHERE id = $1 \
                     RETURNING {ENVIRONMENT_COLUMNS}"
                ))
                .bind(id)
                .bind(patch.name.as_deref())
                .bind(patch.rank)
                .bind(patch.protected)
                .bind(patch.aliases.as_ref().map(Json))
                .bind(patch.freeze_windows.as_ref().map(Json))
                .bind(now)
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into())
            }

            async fn set_environment_lock(
                &mut self,
                id: Id,
                lock: Option<&EnvironmentLock>,
                now: DateTime<Utc>,
            ) -> StoreResult<Environment> {
                let row: EnvironmentRow = sqlx::query_as(&format!(
                    "UPDATE environments SET lock_reason = $2, locked_by = $3, locked_at = $4, \
                     lock_expires_at = $5, updated_at = $6 WHERE id = $1 RETURNING {ENVIRONMENT_COLUMNS}"
                ))
                .bind(id)
                .bind(lock.map(|l| l.reason.as_str()))
                .bind(lock.map(|l| l.locked_by.as_str()))
                .bind(lock.map(|l| l.locked_at))
                .bind(lock.and_then(|l| l.expires_at))
                .bind(now)
                .fetch_one(&mut *self.0)
                .await?;
                Ok(row.into())
            }

            async fn insert_deployment(&mut self, new: &NewDeployment) -> StoreResult<DeploymentRecord> {
                sqlx::query(
                    "INSERT INTO deployments (id, service_id, environment_id, version, kind, status, \
                     description, created_by, created_at, previous_version, rollback_to, reason, source, \
                     external_id, commit_sha, commit_url, ci_url, committed_at, executor, callback_digest) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
                )
                .bind(new.id)
                .bind(new.service_id)
                .bind(new.environment_id)
                .bind(&new.version)
                .bind(kind_name(new.kind))
                .bind(new.status.as_str())
                .bind(new.description.as_deref())
                .bind(&new.created_by)
                .bind(new.now)
                .bind(new.previous_version.as_deref())
                .bind(new.rollback_to)
                .bind(new.reason.as_deref())
                .bind(&new.source)
                .bind(new.external_id.as_deref())
                .bind(new.commit_sha.as_deref())
                .bind(new.commit_url.as_deref())
                .bind(new.ci_url.as_deref())
                .bind(new.committed_at)
                .bind(&new.executor)
                .bind(new.callback_digest.as_deref())
                .execute(&mut *self.0)
                .await?;
                self.deployment_by_id(new.id).await?.ok_or(StoreError::NotFound)
            }

            async fn deployment_by_id(&mut self, id: Id) -> StoreResult<Option<DeploymentRecord>> {
                let row: Option<DeploymentRow> = sqlx::query_as(&format!("{DEPLOYMENT_SELECT} WHERE d.id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *self.0)
                    .await?;
                row.map(DeploymentRow::into_record).transpose()
            }

            async fn deployment_by_external_id(&mut self, external_id: &str) -> StoreResult<Option<DeploymentRecord>> {
                let row: Option<DeploymentRow> =
                    sqlx::query_as(&format!("{DEPLOYMENT_SELECT} WHERE d.external_id = $1"))
                        .bind(external_id)
                        .fetch_optional(&mut *self.0)
                        .await?;
                row.map(DeploymentRow::into_record).transpose()
            }

            async fn set_external_id(&mut self, id: Id, external_id: &str) -> StoreResult<()> {
                sqlx::query("UPDATE deployments SET external_id = $2 WHERE id = $1")
                    .bind(id)
                    .bind(external_id)
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn deployment_by_callback_digest(&mut self, digest: &str) -> StoreResult<Option<DeploymentRecord>> {
                let row: Option<DeploymentRow> =
                    sqlx::query_as(&format!("{DEPLOYMENT_SELECT} WHERE d.callback_digest = $1"))
                        .bind(digest)
                        .fetch_optional(&mut *self.0)
                        .await?;
                row.map(DeploymentRow::into_record).transpose()
            }

            async fn active_deployment(
                &mut self,
                service_id: Id,
                environment_id: Id,
            ) -> StoreResult<Option<DeploymentRecord>> {
                let row: Option<DeploymentRow> = sqlx::query_as(&format!(
                    "{DEPLOYMENT_SELECT} WHERE d.service_id = $1 AND d.environment_id = $2 \
                     AND d.status IN ('queued', 'in_progress')"
                ))
                .bind(service_id)
                .bind(environment_id)
                .fetch_optional(&mut *self.0)
                .await?;
                row.map(DeploymentRow::into_record).transpose()
            }

            async fn list_deployments(&mut self, filter: &DeploymentFilter, limit: u32) -> StoreResult<Vec<Deployment>> {
                let rows: Vec<DeploymentRow> = sqlx::query_as(&format!(
                    "{DEPLOYMENT_SELECT} WHERE ($1 IS NULL OR s.slug = $1) AND ($2 IS NULL OR e.slug = $2) \
                     AND ($3 IS NULL OR d.status = $3) AND ($4 IS NULL OR d.kind = $4) \
                     AND ($5 IS NULL OR d.created_at >= $5) AND ($6 IS NULL OR d.created_at < $6) \
                     AND ($7 IS NULL OR d.id < $7) ORDER BY d.id DESC LIMIT $8"
                ))
                .bind(filter.service.as_deref())
                .bind(filter.environment.as_deref())
                .bind(filter.status.map(|s| s.as_str()))
                .bind(filter.kind.map(kind_name))
                .bind(filter.since)
                .bind(filter.until)
                .bind(filter.before_id)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                deployments(rows)
            }

            async fn next_deployment(
                &mut self,
                service_id: Id,
                environment_id: Id,
                after: Id,
            ) -> StoreResult<Option<Deployment>> {
                let row: Option<DeploymentRow> = sqlx::query_as(&format!(
                    "{DEPLOYMENT_SELECT} WHERE d.service_id = $1 AND d.environment_id = $2 AND d.id > $3 \
                     ORDER BY d.id LIMIT 1"
                ))
                .bind(service_id)
                .bind(environment_id)
                .bind(after)
                .fetch_optional(&mut *self.0)
                .await?;
                Ok(row.map(DeploymentRow::into_record).transpose()?.map(|r| r.deployment))
            }

            async fn target_history(
                &mut self,
                service_id: Id,
                environment_id: Id,
                limit: u32,
            ) -> StoreResult<Vec<Deployment>> {
                let rows: Vec<DeploymentRow> = sqlx::query_as(&format!(
                    "{DEPLOYMENT_SELECT} WHERE d.service_id = $1 AND d.environment_id = $2 \
                     ORDER BY d.id DESC LIMIT $3"
                ))
                .bind(service_id)
                .bind(environment_id)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                deployments(rows)
            }

            async fn update_deployment_status(&mut self, id: Id, change: &StatusChange) -> StoreResult<DeploymentRecord> {
                let done = sqlx::query(
                    "UPDATE deployments SET status = $2, started_at = COALESCE(started_at, $3), \
                     finished_at = COALESCE(finished_at, $4), ci_url = COALESCE($5, ci_url) WHERE id = $1",
                )
                .bind(id)
                .bind(change.status.as_str())
                .bind(change.started_at)
                .bind(change.finished_at)
                .bind(change.ci_url.as_deref())
                .execute(&mut *self.0)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                self.deployment_by_id(id).await?.ok_or(StoreError::NotFound)
            }

            async fn set_marked_bad(&mut self, id: Id, bad: bool) -> StoreResult<DeploymentRecord> {
                sqlx::query("UPDATE deployments SET marked_bad = $2 WHERE id = $1")
                    .bind(id)
                    .bind(bad)
                    .execute(&mut *self.0)
                    .await?;
                self.deployment_by_id(id).await?.ok_or(StoreError::NotFound)
            }

            async fn finished_deployments(
                &mut self,
                since: DateTime<Utc>,
                until: DateTime<Utc>,
            ) -> StoreResult<Vec<Deployment>> {
                let rows: Vec<DeploymentRow> = sqlx::query_as(&format!(
                    "{DEPLOYMENT_SELECT} WHERE d.finished_at >= $1 AND d.finished_at < $2 ORDER BY d.id"
                ))
                .bind(since)
                .bind(until)
                .fetch_all(&mut *self.0)
                .await?;
                deployments(rows)
            }

            async fn set_target_current(
                &mut self,
                service_id: Id,
                environment_id: Id,
                deployment_id: Id,
                version: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO targets (service_id, environment_id, current_deployment_id, current_version, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (service_id, environment_id) DO UPDATE SET \
                     current_deployment_id = excluded.current_deployment_id, \
                     current_version = excluded.current_version, updated_at = excluded.updated_at",
                )
                .bind(service_id)
                .bind(environment_id)
                .bind(deployment_id)
                .bind(version)
                .bind(now)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn target(&mut self, service_id: Id, environment_id: Id) -> StoreResult<Option<TargetRecord>> {
                let row: Option<(Uuid, Uuid, Option<Uuid>, Option<String>)> = sqlx::query_as(
                    "SELECT service_id, environment_id, current_deployment_id, current_version FROM targets \
                     WHERE service_id = $1 AND environment_id = $2",
                )
                .bind(service_id)
                .bind(environment_id)
                .fetch_optional(&mut *self.0)
                .await?;
                Ok(row.map(|(service_id, environment_id, current_deployment_id, current_version)| TargetRecord {
                    service_id,
                    environment_id,
                    current_deployment_id,
                    current_version,
                }))
            }

            async fn environment_targets(&mut self, environment_id: Id) -> StoreResult<Vec<TargetRecord>> {
                let rows: Vec<(Uuid, Uuid, Option<Uuid>, Option<String>)> = sqlx::query_as(
                    "SELECT service_id, environment_id, current_deployment_id, current_version FROM targets \
                     WHERE environment_id = $1",
                )
                .bind(environment_id)
                .fetch_all(&mut *self.0)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(service_id, environment_id, current_deployment_id, current_version)| TargetRecord {
                        service_id,
                        environment_id,
                        current_deployment_id,
                        current_version,
                    })
                    .collect())
            }

            async fn environment_deployments(
                &mut self,
                environment_id: Id,
            ) -> StoreResult<(Vec<Deployment>, Vec<Deployment>)> {
                let current: Vec<DeploymentRow> = sqlx::query_as(&format!(
                    "{DEPLOYMENT_SELECT} JOIN targets t ON t.current_deployment_id = d.id \
                     WHERE t.environment_id = $1"
                ))
                .bind(environment_id)
                .fetch_all(&mut *self.0)
                .await?;
                // Ids are time-ordered (UUIDv7), so the newest per target is the largest id, found
                // through `deployments_target_idx` once per service.
                let latest: Vec<DeploymentRow> = sqlx::query_as(&format!(
                    "{DEPLOYMENT_SELECT} WHERE d.environment_id = $1 AND d.id = (\
                     SELECT d2.id FROM deployments d2 WHERE d2.service_id = d.service_id \
                     AND d2.environment_id = $1 ORDER BY d2.id DESC LIMIT 1)"
                ))
                .bind(environment_id)
                .fetch_all(&mut *self.0)
                .await?;
                Ok((deployments(current)?, deployments(latest)?))
            }

            async fn insert_deployment_event(&mut self, new: &NewDeploymentEvent) -> StoreResult<DeploymentEvent> {
                let row: DeploymentEventRow = sqlx::query_as(
                    "INSERT INTO deployment_events (id, deployment_id, at, status, actor, message) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, deployment_id, at, status, actor, message",
                )
                .bind(Uuid::now_v7())
                .bind(new.deployment_id)
                .bind(new.at)
                .bind(new.status.map(|s| s.as_str()))
                .bind(&new.actor)
                .bind(&new.message)
                .fetch_one(&mut *self.0)
                .await?;
                row.into_event()
            }

            async fn deployment_events(&mut self, deployment_id: Id) -> StoreResult<Vec<DeploymentEvent>> {
                let rows: Vec<DeploymentEventRow> = sqlx::query_as(
                    "SELECT id, deployment_id, at, status, actor, message FROM deployment_events \
                     WHERE deployment_id = $1 ORDER BY id",
                )
                .bind(deployment_id)
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter().map(DeploymentEventRow::into_event).collect()
            }

            async fn append_logs(
                &mut self,
                deployment_id: Id,
                lines: &[(LogStream, String)],
                at: DateTime<Utc>,
            ) -> StoreResult<Vec<LogLine>> {
                let last: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(n) FROM deployment_logs WHERE deployment_id = $1")
                        .bind(deployment_id)
                        .fetch_one(&mut *self.0)
                        .await?;
                let mut n = last.unwrap_or(0);
                let mut out = Vec::with_capacity(lines.len());
                for (stream, line) in lines {
                    n += 1;
                    sqlx::query(
                        "INSERT INTO deployment_logs (deployment_id, n, at, stream, line) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(deployment_id)
                    .bind(n)
                    .bind(at)
                    .bind(stream_name(*stream))
                    .bind(line)
                    .execute(&mut *self.0)
                    .await?;
                    out.push(LogLine { deployment_id, n, at, stream: *stream, line: line.clone() });
                }
                Ok(out)
            }

            async fn deployment_logs(&mut self, deployment_id: Id, after: i64, limit: u32) -> StoreResult<Vec<LogLine>> {
                let rows: Vec<LogRow> = sqlx::query_as(
                    "SELECT deployment_id, n, at, stream, line FROM deployment_logs \
                     WHERE deployment_id = $1 AND n > $2 ORDER BY n LIMIT $3",
                )
                .bind(deployment_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn put_executor(
                &mut self,
                environment_id: Id,
                service_id: Option<Id>,
                config: &serde_json::Value,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "DELETE FROM executors WHERE environment_id = $1 AND \
                     (($2 IS NULL AND service_id IS NULL) OR service_id = $2)",
                )
                .bind(environment_id)
                .bind(service_id)
                .execute(&mut *self.0)
                .await?;
                sqlx::query(
                    "INSERT INTO executors (id, environment_id, service_id, config, updated_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(Uuid::now_v7())
                .bind(environment_id)
                .bind(service_id)
                .bind(Json(config))
                .bind(now)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn executor_for(&mut self, service_id: Id, environment_id: Id) -> StoreResult<Option<serde_json::Value>> {
                let row: Option<Json<serde_json::Value>> = sqlx::query_scalar(
                    "SELECT config FROM executors WHERE environment_id = $1 AND (service_id = $2 OR service_id IS NULL) \
                     ORDER BY CASE WHEN service_id IS NULL THEN 1 ELSE 0 END LIMIT 1",
                )
                .bind(environment_id)
                .bind(service_id)
                .fetch_optional(&mut *self.0)
                .await?;
                Ok(row.map(|j| j.0))
            }

            async fn insert_inbox(&mut self, new: &NewInbox) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO inbox (id, source, delivery_id, received_at, event_type, body, state) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending') ON CONFLICT (source, delivery_id) DO NOTHING",
                )
                .bind(new.id)
                .bind(&new.source)
                .bind(&new.delivery_id)
                .bind(new.now)
                .bind(new.event_type.as_deref())
                .bind(&new.body)
                .execute(&mut *self.0)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_inbox_batch(&mut self, rows: &[NewInbox]) -> StoreResult<Vec<bool>> {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO inbox (id, source, delivery_id, received_at, event_type, body, state) ",
                );
                query.push_values(rows, |mut row, new| {
                    row.push_bind(new.id)
                        .push_bind(new.source.as_str())
                        .push_bind(new.delivery_id.as_str())
                        .push_bind(new.now)
                        .push_bind(new.event_type.as_deref())
                        .push_bind(new.body.as_str())
                        .push_bind("pending");
                });
                query.push(" ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id");
                let inserted: Vec<Uuid> = query.build_query_scalar().fetch_all(&mut *self.0).await?;
                Ok(rows.iter().map(|r| inserted.contains(&r.id)).collect())
            }

            async fn claim_inbox(&mut self, limit: u32) -> StoreResult<Vec<InboxRecord>> {
                let lock: &str = $claim_lock;
                let rows: Vec<InboxRow> = sqlx::query_as(&format!(
                    "SELECT {INBOX_COLUMNS} FROM inbox WHERE state = 'pending' AND source NOT IN {ALERT_SOURCES_SQL} \
                     ORDER BY received_at, id LIMIT $1 {lock}"
                ))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter().map(InboxRow::into_record).collect()
            }

            async fn claim_alert_inbox(&mut self, limit: u32) -> StoreResult<Vec<InboxRecord>> {
                let apply_lock: &str = $apply_lock;
                if !apply_lock.is_empty() {
                    sqlx::query(apply_lock).execute(&mut *self.0).await?;
                }
                let rows: Vec<InboxRow> = sqlx::query_as(&format!(
                    "SELECT {INBOX_COLUMNS} FROM inbox WHERE state = 'pending' AND source IN {ALERT_SOURCES_SQL} \
                     ORDER BY received_at, id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter().map(InboxRow::into_record).collect()
            }

            async fn finish_inbox_batch(
                &mut self,
                rows: &[(Id, InboxState, Option<String>)],
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                // VALUES names its columns column1, column2, … on both databases.
                let mut query = sqlx::QueryBuilder::<$db>::new("UPDATE inbox SET state = v.column2, note = v.column3, processed_at = ");
                query.push_bind(now);
                query.push(", attempts = inbox.attempts + 1 FROM (");
                query.push_values(rows, |mut row, (id, state, note)| {
                    row.push_bind(*id).push_bind(state.as_str()).push_bind(note.as_deref());
                });
                query.push(") AS v WHERE inbox.id = v.column1");
                query.build().execute(&mut *self.0).await?;
                Ok(())
            }

            async fn inbox_delivery(&mut self, id: Id) -> StoreResult<Option<InboxRecord>> {
                let row: Option<InboxRow> =
                    sqlx::query_as(&format!("SELECT {INBOX_COLUMNS} FROM inbox WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *self.0)
                        .await?;
                row.map(InboxRow::into_record).transpose()
            }

            async fn prune_alert_inbox(&mut self, before: DateTime<Utc>) -> StoreResult<u64> {
                let done = sqlx::query(&format!(
                    "DELETE FROM inbox WHERE source IN {ALERT_SOURCES_SQL} AND state = 'applied' AND processed_at < $1"
                ))
                .bind(before)
                .execute(&mut *self.0)
                .await?;
                Ok(done.rows_affected())
            }

            async fn finish_inbox(
                &mut self,
                id: Id,
                state: InboxState,
                note: Option<&str>,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE inbox SET state = $2, note = $3, processed_at = $4, attempts = attempts + 1 WHERE id = $1",
                )
                .bind(id)
                .bind(state.as_str())
                .bind(note)
                .bind(now)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn list_inbox(
                &mut self,
                state: Option<InboxState>,
                source: Option<&str>,
                before: Option<Id>,
                limit: u32,
            ) -> StoreResult<Vec<InboxRecord>> {
                let rows: Vec<InboxRow> = sqlx::query_as(&format!(
                    "SELECT {INBOX_COLUMNS} FROM inbox WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR id < $2) \
                     AND ($4 IS NULL OR source = $4) ORDER BY id DESC LIMIT $3"
                ))
                .bind(state.map(InboxState::as_str))
                .bind(before)
                .bind(i64::from(limit))
                .bind(source)
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter().map(InboxRow::into_record).collect()
            }

            async fn idempotent_response(&mut self, key: &IdempotencyKey) -> StoreResult<Option<StoredResponse>> {
                let row: Option<(String, i32, String)> = sqlx::query_as(
                    "SELECT request_digest, status, response FROM idempotency_keys \
                     WHERE actor = $1 AND endpoint = $2 AND key = $3",
                )
                .bind(&key.actor)
                .bind(&key.endpoint)
                .bind(&key.key)
                .fetch_optional(&mut *self.0)
                .await?;
                Ok(row.map(|(request_digest, status, body)| StoredResponse {
                    request_digest,
                    status: status as u16,
                    body,
                }))
            }

            async fn save_idempotent_response(
                &mut self,
                key: &IdempotencyKey,
                response: &StoredResponse,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO idempotency_keys (actor, endpoint, key, request_digest, status, response, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&key.actor)
                .bind(&key.endpoint)
                .bind(&key.key)
                .bind(&response.request_digest)
                .bind(i32::from(response.status))
                .bind(&response.body)
                .bind(now)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn inbox_depth(&mut self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE state = 'pending'")
                    .fetch_one(&mut *self.0)
                    .await?)
            }

            async fn inbox_oldest_pending(&mut self) -> StoreResult<Option<DateTime<Utc>>> {
                // The first entry of `inbox_pending_idx` (state, received_at) on both databases.
                Ok(sqlx::query_scalar(
                    "SELECT received_at FROM inbox WHERE state = 'pending' ORDER BY received_at LIMIT 1",
                )
                .fetch_optional(&mut *self.0)
                .await?)
            }
        }
    };
}

pub(crate) use impl_deploy_queries;

#[cfg(test)]
mod alert_sources {
    #[test]
    fn the_sql_list_names_exactly_the_alert_sources() {
        let listed = super::ALERT_INBOX_SOURCES
            .map(|s| format!("'{s}'"))
            .join(", ");
        assert_eq!(super::ALERT_SOURCES_SQL, format!("({listed})"));
    }
}
