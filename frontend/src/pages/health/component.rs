//! One component: its status and why, metric charts on one time axis with the linked service's
//! deployments and the component's alerts as markers, recent log lines, SLO cards, live alerts
//! (with triage) and recent deployments.

use flightdeck_model::{Alert, ComponentDetail, Slo};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::component_path;
use super::logs::LogPanel;
use super::metrics::MetricsPanel;
use super::slo::{SLO_DELETED, SLO_UPDATED, SloSection};
use super::status::{ALERT_UPDATED, ComponentStatusBadge, STATUS_CHANGED};
use crate::api::{AppError, use_api};
use crate::components::{
    states::{EmptyState, Loading},
    status::StatusBadge,
};
use crate::format::relative;
use crate::live::use_live;
use crate::pages::alerts::{AlertList, feed_of_component, upsert};
use crate::routes::{Page, deployment_path};

#[component]
pub fn ComponentPage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug")).unwrap_or_default());
    move || {
        let slug = slug.get();
        view! { <Detail slug /> }
    }
}

/// Which frame the page shows; the parts inside follow the detail on their own, so a live
/// update does not rebuild (and refetch) the charts and logs.
#[derive(Debug, Clone, PartialEq)]
enum Frame {
    Loading,
    Failed(AppError),
    Loaded,
}

#[component]
fn Detail(slug: String) -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let detail = RwSignal::new(None::<ComponentDetail>);
    let alerts = RwSignal::new(Vec::<Alert>::new());
    let key = StoredValue::new(slug.clone());
    let (error, load) = live.keep_loaded(
        move || async move {
            let slug = key.get_value();
            api.call(move |c| {
                let slug = slug.clone();
                async move { c.get_component(&slug).await }
            })
            .await
        },
        move |d: ComponentDetail| {
            alerts.try_set(d.alerts.clone());
            detail.try_set(Some(d));
        },
    );
    live.subscribe(move |event| {
        let mine = key.with_value(|s| {
            event
                .data
                .get("component")
                .and_then(|c| c.as_str())
                .is_some_and(|c| c == s.as_str())
        });
        if !mine {
            return;
        }
        if event.kind == SLO_UPDATED {
            // Sent after every evaluation: patch the card rather than reload the whole page.
            if let Ok(slo) = serde_json::from_value::<Slo>(event.data.clone()) {
                detail.update(|d| {
                    if let Some(d) = d {
                        match d.slos.iter_mut().find(|s| s.id == slo.id) {
                            Some(slot) => *slot = slo,
                            None => d.slos.push(slo),
                        }
                    }
                });
            }
        } else if [ALERT_UPDATED, STATUS_CHANGED, SLO_DELETED].contains(&event.kind.as_str()) {
            load();
        }
    });

    let frame = Memo::new(move |_| match (error.get(), detail.with(Option::is_some)) {
        (_, true) => Frame::Loaded,
        (Some(e), false) => Frame::Failed(e),
        (None, false) => Frame::Loading,
    });
    let service =
        Memo::new(move |_| detail.with(|d| d.as_ref().and_then(|d| d.component.service.clone())));
    let slos =
        Memo::new(move |_| detail.with(|d| d.as_ref().map(|d| d.slos.clone()).unwrap_or_default()));
    let any_alerts = Memo::new(move |_| !alerts.with(Vec::is_empty));
    let on_change = Callback::new(move |a: Alert| {
        alerts.try_update(|l| upsert(l, a));
    });
    let with_detail =
        move |f: fn(&ComponentDetail) -> AnyView| move || detail.with(|d| d.as_ref().map(f));

    move || {
        match frame.get() {
        Frame::Failed(e) => view! {
            <section class="page">
                <EmptyState icon="alert" title=if e.status == Some(404) { "No such component".to_string() } else { "Could not load this component".to_string() }>
                    <p>{e.message}" "<a href=Page::Health.path()>"All components"</a></p>
                </EmptyState>
            </section>
        }
        .into_any(),
        Frame::Loading => view! { <section class="page"><Loading label="Loading the component…" /></section> }.into_any(),
        Frame::Loaded => {
            let slug = key.get_value();
            let c = detail.with_untracked(|d| d.as_ref().map(|d| d.component.clone()));
            let Some(c) = c else { return ().into_any() };
            view! {
                <section class="page" data-testid="component-page" data-component=c.slug.clone()
                    data-status=move || detail.with(|d| d.as_ref().map(|d| d.component.status.as_str()).unwrap_or(""))>
                    <div class="page-header">
                        <div>
                            <p class="muted small"><a href=Page::Health.path()>"Health"</a>{c.group.clone().map(|g| format!(" / {g}"))}</p>
                            <h1>{c.name.clone()}" "{with_detail(|d| view! { <ComponentStatusBadge status=d.component.status /> }.into_any())}</h1>
                            <p class="subtitle mono">{c.slug.clone()}</p>
                        </div>
                    </div>
                    <MetricsPanel slug=slug.clone() service=service.into() alerts=alerts.into() />
                    <div class="grid-2">
                        <div class="panel-stack">
                            <div class="card">
                                <h2>"Why this status"</h2>
                                {with_detail(|d| if d.component.status_reasons.is_empty() {
                                    view! { <p class="muted">"No live alert is routed here."</p> }.into_any()
                                } else {
                                    view! { <ul class="steps">{d.component.status_reasons.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul> }.into_any()
                                })}
                            </div>
                            <SloSection slug=slug.clone() slos=slos.into() on_change=Callback::new(move |_| load()) />
                            <div class="card" data-testid="component-alerts">
                                <div class="card-header">
                                    <h2>"Live alerts"</h2>
                                    <a class="small" href=feed_of_component(&slug) data-testid="component-all-alerts">"All its alerts"</a>
                                </div>
                                {move || if !any_alerts.get() {
                                    view! { <p class="muted">"None firing."</p> }.into_any()
                                } else {
                                    view! { <AlertList alerts=alerts.into() on_change /> }.into_any()
                                }}
                            </div>
                        </div>
                        <div class="panel-stack">
                            <LogPanel slug=slug.clone() />
                            {with_detail(|d| view! { <About d=d.clone() /> }.into_any())}
                            {with_detail(|d| view! { <RecentDeployments d=d.clone() /> }.into_any())}
                        </div>
                    </div>
                </section>
            }
            .into_any()
        }
    }
    }
}

