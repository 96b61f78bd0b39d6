//! Alerts: episodes from the source, the triage state machine, auto-escalation and notification.
//!
//! An alert is identified by (source, fingerprint), but one fingerprint fires many times: each
//! firing is an **episode**, keyed by fingerprint and `startsAt` ([`episode_key`]). Alertmanager
//! posts the whole group's current state on every notification, and an HA pair posts it twice, so
//! [`ingest`] must be idempotent: the same report again changes nothing.
//!
//! Triage is ours, separate from the source's `firing`/`resolved`:
//!
//! ```text
//! open ──ack──▶ acknowledged ──escalate──▶ escalated ──ack──▶ acknowledged
//!   └────────────escalate──────────────────▲  └─escalate (level + 1)─┘
//! any of them ──resolve (by hand, or the source resolves)──▶ resolved   (final for the episode)
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Longest triage note, in characters.
pub const MAX_NOTE_LEN: usize = 2000;
/// Longest escalation target (a person, rota or channel name), in characters.
pub const MAX_TARGET_LEN: usize = 200;
/// Who the triage events Flightdeck makes by itself (auto-escalation) are recorded as.
pub const SYSTEM_ACTOR: &str = "flightdeck";

/// How bad an alert is, from its `severity` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    /// Reads the `severity` label. `critical` and `page` are critical; `warning`, `warn` and
    /// `ticket` are warnings; `info` and `none` are info (case-insensitive). A missing or
    /// unrecognised severity is a **warning**: the alert fired for a reason, and filing it as info
    /// would hide it, while calling it critical would page people on a guess.
    pub fn from_label(label: Option<&str>) -> Severity {
        match label.map(str::to_ascii_lowercase).as_deref() {
            Some("critical" | "page") => Severity::Critical,
            Some("info" | "none") => Severity::Info,
            _ => Severity::Warning,
        }
    }
}

/// What the source says about the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Firing,
    Resolved,
}

/// Where people are with the alert (DESIGN.md "Domain", contract for the names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageState {
    Open,
    Acknowledged,
    Escalated,
    Resolved,
}

/// The wire enums (`flightdeck_model`) and these carry the same variants under the same names;
/// plain conversions both ways, for the ingest path that converts every alert.
macro_rules! same_variants {
    ($($ours:ident <=> $wire:ident { $($variant:ident),+ })+) => {$(
        impl From<flightdeck_model::$wire> for $ours {
            fn from(w: flightdeck_model::$wire) -> Self {
                match w {
                    $(flightdeck_model::$wire::$variant => $ours::$variant),+
                }
            }
        }

        impl From<$ours> for flightdeck_model::$wire {
            fn from(o: $ours) -> Self {
                match o {
                    $($ours::$variant => flightdeck_model::$wire::$variant),+
                }
            }
        }
    )+};
}

same_variants! {
    Severity <=> AlertSeverity { Critical, Warning, Info }
    SourceStatus <=> AlertSourceStatus { Firing, Resolved }
    TriageState <=> TriageState { Open, Acknowledged, Escalated, Resolved }
}

/// One alert as the source reports it, already read from the payload (Alertmanager's
/// `alerts[]` entry, or the generic webhook's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceAlert {
    pub fingerprint: String,
    pub status: SourceStatus,
    pub starts_at: DateTime<Utc>,
    /// Only meaningful once resolved; Alertmanager's firing alerts carry a moving or zero value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// A link to what raised it (Alertmanager's `generatorURL`); carried, not interpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_url: Option<String>,
}

impl SourceAlert {
    /// The `alertname` label, or the fingerprint when there is none.
    pub fn name(&self) -> &str {
        self.labels
            .get("alertname")
            .map_or(self.fingerprint.as_str(), String::as_str)
    }

    pub fn severity(&self) -> Severity {
        Severity::from_label(self.labels.get("severity").map(String::as_str))
    }
}

