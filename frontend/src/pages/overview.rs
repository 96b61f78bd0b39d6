//! The overview: a service × environment matrix of what runs where. Each cell shows the
//! current version and the latest deployment's status, age and author, and follows
//! `deployment.updated` / `target.updated` live.

use std::collections::HashMap;

use flightdeck_model::{Deployment, DeploymentStatus, Environment, Role, Service, Target};
use leptos::prelude::*;

use crate::api::use_api;
use crate::catalog::{role_allows, use_catalog};
use crate::components::{
    icons::Icon,
    layout::PageHeader,
    states::{EmptyState, Loading},
    status::{StatusBadge, kind_str},
};
use crate::format::{local_time, relative_to, ticking_now};
use crate::live::use_live;
use crate::pages::deployments::{
    dialogs::{DeployPrefill, Promotion, use_dialogs},
    history_path,
};
use crate::routes::{Page, deployment_path};

pub const DEPLOYMENT_UPDATED: &str = "deployment.updated";
pub const TARGET_UPDATED: &str = "target.updated";

/// What one cell knows.
#[derive(Debug, Clone, Default, PartialEq)]
struct Cell {
    current_version: Option<String>,
    current: Option<Deployment>,
    latest: Option<Deployment>,
}

type Key = (String, String);

/// How far a status has got; a report about the same deployment never moves it back.
fn progress(s: DeploymentStatus) -> u8 {
    match s {
        DeploymentStatus::Queued => 0,
        DeploymentStatus::InProgress => 1,
        _ => 2,
    }
}

/// Whether `new` should replace `old` as a cell's latest deployment. IDs are UUIDv7, so a
/// later deployment has a larger id; for the same one, only progress counts (events and a
/// slower fetch may arrive in any order).
pub fn newer(old: Option<&Deployment>, new: &Deployment) -> bool {
    match old {
        None => true,
        Some(o) if o.id == new.id => {
            progress(new.status) > progress(o.status)
                || (progress(new.status) == progress(o.status) && new.marked_bad != o.marked_bad)
        }
        Some(o) => new.id > o.id,
    }
}

fn merge_target(cells: &mut HashMap<Key, Cell>, t: Target) {
    let cell = cells
        .entry((t.service.clone(), t.environment.clone()))
        .or_default();
    if let Some(latest) = t.latest_deployment
        && newer(cell.latest.as_ref(), &latest)
    {
        cell.latest = Some(latest);
    }
    let fetched_id = t.current_deployment.as_ref().map(|d| d.id);
    let known_id = cell.current.as_ref().map(|d| d.id);
    if fetched_id >= known_id {
        cell.current_version = t.current_version;
        cell.current = t.current_deployment;
    }
}

#[derive(serde::Deserialize)]
struct TargetUpdate {
    service: String,
    environment: String,
    current_version: Option<String>,
    current_deployment: Option<Deployment>,
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let catalog = use_catalog();
    let dialogs = use_dialogs();
    let can_deploy = role_allows(&api, Role::Deployer);
    let cells = RwSignal::new(HashMap::<Key, Cell>::new());

