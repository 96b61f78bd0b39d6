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
//!
//! Ingest comes first: while webhook senders on this replica wait for their 202s, the applier
//! holds back (see [`Priority`]), for at most [`INGEST_FIRST`]. Applying a notification costs
//! one and a half to two times what storing it does (`make bench`), so an applier competing for
//! the same cores would cut how fast Alertmanager gets its answers in a storm by more than half,
//! and Alertmanager waits for each answer before it sends that group's next notification. The
//! first round after the queue was empty never waits, so a storm's first alerts still show at
//! once; the rest follow within about a second. The work is the same either way, done in a
//! different order: the last alert of a burst is applied no later than before.

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
/// Longest the applier holds back for ingest before it applies what waits regardless.
const INGEST_FIRST: Duration = Duration::from_secs(1);
/// How often a held-back applier looks again.
const HOLD_POLL: Duration = Duration::from_millis(10);

/// When the applier gives way to ingest.
#[derive(Debug, Default)]
struct Priority {
    /// A round has applied something since the queue was last found empty.
    started: bool,
    /// Since when it has held back with work left over.
    held_since: Option<Instant>,
}

impl Priority {
    /// Whether to wait rather than start a round, given whether a sender is waiting for its
    /// delivery to be stored.
    fn hold(&mut self, ingest_busy: bool, now: Instant) -> bool {
        // After idle the first round goes at once: those alerts are the news.
        if !self.started || !ingest_busy {
            return false;
        }
        let since = *self.held_since.get_or_insert(now);
        now.duration_since(since) < INGEST_FIRST
    }

    /// After a round that applied `n` notifications of at most `limit`.
    fn ran(&mut self, n: u32, limit: u32) {
        self.started = n > 0;
        // A partial round took everything there was: the next hold starts afresh. A full one
        // leaves a backlog, and the clock keeps running, so no notification waits for ingest
        // longer than INGEST_FIRST in all.
        if n < limit {
            self.held_since = None;
        }
    }
}

/// Runs until the process ends.
pub async fn run(state: Arc<AppState>) {
    let mut routes = Routes::default();
    // After a failed round, notifications are taken one at a time until the ones it held are
    // through, so the one at fault is found and the others still apply.
    let mut one_by_one = 0u32;
    let mut pruned = Instant::now();
    let mut priority = Priority::default();
    loop {
        if priority.hold(state.inbox_writer.busy(), Instant::now()) {
            tokio::time::sleep(HOLD_POLL).await;
            continue;
        }
        let limit = if one_by_one > 0 { 1 } else { BATCH };
        let round = drain(&state, &mut routes, limit).await;
        if let Ok(n) = round {
            priority.ran(n, limit);
        }
        match round {
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

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_first_round_after_idle_never_waits_for_ingest() {
        let mut p = Priority::default();
        assert!(!p.hold(true, Instant::now()));
        p.ran(0, BATCH);
        assert!(!p.hold(true, Instant::now()), "still idle");
    }

    #[test]
    fn later_rounds_wait_while_ingest_is_busy_for_at_most_ingest_first() {
        let t0 = Instant::now();
        let mut p = Priority::default();
        p.ran(3, BATCH);
        assert!(!p.hold(false, t0), "nobody is waiting to be stored");
        assert!(p.hold(true, t0));
        assert!(p.hold(true, t0 + INGEST_FIRST - MS));
        assert!(!p.hold(true, t0 + INGEST_FIRST), "held for long enough");
        // Full rounds work off the backlog without holding again: the clock keeps running.
        p.ran(BATCH, BATCH);
        assert!(!p.hold(true, t0 + INGEST_FIRST + 5 * MS));
        // A partial round caught up; the next hold starts afresh.
        p.ran(7, BATCH);
        let t1 = t0 + INGEST_FIRST + 10 * MS;
        assert!(p.hold(true, t1));
        assert!(p.hold(true, t1 + INGEST_FIRST / 2));
        assert!(!p.hold(true, t1 + INGEST_FIRST));
    }

    #[test]
    fn finding_the_queue_empty_resets_both() {
        let t0 = Instant::now();
        let mut p = Priority::default();
        p.ran(BATCH, BATCH);
        assert!(p.hold(true, t0));
        p.ran(0, BATCH);
        assert!(
            !p.hold(true, t0 + MS),
            "after idle the first round goes at once"
        );
        p.ran(1, BATCH);
        assert!(p.hold(true, t0 + 2 * MS), "a fresh hold");
        assert!(p.hold(true, t0 + 2 * MS + INGEST_FIRST - MS));
    }
}