/// One episode of an alert, as Flightdeck keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEpisode {
    pub fingerprint: String,
    pub starts_at: DateTime<Utc>,
    /// The `alertname` label.
    pub name: String,
    pub severity: Severity,
    pub source_status: SourceStatus,
    pub state: TriageState,
    /// 0 until escalated; each escalation adds one.
    pub escalation_level: u32,
    /// When the source resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl AlertEpisode {
    /// Whether the alert counts as a live problem: the source still fires it and nobody resolved
    /// it by hand. Acknowledged and escalated alerts are live.
    pub fn is_live(&self) -> bool {
        self.source_status == SourceStatus::Firing && self.state != TriageState::Resolved
    }
}

/// The key of an episode: the fingerprint and `startsAt` in RFC 3339 UTC, truncated to
/// milliseconds — `"3f2a…@2026-11-25T10:00:00.123Z"`. Prometheus sends nanoseconds, PostgreSQL
/// keeps microseconds and browsers milliseconds; two firings of one rule are at least an
/// evaluation interval apart, so milliseconds tell them apart and survive every round trip.
pub fn episode_key(fingerprint: &str, starts_at: DateTime<Utc>) -> String {
    format!(
        "{fingerprint}@{}",
        starts_at.to_rfc3339_opts(SecondsFormat::Millis, true)
    )
}

/// What a report from the source does to what Flightdeck knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingest {
    /// A new episode (a first firing, or a re-firing after resolution: new `startsAt`). Open if
    /// firing; already resolved when the first word about it is its resolution.
    New(AlertEpisode),
    /// The source resolved a live episode: triage moves from `from` to resolved.
    Resolved {
        from: TriageState,
        episode: AlertEpisode,
    },
    /// Annotations changed, or the source resolved an episode someone had already resolved by
    /// hand; the triage state is unchanged. Store the episode.
    Updated(AlertEpisode),
    /// Nothing new: a resend or an HA duplicate.
    Unchanged,
    /// A `firing` report for an episode the source already resolved: late or out of order, and a
    /// resolved episode is final. A real re-firing has a new `startsAt`, hence a new episode.
    Ignored,
}

impl Ingest {
    /// The episode to store, when anything changed.
    pub fn episode(&self) -> Option<&AlertEpisode> {
        match self {
            Ingest::New(e) | Ingest::Updated(e) | Ingest::Resolved { episode: e, .. } => Some(e),
            Ingest::Unchanged | Ingest::Ignored => None,
        }
    }

    /// What to notify about, before suppression ([`should_notify`]).
    pub fn trigger(&self) -> Option<NotifyTrigger> {
        match self {
            Ingest::New(e) if e.source_status == SourceStatus::Firing => Some(NotifyTrigger::Fired),
            Ingest::Resolved { .. } => Some(NotifyTrigger::Resolved),
            _ => None,
        }
    }
}

