//! How a deployment's status and kind look everywhere: one badge, one set of words.

use flightdeck_model::{DeploymentKind, DeploymentStatus};
use leptos::prelude::*;

pub fn status_label(status: DeploymentStatus) -> &'static str {
    match status {
        DeploymentStatus::Queued => "Queued",
        DeploymentStatus::InProgress => "In progress",
        DeploymentStatus::Succeeded => "Succeeded",
        DeploymentStatus::Failed => "Failed",
        DeploymentStatus::Cancelled => "Cancelled",
        DeploymentStatus::TimedOut => "Timed out",
    }
}

/// The colour family of a status (`badge-<tone>`).
pub fn status_tone(status: DeploymentStatus) -> &'static str {
    match status {
        DeploymentStatus::Queued | DeploymentStatus::InProgress => "info",
        DeploymentStatus::Succeeded => "good",
        DeploymentStatus::Failed | DeploymentStatus::TimedOut => "bad",
        DeploymentStatus::Cancelled => "neutral",
    }
}

pub fn kind_str(kind: DeploymentKind) -> &'static str {
    match kind {
        DeploymentKind::Deploy => "deploy",
        DeploymentKind::Rollback => "rollback",
    }
}

/// A status pill; active deployments spin, so motion means "still running". `still` is for
/// history (a timeline entry that says "queued" is not running now).
#[component]
pub fn StatusBadge(status: DeploymentStatus, #[prop(optional)] still: bool) -> impl IntoView {
    view! {
        <span class=format!("badge status-badge badge-{}", status_tone(status)) data-status=status.as_str()>
            {(status.is_active() && !still).then(|| view! { <span class="spinner spinner-tiny" aria-hidden="true"></span> })}
            {status_label(status)}
        </span>
    }
}

#[component]
pub fn KindBadge(kind: DeploymentKind) -> impl IntoView {
    (kind == DeploymentKind::Rollback).then(|| {
        view! { <span class="badge badge-warn kind-badge" data-kind="rollback">"rollback"</span> }
    })
}
