//! One alert episode at `/alerts/<id>`, the page notifications link to: the alert with its
//! triage actions and whole history, then everything the source said about it (all labels and
//! annotations) and when Flightdeck received and last changed it. Follows the alert live.

use flightdeck_model::{Alert, AlertDeployments, AlertDetail, DeploymentKind, Id, Timestamp};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::use_api;
use crate::components::{
    icons::Icon,
    states::{EmptyState, Loading},
    status::StatusBadge,
};
use crate::format::{local_time, minutes_apart, relative};
use crate::live::use_live;
use crate::pages::alerts::{AlertList, EventCache, web_link};
use crate::pages::health::{component_path, status::ALERT_UPDATED};
use crate::routes::{Page, deployment_path};

#[component]
pub fn AlertPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id")).unwrap_or_default());
    move || match id.get().parse::<Id>() {
        Ok(id) => view! { <Detail id /> }.into_any(),
        Err(_) => {
            view! { <NoSuchAlert message="That is not an alert id.".to_owned() /> }.into_any()
        }
    }
}

#[component]
fn NoSuchAlert(message: String) -> impl IntoView {
    view! {
        <section class="page">
            <EmptyState icon="alert" title="No such alert">
                <p>{message}" "<a href=Page::Alerts.path()>"All alerts"</a></p>
            </EmptyState>
        </section>
    }
}

#[component]
fn Detail(id: Id) -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let alert = RwSignal::new(None::<Alert>);
    // The history is always on show here; each load (and each triage step) replaces it.
    let histories = EventCache::default();
    let (error, load) = live.keep_loaded(
        move || async move {
            api.call(move |c| async move { c.get_alert(id).await })
                .await
        },
        move |AlertDetail { alert: a, events }| {
            histories.0.try_update(|h| h.insert(id, events));
            alert.try_set(Some(a));
        },
    );
    // Someone else's triage step, the source resolving it, an escalation by the timer: the
    // event carries the alert, but not the history entry it added, so the page asks again.
    live.subscribe(move |event| {
        let this_one = event.kind == ALERT_UPDATED
            && event.data.get("id").and_then(|v| v.as_str()) == Some(id.to_string().as_str());
        if this_one {
            load();
        }
    });
    let on_change = Callback::new(move |a: Alert| {
        alert.try_set(Some(a));
    });
    let shown = Signal::derive(move || alert.get().into_iter().collect::<Vec<_>>());

    // The frame changes when the alert first arrives, not with each update of it: the list and
    // the facts follow updates themselves, and the page's other cards keep what they loaded.
    let loaded = Memo::new(move |_| alert.with(Option::is_some));
    move || {
        match (loaded.get(), error.get()) {
        (false, Some(e)) if e.status == Some(404) => {
            view! { <NoSuchAlert message="It may have been pruned, or the link is mistyped.".to_owned() /> }.into_any()
        }
        (false, Some(e)) => view! {
            <section class="page">
                <div class="state state-error" role="alert" data-testid="error-state">
                    <h3>"Could not load this alert"</h3>
                    <p class="state-body">{e.message}</p>
                    <button class="button" on:click=move |_| load()>"Try again"</button>
                </div>
            </section>
        }
        .into_any(),
        (false, None) => view! { <section class="page"><Loading label="Loading the alert…" /></section> }.into_any(),
        (true, _) => {
            let Some(a) = alert.get_untracked() else { return ().into_any() };
            view! {
                <section class="page" data-testid="alert-page" data-alert-id=id.to_string()>
                    <div class="page-header">
                        <div>
                            <p class="muted small">
                                <a href=Page::Alerts.path()>"Alerts"</a>
                                {a.component.clone().map(|c| view! { " / "<a href=component_path(&c)>{c.clone()}</a> })}
                            </p>
                            <h1>{a.name.clone()}</h1>
                            <p class="subtitle">{format!("{} alert from {}", a.severity.as_str(), a.source)}</p>
                        </div>
                    </div>
                    <AlertList alerts=shown on_change histories history_pinned=true />
                    <Changes id started=a.starts_at />
                    <div class="grid-2 alert-facts">
                        {move || alert.get().map(|a| view! { <Facts alert=a /> })}
                    </div>
                </section>
            }
            .into_any()
        }
    }
    }
}