/// Applies one report from the source. `existing` is the stored episode with the same
/// [`episode_key`], if any.
///
/// A hand-resolved episode stays resolved while the source keeps firing it: people decided it
/// is over, and the next real firing has a new `startsAt`. Only the source's status, its end time
/// and the annotations are taken from a report on a known episode; the first resolution's
/// `endsAt` is kept.
pub fn ingest(existing: Option<&AlertEpisode>, incoming: &SourceAlert) -> Ingest {
    let Some(old) = existing else {
        let resolved = incoming.status == SourceStatus::Resolved;
        return Ingest::New(AlertEpisode {
            fingerprint: incoming.fingerprint.clone(),
            starts_at: incoming.starts_at,
            name: incoming.name().to_owned(),
            severity: incoming.severity(),
            source_status: incoming.status,
            state: if resolved {
                TriageState::Resolved
            } else {
                TriageState::Open
            },
            escalation_level: 0,
            ends_at: incoming.ends_at.filter(|_| resolved),
            labels: incoming.labels.clone(),
            annotations: incoming.annotations.clone(),
        });
    };
    debug_assert_eq!(
        episode_key(&old.fingerprint, old.starts_at),
        episode_key(&incoming.fingerprint, incoming.starts_at)
    );
    match (old.source_status, incoming.status) {
        (SourceStatus::Resolved, SourceStatus::Firing) => Ingest::Ignored,
        (SourceStatus::Resolved, SourceStatus::Resolved) => Ingest::Unchanged,
        (SourceStatus::Firing, SourceStatus::Firing) => {
            if old.annotations == incoming.annotations {
                Ingest::Unchanged
            } else {
                Ingest::Updated(AlertEpisode {
                    annotations: incoming.annotations.clone(),
                    ..old.clone()
                })
            }
        }
        (SourceStatus::Firing, SourceStatus::Resolved) => {
            let episode = AlertEpisode {
                source_status: SourceStatus::Resolved,
                state: TriageState::Resolved,
                ends_at: incoming.ends_at,
                annotations: incoming.annotations.clone(),
                ..old.clone()
            };
            if old.state == TriageState::Resolved {
                Ingest::Updated(episode)
            } else {
                Ingest::Resolved {
                    from: old.state,
                    episode,
                }
            }
        }
    }
}

/// What a person asks to do with an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TriageAction {
    Acknowledge,
    /// Escalate, optionally to a named person, rota or channel.
    Escalate {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
    },
    Resolve,
}

/// The record of one triage step: who did what, when, with which note. The alert's new state
/// and level are `to` and `escalation_level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageEvent {
    pub action: TriageAction,
    pub from: TriageState,
    pub to: TriageState,
    /// The level after this step.
    pub escalation_level: u32,
    pub by: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a triage step is refused. The first two are conflicts with the alert's state (409); the
/// others are bad input (422). Messages are shown to people as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriageError {
    #[error("the alert is already resolved; if it fires again it opens a new episode")]
    AlreadyResolved,
    #[error("the alert is already acknowledged")]
    AlreadyAcknowledged,
    #[error("a note is at most 2000 characters")]
    NoteTooLong,
    #[error("an escalation target is 1 to 200 characters without control characters")]
    BadTarget,
}

/// Decides one triage step on `episode` by `by` at `at`.
///
/// - **acknowledge** from `open` or `escalated` (whoever it was escalated to picks it up; the
///   level is kept). Acknowledging twice is refused, so two people never both think they own it.
/// - **escalate** from any non-resolved state, raising the level by one each time (repeatable:
///   nobody answered level 1, so go to level 2).
/// - **resolve** from any non-resolved state.
///
/// The note and target are trimmed; a blank note is no note.
pub fn triage(
    episode: &AlertEpisode,
    action: TriageAction,
    by: &str,
    at: DateTime<Utc>,
    note: Option<&str>,
) -> Result<TriageEvent, TriageError> {
    use TriageState::*;
    let from = episode.state;
    if from == Resolved {
        return Err(TriageError::AlreadyResolved);
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_LEN) {
        return Err(TriageError::NoteTooLong);
    }
    let level = episode.escalation_level;
    let (action, to, escalation_level) = match action {
        TriageAction::Acknowledge if from == Acknowledged => {
            return Err(TriageError::AlreadyAcknowledged);
        }
        TriageAction::Acknowledge => (TriageAction::Acknowledge, Acknowledged, level),
        TriageAction::Escalate { target } => {
            let target = target.as_deref().map(str::trim);
            if target.is_some_and(|t| {
                t.is_empty()
                    || t.chars().count() > MAX_TARGET_LEN
                    || t.chars().any(char::is_control)
            }) {
                return Err(TriageError::BadTarget);
            }
            let target = target.map(str::to_owned);
            (
                TriageAction::Escalate { target },
                Escalated,
                level.saturating_add(1),
            )
        }
        TriageAction::Resolve => (TriageAction::Resolve, Resolved, level),
    };
    Ok(TriageEvent {
        action,
        from,
        to,
        escalation_level,
        by: by.to_owned(),
        at,
        note: note.map(str::to_owned),
    })
}