#[component]
fn About(d: ComponentDetail) -> impl IntoView {
    let c = d.component;
    view! {
        <div class="card">
            <h2>"About"</h2>
            <dl class="facts">
                <div><dt>"Service"</dt><dd>{c.service.clone().unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"Tier"</dt><dd>{c.tier.map(|t| t.to_string()).unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"Depends on"</dt><dd>
                    {if c.depends_on.is_empty() { view! { "—" }.into_any() } else {
                        c.depends_on.iter().map(|d| view! { <a href=component_path(d)>{d.clone()}</a>" " }).collect_view().into_any()
                    }}
                </dd></div>
                <div><dt>"Matchers"</dt><dd class="mono small">
                    {if c.matchers.is_empty() { format!("component=\"{}\"", c.slug) } else { c.matchers.join(", ") }}
                </dd></div>
            </dl>
        </div>
    }
}

#[component]
fn RecentDeployments(d: ComponentDetail) -> impl IntoView {
    let linked = d.component.service.is_some();
    let deployments = d.deployments;
    view! {
        <div class="card">
            <h2>"Recent deployments"</h2>
            {if deployments.is_empty() {
                view! { <p class="muted">{if linked { "No deployments of the linked service yet." } else { "Link a service to see its deployments here." }}</p> }.into_any()
            } else {
                view! {
                    <ul class="deploy-mini">
                        {deployments.into_iter().take(10).map(|dep| view! {
                            <li>
                                <StatusBadge status=dep.status still=true />
                                <a class="mono" href=deployment_path(dep.id)>{dep.version.clone()}</a>
                                <span class="muted small">{format!(" {} · {}", dep.environment, relative(&dep.created_at))}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}