    let statuses = LocalResource::new(move || {
        live.reload.track();
        let envs: Vec<String> = catalog
            .environments
            .with(|e| e.iter().map(|e| e.slug.clone()).collect());
        async move {
            let calls = envs.into_iter().map(|env| async move {
                api.call(|c| {
                    let env = env.clone();
                    async move { c.environment_status(&env).await }
                })
                .await
            });
            futures::future::join_all(calls).await
        }
    });
    let load_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(results) = statuses.get() else {
            return;
        };
        let mut error = None;
        cells.update(|cells| {
            for result in results {
                match result {
                    Ok(status) => status
                        .targets
                        .into_iter()
                        .for_each(|t| merge_target(cells, t)),
                    Err(e) => error = Some(e.message),
                }
            }
        });
        load_error.set(error);
    });

    live.subscribe(move |event| match event.kind.as_str() {
        DEPLOYMENT_UPDATED => {
            if let Ok(d) = serde_json::from_value::<Deployment>(event.data.clone()) {
                cells.update(|cells| {
                    let cell = cells
                        .entry((d.service.clone(), d.environment.clone()))
                        .or_default();
                    if newer(cell.latest.as_ref(), &d) {
                        cell.latest = Some(d);
                    }
                });
            }
        }
        TARGET_UPDATED => {
            if let Ok(t) = serde_json::from_value::<TargetUpdate>(event.data.clone()) {
                cells.update(|cells| {
                    merge_target(
                        cells,
                        Target {
                            service: t.service,
                            environment: t.environment,
                            current_version: t.current_version,
                            current_deployment: t.current_deployment,
                            latest_deployment: None,
                        },
                    )
                });
            }
        }
        _ => {}
    });

    // A memo, so adding a service redraws rows, not the whole matrix.
    let catalog_empty = Memo::new(move |_| {
        catalog.services.with(Vec::is_empty) || catalog.environments.with(Vec::is_empty)
    });
    let active_count = move || {
        cells.with(|c| {
            c.values()
                .filter(|c| c.latest.as_ref().is_some_and(|d| d.status.is_active()))
                .count()
        })
    };

    view! {
        <section class="page">
            <PageHeader title="Overview" subtitle="What runs where. Cells update live; click one for its latest deployment.">
                {move || (active_count() > 0).then(|| view! {
                    <span class="badge badge-info active-count" data-testid="active-count">
                        <span class="spinner spinner-tiny" aria-hidden="true"></span>
                        {move || format!("{} in progress", active_count())}
                    </span>
                })}
                {move || (can_deploy && !catalog_empty.get()).then(|| view! {
                    <button class="button button-primary" data-testid="new-deployment"
                        on:click=move |_| dialogs.open_deploy(DeployPrefill::default())>
                        <Icon name="rocket" />"New deployment"
                    </button>
                })}
            </PageHeader>
            {move || match catalog.state.get() {
                None => view! { <div class="card"><Loading label="Loading the catalog…" /></div> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="state state-error" role="alert" data-testid="error-state">
                        <h3>"Could not load the catalog"</h3>
                        <p>{e.message}</p>
                        <button class="button" on:click=move |_| catalog.refresh()><Icon name="refresh" />"Try again"</button>
                    </div>
                }.into_any(),
                Some(Ok(())) => {
                    if catalog_empty.get() { view! { <EmptyCatalog /> }.into_any() } else {
                        view! { <Matrix cells can_deploy /> }.into_any()
                    }
                }
            }}
            {move || load_error.get().map(|e| view! {
                <p class="form-error" role="alert"><Icon name="alert" />{format!("Some environments could not be loaded: {e}")}</p>
            })}
        </section>
    }
}

#[component]
fn EmptyCatalog() -> impl IntoView {
    let api = use_api();
    let is_admin = role_allows(&api, Role::Admin);
    view! {
        <EmptyState icon="overview" title="No services or environments yet">
            <p>"The matrix shows every service (rows) in every environment (columns) once both exist."</p>
            <p>
                {if is_admin {
                    view! { "Add them in "<a href=Page::Catalog.path() data-testid="empty-catalog-link">"Settings → Catalog"</a>", or declare them in the config file:" }.into_any()
                } else {
                    view! { "An admin adds them in Settings → Catalog, or declares them in the config file:" }.into_any()
                }}
            </p>
            <pre class="code-block">"[[catalog.services]]\nslug = \"checkout-api\"\nname = \"Checkout API\"\n\n[[catalog.environments]]\nslug = \"production\"\nname = \"Production\"\nrank = 30\nprotected = true"</pre>
        </EmptyState>
    }
}