/// Whether an alert should escalate by itself now: it is critical, the source still fires it,
/// nobody has acknowledged or escalated it, and it started at least `after` ago.
///
/// Only `open` alerts qualify, so the timer escalates once, to level 1; repeating it every
/// `after` would page the same escalation target again with nowhere further to go. People
/// escalate further by hand. Age counts from the source's `startsAt`: an alert that reaches
/// Flightdeck late has still been unanswered that long.
pub fn due_for_escalation(alert: &AlertEpisode, now: DateTime<Utc>, after: Duration) -> bool {
    alert.severity == Severity::Critical
        && alert.source_status == SourceStatus::Firing
        && alert.state == TriageState::Open
        && now - alert.starts_at >= after
}

/// The auto-escalation step for an alert that is [`due_for_escalation`], recorded as
/// [`SYSTEM_ACTOR`].
pub fn auto_escalation(
    alert: &AlertEpisode,
    now: DateTime<Utc>,
    after: Duration,
) -> Option<TriageEvent> {
    if !due_for_escalation(alert, now, after) {
        return None;
    }
    let minutes = after.num_minutes();
    let note = format!("not acknowledged within {minutes} minutes");
    triage(
        alert,
        TriageAction::Escalate { target: None },
        SYSTEM_ACTOR,
        now,
        Some(&note),
    )
    .ok()
}

/// What happened that might be worth telling people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotifyTrigger {
    Fired,
    Escalated { by_hand: bool },
    Resolved,
}

/// What quiets an alert right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// A Flightdeck silence matches the alert.
    pub silenced: bool,
    /// Its component is in a maintenance window.
    pub in_maintenance: bool,
}

