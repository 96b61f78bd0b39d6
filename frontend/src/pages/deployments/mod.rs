//! Deployments: the history with filters and "Load more", new and changed rows arriving live,
//! and the DORA figures for the same selection.

mod detail;
pub mod dialogs;
mod dora;

pub use detail::DeploymentDetailPage;

use flightdeck_model::{Deployment, DeploymentKind, DeploymentStatus, Role};
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::api::{Api, AppError, use_api};
use crate::catalog::{role_allows, use_catalog};
use crate::components::{
    icons::Icon,
    layout::PageHeader,
    states::{EmptyState, Loading},
    status::{KindBadge, StatusBadge, kind_str, status_label},
    toast::use_toasts,
};
use crate::format::{local_time, relative_to, ticking_now};
use crate::live::use_live;
use crate::pages::overview::{DEPLOYMENT_UPDATED, newer};
use crate::routes::{Page, deployment_path};
use crate::url_filter::{UrlFilter, filter_in_url, param, path_of};
use dialogs::{DeployPrefill, use_dialogs};

const PAGE_SIZE: &str = "50";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub service: String,
    pub environment: String,
    pub status: String,
    pub kind: String,
}

/// `/deployments?service=…&environment=…&status=…&kind=…`, also the API's parameters.
impl UrlFilter for Filter {
    const PAGE: Page = Page::Deployments;

    fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("service", &self.service),
            ("environment", &self.environment),
            ("status", &self.status),
            ("kind", &self.kind),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }

    fn from_query(query: &ParamsMap) -> Self {
        Filter {
            service: param(query, "service"),
            environment: param(query, "environment"),
            status: param(query, "status"),
            kind: param(query, "kind"),
        }
    }
}

/// The history of one service in one environment, as the overview's cells link to it.
pub fn history_path(service: &str, environment: &str) -> String {
    path_of(&Filter {
        service: service.to_owned(),
        environment: environment.to_owned(),
        ..Filter::default()
    })
}

impl Filter {
    fn matches(&self, d: &Deployment) -> bool {
        (self.service.is_empty() || d.service == self.service)
            && (self.environment.is_empty() || d.environment == self.environment)
            && (self.status.is_empty() || d.status.as_str() == self.status)
            && (self.kind.is_empty() || kind_str(d.kind) == self.kind)
    }

    fn is_empty(&self) -> bool {
        *self == Filter::default()
    }
}

async fn fetch(
    api: Api,
    filter: &Filter,
    cursor: Option<String>,
) -> Result<flightdeck_model::Page<Deployment>, AppError> {
    let mut pairs = filter.pairs();
    pairs.push(("limit", PAGE_SIZE.into()));
    if let Some(c) = cursor {
        pairs.push(("cursor", c));
    }
    api.call(move |c| {
        let pairs = pairs.clone();
        async move {
            let q: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.list_deployments(&q).await
        }
    })
    .await
}

