//! From a live event to deliveries: which [`Trigger`] it is (a new firing episode, an
//! escalation to a new level, a resolution, a failed deployment), which channels want it, what
//! the message says, and whether a silence or maintenance window suppresses it — through the
//! domain's [`should_notify`], so suppression rules live in one place.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use flightdeck_domain::health::{
    alerts::{NotifyTrigger, Severity, Suppression, should_notify},
    matchers::{matches_all, parse_matcher},
};
use flightdeck_model::{
    Alert, AlertSeverity, AlertSourceStatus, Component, Deployment, DeploymentStatus,
    NotificationChannel, NotificationMessage, NotifyEvent, Silence, TriageState,
};

/// The live event types the notifier reads.
pub const ALERT_UPDATED: &str = "alert.updated";
pub const DEPLOYMENT_UPDATED: &str = "deployment.updated";

/// What a live event is about, when it is worth a notification.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Alert(Box<Alert>),
    Deployment(Box<Deployment>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub event: NotifyEvent,
    /// Unique per happening: `alert:<id>:firing`, `alert:<id>:escalated:<level>`,
    /// `alert:<id>:resolved`, `deployment:<id>:failed`. Each alert episode has its own id, so a
    /// re-fire after resolution is a new key.
    pub dedupe_key: String,
    pub subject: Subject,
}

/// Reads an `alert.updated` or `deployment.updated` event. Every `alert.updated` carries the
/// whole alert, so the trigger is read from its state; repeats of the same state map to the
/// same dedupe key and are delivered once.
pub fn trigger(kind: &str, data: &serde_json::Value) -> Option<Trigger> {
    match kind {
        ALERT_UPDATED => {
            let alert: Alert = serde_json::from_value(data.clone()).ok()?;
            let (event, key) = match alert.state {
                TriageState::Resolved => (
                    NotifyEvent::AlertResolved,
                    format!("alert:{}:resolved", alert.id),
                ),
                TriageState::Escalated => (
                    NotifyEvent::AlertEscalated,
                    format!("alert:{}:escalated:{}", alert.id, alert.escalation_level),
                ),
                TriageState::Open if alert.source_status == AlertSourceStatus::Firing => (
                    NotifyEvent::AlertFiring,
                    format!("alert:{}:firing", alert.id),
                ),
                _ => return None,
            };
            Some(Trigger {
                event,
                dedupe_key: key,
                subject: Subject::Alert(Box::new(alert)),
            })
        }
        DEPLOYMENT_UPDATED => {
            let d: Deployment = serde_json::from_value(data.clone()).ok()?;
            if !matches!(
                d.status,
                DeploymentStatus::Failed | DeploymentStatus::TimedOut
            ) {
                return None;
            }
            Some(Trigger {
                event: NotifyEvent::DeploymentFailed,
                dedupe_key: format!("deployment:{}:failed", d.id),
                subject: Subject::Deployment(Box::new(d)),
            })
        }
        _ => None,
    }
}

/// What the planner needs to know besides the event.
pub struct Context<'a> {
    pub channels: &'a [NotificationChannel],
    pub silences: &'a [Silence],
    pub components: &'a [Component],
    /// For escalations: whether a person escalated (they are never suppressed).
    pub escalated_by_hand: bool,
    /// `FLIGHTDECK_PUBLIC_URL` or the listen address, without a trailing slash.
    pub public_url: Option<&'a str>,
    /// When the event happened: silences and maintenance windows are judged at that instant.
    pub at: DateTime<Utc>,
}

/// One delivery to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned<'a> {
    pub channel: &'a NotificationChannel,
    pub message: NotificationMessage,
    /// Why it is not sent, when a silence or maintenance window suppresses it.
    pub suppressed: Option<String>,
}

fn rank(s: AlertSeverity) -> u8 {
    match s {
        AlertSeverity::Info => 0,
        AlertSeverity::Warning => 1,
        AlertSeverity::Critical => 2,
    }
}

fn domain_severity(s: AlertSeverity) -> Severity {
    match s {
        AlertSeverity::Critical => Severity::Critical,
        AlertSeverity::Warning => Severity::Warning,
        AlertSeverity::Info => Severity::Info,
    }
}

