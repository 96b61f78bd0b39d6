//! The status clock: statuses that change with time alone. A maintenance window that opens or
//! closes, or an SLO whose evaluations stop arriving (stale → `unknown`), happens without any
//! request or alert to recompute the component; this worker recomputes, every
//! `status_clock_secs` (15 s by default), the components such a change can affect — those with maintenance windows, in
//! `maintenance` now, or with SLOs — and commits any `component.status_changed` it causes.
//!
//! One replica at a time (Redis lease `flightdeck:lease:status-clock`); without Redis each
//! process does it. Two rounds racing are harmless: `recompute` writes only real changes.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use flightdeck_model::ComponentStatus;

use crate::{http::components::recompute, state::AppState, workers::lease};

pub const LEASE_KEY: &str = "flightdeck:lease:status-clock";

/// Runs until the process ends.
pub async fn run(state: Arc<AppState>) {
    let interval = Duration::from_secs(state.settings.status_clock_secs.max(1));
    let replica = uuid::Uuid::now_v7().to_string();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if !lease::held(&state, LEASE_KEY, &replica, interval * 2).await {
            continue;
        }
        match round(&state, Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(changed = n, "component statuses changed with time"),
            Err(e) => {
                tracing::error!(error = %e, "status clock round failed; retrying next interval")
            }
        }
    }
}

/// Recomputes the time-sensitive components once; how many status changes it committed.
pub async fn round(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut db = state.store.conn().await?;
    let with_slos: BTreeSet<String> = db
        .list_slos(None)
        .await?
        .into_iter()
        .map(|s| s.component)
        .collect();
    let due: BTreeSet<String> = db
        .list_components()
        .await?
        .into_iter()
        .filter(|c| {
            !c.maintenance.is_empty()
                || c.status == ComponentStatus::Maintenance
                || with_slos.contains(&c.slug)
        })
        .map(|c| c.slug)
        .collect();
    drop(db);
    if due.is_empty() {
        return Ok(0);
    }
    let mut tx = state.store.begin().await?;
    let events = recompute(&mut *tx, &due, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let changed = events.len();
    state.commit(tx, None, events, now).await?;
    Ok(changed)
}
