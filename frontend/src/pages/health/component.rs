//! One component: its status and why, what it is linked to, its live alerts (with triage), the
//! linked service's recent deployments, and its SLOs when the server reports them.

use flightdeck_model::{Alert, ComponentDetail};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use super::component_path;
use super::status::{ALERT_UPDATED, ComponentStatusBadge, STATUS_CHANGED};
use crate::api::{AppError, use_api};
use crate::components::{
    states::{EmptyState, Loading},
    status::StatusBadge,
};
use crate::format::relative;
use crate::live::use_live;
use crate::pages::alerts::{AlertList, upsert};
use crate::routes::{Page, deployment_path};

/// An SLO as the detail reports it, read loosely: SLOs are served by a newer part of the server,
/// and a detail without them shows none.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct SloCard {
    name: String,
    objective: f64,
    #[serde(default)]
    current: Option<f64>,
    #[serde(default)]
    budget_remaining: Option<f64>,
    #[serde(default)]
    fast_burn: bool,
    #[serde(default)]
    slow_burn: bool,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct DetailView {
    #[serde(flatten)]
    detail: ComponentDetail,
    #[serde(default)]
    slos: Vec<SloCard>,
}

fn percent(x: f64) -> String {
    format!("{:.3}%", x * 100.0)
}

#[component]
fn SloCards(slos: Vec<SloCard>) -> impl IntoView {
    (!slos.is_empty()).then(|| {
        view! {
            <div class="card">
                <h2>"SLOs"</h2>
                <div class="slo-cards">
                    {slos.into_iter().map(|s| {
                        let burning = s.fast_burn || s.slow_burn;
                        view! {
                            <div class="slo-card" class:slo-burning=burning data-testid="slo-card">
                                <strong>{s.name}</strong>
                                <span class="muted small">{format!("target {}", percent(s.objective))}</span>
                                <span>{s.current.map(percent).unwrap_or_else(|| "no data yet".into())}</span>
                                <span class="small">{s.budget_remaining.map(|b| format!("{:.0}% of budget left", b * 100.0)).unwrap_or_default()}</span>
                                {burning.then(|| view! { <span class="badge badge-bad">{if s.fast_burn { "fast burn" } else { "slow burn" }}</span> })}
                                {s.error.map(|e| view! { <span class="form-error small">{e}</span> })}
                            </div>
                        }
                    }).collect_view()}
                </div>
            </div>
        }
    })
}

#[component]
pub fn ComponentPage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug")).unwrap_or_default());
    move || {
        let slug = slug.get();
        view! { <Detail slug /> }
    }
}

#[component]
fn Detail(slug: String) -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let detail = RwSignal::new(None::<DetailView>);
    let error = RwSignal::new(None::<AppError>);
    let key = StoredValue::new(slug.clone());
    let load = move || {
        let slug = key.get_value();
        spawn_local(async move {
            let result = api
                .call(move |c| {
                    let slug = slug.clone();
                    async move { c.get_component_as::<DetailView>(&slug).await }
                })
                .await;
            match result {
                Ok(d) => {
                    detail.try_set(Some(d));
                    error.try_set(None);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    Effect::new(move |_| {
        live.reload.track();
        load();
    });
    live.subscribe(move |event| {
        let mine = key.with_value(|s| {
            if event.kind == ALERT_UPDATED {
                event.data.get("component").and_then(|c| c.as_str()) == Some(s.as_str())
            } else {
                event.kind == STATUS_CHANGED
                    && event.data.get("component").and_then(|c| c.as_str()) == Some(s.as_str())
            }
        });
        if mine {
            load();
        }
    });

    move || {
        if let Some(e) = error.get() {
            return view! {
                <section class="page">
                    <EmptyState icon="alert" title=if e.status == Some(404) { "No such component".to_string() } else { "Could not load this component".to_string() }>
                        <p>{e.message}" "<a href=Page::Health.path()>"All components"</a></p>
                    </EmptyState>
                </section>
            }
            .into_any();
        }
        let Some(d) = detail.get() else {
            return view! { <section class="page"><Loading label="Loading the component…" /></section> }.into_any();
        };
        let slos = d.slos;
        let d = d.detail;
        let c = d.component;
        let alerts = RwSignal::new(d.alerts);
        let any = Memo::new(move |_| !alerts.with(Vec::is_empty));
        let on_change = Callback::new(move |a: Alert| {
            alerts.try_update(|l| upsert(l, a));
        });
        let deployments = d.deployments;
        view! {
            <section class="page" data-testid="component-page" data-component=c.slug.clone() data-status=c.status.as_str()>
                <div class="page-header">
                    <div>
                        <p class="muted small"><a href=Page::Health.path()>"Health"</a>{c.group.clone().map(|g| format!(" / {g}"))}</p>
                        <h1>{c.name.clone()}" "<ComponentStatusBadge status=c.status /></h1>
                        <p class="subtitle mono">{c.slug.clone()}</p>
                    </div>
                </div>
                <div class="grid-2">
                    <div class="panel-stack">
                        <div class="card">
                            <h2>"Why this status"</h2>
                            {if c.status_reasons.is_empty() {
                                view! { <p class="muted">"No live alert is routed here."</p> }.into_any()
                            } else {
                                view! { <ul class="steps">{c.status_reasons.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul> }.into_any()
                            }}
                        </div>
                        <SloCards slos />
                        <div class="card">
                            <h2>"Live alerts"</h2>
                            {move || if !any.get() {
                                view! { <p class="muted">"None firing."</p> }.into_any()
                            } else {
                                view! { <AlertList alerts=alerts.into() on_change /> }.into_any()
                            }}
                        </div>
                    </div>
                    <div class="panel-stack">
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
                        <div class="card">
                            <h2>"Recent deployments"</h2>
                            {if deployments.is_empty() {
                                view! { <p class="muted">{if c.service.is_some() { "No deployments of the linked service yet." } else { "Link a service to see its deployments here." }}</p> }.into_any()
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
                    </div>
                </div>
            </section>
        }
        .into_any()
    }
}