#[component]
fn Matrix(cells: RwSignal<HashMap<Key, Cell>>, can_deploy: bool) -> impl IntoView {
    let catalog = use_catalog();
    let now = ticking_now();
    view! {
        <div class="card card-flush">
            <div class="table-wrap matrix-wrap">
                <table class="matrix" data-testid="matrix">
                    <thead>
                        <tr>
                            <th scope="col" class="matrix-corner">"Service"</th>
                            <For each=move || catalog.environments.get() key=|e| (e.slug.clone(), e.lock.is_some(), e.protected, e.name.clone()) let:env>
                                <EnvHeader env />
                            </For>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || catalog.services.get() key=|s| (s.slug.clone(), s.name.clone(), s.team.clone()) let:service>
                            <MatrixRow service cells can_deploy now />
                        </For>
                    </tbody>
                </table>
            </div>
        </div>
    }
}

#[component]
fn EnvHeader(env: Environment) -> impl IntoView {
    let lock = env.lock.clone();
    view! {
        <th scope="col" data-environment=env.slug.clone()>
            <div class="env-head">
                <span class="env-name">{env.name.clone()}</span>
                {env.protected.then(|| view! {
                    <span class="env-flag" title="Protected: deploys need typed confirmation"><Icon name="shield" size=13 /></span>
                })}
                {lock.map(|l| view! {
                    <span class="badge badge-warn lock-badge" data-testid="env-locked"
                        title=format!("Locked by {} at {}: {}", l.locked_by, local_time(&l.locked_at), l.reason)>
                        <Icon name="lock" size=12 />"locked"
                    </span>
                })}
            </div>
        </th>
    }
}

#[component]
fn MatrixRow(
    service: Service,
    cells: RwSignal<HashMap<Key, Cell>>,
    can_deploy: bool,
    now: RwSignal<chrono::DateTime<chrono::Utc>>,
) -> impl IntoView {
    let catalog = use_catalog();
    let slug = service.slug.clone();
    view! {
        <tr data-service=service.slug.clone()>
            <th scope="row" class="matrix-service">
                <span class="service-name">{service.name.clone()}</span>
                <span class="service-meta">
                    <code>{service.slug.clone()}</code>
                    {service.team.clone().map(|t| view! { <span class="muted">{format!(" · {t}")}</span> })}
                </span>
            </th>
            <For each=move || catalog.environments.get() key=|e| e.slug.clone() let:env>
                <MatrixCell service=slug.clone() environment=env.slug cells can_deploy now />
            </For>
        </tr>
    }
}

