//! The auto-escalator: unacknowledged critical alerts escalate by themselves.
//!
//! Every check interval (a quarter of `alert_escalate_after_secs`, at most 30 s, at least 1 s) it
//! reads the open, firing, critical alerts that started at least `alert_escalate_after_secs`
//! ago and escalates each one the domain's [`dalerts::auto_escalation`] says is due: level + 1,
//! to `alert_escalation_target`, recorded as [`dalerts::SYSTEM_ACTOR`] — the alert, its event,
//! an audit entry and the `alert.updated` live event commit in one transaction per alert. The
//! alert is read again, locked, inside that transaction, so an acknowledgement that lands first
//! wins and nothing is escalated twice. The domain only escalates `open` alerts, so each alert
//! is escalated once by the timer; people escalate further by hand.
//!
//! One replica at a time, like the SLO poller: with Redis the holder of
//! `flightdeck:lease:escalator` works; without Redis each process does (the embedded mode has
//! one). When Redis cannot be reached the round runs anyway: the per-alert lock and re-check make
//! a concurrent round harmless, while a skipped one would leave a critical alert unanswered.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use flightdeck_domain::health::alerts::{self as dalerts, TriageAction};
use flightdeck_model::{Alert, AlertEvent, TriageState};
use flightdeck_store::NewAudit;

use crate::{
    http::{
        alerts::ALERT_UPDATED,
        components::{convert, episode, recompute, to_json},
    },
    state::AppState,
    workers::lease,
};

pub const LEASE_KEY: &str = "flightdeck:lease:escalator";
/// Alerts escalated per round at most; the rest wait for the next round (oldest first).
const BATCH: u32 = 500;

/// How often to look for alerts due: often enough that one escalates within a quarter of its
/// delay, never more often than every second nor less often than every 30 s.
pub fn check_interval(escalate_after: Duration) -> Duration {
    (escalate_after / 4).clamp(Duration::from_secs(1), Duration::from_secs(30))
}

/// Runs until the process ends; returns at once when auto-escalation is off.
pub async fn run(state: Arc<AppState>) {
    let secs = state.settings.alert_escalate_after_secs;
    if secs == 0 {
        return;
    }
    let after = Duration::from_secs(secs);
    let interval = check_interval(after);
    let replica = uuid::Uuid::now_v7().to_string();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if !lease::held(&state, LEASE_KEY, &replica, interval * 2).await {
            continue;
        }
        match round(&state, after, Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                escalated = n,
                "auto-escalated unacknowledged critical alerts"
            ),
            Err(e) => {
                tracing::error!(error = %e, "auto-escalation round failed; retrying next interval")
            }
        }
    }
}

/// Escalates every alert due at `now`; how many it escalated.
pub async fn round(state: &AppState, after: Duration, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let after = chrono::Duration::from_std(after)?;
    let candidates = state
        .store
        .conn()
        .await?
        .escalation_candidates(now - after, BATCH)
        .await?;
    let mut escalated = 0;
    for candidate in candidates {
        if escalate_one(state, &candidate, after, now).await? {
            escalated += 1;
        }
    }
    Ok(escalated)
}

/// Escalates one alert if it is still due once locked; whether it did.
async fn escalate_one(
    state: &AppState,
    candidate: &Alert,
    after: chrono::Duration,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let mut tx = state.store.begin().await?;
    // Read again under the row lock: someone may have acknowledged it since the candidates query.
    let Some(before) = tx
        .alert_episode(
            &candidate.source,
            &candidate.fingerprint,
            candidate.starts_at,
        )
        .await?
    else {
        return Ok(false);
    };
    let Some(mut event) = dalerts::auto_escalation(&episode(&before), now, after) else {
        return Ok(false);
    };
    let target = Some(state.settings.alert_escalation_target.clone()).filter(|t| !t.is_empty());
    if let TriageAction::Escalate { target: t } = &mut event.action {
        t.clone_from(&target);
    }
    let to: TriageState = convert(event.to);
    let alert = tx
        .update_alert(&Alert {
            state: to,
            escalation_level: event.escalation_level,
            last_note: event.note.clone().or(before.last_note.clone()),
            updated_at: now,
            ..before.clone()
        })
        .await?;
    tx.insert_alert_event(&AlertEvent {
        id: uuid::Uuid::now_v7(),
        alert_id: alert.id,
        at: now,
        actor: event.by.clone(),
        action: "escalate".into(),
        from_state: Some(before.state),
        to_state: to,
        escalation_level: event.escalation_level,
        target: target.clone(),
        note: event.note.clone(),
    })
    .await?;
    let mut events = vec![(ALERT_UPDATED, to_json(&alert))];
    if let Some(component) = &alert.component {
        events.extend(
            recompute(&mut *tx, &BTreeSet::from([component.clone()]), now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    let entry = NewAudit {
        actor: event.by,
        action: "alert.escalate".into(),
        target_type: "alert".into(),
        target_id: alert.id.to_string(),
        before: Some(
            serde_json::json!({ "state": before.state, "escalation_level": before.escalation_level }),
        ),
        after: Some(
            serde_json::json!({ "state": alert.state, "escalation_level": alert.escalation_level, "target": target }),
        ),
        reason: event.note,
        request_id: None,
    };
    state.commit(tx, Some(&entry), events, now).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::check_interval;
    use std::time::Duration;

    #[test]
    fn the_check_interval_is_a_quarter_of_the_delay_between_one_and_thirty_seconds() {
        assert_eq!(
            check_interval(Duration::from_secs(900)),
            Duration::from_secs(30)
        );
        assert_eq!(
            check_interval(Duration::from_secs(60)),
            Duration::from_secs(15)
        );
        assert_eq!(
            check_interval(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }
}
