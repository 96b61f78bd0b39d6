//! How a component's status and an alert's severity and state look everywhere.

use flightdeck_model::{AlertSeverity, ComponentStatus, TriageState};
use leptos::prelude::*;

pub const ALERT_UPDATED: &str = "alert.updated";
pub const STATUS_CHANGED: &str = "component.status_changed";

pub fn status_label(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "Operational",
        ComponentStatus::Degraded => "Degraded",
        ComponentStatus::PartialOutage => "Partial outage",
        ComponentStatus::MajorOutage => "Major outage",
        ComponentStatus::Maintenance => "Maintenance",
        ComponentStatus::Unknown => "Unknown",
    }
}

/// Worst first: the order of the counts and of tiles within a group.
pub const STATUS_ORDER: [ComponentStatus; 6] = [
    ComponentStatus::MajorOutage,
    ComponentStatus::PartialOutage,
    ComponentStatus::Degraded,
    ComponentStatus::Maintenance,
    ComponentStatus::Unknown,
    ComponentStatus::Operational,
];

pub fn status_rank(status: ComponentStatus) -> usize {
    STATUS_ORDER.iter().position(|s| *s == status).unwrap_or(0)
}

#[component]
pub fn ComponentStatusBadge(status: ComponentStatus) -> impl IntoView {
    view! {
        <span class=format!("badge hs hs-{}", status.as_str()) data-status=status.as_str()>
            <span class="hs-dot" aria-hidden="true"></span>
            {status_label(status)}
        </span>
    }
}

#[component]
pub fn SeverityBadge(severity: AlertSeverity) -> impl IntoView {
    view! {
        <span class=format!("badge sev sev-{}", severity.as_str())>{severity.as_str()}</span>
    }
}

pub fn state_label(state: TriageState) -> &'static str {
    match state {
        TriageState::Open => "Open",
        TriageState::Acknowledged => "Acknowledged",
        TriageState::Escalated => "Escalated",
        TriageState::Resolved => "Resolved",
    }
}

#[component]
pub fn TriageBadge(state: TriageState) -> impl IntoView {
    let tone = match state {
        TriageState::Open => "bad",
        TriageState::Acknowledged => "info",
        TriageState::Escalated => "warn",
        TriageState::Resolved => "good",
    };
    view! {
        <span class=format!("badge badge-{tone}") data-testid="alert-state">{state_label(state)}</span>
    }
}