#[component]
fn MatrixCell(
    service: String,
    environment: String,
    cells: RwSignal<HashMap<Key, Cell>>,
    can_deploy: bool,
    now: RwSignal<chrono::DateTime<chrono::Utc>>,
) -> impl IntoView {
    let dialogs = use_dialogs();
    let catalog = use_catalog();
    let key = (service.clone(), environment.clone());
    let cell = Memo::new(move |_| cells.with(|c| c.get(&key).cloned().unwrap_or_default()));
    // What to promote here, as GitLab's and Argo CD's users do: the version running in the
    // environment just before this one (staging, for production), when this one runs another
    // and is not already deploying it.
    let (s0, e0) = (service.clone(), environment.clone());
    let promotion = Memo::new(move |_| {
        let before = catalog.environments.with(|envs| {
            let i = envs.iter().position(|e| e.slug == e0)?;
            i.checked_sub(1).map(|j| envs[j].clone())
        })?;
        let version = cells.with(|c| {
            c.get(&(s0.clone(), before.slug.clone()))
                .and_then(|c| c.current_version.clone())
        })?;
        let (running, underway) = cell.with(|c| {
            (
                c.current_version.clone(),
                c.latest
                    .as_ref()
                    .is_some_and(|d| d.status.is_active() && d.version == version),
            )
        });
        (running.as_deref() != Some(version.as_str()) && !underway).then_some(Promotion {
            version,
            from: before.name,
        })
    });
    let status = move || {
        cell.with(|c| {
            c.latest
                .as_ref()
                .map(|d| d.status.as_str())
                .unwrap_or("none")
        })
    };
    let version = move || cell.with(|c| c.current_version.clone().unwrap_or_default());
    let kind = move || cell.with(|c| c.latest.as_ref().map(|d| kind_str(d.kind)).unwrap_or(""));
    let (s1, e1) = (service.clone(), environment.clone());
    let (s2, e2) = (service.clone(), environment.clone());
    let (s3, e3) = (service.clone(), environment.clone());
    let has_history = move || cell.with(|c| c.latest.is_some());
    view! {
        <td class="matrix-cell" data-testid="matrix-cell" data-service=service.clone() data-environment=environment.clone()
            data-status=status data-version=version data-kind=kind
            class:cell-active=move || cell.with(|c| c.latest.as_ref().is_some_and(|d| d.status.is_active()))
            class:cell-failed=move || cell.with(|c| c.latest.as_ref().is_some_and(|d| matches!(d.status, DeploymentStatus::Failed | DeploymentStatus::TimedOut)))>
            {move || cell.with(|c| match &c.latest {
                None => view! {
                    <div class="cell-body cell-empty">
                        <span class="cell-version muted">"—"</span>
                        <span class="cell-meta">"never deployed"</span>
                    </div>
                }.into_any(),
                Some(d) => {
                    let current = c.current_version.clone();
                    let other_version = (current.as_deref() != Some(d.version.as_str())).then(|| d.version.clone());
                    let at = d.finished_at.or(d.started_at).unwrap_or(d.created_at);
                    let who = d.created_by.clone();
                    let status = d.status;
                    let rollback = d.kind == flightdeck_model::DeploymentKind::Rollback;
                    view! {
                        <a class="cell-body" href=deployment_path(d.id) data-testid="matrix-cell-link"
                            title=format!("{} {} → {}: {} ({})", d.service, d.version, d.environment, status.as_str(), local_time(&at))>
                            <span class="cell-version" data-testid="cell-version">
                                {current.unwrap_or_else(|| "—".into())}
                            </span>
                            <span class="cell-status">
                                <StatusBadge status />
                                {other_version.map(|v| view! { <code class="cell-other">{v}</code> })}
                                {rollback.then(|| view! { <span class="cell-kind" title="Rollback"><Icon name="undo" size=12 /></span> })}
                            </span>
                            <span class="cell-meta">
                                {move || relative_to(&at, now.get())}" · "{who.clone()}
                            </span>
                        </a>
                    }.into_any()
                }
            })}
            <div class="cell-actions">
                {can_deploy.then(|| view! {
                    <button class="button button-tiny button-ghost" title="Deploy a version here" data-testid="cell-deploy"
                        on:click=move |_| dialogs.open_deploy(DeployPrefill { service: Some(s1.clone()), environment: Some(e1.clone()), promote: None })>
                        <Icon name="rocket" size=13 /><span>"Deploy"</span>
                    </button>
                })}
                {move || can_deploy.then(|| promotion.get()).flatten().map(|p| {
                    let (s, e) = (s3.clone(), e3.clone());
                    view! {
                        <button class="button button-tiny button-ghost" data-testid="cell-promote" data-version=p.version.clone()
                            title=format!("Deploy {} here, the version running in {}", p.version, p.from)
                            on:click=move |_| dialogs.open_deploy(DeployPrefill { service: Some(s.clone()), environment: Some(e.clone()), promote: Some(p.clone()) })>
                            <Icon name="arrow-up" size=13 /><span>"Promote"</span>
                        </button>
                    }
                })}
                <Show when=has_history>
                    {
                        let (s2, e2) = (s2.clone(), e2.clone());
                        let history = history_path(&s2, &e2);
                        view! {
                            <a class="button button-tiny button-ghost" href=history data-testid="cell-history"
                                title="Every deployment of this service to this environment">
                                <Icon name="deploy" size=13 /><span>"History"</span>
                            </a>
                            {can_deploy.then(|| view! {
                                <button class="button button-tiny button-ghost" title="Roll back to the last good version" data-testid="rollback-open"
                                    on:click=move |_| dialogs.open_rollback(&s2, &e2)>
                                    <Icon name="undo" size=13 /><span>"Roll back"</span>
                                </button>
                            })}
                        }
                    }
                </Show>
            </div>
        </td>
    }
}