/// Newest first, each once, a later report of the same deployment winning.
fn upsert(rows: &mut Vec<Deployment>, d: Deployment) {
    match rows.iter_mut().find(|r| r.id == d.id) {
        Some(slot) => {
            if newer(Some(slot), &d) {
                *slot = d;
            }
        }
        None => {
            let at = rows.partition_point(|r| r.id > d.id);
            rows.insert(at, d);
        }
    }
}

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let toasts = use_toasts();
    let dialogs = use_dialogs();
    let can_deploy = role_allows(&api, Role::Deployer);
    let filter = filter_in_url::<Filter>();
    let rows = RwSignal::new(Vec::<Deployment>::new());
    let cursor = RwSignal::new(None::<String>);
    let loaded = RwSignal::new(None::<Result<(), AppError>>);
    // Ids that arrived live, to highlight them.
    let fresh = RwSignal::new(Vec::<flightdeck_model::Id>::new());
    // Moves whenever a deployment finishes, so the DORA figures follow.
    let finished = RwSignal::new(0u64);

    let first = LocalResource::new(move || {
        live.reload.track();
        let f = filter.get();
        async move { (f.clone(), fetch(api, &f, None).await) }
    });
    Effect::new(move |_| {
        let Some((f, result)) = first.get() else {
            return;
        };
        if filter.with_untracked(|cur| *cur != f) {
            return;
        }
        match result {
            Ok(page) => {
                rows.update(|r| {
                    // Keep live rows newer than the page; the page wins for the rest.
                    let live_rows: Vec<Deployment> = r.drain(..).filter(|d| f.matches(d)).collect();
                    *r = page.items;
                    for d in live_rows {
                        if fresh.with_untracked(|fr| fr.contains(&d.id)) {
                            upsert(r, d);
                        }
                    }
                });
                cursor.set(page.next_cursor);
                loaded.set(Some(Ok(())));
            }
            Err(e) => loaded.set(Some(Err(e))),
        }
    });

    live.subscribe(move |event| {
        if event.kind != DEPLOYMENT_UPDATED {
            return;
        }
        let Ok(d) = serde_json::from_value::<Deployment>(event.data.clone()) else {
            return;
        };
        if d.status.is_terminal() {
            finished.update(|n| *n += 1);
        }
        if filter.with_untracked(|f| f.matches(&d)) {
            fresh.update(|f| f.push(d.id));
            rows.update(|r| upsert(r, d));
        } else {
            // It no longer matches (a status filter): drop it.
            rows.update(|r| r.retain(|x| x.id != d.id));
        }
    });

    let load_more = Action::new_local(move |c: &String| {
        let c = c.clone();
        let current = filter.get_untracked();
        async move {
            let page = fetch(api, &current, Some(c)).await?;
            if filter.with_untracked(|f| *f == current) {
                rows.update(|r| page.items.into_iter().for_each(|d| upsert(r, d)));
                cursor.set(page.next_cursor);
            }
            Ok::<_, AppError>(())
        }
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = load_more.value().get() {
            toasts.error(format!("Could not load more deployments: {e}"));
        }
    });

    // A new filter, from the bar or from the URL (a link, the nav), starts the list over.
    Effect::new(move |previous: Option<Filter>| {
        let current = filter.get();
        if previous.is_some_and(|p| p != current) {
            loaded.set(None);
            fresh.set(Vec::new());
            rows.set(Vec::new());
            cursor.set(None);
        }
        current
    });

    view! {
        <section class="page">
            <PageHeader title="Deployments" subtitle="Every deploy and rollback, newest first. New ones appear live.">
                {can_deploy.then(|| view! {
                    <button class="button button-primary" data-testid="new-deployment"
                        on:click=move |_| dialogs.open_deploy(DeployPrefill {
                            service: Some(filter.get_untracked().service).filter(|s| !s.is_empty()),
                            environment: Some(filter.get_untracked().environment).filter(|s| !s.is_empty()),
                            promote: None,
                        })>
                        <Icon name="rocket" />"New deployment"
                    </button>
                })}
            </PageHeader>
            <FilterBar current=filter />
            <dora::DoraPanel filter finished />
            <div class="card card-flush">
                {move || match loaded.get() {
                    None => view! { <Loading label="Loading deployments…" /> }.into_any(),
                    Some(Err(e)) => view! {
                        <div class="state state-error" role="alert" data-testid="error-state">
                            <h3>"Could not load deployments"</h3>
                            <p>{e.message}</p>
                            <button class="button" on:click=move |_| first.refetch()><Icon name="refresh" />"Try again"</button>
                        </div>
                    }.into_any(),
                    Some(Ok(())) => view! { <DeploymentTable rows fresh filtered=!filter.get_untracked().is_empty() /> }.into_any(),
                }}
                {move || cursor.get().filter(|_| matches!(loaded.get(), Some(Ok(())))).map(|c| view! {
                    <div class="load-more">
                        <button class="button" data-testid="deployments-load-more"
                            disabled=move || load_more.pending().get()
                            on:click=move |_| { load_more.dispatch(c.clone()); }>
                            {move || if load_more.pending().get() { "Loading…" } else { "Load more" }}
                        </button>
                    </div>
                })}
            </div>
        </section>
    }
}

