//! One deployment: summary, timeline, live log, and the actions a deployer may take on it.

use flightdeck_model::{
    Deployment, DeploymentAlerts, DeploymentEvent, Id, LogLine, LogStream, Role, Timestamp,
};
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use super::dialogs::use_dialogs;
use crate::api::{Api, AppError, use_api};
use crate::catalog::role_allows;
use crate::components::{
    icons::Icon,
    states::{EmptyState, Loading},
    status::{KindBadge, StatusBadge, kind_str},
    toast::use_toasts,
};
use crate::format::{duration_secs, local_time, minutes_apart, relative, relative_to, ticking_now};
use crate::live::use_live;
use crate::pages::health::status::{ALERT_UPDATED, SeverityBadge, TriageBadge};
use crate::pages::overview::{DEPLOYMENT_UPDATED, newer};
use crate::routes::{Page, alert_path, deployment_path};

const DEPLOYMENT_LOG: &str = "deployment.log";
/// The server's largest page of log lines.
const LOG_PAGE: usize = 1000;

#[derive(serde::Deserialize)]
struct LogEvent {
    deployment_id: Id,
    lines: Vec<LogLine>,
}

fn append_lines(log: &mut Vec<LogLine>, lines: Vec<LogLine>) {
    for line in lines {
        let last = log.last().map(|l| l.n).unwrap_or(0);
        if line.n > last {
            log.push(line);
        } else if !log.iter().any(|l| l.n == line.n) {
            let at = log.partition_point(|l| l.n < line.n);
            log.insert(at, line);
        }
    }
}

async fn fetch_all_logs(api: Api, id: Id) -> Result<Vec<LogLine>, AppError> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map(|l: &LogLine| l.n).unwrap_or(0);
        let page = api
            .call(move |c| async move { c.deployment_logs(id, after).await })
            .await?;
        let done = page.len() < LOG_PAGE;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

#[component]
pub fn DeploymentDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .with(|p| p.get("id"))
            .and_then(|s| s.parse::<Id>().ok())
    });
    move || {
        match id.get() {
        None => view! {
            <section class="page">
                <EmptyState icon="alert" title="No such deployment">
                    <p>"This address does not name a deployment. "<a href=Page::Deployments.path()>"All deployments"</a></p>
                </EmptyState>
            </section>
        }
        .into_any(),
        Some(id) => view! { <Detail id /> }.into_any(),
    }
    }
}

