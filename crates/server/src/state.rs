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
    /// Outbound HTTP (webhook executors).
    pub http: reqwest::Client,
    pub executions: crate::deploy::executor::Executions,
    /// How pipelines reach this server (callback URLs): `FLIGHTDECK_PUBLIC_URL`, else the
    /// address it listens on.
    pub public_url: String,
    /// Wakes this replica's inbox worker when a delivery is stored.
    pub inbox_ready: tokio::sync::Notify,
    /// Stores webhook deliveries with group commit.
    pub inbox_writer: crate::workers::inbox_writer::InboxWriter,
    /// Wakes this replica's alert applier when a notification is stored.
    pub alerts_ready: tokio::sync::Notify,
    /// Webhook secrets set through the API, cached briefly (they are read on every delivery).
    pub webhook_secrets: crate::http::webhooks::SecretCache,
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

impl AppState {
    /// Appends the live events (and the audit entry with its own event) to `tx`, commits, and
    /// only then publishes — so clients never hear of a change that did not happen.
    pub async fn commit(
        &self,
        mut tx: Box<dyn Tx>,
        audit: Option<&NewAudit>,
        events: Vec<(&str, serde_json::Value)>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // One statement (and one take of the event-order lock) for all of them.
        let mut published = tx.insert_events(events, now).await?;
        if let Some(entry) = audit {
            published.push(record_audit(&mut *tx, entry, now).await?);
        }
        tx.commit().await?;
        self.hub.publish(published);
        Ok(())
    }
}
