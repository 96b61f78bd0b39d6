//! The notifier: tails the durable `events` table by `seq` from a cursor kept in the database,
//! turns `alert.updated` (a new firing episode, an escalation, a resolution) and
//! `deployment.updated` (failed, timed out) into one delivery row per (happening, channel) —
//! `pending`, or `suppressed` with the reason when a silence or maintenance window covers it —
//! and advances the cursor in the same transaction; then sends due deliveries, retrying with
//! exponential backoff until `sent` or `failed`.
//!
//! Nothing is missed across restarts: the cursor only moves with the rows it planned. Nothing is
//! planned twice: a delivery is unique per (dedupe key, channel). Sending is at least once: a
//! crash between a send and its row update sends again.
//!
//! One replica at a time: with Redis, the holder of `flightdeck:lease:notifier`; without, each
//! process (the embedded mode has one). A Redis outage lets every replica work rather than none:
//! planning stays exact (unique rows), at worst a message is sent twice.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use flightdeck_domain::health::alerts::SYSTEM_ACTOR;
use flightdeck_integrations::notify::{
    RetryPolicy, SendOutcome, Sender,
    plan::{self, Subject},
};
use flightdeck_model::{Delivery, DeliveryStatus, LiveEvent, NotificationChannel, NotifyEvent};

use crate::{http::components::CatalogCopy, state::AppState};

/// The notifier's copy of every component.
pub(crate) type Components = CatalogCopy<Vec<flightdeck_model::Component>>;

pub const LEASE_KEY: &str = "flightdeck:lease:notifier";
/// The cursor's name in `notifier_cursor`.
pub const CURSOR: &str = "notifier";
const BATCH: u32 = 200;
const SEND_BATCH: u32 = 100;
/// How long a hole in `seq` is waited for before it is taken as a rolled-back transaction's:
/// on PostgreSQL a transaction that took a lower `seq` can commit after a higher one is visible.
const GAP_GRACE: Duration = Duration::from_secs(5);

pub fn retry_policy(settings: &crate::settings::NotifySettings) -> RetryPolicy {
    RetryPolicy {
        max_attempts: settings.max_attempts.max(1),
        base: Duration::from_millis(settings.backoff_base_ms),
        cap: Duration::from_secs(settings.backoff_cap_secs),
        ..RetryPolicy::default()
    }
}

/// Runs until the process ends.
pub async fn run(state: Arc<AppState>) {
    let settings = state.settings.notify.clone();
    let sender = match Sender::new(Duration::from_secs(settings.timeout_secs.max(1))) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the notification HTTP client; notifications are off");
            return;
        }
    };
    let policy = retry_policy(&settings);
    let poll = Duration::from_millis(settings.poll_ms.max(50));
    let lease_ttl = (poll * 5).max(Duration::from_secs(5));
    let replica = uuid::Uuid::now_v7().to_string();
    let mut live = Some(state.hub.subscribe());
    let mut ticker = tokio::time::interval(poll);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut gap = None;
    let mut components = Components::default();
    loop {
        // This replica's own events wake it at once; the ticker catches other replicas' events
        // and due retries.
        match &mut live {
            Some(rx) => tokio::select! {
                _ = ticker.tick() => {}
                r = rx.recv() => {
                    if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        live = None;
                    } else {
                        // One round reads every event since the cursor, so the wake-ups queued
                        // behind this one are spent: an alert storm commits thousands of events
                        // a second, and a round per event would re-read the table for nothing.
                        drain(rx);
                    }
                }
            },
            None => {
                ticker.tick().await;
            }
        }
        if !super::lease::held(&state, LEASE_KEY, &replica, lease_ttl).await {
            continue;
        }
        // A burst can leave more than one batch behind the cursor, and its wake-ups were
        // drained above: keep planning until a round comes back short.
        loop {
            match plan_new_events(&state, &mut gap, &mut components).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    tracing::error!(error = %e, "notifier: planning deliveries failed; retrying");
                    break;
                }
            }
        }
        if let Err(e) = send_due(&state, &sender, &policy).await {
            tracing::error!(error = %e, "notifier: sending deliveries failed; retrying");
        }
    }
}

