//! What every handler shares.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use flightdeck_model::LiveEvent;
use flightdeck_store::{NewAudit, Store, StoreResult, Tx};

use crate::{
    auth::{jwt::JwtKeys, limiter::RateLimiter},
    live::Hub,
    metrics::Metrics,
    settings::Settings,
};

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub jwt: JwtKeys,
    pub hub: Arc<Hub>,
    pub limiter: RateLimiter,
    pub redis: Option<deadpool_redis::Pool>,
    pub metrics: Metrics,
}

/// The live event type for a new audit entry.
pub const AUDIT_CREATED: &str = "audit.created";

/// Appends an audit entry and its `audit.created` live event inside `tx`, so the change, its
/// record and its notification commit together. Publish the returned event after commit.
pub async fn record_audit(
    tx: &mut dyn Tx,
    entry: &NewAudit,
    now: DateTime<Utc>,
) -> StoreResult<LiveEvent> {
    let saved = tx.insert_audit(entry, now).await?;
    let data = serde_json::to_value(&saved).expect("audit entries serialise");
    tx.insert_event(AUDIT_CREATED, &data, now).await
}