fn wants(channel: &NotificationChannel, trigger: &Trigger) -> bool {
    let f = &channel.filters;
    if !channel.enabled || !f.events.contains(&trigger.event) {
        return false;
    }
    match &trigger.subject {
        Subject::Alert(a) => {
            rank(a.severity) >= rank(f.min_severity)
                && (f.components.is_empty()
                    || a.component
                        .as_ref()
                        .is_some_and(|c| f.components.contains(c)))
        }
        Subject::Deployment(d) => {
            f.environments.is_empty() || f.environments.contains(&d.environment)
        }
    }
}

/// The first silence in force at `at` that covers these labels, as a reason.
fn silenced_by(
    labels: &BTreeMap<String, String>,
    silences: &[Silence],
    at: DateTime<Utc>,
) -> Option<String> {
    silences.iter().find_map(|s| {
        if !(s.starts_at <= at && at < s.ends_at) {
            return None;
        }
        // Matchers were validated when the silence was created; one that no longer parses
        // makes the silence match nothing rather than everything.
        let matchers: Option<Vec<_>> = s.matchers.iter().map(|m| parse_matcher(m).ok()).collect();
        let matchers = matchers?;
        matches_all(&matchers, labels).then(|| {
            format!(
                "silenced by {} ({}): {}",
                s.id,
                s.matchers.join(", "),
                s.comment
            )
        })
    })
}

fn in_maintenance(component: &Component, at: DateTime<Utc>) -> Option<String> {
    component
        .maintenance
        .iter()
        .find(|w| w.starts_at <= at && at < w.ends_at)
        .map(|w| {
            format!(
                "component `{}` is in maintenance{} until {}",
                component.slug,
                w.name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                w.ends_at.to_rfc3339()
            )
        })
}

/// The deliveries `trigger` makes: one per channel that wants it. An empty list when none
/// does, or when the domain says not to notify at all (info alerts).
pub fn plan<'a>(trigger: &Trigger, cx: &Context<'a>) -> Vec<Planned<'a>> {
    let (message, suppressed) = match &trigger.subject {
        Subject::Alert(alert) => {
            let silence = silenced_by(&alert.labels, cx.silences, cx.at);
            let maintenance = alert
                .component
                .as_ref()
                .and_then(|slug| cx.components.iter().find(|c| &c.slug == slug))
                .and_then(|c| in_maintenance(c, cx.at));
            let notify_trigger = match trigger.event {
                NotifyEvent::AlertFiring => NotifyTrigger::Fired,
                NotifyEvent::AlertEscalated => NotifyTrigger::Escalated {
                    by_hand: cx.escalated_by_hand,
                },
                _ => NotifyTrigger::Resolved,
            };
            let suppression = Suppression {
                silenced: silence.is_some(),
                in_maintenance: maintenance.is_some(),
            };
            let severity = domain_severity(alert.severity);
            let suppressed = if should_notify(notify_trigger, severity, suppression) {
                None
            } else if should_notify(notify_trigger, severity, Suppression::default()) {
                // Not sent only because of the silence or the maintenance: log why.
                Some(silence.or(maintenance).unwrap_or_default())
            } else {
                return Vec::new();
            };
            (
                alert_message(trigger.event, alert, cx.public_url),
                suppressed,
            )
        }
        Subject::Deployment(d) => (deployment_message(d, cx.public_url), None),
    };
    cx.channels
        .iter()
        .filter(|c| wants(c, trigger))
        .map(|channel| Planned {
            channel,
            message: message.clone(),
            suppressed: suppressed.clone(),
        })
        .collect()
}

fn link(public_url: Option<&str>, path: &str) -> Option<String> {
    public_url.map(|u| format!("{}/{path}", u.trim_end_matches('/')))
}

/// e.g. `[FIRING] HighErrorRate (critical) on checkout` and the summary annotation.
pub fn alert_message(
    event: NotifyEvent,
    alert: &Alert,
    public_url: Option<&str>,
) -> NotificationMessage {
    let tag = match event {
        NotifyEvent::AlertFiring => "FIRING".to_owned(),
        NotifyEvent::AlertEscalated => format!("ESCALATED L{}", alert.escalation_level),
        NotifyEvent::AlertResolved => "RESOLVED".to_owned(),
        NotifyEvent::DeploymentFailed => "DEPLOYMENT FAILED".to_owned(),
    };
    let severity = serde_json::to_value(alert.severity)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let on = alert
        .component
        .as_ref()
        .map(|c| format!(" on {c}"))
        .unwrap_or_default();
    let mut lines = Vec::new();
    for key in ["summary", "description"] {
        if let Some(v) = alert.annotations.get(key) {
            lines.push(v.clone());
        }
    }
    if let Some(note) = alert
        .last_note
        .as_ref()
        .filter(|_| event != NotifyEvent::AlertFiring)
    {
        lines.push(format!("Note: {note}"));
    }
    lines.push(format!("Started {}", alert.starts_at.to_rfc3339()));
    let mut fields = BTreeMap::from([
        ("alert_id".to_owned(), alert.id.to_string()),
        ("alert".to_owned(), alert.name.clone()),
        ("severity".to_owned(), severity.clone()),
        (
            "escalation_level".to_owned(),
            alert.escalation_level.to_string(),
        ),
    ]);
    if let Some(c) = &alert.component {
        fields.insert("component".into(), c.clone());
    }
    NotificationMessage {
        event,
        title: format!("[{tag}] {} ({severity}){on}", alert.name),
        text: lines.join("\n"),
        link: link(public_url, &format!("alerts/{}", alert.id)),
        fields,
    }
}