#[component]
fn Detail(id: Id) -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let deployment = RwSignal::new(None::<Deployment>);
    let load_error = RwSignal::new(None::<AppError>);
    let log = RwSignal::new(Vec::<LogLine>::new());
    let log_error = RwSignal::new(None::<String>);
    let timeline_tick = RwSignal::new(0u64);
    // Set once: the alerts card mounts when the deployment first arrives, not on each update.
    let created = Memo::new(move |_| deployment.with(|d| d.as_ref().map(|d| d.created_at)));

    let load = move || {
        spawn_local(async move {
            match api
                .call(move |c| async move { c.get_deployment(id).await })
                .await
            {
                Ok(d) => {
                    deployment.try_update(|cur| {
                        if cur.as_ref().is_none_or(|c| !newer(Some(&d), c)) {
                            *cur = Some(d);
                        }
                    });
                    load_error.try_set(None);
                }
                Err(e) => {
                    load_error.try_set(Some(e));
                }
            }
            match fetch_all_logs(api, id).await {
                Ok(lines) => {
                    log.try_update(|l| append_lines(l, lines));
                }
                Err(e) => {
                    log_error.try_set(Some(e.message));
                }
            }
        });
    };
    Effect::new(move |_| {
        live.reload.track();
        load();
    });

    let events = LocalResource::new(move || {
        timeline_tick.track();
        live.reload.track();
        async move {
            api.call(move |c| async move { c.deployment_events(id).await })
                .await
        }
    });

    live.subscribe(move |event| match event.kind.as_str() {
        DEPLOYMENT_UPDATED => {
            if let Ok(d) = serde_json::from_value::<Deployment>(event.data.clone())
                && d.id == id
            {
                deployment.update(|cur| {
                    if newer(cur.as_ref(), &d) || cur.is_none() {
                        *cur = Some(d);
                    }
                });
                timeline_tick.update(|n| *n += 1);
            }
        }
        DEPLOYMENT_LOG => {
            if let Ok(e) = serde_json::from_value::<LogEvent>(event.data.clone())
                && e.deployment_id == id
            {
                log.update(|l| append_lines(l, e.lines));
            }
        }
        _ => {}
    });

    view! {
        <section class="page deployment-detail">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href=Page::Deployments.path()>"Deployments"</a>
                <span aria-hidden="true">" / "</span>
                <span class="mono">{id.to_string()}</span>
            </nav>
            {move || match (deployment.get(), load_error.get()) {
                (Some(d), _) => view! { <Summary d /> }.into_any(),
                (None, Some(e)) => view! {
                    <div class="state state-error" role="alert" data-testid="error-state">
                        <h3>{if e.status == Some(404) { "No such deployment" } else { "Could not load this deployment" }}</h3>
                        <p>{e.message}</p>
                        <a class="button" href=Page::Deployments.path()>"All deployments"</a>
                    </div>
                }.into_any(),
                (None, None) => view! { <div class="card"><Loading label="Loading the deployment…" /></div> }.into_any(),
            }}
            <Show when=move || deployment.with(Option::is_some)>
                <div class="detail-grid">
                    <div class="card timeline-card">
                        <h2>"Timeline"</h2>
                        <Timeline events />
                    </div>
                    <div class="card card-flush log-card">
                        <div class="log-header">
                            <h2>"Output"</h2>
                            <span class="muted small">{move || match log.with(Vec::len) { 1 => "1 line".to_owned(), n => format!("{n} lines") }}</span>
                        </div>
                        <LogView log error=log_error active=Signal::derive(move || deployment.with(|d| d.as_ref().is_some_and(|d| d.status.is_active())))
                            executor=Signal::derive(move || deployment.with(|d| d.as_ref().map(|d| d.executor.clone()).unwrap_or_default())) />
                    </div>
                </div>
                {move || created.get().map(|created| view! { <AlertsAfter id created /> })}
            </Show>
        </section>
    }
}

/// What the deployment may have set off: alerts on its service's components that started in
/// the hour after it, followed live (the question after any deploy: "did it break something?").
#[component]
fn AlertsAfter(id: Id, created: Timestamp) -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let after = RwSignal::new(None::<DeploymentAlerts>);
    let (error, load) = live.keep_loaded(
        move || async move {
            api.call(move |c| async move { c.deployment_alerts(id).await })
                .await
        },
        move |a: DeploymentAlerts| {
            after.try_set(Some(a));
        },
    );
    live.subscribe(move |event| {
        if event.kind != ALERT_UPDATED {
            return;
        }
        let component = event.data.get("component").and_then(|c| c.as_str());
        let ours = after.with_untracked(|a| {
            a.as_ref()
                .is_some_and(|a| component.is_some_and(|c| a.components.iter().any(|x| x == c)))
        });
        if ours {
            load();
        }
    });
    let body = move || {
        if let Some(e) = error.get() {
            return view! { <p class="form-error" role="alert">{format!("Could not load the alerts: {e}")}</p> }.into_any();
        }
        let Some(a) = after.get() else {
            return view! { <Loading label="Looking for alerts…" /> }.into_any();
        };
        if a.components.is_empty() {
            return view! {
                <p class="muted">"No component is linked to this service, so no alert can be tied to it. Link one in Settings → Catalog."</p>
            }.into_any();
        }
        // Where the window ends early: the next deployment to this target owns what follows.
        let next = a.next.clone().map(|n| {
            view! {
                <p class="muted small" data-testid="deployment-alerts-next">
                    "Up to the next deployment here, "
                    <a class="mono" href=deployment_path(n.id)>{n.version.clone()}</a>
                    {format!(", {}.", relative(&n.created_at))}
                </p>
            }
        });
        if a.alerts.is_empty() {
            return view! {
                <p class="muted" data-testid="deployment-alerts-none">
                    {format!("No alert on {} started in the {} minutes after it.", a.components.join(", "), a.window_minutes)}
                </p>
                {next}
            }.into_any();
        }
        view! {
            {next}
            <ul class="change-list">
                {a.alerts.into_iter().map(|al| view! {
                    <li data-testid="deployment-alert" data-alert-name=al.name.clone() data-state=al.state.as_str()>
                        <SeverityBadge severity=al.severity />
                        <a href=alert_path(al.id)><strong>{al.name.clone()}</strong></a>
                        <TriageBadge state=al.state />
                        <span class="muted small" title=local_time(&al.starts_at)>
                            {format!(" · {} · started {} after", al.component.clone().unwrap_or_default(), minutes_apart(&created, &al.starts_at))}
                        </span>
                    </li>
                }).collect_view()}
            </ul>
        }.into_any()
    };
    view! {
        <div class="card alert-changes" data-testid="deployment-alerts">
            <h2>"Alerts after it"</h2>
            {body}
        </div>
    }
}