/// Writes the page's filter; the page starts its list over when it changes.
#[component]
fn FilterBar(current: RwSignal<Filter>) -> impl IntoView {
    let catalog = use_catalog();
    let set = move |field: fn(&mut Filter, String)| {
        move |ev: leptos::ev::Event| {
            let mut f = current.get_untracked();
            field(&mut f, event_target_value(&ev));
            current.set(f);
        }
    };
    view! {
        <form class="card filters filters-4" aria-label="Filter deployments" on:submit=|ev| ev.prevent_default()>
            <label class="field">
                <span class="field-label">"Service"</span>
                <select data-testid="filter-service" prop:value=move || current.with(|f| f.service.clone()) on:change=set(|f, v| f.service = v)>
                    <option value="">"All services"</option>
                    <For each=move || catalog.services.get() key=|s| s.slug.clone() let:s>
                        <option value=s.slug.clone() selected=current.get_untracked().service == s.slug>{s.name.clone()}</option>
                    </For>
                </select>
            </label>
            <label class="field">
                <span class="field-label">"Environment"</span>
                <select data-testid="filter-environment" prop:value=move || current.with(|f| f.environment.clone()) on:change=set(|f, v| f.environment = v)>
                    <option value="">"All environments"</option>
                    <For each=move || catalog.environments.get() key=|e| e.slug.clone() let:e>
                        <option value=e.slug.clone() selected=current.get_untracked().environment == e.slug>{e.name.clone()}</option>
                    </For>
                </select>
            </label>
            <label class="field">
                <span class="field-label">"Status"</span>
                <select data-testid="filter-status" prop:value=move || current.with(|f| f.status.clone()) on:change=set(|f, v| f.status = v)>
                    <option value="">"Any status"</option>
                    {DeploymentStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str()>{status_label(s)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span class="field-label">"Kind"</span>
                <select data-testid="filter-kind" prop:value=move || current.with(|f| f.kind.clone()) on:change=set(|f, v| f.kind = v)>
                    <option value="">"Deploys and rollbacks"</option>
                    <option value=kind_str(DeploymentKind::Deploy)>"Deploys"</option>
                    <option value=kind_str(DeploymentKind::Rollback)>"Rollbacks"</option>
                </select>
            </label>
        </form>
    }
}

#[component]
fn DeploymentTable(
    rows: RwSignal<Vec<Deployment>>,
    fresh: RwSignal<Vec<flightdeck_model::Id>>,
    filtered: bool,
) -> impl IntoView {
    let now = ticking_now();
    view! {
        <Show when=move || !rows.with(Vec::is_empty) fallback=move || view! {
            <EmptyState icon="deploy" title=if filtered { "No deployments match these filters" } else { "No deployments yet" }>
                <p>{if filtered {
                    "Loosen the filters, or wait: matching deployments appear here the moment they start."
                } else {
                    "Start one with “New deployment”, or let CI report them through webhooks. Each appears here live, with its status, author and log."
                }}</p>
            </EmptyState>
        }>
            <div class="table-wrap">
                <table class="table table-cards deployments-table" data-testid="deployments-table">
                    <thead>
                        <tr>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Service"</th>
                            <th scope="col">"Environment"</th>
                            <th scope="col">"Version"</th>
                            <th scope="col">"By"</th>
                            <th scope="col">"Started"</th>
                            <th scope="col">"Duration"</th>
                            <th scope="col">"Description"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || rows.get() key=|d| (d.id, d.status, d.marked_bad) let:d>
                            <DeploymentRow is_new=fresh.with_untracked(|f| f.contains(&d.id)) d now />
                        </For>
                    </tbody>
                </table>
            </div>
        </Show>
    }
}

#[component]
fn DeploymentRow(
    d: Deployment,
    is_new: bool,
    now: RwSignal<chrono::DateTime<chrono::Utc>>,
) -> impl IntoView {
    let created = d.created_at;
    let duration = match (d.started_at, d.finished_at) {
        (Some(s), Some(f)) => {
            crate::format::duration_secs((f - s).num_milliseconds() as f64 / 1000.0)
        }
        (Some(_), None) => "running".into(),
        _ => "—".into(),
    };
    let href = deployment_path(d.id);
    let text = d
        .reason
        .clone()
        .or(d.description.clone())
        .unwrap_or_default();
    view! {
        <tr data-testid="deployment-row" data-id=d.id.to_string() data-status=d.status.as_str()
            data-kind=kind_str(d.kind) data-version=d.version.clone() data-service=d.service.clone()
            data-environment=d.environment.clone() class:row-new=is_new>
            <td data-label="Status" class="cell-nowrap"><StatusBadge status=d.status /></td>
            <td data-label="Service" class="cell-strong">{d.service.clone()}</td>
            <td data-label="Environment">{d.environment.clone()}</td>
            <td data-label="Version" class="cell-nowrap">
                <a href=href class="version-link mono">{d.version.clone()}</a>
                " "<KindBadge kind=d.kind />
                {d.marked_bad.then(|| view! { " "<span class="badge badge-bad" title="Marked bad: never a rollback target">"bad"</span> })}
                {d.previous_version.clone().map(|p| view! { <span class="muted small prev-version">{format!(" from {p}")}</span> })}
            </td>
            <td data-label="By">{d.created_by.clone()}</td>
            <td data-label="Started" class="cell-nowrap" title=local_time(&created)>{move || relative_to(&created, now.get())}</td>
            <td data-label="Duration" class="cell-nowrap">{duration}</td>
            <td data-label="Description" class="cell-reason">{text}</td>
        </tr>
    }
}