/// e.g. `[DEPLOYMENT FAILED] checkout-api 1.4.2 to production`.
pub fn deployment_message(d: &Deployment, public_url: Option<&str>) -> NotificationMessage {
    let status = serde_json::to_value(d.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut lines = vec![format!(
        "{} of {} {} to {} {status}, started by {}",
        if d.rollback_to.is_some() {
            "Rollback"
        } else {
            "Deploy"
        },
        d.service,
        d.version,
        d.environment,
        d.created_by
    )];
    if let Some(prev) = &d.previous_version {
        lines.push(format!("Previous version: {prev}"));
    }
    if let Some(desc) = d.description.as_ref().or(d.reason.as_ref()) {
        lines.push(desc.clone());
    }
    NotificationMessage {
        event: NotifyEvent::DeploymentFailed,
        title: format!(
            "[DEPLOYMENT FAILED] {} {} to {}",
            d.service, d.version, d.environment
        ),
        text: lines.join("\n"),
        link: link(public_url, &format!("deployments/{}", d.id)),
        fields: BTreeMap::from([
            ("deployment_id".to_owned(), d.id.to_string()),
            ("service".to_owned(), d.service.clone()),
            ("environment".to_owned(), d.environment.clone()),
            ("version".to_owned(), d.version.clone()),
            ("status".to_owned(), status),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use flightdeck_model::{ChannelConfig, ChannelFilters, ComponentMaintenance, ComponentStatus};

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn alert(state: TriageState, severity: AlertSeverity) -> Alert {
        Alert {
            id: uuid::Uuid::nil(),
            source: "alertmanager".into(),
            fingerprint: "f".into(),
            name: "HighErrorRate".into(),
            severity,
            source_status: AlertSourceStatus::Firing,
            state,
            escalation_level: u32::from(state == TriageState::Escalated),
            component: Some("checkout".into()),
            labels: BTreeMap::from([("service".into(), "checkout-api".into())]),
            annotations: BTreeMap::from([("summary".into(), "errors are high".into())]),
            generator_url: None,
            starts_at: at(0),
            ends_at: None,
            acknowledged_by: None,
            acknowledged_at: None,
            last_note: None,
            received_at: at(0),
            updated_at: at(0),
        }
    }

    fn channel(filters: ChannelFilters) -> NotificationChannel {
        NotificationChannel {
            id: uuid::Uuid::now_v7(),
            name: "c".into(),
            config: ChannelConfig::Slack {
                webhook_url: "https://hooks.slack.com/x".into(),
            },
            filters,
            enabled: true,
            created_at: at(0),
            updated_at: at(0),
        }
    }

    fn component(maintenance: Vec<ComponentMaintenance>) -> Component {
        Component {
            id: uuid::Uuid::nil(),
            slug: "checkout".into(),
            name: "Checkout".into(),
            group: None,
            service: None,
            tier: None,
            depends_on: vec![],
            matchers: vec![],
            metric_queries: vec![],
            log_query: None,
            status: ComponentStatus::Operational,
            status_reasons: vec![],
            maintenance,
            created_at: at(0),
        }
    }

    fn silence(matcher: &str) -> Silence {
        Silence {
            id: uuid::Uuid::nil(),
            matchers: vec![matcher.into()],
            starts_at: at(-10),
            ends_at: at(10),
            comment: "drill".into(),
            created_by: "ops".into(),
            created_at: at(-10),
            expired_by: None,
        }
    }

    fn trig(a: &Alert) -> Trigger {
        trigger(ALERT_UPDATED, &serde_json::to_value(a).unwrap()).unwrap()
    }

    fn cx<'a>(
        channels: &'a [NotificationChannel],
        silences: &'a [Silence],
        components: &'a [Component],
        by_hand: bool,
    ) -> Context<'a> {
        Context {
            channels,
            silences,
            components,
            escalated_by_hand: by_hand,
            public_url: Some("https://fd.example.com/"),
            at: at(1),
        }
    }

    #[test]
    fn triggers_have_one_key_per_happening() {
        let open = alert(TriageState::Open, AlertSeverity::Critical);
        assert_eq!(trig(&open).dedupe_key, format!("alert:{}:firing", open.id));
        let esc = alert(TriageState::Escalated, AlertSeverity::Critical);
        assert_eq!(
            trig(&esc).dedupe_key,
            format!("alert:{}:escalated:1", esc.id)
        );
        let acked = alert(TriageState::Acknowledged, AlertSeverity::Critical);
        assert!(trigger(ALERT_UPDATED, &serde_json::to_value(&acked).unwrap()).is_none());
        assert!(trigger("component.status_changed", &serde_json::json!({})).is_none());
    }

    #[test]
    fn a_silence_suppresses_firing_but_not_an_escalation_by_hand() {
        let channels = [channel(ChannelFilters::default())];
        let silences = [silence("service=\"checkout-api\"")];
        let open = alert(TriageState::Open, AlertSeverity::Critical);
        let planned = plan(&trig(&open), &cx(&channels, &silences, &[], false));
        assert_eq!(planned.len(), 1);
        assert!(planned[0].suppressed.as_deref().unwrap().contains("drill"));

        let esc = alert(TriageState::Escalated, AlertSeverity::Critical);
        let by_hand = plan(&trig(&esc), &cx(&channels, &silences, &[], true));
        assert_eq!(by_hand[0].suppressed, None);
        let by_timer = plan(&trig(&esc), &cx(&channels, &silences, &[], false));
        assert!(by_timer[0].suppressed.is_some());

        let other = [silence("service=\"cart-api\"")];
        assert_eq!(
            plan(&trig(&open), &cx(&channels, &other, &[], false))[0].suppressed,
            None
        );
    }

    #[test]
    fn maintenance_suppresses_with_its_window_named() {
        let channels = [channel(ChannelFilters::default())];
        let components = [component(vec![ComponentMaintenance {
            name: Some("db upgrade".into()),
            starts_at: at(0),
            ends_at: at(30),
        }])];
        let open = alert(TriageState::Open, AlertSeverity::Warning);
        let planned = plan(&trig(&open), &cx(&channels, &[], &components, false));
        let reason = planned[0].suppressed.as_deref().unwrap();
        assert!(
            reason.contains("`checkout` is in maintenance (db upgrade)"),
            "{reason}"
        );
    }

    #[test]
    fn filters_pick_channels_and_info_alerts_notify_nobody() {
        let critical_only = channel(ChannelFilters {
            min_severity: AlertSeverity::Critical,
            ..ChannelFilters::default()
        });
        let cart_only = channel(ChannelFilters {
            components: vec!["cart".into()],
            ..ChannelFilters::default()
        });
        let everything = channel(ChannelFilters {
            min_severity: AlertSeverity::Info,
            ..ChannelFilters::default()
        });
        let channels = [critical_only, cart_only, everything.clone()];
        let warning = alert(TriageState::Open, AlertSeverity::Warning);
        let planned = plan(&trig(&warning), &cx(&channels, &[], &[], false));
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].channel.id, everything.id);
        let info = alert(TriageState::Open, AlertSeverity::Info);
        assert!(plan(&trig(&info), &cx(&channels, &[], &[], false)).is_empty());
        let resolved = alert(TriageState::Resolved, AlertSeverity::Critical);
        assert!(
            plan(&trig(&resolved), &cx(&channels, &[], &[], false)).is_empty(),
            "resolutions are opt-in"
        );
    }

    #[test]
    fn messages_are_concise_and_link_back() {
        let open = alert(TriageState::Open, AlertSeverity::Critical);
        let m = alert_message(
            NotifyEvent::AlertFiring,
            &open,
            Some("https://fd.example.com/"),
        );
        assert_eq!(m.title, "[FIRING] HighErrorRate (critical) on checkout");
        assert!(m.text.starts_with("errors are high"));
        assert_eq!(
            m.link.as_deref(),
            Some(format!("https://fd.example.com/alerts/{}", open.id).as_str())
        );
    }
}
