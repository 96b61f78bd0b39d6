//! The alert applier: applies stored alert notifications (inbox sources
//! [`flightdeck_store::ALERT_INBOX_SOURCES`]) in the order they arrived. Each round is one
//! transaction: take the alert-apply lock (one applier at a time across replicas, so a group's
//! later state never lands before its earlier one), claim the oldest pending notifications,
//! apply them through [`crate::http::alertmanager::apply`] — episodes, their history, the status
//! rollup and the live events — and mark them applied, then commit. A crash rolls the round back
//! and it is applied again after restart: never half, never twice.
//!
//! Notifications that queued up while the previous round was committing are applied together,
//! so a burst costs a few large transactions rather than one per notification.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use flightdeck_store::{InboxRecord, InboxState};

use crate::{
    http::alertmanager::{self, Job, Routes},
    http::error::ApiResult,
    state::AppState,
};

/// Most notifications per round.
const BATCH: u32 = 256;
/// How often the applier looks for notifications stored by other replicas.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Rounds that fail are retried; a notification that fails this often alone is set aside as
/// `failed` (kept in the inbox, listed by `GET /api/v1/webhooks/deliveries?state=failed`) so it
/// cannot hold back the ones behind it.
const MAX_ATTEMPTS: i32 = 3;
/// After a round that emptied the queue, how long to let new notifications gather before the
/// next. An alert shows up this much later at most, and a storm costs a few large rounds instead
/// of one per notification.
const COALESCE: Duration = Duration::from_millis(50);
/// How often applied notifications past retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Runs until the process ends.
pub async fn run(state: Arc<AppState>) {
    let mut routes = Routes::default();
    // After a failed round, notifications are taken one at a time until the ones it held are
    // through, so the one at fault is found and the others still apply.
    let mut one_by_one = 0u32;
    let mut pruned = Instant::now();
    loop {
        let limit = if one_by_one > 0 { 1 } else { BATCH };
        match drain(&state, &mut routes, limit).await {
            Ok(0) => {
                // Woken at once by a notification stored on this replica; otherwise poll for
                // the others'.
                let _ = tokio::time::timeout(IDLE_POLL, state.alerts_ready.notified()).await;
            }
            Ok(n) => {
                one_by_one = one_by_one.saturating_sub(1);
                // A partial round means notifications are trickling in: let a few more queue
                // up rather than pay a round (a dozen statements and a commit) for each
                // handful. A full round means a backlog, which is worked off at once.
                if n < limit {
                    tokio::time::sleep(COALESCE).await;
                }
            }
            Err(Failed { claimed, error }) => {
                tracing::error!(error = %error, notifications = claimed, "applying alert notifications failed; retrying");
                one_by_one = if claimed > 1 {
                    claimed
                } else {
                    one_by_one.saturating_sub(1)
                };
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        if pruned.elapsed() >= PRUNE_EVERY {
            pruned = Instant::now();
            prune(&state).await;
        }
    }
}

struct Failed {
    claimed: u32,
    error: String,
}

impl Failed {
    fn new(claimed: u32, error: impl std::fmt::Display) -> Self {
        Failed {
            claimed,
            error: error.to_string(),
        }
    }
}

/// One round; how many notifications it applied (or set aside).
async fn drain(state: &AppState, routes: &mut Routes, limit: u32) -> Result<u32, Failed> {
    let mut tx = state.store.begin().await.map_err(|e| Failed::new(0, e))?;
    let rows = tx
        .claim_alert_inbox(limit)
        .await
        .map_err(|e| Failed::new(0, e))?;
    let claimed = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    if rows.is_empty() {
        return Ok(0);
    }
    match apply_rows(state, routes, tx, &rows).await {
        Ok(()) => Ok(claimed),
        Err(e) => {
            if claimed == 1 {
                count_attempt(state, &rows[0], &e.to_string()).await;
            }
            Err(Failed::new(claimed, e))
        }
    }
}

async fn apply_rows(
    state: &AppState,
    routes: &mut Routes,
    mut tx: Box<dyn flightdeck_store::Tx>,
    rows: &[InboxRecord],
) -> ApiResult<()> {
    let now = alertmanager::micros(Utc::now());
    let mut finished = Vec::with_capacity(rows.len());
    let mut jobs = Vec::with_capacity(rows.len());
    let mut applied = Vec::with_capacity(rows.len());
    for row in rows {
        match Job::from_stored(&row.source, &row.body) {
            Ok(job) => {
                applied.push(row.id);
                jobs.push(job);
            }
            // Checked when stored, so only a row this version no longer reads gets here.
            Err(e) => finished.push((row.id, InboxState::Failed, Some(e.to_string()))),
        }
    }
    let outcome = alertmanager::apply(&mut *tx, routes, &jobs, now).await?;
    for ((id, job), changed) in applied.into_iter().zip(&jobs).zip(&outcome.changed) {
        let note = format!(
            "{} alerts; {changed} episodes opened or changed",
            job.alerts.len()
        );
        finished.push((id, InboxState::Applied, Some(note)));
    }
    tx.finish_inbox_batch(&finished, now).await?;
    state.commit(tx, None, outcome.events, now).await?;
    Ok(())
}

/// Counts a failed attempt at one notification in its own transaction; past [`MAX_ATTEMPTS`] it
/// is set aside as failed.
async fn count_attempt(state: &AppState, row: &InboxRecord, error: &str) {
    let next = if row.attempts + 1 >= MAX_ATTEMPTS {
        InboxState::Failed
    } else {
        InboxState::Pending
    };
    let result = async {
        let mut tx = state.store.begin().await?;
        tx.finish_inbox(row.id, next, Some(error), Utc::now())
            .await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, delivery = %row.id, "recording a failed alert notification failed");
    }
}

/// Deletes applied notifications older than the live-event retention: by then their effect is
/// all in the alerts, their history and the event log.
async fn prune(state: &AppState) {
    let retention = chrono::TimeDelta::hours(i64::from(state.settings.live.retention_hours));
    let result = async {
        state
            .store
            .conn()
            .await?
            .prune_alert_inbox(Utc::now() - retention)
            .await
    }
    .await;
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!(pruned = n, "pruned applied alert notifications"),
        Err(e) => tracing::warn!(error = %e, "pruning applied alert notifications failed"),
    }
}