/// Whether to send a notification. Suppression only stops the message: the alert, its events and
/// its effect on status are recorded either way.
///
/// - A person escalating by hand always notifies: that is the point of escalating, silence or not.
/// - Otherwise a silence or maintenance suppresses.
/// - Info alerts are for the feed: they never notify on their own.
pub fn should_notify(trigger: NotifyTrigger, severity: Severity, suppression: Suppression) -> bool {
    match trigger {
        NotifyTrigger::Escalated { by_hand: true } => true,
        _ if suppression.silenced || suppression.in_maintenance => false,
        _ => severity != Severity::Info,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn labels(name: &str, severity: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("alertname".to_owned(), name.to_owned()),
            ("severity".to_owned(), severity.to_owned()),
        ])
    }

    fn report(status: SourceStatus, start: i64) -> SourceAlert {
        SourceAlert {
            fingerprint: "3f2a9c".into(),
            status,
            starts_at: at(start),
            ends_at: (status == SourceStatus::Resolved).then(|| at(start + 30)),
            labels: labels("HighErrorRate", "critical"),
            annotations: BTreeMap::from([("summary".to_owned(), "5xx above 5 %".to_owned())]),
            generator_url: None,
        }
    }

    /// An open, firing episode of `name` with `severity`, started at minute `start`.
    pub(crate) fn firing(name: &str, severity: Severity, start: i64) -> AlertEpisode {
        AlertEpisode {
            fingerprint: format!("fp-{name}"),
            starts_at: at(start),
            name: name.into(),
            severity,
            source_status: SourceStatus::Firing,
            state: TriageState::Open,
            escalation_level: 0,
            ends_at: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        }
    }

    fn in_state(state: TriageState) -> AlertEpisode {
        AlertEpisode {
            state,
            ..firing("HighErrorRate", Severity::Critical, 0)
        }
    }

    fn new_episode(r: &SourceAlert) -> AlertEpisode {
        match ingest(None, r) {
            Ingest::New(e) => e,
            other => panic!("expected a new episode, got {other:?}"),
        }
    }

    #[test]
    fn severity_labels_map_to_three_levels_and_unknown_ones_are_warnings() {
        assert_eq!(Severity::from_label(Some("critical")), Severity::Critical);
        assert_eq!(Severity::from_label(Some("PAGE")), Severity::Critical);
        assert_eq!(Severity::from_label(Some("warning")), Severity::Warning);
        assert_eq!(Severity::from_label(Some("info")), Severity::Info);
        assert_eq!(Severity::from_label(Some("none")), Severity::Info);
        assert_eq!(Severity::from_label(Some("sev2")), Severity::Warning);
        assert_eq!(Severity::from_label(None), Severity::Warning);
    }

    #[test]
    fn an_alert_is_named_by_its_alertname_label_or_else_its_fingerprint() {
        let mut r = report(SourceStatus::Firing, 0);
        assert_eq!(r.name(), "HighErrorRate");
        r.labels.clear();
        assert_eq!(r.name(), "3f2a9c");
        assert_eq!(r.severity(), Severity::Warning);
    }

    #[test]
    fn the_episode_key_is_the_fingerprint_and_the_start_in_milliseconds() {
        let start = at(0) + Duration::nanoseconds(123_456_789);
        assert_eq!(
            episode_key("3f2a9c", start),
            "3f2a9c@2026-11-25T10:00:00.123Z"
        );
        // A microsecond-precision copy from the database gives the same key.
        let from_db = at(0) + Duration::microseconds(123_456);
        assert_eq!(episode_key("3f2a9c", start), episode_key("3f2a9c", from_db));
        assert_ne!(episode_key("3f2a9c", at(0)), episode_key("3f2a9c", at(5)));
    }

    #[test]
    fn a_first_firing_opens_an_episode_with_name_and_severity_from_labels() {
        let e = new_episode(&report(SourceStatus::Firing, 0));
        assert_eq!(
            (e.name.as_str(), e.severity, e.state, e.source_status),
            (
                "HighErrorRate",
                Severity::Critical,
                TriageState::Open,
                SourceStatus::Firing
            )
        );
        assert_eq!(e.ends_at, None);
        assert!(e.is_live());
        assert_eq!(
            ingest(None, &report(SourceStatus::Firing, 0)).trigger(),
            Some(NotifyTrigger::Fired)
        );
    }

    #[test]
    fn a_resolution_seen_first_is_recorded_as_resolved_and_notifies_nobody() {
        let outcome = ingest(None, &report(SourceStatus::Resolved, 0));
        let e = outcome.episode().unwrap();
        assert_eq!(e.state, TriageState::Resolved);
        assert_eq!(e.ends_at, Some(at(30)));
        assert_eq!(outcome.trigger(), None);
    }

    #[test]
    fn the_same_report_again_changes_nothing() {
        let r = report(SourceStatus::Firing, 0);
        let e = new_episode(&r);
        assert_eq!(ingest(Some(&e), &r), Ingest::Unchanged);
        assert_eq!(ingest(Some(&e), &r).episode(), None);
    }

    #[test]
    fn a_resend_with_a_moving_ends_at_is_still_a_duplicate() {
        let e = new_episode(&report(SourceStatus::Firing, 0));
        let mut resend = report(SourceStatus::Firing, 0);
        resend.ends_at = Some(at(4));
        assert_eq!(ingest(Some(&e), &resend), Ingest::Unchanged);
    }

    #[test]
    fn the_source_resolving_resolves_a_live_episode_whatever_its_triage_state() {
        for state in [
            TriageState::Open,
            TriageState::Acknowledged,
            TriageState::Escalated,
        ] {
            let mut e = new_episode(&report(SourceStatus::Firing, 0));
            e.state = state;
            let outcome = ingest(Some(&e), &report(SourceStatus::Resolved, 0));
            let Ingest::Resolved { from, episode } = &outcome else {
                panic!("{outcome:?}")
            };
            assert_eq!(*from, state);
            assert_eq!(episode.state, TriageState::Resolved);
            assert_eq!(episode.source_status, SourceStatus::Resolved);
            assert_eq!(episode.ends_at, Some(at(30)));
            assert_eq!(outcome.trigger(), Some(NotifyTrigger::Resolved));
        }
    }

    #[test]
    fn a_duplicate_resolution_changes_nothing() {
        let e = new_episode(&report(SourceStatus::Resolved, 0));
        let mut later = report(SourceStatus::Resolved, 0);
        later.ends_at = Some(at(45));
        assert_eq!(ingest(Some(&e), &later), Ingest::Unchanged);
    }

    #[test]
    fn a_late_firing_after_the_source_resolved_is_ignored() {
        let e = new_episode(&report(SourceStatus::Resolved, 0));
        assert_eq!(
            ingest(Some(&e), &report(SourceStatus::Firing, 0)),
            Ingest::Ignored
        );
    }

    #[test]
    fn a_refiring_after_resolution_is_a_new_episode() {
        let first = report(SourceStatus::Resolved, 0);
        let again = report(SourceStatus::Firing, 60);
        assert_ne!(
            episode_key(&first.fingerprint, first.starts_at),
            episode_key(&again.fingerprint, again.starts_at)
        );
        // The store finds no episode under the new key, so it is new and open.
        assert_eq!(new_episode(&again).state, TriageState::Open);
    }

    #[test]
    fn a_hand_resolved_episode_stays_resolved_and_takes_the_source_resolution_as_an_update() {
        let mut e = new_episode(&report(SourceStatus::Firing, 0));
        e.state = TriageState::Resolved;
        assert_eq!(
            ingest(Some(&e), &report(SourceStatus::Firing, 0)),
            Ingest::Unchanged
        );
        assert!(!e.is_live());
        let Ingest::Updated(updated) = ingest(Some(&e), &report(SourceStatus::Resolved, 0)) else {
            panic!()
        };
        assert_eq!(updated.source_status, SourceStatus::Resolved);
        assert_eq!(updated.state, TriageState::Resolved);
    }

    #[test]
    fn changed_annotations_update_the_episode_without_touching_triage() {
        let mut e = new_episode(&report(SourceStatus::Firing, 0));
        e.state = TriageState::Acknowledged;
        let mut r = report(SourceStatus::Firing, 0);
        r.annotations
            .insert("summary".into(), "5xx above 9 %".into());
        let Ingest::Updated(updated) = ingest(Some(&e), &r) else {
            panic!()
        };
        assert_eq!(updated.annotations["summary"], "5xx above 9 %");
        assert_eq!(updated.state, TriageState::Acknowledged);
    }

    #[test]
    fn acknowledging_an_open_alert_records_who_when_and_the_note() {
        let ev = triage(
            &in_state(TriageState::Open),
            TriageAction::Acknowledge,
            "alice",
            at(3),
            Some("  looking  "),
        )
        .unwrap();
        assert_eq!(
            ev,
            TriageEvent {
                action: TriageAction::Acknowledge,
                from: TriageState::Open,
                to: TriageState::Acknowledged,
                escalation_level: 0,
                by: "alice".into(),
                at: at(3),
                note: Some("looking".into()),
            }
        );
    }

    #[test]
    fn acknowledging_twice_is_refused_but_an_escalated_alert_can_be_acknowledged() {
        let acked = in_state(TriageState::Acknowledged);
        assert_eq!(
            triage(&acked, TriageAction::Acknowledge, "bob", at(4), None),
            Err(TriageError::AlreadyAcknowledged)
        );
        let mut escalated = in_state(TriageState::Escalated);
        escalated.escalation_level = 2;
        let ev = triage(&escalated, TriageAction::Acknowledge, "lead", at(9), None).unwrap();
        assert_eq!((ev.to, ev.escalation_level), (TriageState::Acknowledged, 2));
    }

    #[test]
    fn each_escalation_raises_the_level_from_any_unresolved_state() {
        let mut e = in_state(TriageState::Open);
        for (level, state) in [
            (1, TriageState::Open),
            (2, TriageState::Escalated),
            (3, TriageState::Acknowledged),
        ] {
            e.state = state;
            let ev = triage(
                &e,
                TriageAction::Escalate {
                    target: Some(" sre-leads ".into()),
                },
                "alice",
                at(5),
                None,
            )
            .unwrap();
            assert_eq!(
                (ev.to, ev.escalation_level),
                (TriageState::Escalated, level)
            );
            assert_eq!(
                ev.action,
                TriageAction::Escalate {
                    target: Some("sre-leads".into())
                }
            );
            e.escalation_level = ev.escalation_level;
        }
    }

    #[test]
    fn any_unresolved_alert_can_be_resolved_by_hand_but_not_twice() {
        for state in [
            TriageState::Open,
            TriageState::Acknowledged,
            TriageState::Escalated,
        ] {
            let ev = triage(&in_state(state), TriageAction::Resolve, "a", at(1), None).unwrap();
            assert_eq!(ev.to, TriageState::Resolved);
        }
        for action in [
            TriageAction::Acknowledge,
            TriageAction::Escalate { target: None },
            TriageAction::Resolve,
        ] {
            assert_eq!(
                triage(&in_state(TriageState::Resolved), action, "a", at(1), None),
                Err(TriageError::AlreadyResolved)
            );
        }
    }

    #[test]
    fn notes_and_targets_are_checked() {
        let e = in_state(TriageState::Open);
        let long = "x".repeat(MAX_NOTE_LEN + 1);
        assert_eq!(
            triage(&e, TriageAction::Acknowledge, "a", at(1), Some(&long)),
            Err(TriageError::NoteTooLong)
        );
        let blank = triage(&e, TriageAction::Acknowledge, "a", at(1), Some("   ")).unwrap();
        assert_eq!(blank.note, None);
        for bad in [" ", "a\nb"] {
            assert_eq!(
                triage(
                    &e,
                    TriageAction::Escalate {
                        target: Some(bad.into())
                    },
                    "a",
                    at(1),
                    None
                ),
                Err(TriageError::BadTarget)
            );
        }
    }

    #[test]
    fn triage_actions_and_states_travel_in_snake_case() {
        let a: TriageAction =
            serde_json::from_str(r#"{"action": "escalate", "target": "db-oncall"}"#).unwrap();
        assert_eq!(
            a,
            TriageAction::Escalate {
                target: Some("db-oncall".into())
            }
        );
        assert_eq!(
            serde_json::to_string(&TriageState::Acknowledged).unwrap(),
            "\"acknowledged\""
        );
        assert_eq!(
            serde_json::to_string(&NotifyTrigger::Escalated { by_hand: true }).unwrap(),
            r#"{"kind":"escalated","by_hand":true}"#
        );
    }

    #[test]
    fn an_unacknowledged_critical_alert_is_due_for_escalation_after_the_delay() {
        let e = in_state(TriageState::Open);
        let after = Duration::minutes(15);
        assert!(!due_for_escalation(&e, at(14), after));
        assert!(due_for_escalation(&e, at(15), after));
        let ev = auto_escalation(&e, at(15), after).unwrap();
        assert_eq!(
            (ev.by.as_str(), ev.escalation_level, ev.note.as_deref()),
            (SYSTEM_ACTOR, 1, Some("not acknowledged within 15 minutes"))
        );
        assert_eq!(auto_escalation(&e, at(5), after), None);
    }

    #[test]
    fn acknowledged_escalated_resolved_or_non_critical_alerts_are_not_due() {
        let after = Duration::minutes(15);
        for state in [
            TriageState::Acknowledged,
            TriageState::Escalated,
            TriageState::Resolved,
        ] {
            assert!(!due_for_escalation(&in_state(state), at(60), after));
        }
        let warning = firing("DiskFilling", Severity::Warning, 0);
        assert!(!due_for_escalation(&warning, at(60), after));
        let mut gone = in_state(TriageState::Open);
        gone.source_status = SourceStatus::Resolved;
        assert!(!due_for_escalation(&gone, at(60), after));
    }

    #[test]
    fn silences_and_maintenance_suppress_notifications_except_escalations_by_hand() {
        let quiet = Suppression {
            silenced: true,
            in_maintenance: false,
        };
        let maintenance = Suppression {
            silenced: false,
            in_maintenance: true,
        };
        let none = Suppression::default();
        assert!(should_notify(
            NotifyTrigger::Fired,
            Severity::Critical,
            none
        ));
        assert!(!should_notify(
            NotifyTrigger::Fired,
            Severity::Critical,
            quiet
        ));
        assert!(!should_notify(
            NotifyTrigger::Resolved,
            Severity::Warning,
            maintenance
        ));
        assert!(!should_notify(
            NotifyTrigger::Escalated { by_hand: false },
            Severity::Critical,
            maintenance
        ));
        assert!(should_notify(
            NotifyTrigger::Escalated { by_hand: true },
            Severity::Info,
            quiet
        ));
    }

    #[test]
    fn info_alerts_never_notify_on_their_own() {
        let none = Suppression::default();
        assert!(!should_notify(NotifyTrigger::Fired, Severity::Info, none));
        assert!(!should_notify(
            NotifyTrigger::Escalated { by_hand: false },
            Severity::Info,
            none
        ));
        assert!(should_notify(
            NotifyTrigger::Resolved,
            Severity::Warning,
            none
        ));
    }

    #[derive(Debug, Clone)]
    enum Step {
        Act(TriageAction),
        Report(SourceStatus),
    }

    fn any_step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Step::Act(TriageAction::Acknowledge)),
            Just(Step::Act(TriageAction::Escalate { target: None })),
            Just(Step::Act(TriageAction::Resolve)),
            Just(Step::Report(SourceStatus::Firing)),
            Just(Step::Report(SourceStatus::Resolved)),
        ]
    }

    proptest::proptest! {
        #[test]
        fn resolution_is_final_levels_only_rise_and_every_report_is_idempotent(
            steps in proptest::collection::vec(any_step(), 0..25),
        ) {
            use proptest::prop_assert;
            let mut e = new_episode(&report(SourceStatus::Firing, 0));
            for step in steps {
                let before = e.clone();
                match step {
                    Step::Act(action) => match triage(&e, action, "a", at(1), None) {
                        Ok(ev) => {
                            prop_assert!(before.state != TriageState::Resolved);
                            prop_assert!(ev.from == before.state);
                            e.state = ev.to;
                            e.escalation_level = ev.escalation_level;
                        }
                        Err(TriageError::AlreadyResolved) => {
                            prop_assert!(before.state == TriageState::Resolved)
                        }
                        Err(TriageError::AlreadyAcknowledged) => {
                            prop_assert!(before.state == TriageState::Acknowledged)
                        }
                        Err(other) => prop_assert!(false, "unexpected {other:?}"),
                    },
                    Step::Report(status) => {
                        let r = report(status, 0);
                        if let Some(next) = ingest(Some(&e), &r).episode() {
                            e = next.clone();
                        }
                        prop_assert!(matches!(
                            ingest(Some(&e), &r),
                            Ingest::Unchanged | Ingest::Ignored
                        ));
                    }
                }
                prop_assert!(e.escalation_level >= before.escalation_level);
                if before.state == TriageState::Resolved {
                    prop_assert!(e.state == TriageState::Resolved);
                }
                if e.source_status == SourceStatus::Resolved {
                    prop_assert!(e.state == TriageState::Resolved);
                }
            }
        }
    }
}
