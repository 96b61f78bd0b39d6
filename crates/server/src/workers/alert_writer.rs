//! Group commit for alert notifications, applied as they are stored. Concurrent requests hand
//! their checked notification (the stored form and the alerts already parsed from it) to one
//! writer, which, in a single transaction, takes the alert-apply lock, applies whatever has
//! queued up through [`alertmanager::apply`], stores the notifications as `applied` with their
//! notes, writes the live events and commits. Every request waits for that commit before it
//! answers 202, so nothing is acknowledged that is not durable, and an alert is in the feed by
//! the time its sender hears back.
//!
//! Storing notifications `pending` for the applier ([`super::alert_inbox`]) and applying them
//! there cost a second transaction, a read-back and re-parse of every body and a rewrite of every
//! inbox row; in an alert storm that was about a third of the work. The applier still handles
//! what this writer cannot apply at once:
//! - while any notification is pending (an earlier failure, or one stored by an older version),
//!   new ones are stored pending behind it, so a group's later state never lands before its
//!   earlier one;
//! - when applying a batch fails, the batch is rolled back and stored pending instead, and the
//!   applier's one-at-a-time retries find the notification at fault and set it aside.

use std::sync::Arc;

use chrono::Utc;
use flightdeck_store::{NewInbox, Tx};
use tokio::sync::{mpsc, oneshot};

use crate::{
    http::alertmanager::{self, Job, Routes},
    http::error::{ApiError, ApiResult},
    state::AppState,
};

/// Most notifications per transaction.
const MAX_BATCH: usize = 256;

/// A checked notification: its inbox row and what applying it takes.
pub(crate) struct Checked {
    pub inbox: NewInbox,
    pub job: Job,
}

type Reply = oneshot::Sender<Result<(), String>>;

pub struct AlertWriter {
    queue: mpsc::Sender<(Checked, Reply)>,
}

/// The writer's end of the queue, for [`run`].
pub struct AlertQueue(mpsc::Receiver<(Checked, Reply)>);

impl AlertWriter {
    pub fn new() -> (Self, AlertQueue) {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        (AlertWriter { queue }, AlertQueue(rx))
    }

    /// Stores a notification durably (applied, or pending behind a backlog); returns once it is
    /// committed.
    pub(crate) async fn store(&self, checked: Checked) -> ApiResult<()> {
        let (reply, answer) = oneshot::channel();
        let stopped = || ApiError::internal(anyhow::anyhow!("the alert writer stopped"));
        self.queue
            .send((checked, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(|e| {
            ApiError::internal(anyhow::anyhow!("storing the notification failed: {e}"))
        })
    }
}

/// Runs until every [`AlertWriter`] is dropped.
pub async fn run(state: Arc<AppState>, AlertQueue(mut rx): AlertQueue) {
    let mut routes = Routes::default();
    while let Some(first) = rx.recv().await {
        let (items, replies): (Vec<_>, Vec<_>) = super::with_queued(first, &mut rx, MAX_BATCH)
            .into_iter()
            .unzip();
        let (inbox, jobs): (Vec<_>, Vec<_>) = items.into_iter().map(|c| (c.inbox, c.job)).unzip();
        let result = match apply_now(&state, &mut routes, &inbox, &jobs).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                state.alerts_ready.notify_one();
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, notifications = inbox.len(), "applying alert notifications as they arrived failed; storing them for the applier");
                let pending = store_pending(&state, &inbox).await;
                state.alerts_ready.notify_one();
                pending
            }
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, notifications = inbox.len(), "storing alert notifications failed");
        }
        for reply in replies {
            let _ = reply.send(result.clone());
        }
    }
}

/// Applies and stores the batch in one transaction; false when notifications were waiting, so
/// the batch was stored pending behind them instead.
async fn apply_now(
    state: &AppState,
    routes: &mut Routes,
    inbox: &[NewInbox],
    jobs: &[Job],
) -> ApiResult<bool> {
    let now = alertmanager::micros(Utc::now());
    let mut tx = state.store.begin().await?;
    tx.lock_alert_apply().await?;
    if tx.alert_inbox_pending().await? {
        tx.insert_inbox_batch(inbox).await?;
        tx.commit().await?;
        return Ok(false);
    }
    let outcome = alertmanager::apply(&mut *tx, routes, jobs, now).await?;
    let rows: Vec<(&NewInbox, String)> = inbox
        .iter()
        .zip(jobs)
        .zip(&outcome.changed)
        .map(|((new, job), changed)| (new, alertmanager::applied_note(job, *changed)))
        .collect();
    tx.insert_applied_inbox_batch(&rows, now).await?;
    state.commit(tx, None, outcome.events, now).await?;
    Ok(true)
}

/// Stores the batch pending. A notification already stored (the failed commit went through
/// after all) is left as it is.
async fn store_pending(state: &AppState, inbox: &[NewInbox]) -> Result<(), String> {
    async {
        let mut tx: Box<dyn Tx> = state.store.begin().await?;
        tx.insert_inbox_batch(inbox).await?;
        tx.commit().await
    }
    .await
    .map_err(|e| e.to_string())
}