#[component]
fn Summary(d: Deployment) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let dialogs = use_dialogs();
    let can_act = role_allows(&api, Role::Deployer);
    let now = ticking_now();
    let id = d.id;
    let marking = RwSignal::new(false);
    let cancelling = RwSignal::new(false);
    let bad_reason = RwSignal::new(String::new());

    let cancel = Action::new_local(move |_: &()| async move {
        api.call(
            move |c| async move { c.cancel_deployment(id, Some("cancelled from the UI")).await },
        )
        .await
    });
    Effect::new(move |_| match cancel.value().get() {
        Some(Ok(d)) => toasts.success(format!("Deployment of {} cancelled.", d.version)),
        Some(Err(e)) => toasts.error(format!("Could not cancel: {e}")),
        None => {}
    });
    let mark_bad = Action::new_local(move |reason: &String| {
        let reason = reason.clone();
        async move {
            api.call(move |c| {
                let reason = reason.clone();
                async move { c.mark_bad(id, &reason).await }
            })
            .await
        }
    });
    Effect::new(move |_| match mark_bad.value().get() {
        Some(Ok(d)) => {
            marking.set(false);
            toasts.success(format!(
                "{} marked bad: it will never be a rollback target.",
                d.version
            ));
        }
        Some(Err(e)) => toasts.error(format!("Could not mark bad: {e}")),
        None => {}
    });

    let active = d.status.is_active();
    let (service, environment) = (d.service.clone(), d.environment.clone());
    let created = d.created_at;
    let took = match (d.started_at, d.finished_at) {
        (Some(s), Some(f)) => Some(duration_secs((f - s).num_milliseconds() as f64 / 1000.0)),
        _ => None,
    };
    let title = match d.kind {
        flightdeck_model::DeploymentKind::Deploy => {
            format!("Deploy {} of {} to {}", d.version, d.service, d.environment)
        }
        flightdeck_model::DeploymentKind::Rollback => format!(
            "Roll back {} in {} to {}",
            d.service, d.environment, d.version
        ),
    };
    view! {
        <div class="card summary" data-testid="deployment-summary" data-status=d.status.as_str() data-kind=kind_str(d.kind)>
            <div class="summary-head">
                <div class="summary-title">
                    <h1>{title}</h1>
                    <div class="summary-badges">
                        <span data-testid="deployment-status" data-status=d.status.as_str()><StatusBadge status=d.status /></span>
                        <KindBadge kind=d.kind />
                        {d.marked_bad.then(|| view! { <span class="badge badge-bad" data-testid="marked-bad">"marked bad"</span> })}
                    </div>
                </div>
                {can_act.then(|| view! {
                    <div class="page-actions">
                        {active.then(|| view! {
                            <Show when=move || cancelling.get() fallback=move || view! {
                                <button class="button button-danger-ghost" data-testid="deployment-cancel" on:click=move |_| cancelling.set(true)>
                                    <Icon name="stop" />"Cancel"
                                </button>
                            }>
                                <span class="confirm">
                                    <span class="confirm-text">"Stop it now?"</span>
                                    <button class="button button-small button-danger" data-testid="deployment-cancel-confirm"
                                        disabled=move || cancel.pending().get()
                                        on:click=move |_| { cancel.dispatch(()); cancelling.set(false); }>"Cancel deployment"</button>
                                    <button class="button button-small button-ghost" on:click=move |_| cancelling.set(false)>"Keep"</button>
                                </span>
                            </Show>
                        })}
                        {(!d.marked_bad).then(|| view! {
                            <button class="button" data-testid="mark-bad-open" on:click=move |_| marking.update(|m| *m = !*m)>
                                <Icon name="flag" />"Mark bad"
                            </button>
                        })}
                        <button class="button button-danger" data-testid="rollback-open"
                            on:click=move |_| dialogs.open_rollback(&service, &environment)>
                            <Icon name="undo" />"Roll back"
                        </button>
                    </div>
                })}
            </div>
            <Show when=move || marking.get()>
                <form class="mark-bad-form" on:submit=move |ev| {
                    ev.prevent_default();
                    let r = bad_reason.get_untracked().trim().to_owned();
                    if r.is_empty() { toasts.error("Say why this version is bad."); return; }
                    mark_bad.dispatch(r);
                }>
                    <label class="field">
                        <span class="field-label">"Why is this version bad? It will never be chosen as a rollback target."</span>
                        <input type="text" maxlength="500" placeholder="Corrupts carts on checkout (INC-123)" data-testid="mark-bad-reason" bind:value=bad_reason />
                    </label>
                    <button class="button button-danger" type="submit" data-testid="mark-bad-submit" disabled=move || mark_bad.pending().get()>"Mark bad"</button>
                </form>
            </Show>
            <dl class="facts facts-wide">
                <div><dt>"Service"</dt><dd>{d.service.clone()}</dd></div>
                <div><dt>"Environment"</dt><dd>{d.environment.clone()}</dd></div>
                <div><dt>"Version"</dt><dd><code data-testid="deployment-version">{d.version.clone()}</code></dd></div>
                <div><dt>"Previous version"</dt><dd>{d.previous_version.clone().map(|v| view! { <code>{v}</code> }.into_any()).unwrap_or_else(|| view! { <span class="muted">"none"</span> }.into_any())}</dd></div>
                <div><dt>"Started by"</dt><dd>{d.created_by.clone()}<span class="muted">{format!(" via {} · {} executor", d.source, d.executor)}</span></dd></div>
                <div><dt>"Created"</dt><dd title=local_time(&created)>{local_time(&created)}<span class="muted">{move || format!(" ({})", relative_to(&created, now.get()))}</span></dd></div>
                {d.started_at.map(|t| view! { <div><dt>"Started"</dt><dd>{local_time(&t)}</dd></div> })}
                {d.finished_at.map(|t| view! { <div><dt>"Finished"</dt><dd>{local_time(&t)}{took.clone().map(|t| view! { <span class="muted">{format!(" · took {t}")}</span> })}</dd></div> })}
                {d.rollback_to.map(|to| {
                    let short: String = to.to_string().chars().take(13).collect();
                    view! { <div><dt>"Restores"</dt><dd><code>{d.version.clone()}</code>" of deployment "<a href=deployment_path(to) class="mono" title=to.to_string()>{format!("{short}…")}</a></dd></div> }
                })}
                {d.reason.clone().map(|r| view! { <div><dt>"Reason"</dt><dd data-testid="deployment-reason">{r}</dd></div> })}
                {d.description.clone().map(|r| view! { <div><dt>"Description"</dt><dd>{r}</dd></div> })}
                {d.commit_sha.clone().map(|sha| {
                    let short: String = sha.chars().take(12).collect();
                    let url = d.commit_url.clone();
                    view! { <div><dt>"Commit"</dt><dd>{match url {
                        Some(u) => view! { <a href=u target="_blank" rel="noopener noreferrer" class="mono">{short}<Icon name="external" size=12 /></a> }.into_any(),
                        None => view! { <code>{short}</code> }.into_any(),
                    }}</dd></div> }
                })}
                {d.ci_url.clone().map(|u| view! { <div><dt>"CI run"</dt><dd><a href=u.clone() target="_blank" rel="noopener noreferrer">{u.clone()}<Icon name="external" size=12 /></a></dd></div> })}
            </dl>
        </div>
    }
}