/// What changed just before the alert started: its service's deployments in the hour before,
/// the first thing on call asks ("was it the deploy?").
#[component]
fn Changes(id: Id, started: Timestamp) -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let changes = RwSignal::new(None::<AlertDeployments>);
    let (error, _) = live.keep_loaded(
        move || async move {
            api.call(move |c| async move { c.alert_deployments(id).await })
                .await
        },
        move |d: AlertDeployments| {
            changes.try_set(Some(d));
        },
    );
    let body = move || {
        if let Some(e) = error.get() {
            return view! { <p class="form-error" role="alert">{format!("Could not load the deployments: {e}")}</p> }.into_any();
        }
        let Some(c) = changes.get() else {
            return view! { <Loading label="Looking for deployments…" /> }.into_any();
        };
        match (&c.component, &c.service) {
            (None, _) => view! {
                <p class="muted">"It is routed to no component, so there is no service to look at."</p>
            }.into_any(),
            (Some(component), None) => view! {
                <p class="muted">{format!("Component {component} has no linked service; link one in Settings → Catalog to see its deployments here.")}</p>
            }.into_any(),
            (Some(_), Some(service)) if c.deployments.is_empty() => view! {
                <p class="muted" data-testid="alert-changes-none">
                    {format!("No deployment of {service} in the {} minutes before it started.", c.window_minutes)}
                </p>
            }.into_any(),
            (Some(_), Some(_)) => view! {
                <ul class="change-list">
                    {c.deployments.into_iter().map(|d| view! {
                        <li data-testid="alert-change" data-version=d.version.clone() data-environment=d.environment.clone()>
                            <StatusBadge status=d.status />
                            <a class="mono" href=deployment_path(d.id)>{d.version.clone()}</a>
                            <span>{format!(" {} → {}", d.service, d.environment)}</span>
                            {(d.kind == DeploymentKind::Rollback).then(|| view! { <span class="badge badge-warn">"rollback"</span> })}
                            <span class="muted small" title=local_time(&d.created_at)>
                                {format!(" · {} before it started, by {}", minutes_apart(&d.created_at, &started), d.created_by)}
                            </span>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any(),
        }
    };
    view! {
        <div class="card alert-changes" data-testid="alert-changes">
            <h2>"Deployed just before"</h2>
            {body}
        </div>
    }
}

/// When and from where, then the source's labels and annotations, all of them.
#[component]
fn Facts(alert: Alert) -> impl IntoView {
    let when = |t: &chrono::DateTime<chrono::Utc>| format!("{} ({})", local_time(t), relative(t));
    let fact =
        |label: &'static str, value: String| view! { <div><dt>{label}</dt><dd>{value}</dd></div> };
    let pairs = |map: &std::collections::BTreeMap<String, String>, testid: &'static str| {
        if map.is_empty() {
            return view! { <p class="muted">"None."</p> }.into_any();
        }
        view! {
            <dl class="facts facts-text" data-testid=testid>
                {map.iter().map(|(k, v)| {
                    let value = match web_link(v) {
                        Some(url) => view! {
                            <a href=url target="_blank" rel="noopener noreferrer">{v.clone()}<Icon name="external" size=12 /></a>
                        }.into_any(),
                        None => view! { <span>{v.clone()}</span> }.into_any(),
                    };
                    view! { <div><dt class="mono">{k.clone()}</dt><dd>{value}</dd></div> }
                }).collect_view()}
            </dl>
        }
        .into_any()
    };
    view! {
        <div class="card" data-testid="alert-details">
            <h2>"Details"</h2>
            <dl class="facts facts-text">
                {fact("Source", alert.source.clone())}
                <div><dt>"Fingerprint"</dt><dd class="mono">{alert.fingerprint.clone()}</dd></div>
                {fact("Started", when(&alert.starts_at))}
                {fact("Ended", alert.ends_at.as_ref().map(when).unwrap_or_else(|| "—".into()))}
                {fact("Received", when(&alert.received_at))}
                {fact("Last change", when(&alert.updated_at))}
                {fact("Escalation level", alert.escalation_level.to_string())}
                {fact("Component", alert.component.clone().unwrap_or_else(|| "none: no component's matchers match its labels".into()))}
            </dl>
        </div>
        <div class="card">
            <h2>"Labels"</h2>
            {pairs(&alert.labels, "alert-all-labels")}
            <h2>"Annotations"</h2>
            {pairs(&alert.annotations, "alert-annotations")}
        </div>
    }
}