/// Drops the wake-ups already queued (a lagged receiver has nothing to catch up on either).
fn drain(rx: &mut tokio::sync::broadcast::Receiver<Arc<LiveEvent>>) {
    use tokio::sync::broadcast::error::TryRecvError;
    while matches!(rx.try_recv(), Ok(_) | Err(TryRecvError::Lagged(_))) {}
}

/// How many of the events numbered `seqs` (ascending, all after `cursor`) can be planned now: up
/// to the first hole in `seq`, unless that hole has been waited on for [`GAP_GRACE`].
pub fn ready(cursor: i64, seqs: &[i64], gap: &mut Option<(i64, Instant)>, now: Instant) -> usize {
    let mut expected = cursor + 1;
    for (i, &seq) in seqs.iter().enumerate() {
        if seq != expected {
            match *gap {
                Some((seq, since)) if seq == expected => {
                    if now.duration_since(since) < GAP_GRACE {
                        return i;
                    }
                }
                _ => {
                    *gap = Some((expected, now));
                    return i;
                }
            }
        }
        expected = seq + 1;
    }
    seqs.len()
}

/// Plans deliveries for the events after the cursor and moves it, in one transaction. True when
/// it planned a whole batch, so more events may be waiting.
pub(crate) async fn plan_new_events(
    state: &AppState,
    gap: &mut Option<(i64, Instant)>,
    components: &mut Components,
) -> anyhow::Result<bool> {
    // Reads on a plain connection: most rounds find nothing, and on SQLite a transaction would
    // take the single writer every poll. One replica plans at a time (the lease), so the cursor
    // cannot move underneath; were two to race, the unique key keeps deliveries single.
    let mut db = state.store.conn().await?;
    // Migration 0007 creates the cursor; absent only if someone deleted it.
    let cursor = db.notifier_cursor(CURSOR).await?.unwrap_or(0);
    // With no channel there is nothing to plan and only the cursor moves, so the payloads are
    // not read (an alert storm writes thousands a second). A channel created later does not
    // announce what happened before it existed.
    let (events, seqs) = if db.list_channels().await?.is_empty() {
        (Vec::new(), db.event_seqs_after(cursor, BATCH).await?)
    } else {
        let events = db.events_after(cursor, BATCH).await?;
        let seqs = events.iter().map(|e| e.seq).collect();
        (events, seqs)
    };
    let take = ready(cursor, &seqs, gap, Instant::now());
    let Some(&last) = seqs[..take].last() else {
        return Ok(false);
    };
    drop(db);
    let mut tx = state.store.begin().await?;
    let channels = tx.list_channels().await?;
    if !events.is_empty() && !channels.is_empty() {
        let oldest = events[0].at;
        let silences = tx.list_silences(Some(oldest)).await?;
        // Every component (maintenance windows, names), re-read only when the catalog changed:
        // in a storm this runs every few milliseconds, and 10,000 components take ~20 ms.
        let components = components.current(&mut *tx, |all| all).await?;
        let now = Utc::now();
        for event in &events[..take] {
            let Some(trigger) = plan::trigger(&event.kind, &event.data) else {
                continue;
            };
            let escalated_by_hand = match (&trigger.event, &trigger.subject) {
                (NotifyEvent::AlertEscalated, Subject::Alert(a)) => tx
                    .alert_events(a.id)
                    .await?
                    .iter()
                    .rev()
                    .find(|e| e.action == "escalate" && e.escalation_level == a.escalation_level)
                    .is_some_and(|e| e.actor != SYSTEM_ACTOR),
                _ => false,
            };
            let cx = plan::Context {
                channels: &channels,
                silences: &silences,
                components,
                escalated_by_hand,
                public_url: Some(state.public_url.as_str()),
                at: event.at,
            };
            for planned in plan::plan(&trigger, &cx) {
                let delivery = new_delivery(event, &trigger.dedupe_key, planned, now);
                tx.insert_delivery(&delivery).await?;
            }
        }
    }
    tx.set_notifier_cursor(CURSOR, last, Utc::now()).await?;
    tx.commit().await?;
    Ok(take == BATCH as usize)
}

