//! Flightdeck's storage: one [`Store`] interface, implemented for PostgreSQL and SQLite.
//!
//! [`connect`] picks the backend from the URL scheme — the only place that does — and applies the
//! backend's embedded migrations. Reads go through [`Store::conn`]; anything that writes more
//! than one row goes through [`Store::begin`], so a change, its audit entry and its live event
//! commit together or not at all.

mod deploy_queries;
mod error;
mod health_queries;
mod notify_queries;
mod postgres;
mod queries;
mod records;
mod slo_queries;
mod sqlite;
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;

pub use deploy_queries::{
    ALERT_INBOX_SOURCES, ALERTMANAGER_SOURCE, DeployQueries, GENERIC_ALERTS_SOURCE, IdempotencyKey,
    StoredResponse,
};
pub use error::{StoreError, StoreResult};
pub use health_queries::{AlertFilter, ComponentPatch, HealthQueries, NewComponent};
pub use notify_queries::{DeliveryFilter, NotifyQueries};
pub use queries::Queries;
pub use records::*;
pub use slo_queries::{SloHistoryRow, SloQueries};

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// A pooled connection for reads and single-statement writes.
    async fn conn(&self) -> StoreResult<Box<dyn Conn>>;
    /// A transaction; dropped without [`Tx::commit`], it rolls back.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// Cheap round trip, for readiness.
    async fn ping(&self) -> StoreResult<()>;
    fn pool_stats(&self) -> PoolStats;
    /// Closes the pool; pending work finishes first.
    async fn close(&self);
}

/// Everything a connection can do.
pub trait Conn: Queries + DeployQueries + HealthQueries + SloQueries + NotifyQueries {}
impl<T: Queries + DeployQueries + HealthQueries + SloQueries + NotifyQueries> Conn for T {}

#[async_trait]
pub trait Tx: Queries + DeployQueries + HealthQueries + SloQueries + NotifyQueries {
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// Options that do not belong in the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// SQLite only: create the file (and its folder) when missing.
    pub create_if_missing: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 10,
            create_if_missing: true,
        }
    }
}

/// Opens the database named by `url` (`sqlite://path`, `sqlite::memory:` is refused because each
/// pooled connection would see its own empty database; `postgres://…`) and migrates it.
pub async fn connect(url: &str, options: &ConnectOptions) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url, options).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url, options).await?))
    } else {
        Err(StoreError::Config(format!(
            "DATABASE_URL must start with sqlite:// or postgres:// (got `{}`)",
            url.split(':').next().unwrap_or_default()
        )))
    }
}
