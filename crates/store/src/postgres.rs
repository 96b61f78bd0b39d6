//! PostgreSQL: the scaled mode's source of truth, shared by every replica.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flightdeck_model::{
    Alert, AlertEvent, ApiToken, AuditEntry, Component, ComponentStatus, Deployment,
    DeploymentEvent, Environment, EnvironmentLock, Id, LiveEvent, LogLine, LogStream, Service,
    User,
};
use sqlx::{
    PgConnection, PgPool, Postgres, Transaction,
    pool::PoolConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
    types::Json,
};
use uuid::Uuid;

use crate::{
    ApiTokenRecord, AuditFilter, Backend, ConnectOptions, DeploymentFilter, DeploymentRecord,
    EnvironmentPatch, InboxRecord, InboxState, NewApiToken, NewAudit, NewDeployment,
    NewDeploymentEvent, NewEnvironment, NewInbox, NewService, NewSession, NewUser, PoolStats,
    ServicePatch, Session, StatusChange, Store, StoreError, StoreResult, TargetRecord, Tx,
    UserPatch, UserRecord,
    deploy_queries::{
        ALERT_SOURCES_SQL, DEPLOYMENT_SELECT, DeploymentEventRow, DeploymentRow,
        ENVIRONMENT_COLUMNS, EnvironmentRow, INBOX_COLUMNS, IdempotencyKey, InboxRow, LogRow,
        SERVICE_COLUMNS, ServiceRow, StoredResponse, deployments, impl_deploy_queries, kind_name,
        stream_name,
    },
    health_queries::{
        ALERT_COLUMNS, ALERT_EVENT_COLUMNS, AlertEventRow, AlertFilter, AlertRow,
        COMPONENT_COLUMNS, ComponentPatch, ComponentRow, NewComponent, alerts, components,
        episode_start, impl_health_queries,
    },
    queries::{
        AUDIT_COLUMNS, ApiTokenRow, AuditRow, EventRow, SESSION_COLUMNS, SessionRow, TOKEN_SELECT,
        USER_COLUMNS, UserRow, impl_queries, split_action,
    },
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

pub(crate) struct PgStore {
    pool: PgPool,
}

pub(crate) struct PgConn<C>(C);

// BIGSERIAL hands out numbers at insert time but transactions commit in any order, so a reader
// could see seq 12 before 11 exists and skip 11 for good. Holding one transaction-scoped advisory
// lock from the event insert to commit makes seq order equal commit order. The key is arbitrary
// but fixed ("FD" "EV").
impl_queries!(
    PgConn,
    PgConnection,
    "SELECT pg_advisory_xact_lock(1178945878)"
);
// The alert applier's lock ("FD" "AL"): one applier at a time, so notifications apply in order.
impl_deploy_queries!(
    PgConn,
    Postgres,
    PgConnection,
    "FOR UPDATE SKIP LOCKED",
    "SELECT pg_advisory_xact_lock(1178944844)"
);
impl_health_queries!(
    PgConn,
    PgConnection,
    "FOR UPDATE",
    "SELECT pg_advisory_xact_lock(1178945878)",
    pg_batch
);
crate::slo_queries::impl_slo_queries!(PgConn, PgConnection);
crate::notify_queries::impl_notify_queries!(PgConn, PgConnection);

impl PgStore {
    pub(crate) async fn connect(url: &str, options: &ConnectOptions) -> StoreResult<Self> {
        let opts: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn conn(&self) -> StoreResult<Box<dyn crate::Conn>> {
        let conn: PoolConnection<Postgres> = self.pool.acquire().await?;
        Ok(Box::new(PgConn(conn)))
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx: Transaction<'static, Postgres> = self.pool.begin().await?;
        Ok(Box::new(PgConn(tx)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: self.pool.num_idle() as u32,
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Tx for PgConn<Transaction<'static, Postgres>> {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        Ok(self.0.commit().await?)
    }
}