fn new_delivery(
    event: &LiveEvent,
    dedupe_key: &str,
    planned: plan::Planned<'_>,
    now: DateTime<Utc>,
) -> Delivery {
    let suppressed = planned.suppressed.is_some();
    Delivery {
        id: uuid::Uuid::now_v7(),
        channel_id: planned.channel.id,
        channel_name: planned.channel.name.clone(),
        channel_kind: planned.channel.config.kind().to_owned(),
        event_seq: event.seq,
        dedupe_key: dedupe_key.to_owned(),
        message: planned.message,
        status: if suppressed {
            DeliveryStatus::Suppressed
        } else {
            DeliveryStatus::Pending
        },
        reason: planned.suppressed,
        attempts: 0,
        last_error: None,
        next_attempt_at: (!suppressed).then_some(now),
        sent_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// Sends every due pending delivery once, concurrently, and records each outcome.
pub async fn send_due(
    state: &AppState,
    sender: &Sender,
    policy: &RetryPolicy,
) -> anyhow::Result<()> {
    let mut db = state.store.conn().await?;
    let now = Utc::now();
    let due: Vec<Delivery> = db
        .pending_deliveries(SEND_BATCH)
        .await?
        .into_iter()
        .filter(|d| d.next_attempt_at.is_none_or(|t| t <= now))
        .collect();
    if due.is_empty() {
        return Ok(());
    }
    let channels: HashMap<_, NotificationChannel> = db
        .list_channels()
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    drop(db);
    let attempts = due.into_iter().map(|d| {
        let channel = channels.get(&d.channel_id).cloned();
        async move {
            let outcome = match &channel {
                Some(c) if c.enabled => sender.send(&c.config, &d.message).await,
                Some(_) => SendOutcome::Permanent {
                    error: "the channel was disabled".into(),
                },
                None => SendOutcome::Permanent {
                    error: "the channel was deleted".into(),
                },
            };
            settle(d, outcome, policy, Utc::now())
        }
    });
    let settled = futures_util::future::join_all(attempts).await;
    let mut tx = state.store.begin().await?;
    for d in &settled {
        tx.update_delivery(d).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The delivery after one attempt with `outcome`.
pub fn settle(
    mut d: Delivery,
    outcome: SendOutcome,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
) -> Delivery {
    d.attempts += 1;
    d.updated_at = now;
    match outcome {
        SendOutcome::Sent => {
            d.status = DeliveryStatus::Sent;
            d.sent_at = Some(now);
            d.next_attempt_at = None;
        }
        SendOutcome::Permanent { error } => {
            d.status = DeliveryStatus::Failed;
            d.last_error = Some(error);
            d.next_attempt_at = None;
        }
        SendOutcome::Retry { error, retry_after } => {
            d.last_error = Some(error);
            match policy.delay_after(d.attempts, retry_after) {
                Some(wait) => {
                    d.next_attempt_at = Some(
                        now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
                    );
                }
                None => {
                    d.status = DeliveryStatus::Failed;
                    d.next_attempt_at = None;
                }
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hole_in_seq_holds_planning_back_until_the_grace_has_passed() {
        let start = Instant::now();
        let events = [11, 12, 14, 15];
        let mut gap = None;
        assert_eq!(ready(10, &events, &mut gap, start), 2);
        assert_eq!(gap, Some((13, start)));
        assert_eq!(
            ready(10, &events, &mut gap, start + Duration::from_secs(1)),
            2
        );
        assert_eq!(ready(10, &events, &mut gap, start + GAP_GRACE), 4);
    }

    #[test]
    fn contiguous_events_are_all_ready() {
        let mut gap = None;
        assert_eq!(ready(0, &[1, 2], &mut gap, Instant::now()), 2);
        assert_eq!(gap, None);
    }
}
