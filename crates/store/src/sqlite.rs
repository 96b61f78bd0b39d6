//! SQLite: the embedded default. One writer connection (SQLite allows one writer at a time, and
//! queueing writers in the pool beats SQLITE_BUSY retries), several readers, WAL journal.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flightdeck_model::{
    Alert, AlertEvent, ApiToken, AuditEntry, Component, ComponentStatus, Deployment,
    DeploymentEvent, Environment, EnvironmentLock, Id, LiveEvent, LogLine, LogStream, Service,
    User,
};
use sqlx::{
    Sqlite, SqliteConnection, SqlitePool, Transaction,
    pool::PoolConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

pub(crate) struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
}

pub(crate) struct SqliteConn<C>(C);

// SQLite serialises writers itself (one writer pool connection), so no lock is needed.
impl_queries!(SqliteConn, SqliteConnection, "");
impl_deploy_queries!(SqliteConn, Sqlite, SqliteConnection, "", "");
impl_health_queries!(SqliteConn, SqliteConnection, "", "", sqlite_batch);
crate::slo_queries::impl_slo_queries!(SqliteConn, SqliteConnection);
crate::notify_queries::impl_notify_queries!(SqliteConn, SqliteConnection);

impl SqliteStore {
    pub(crate) async fn connect(url: &str, options: &ConnectOptions) -> StoreResult<Self> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::Config(
                "an in-memory SQLite database is not shared between connections; use a file".into(),
            ));
        }
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(options.create_if_missing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let folder = opts
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty());
        if let (true, Some(dir)) = (options.create_if_missing, folder) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.read_only(false))
            .await?;
        Ok(SqliteStore { writer, readers })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn conn(&self) -> StoreResult<Box<dyn crate::Conn>> {
        let conn: PoolConnection<Sqlite> = self.readers.acquire().await?;
        Ok(Box::new(SqliteConn(conn)))
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx: Transaction<'static, Sqlite> = self.writer.begin().await?;
        Ok(Box::new(SqliteConn(tx)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.readers.size() + self.writer.size(),
            idle: (self.readers.num_idle() + self.writer.num_idle()) as u32,
        }
    }

    async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }
}

#[async_trait]
impl Tx for SqliteConn<Transaction<'static, Sqlite>> {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        Ok(self.0.commit().await?)
    }
}