#[component]
fn Timeline(events: LocalResource<Result<Vec<DeploymentEvent>, AppError>>) -> impl IntoView {
    // Keep the last good list while a refetch runs, so the timeline does not flicker.
    let shown = RwSignal::new(None::<Result<Vec<DeploymentEvent>, AppError>>);
    Effect::new(move |_| {
        if let Some(r) = events.get() {
            shown.set(Some(r));
        }
    });
    move || {
        match shown.get() {
        None => view! { <Loading label="Loading the timeline…" /> }.into_any(),
        Some(Err(e)) => view! { <p class="muted">{e.message}</p> }.into_any(),
        Some(Ok(list)) => view! {
            <ol class="timeline" data-testid="timeline">
                {list.into_iter().map(|e| {
                    let tone = e.status.map(crate::components::status::status_tone).unwrap_or("neutral");
                    view! {
                        <li class=format!("timeline-item tone-dot-{tone}") data-status=e.status.map(|s| s.as_str()).unwrap_or("")>
                            <span class="timeline-dot" aria-hidden="true"></span>
                            <div class="timeline-body">
                                <div class="timeline-line">
                                    {e.status.map(|s| view! { <StatusBadge status=s still=true /> })}
                                    <span class="timeline-message">{e.message.clone()}</span>
                                </div>
                                <span class="timeline-meta">{format!("{} · {}", local_time(&e.at), e.actor)}</span>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ol>
        }.into_any(),
    }
    }
}

#[component]
fn LogView(
    log: RwSignal<Vec<LogLine>>,
    error: RwSignal<Option<String>>,
    active: Signal<bool>,
    executor: Signal<String>,
) -> impl IntoView {
    let container = NodeRef::<html::Div>::new();
    // Follow the end of the output unless the reader scrolled up to look at something.
    let follow = RwSignal::new(true);
    let on_scroll = move |_| {
        if let Some(el) = container.get_untracked() {
            let at_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 24;
            follow.set(at_bottom);
        }
    };
    Effect::new(move |_| {
        log.with(|l| l.len());
        if follow.get_untracked()
            && let Some(el) = container.get()
        {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });
    view! {
        <div class="log" data-testid="deployment-log" node_ref=container on:scroll=on_scroll role="log" aria-live="polite">
            {move || error.get().map(|e| view! { <div class="log-line log-system">{format!("could not load the output: {e}")}</div> })}
            <For each=move || log.get() key=|l| l.n let:line>
                <div class=format!("log-line log-{}", match line.stream { LogStream::Stdout => "stdout", LogStream::Stderr => "stderr", LogStream::System => "system" })
                    data-stream=match line.stream { LogStream::Stdout => "stdout", LogStream::Stderr => "stderr", LogStream::System => "system" }>
                    <span class="log-n" aria-hidden="true">{line.n}</span>
                    <span class="log-text">{line.line.clone()}</span>
                </div>
            </For>
            {move || (log.with(Vec::is_empty) && error.with(Option::is_none)).then(|| view! {
                <div class="log-empty">{move || match (active.get(), executor.get().as_str()) {
                    (true, "command") => "Waiting for output…",
                    (true, _) => "Waiting for the pipeline to report (this executor streams no output; status arrives by webhook or callback).",
                    (false, _) => "No output was recorded (record and webhook executors report status only).",
                }}</div>
            })}
            {move || (active.get() && !log.with(Vec::is_empty)).then(|| view! { <div class="log-cursor" aria-hidden="true"><span class="spinner spinner-tiny"></span></div> })}
        </div>
    }
}
