//! The alert feed: newest first, filterable by state, severity and component, paged with
//! "Load more", live, with triage (acknowledge, escalate, resolve) for operators and up.

use std::collections::{HashMap, HashSet};

use flightdeck_model::{Alert, AlertEvent, AlertQuery, Id, Role, TriageRequest};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::params::ParamsMap;

use crate::api::{Api, AppError, use_api};
use crate::catalog::role_allows;
use crate::components::{
    icons::Icon,
    layout::PageHeader,
    states::{EmptyState, Loading},
    toast::use_toasts,
};
use crate::format::{local_time, relative};
use crate::live::use_live;
use crate::pages::health::{
    component_path,
    status::{ALERT_UPDATED, SeverityBadge, TriageBadge},
};
use crate::routes::{Page, alert_path};
use crate::url_filter::{UrlFilter, filter_in_url, param, path_of, search_box};

const PAGE: u32 = 50;

/// How long typing in the search box must pause before the feed is asked again.
const SEARCH_PAUSE_MS: u32 = 300;

#[derive(Debug, Clone, Default, PartialEq)]
struct Filter {
    state: String,
    severity: String,
    component: String,
    /// Searched in names and labels (trimmed; empty: no search).
    text: String,
}

impl Filter {
    fn query(&self, cursor: Option<String>) -> AlertQuery {
        let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
        AlertQuery {
            state: opt(&self.state),
            severity: opt(&self.severity),
            component: opt(&self.component),
            q: opt(&self.text),
            limit: Some(PAGE),
            cursor,
        }
    }

    fn matches(&self, a: &Alert) -> bool {
        (self.state.is_empty() || a.state.as_str() == self.state)
            && (self.severity.is_empty() || a.severity.as_str() == self.severity)
            && (self.component.is_empty() || a.component.as_deref() == Some(&self.component))
            && (self.text.is_empty() || mentions(a, &self.text))
    }
}

/// `/alerts?state=open&severity=critical&component=…&q=…`.
impl UrlFilter for Filter {
    const PAGE: Page = Page::Alerts;

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("state", self.state.clone()),
            ("severity", self.severity.clone()),
            ("component", self.component.clone()),
            ("q", self.text.clone()),
        ]
    }

    fn from_query(query: &ParamsMap) -> Self {
        Filter {
            state: param(query, "state"),
            severity: param(query, "severity"),
            component: param(query, "component"),
            text: param(query, "q"),
        }
    }
}

/// The feed filtered to one component's alerts.
pub fn feed_of_component(slug: &str) -> String {
    path_of(&Filter {
        component: slug.to_owned(),
        ..Filter::default()
    })
}

/// What the server's `q` matches, for alerts that arrive live: the text, ignoring case, in the
/// name or in the labels as stored (their JSON).
fn mentions(a: &Alert, text: &str) -> bool {
    let text = text.to_lowercase();
    a.name.to_lowercase().contains(&text)
        || serde_json::to_string(&a.labels)
            .is_ok_and(|labels| labels.to_lowercase().contains(&text))
}

/// Puts `alert` in place, or at the top when it is new.
pub fn upsert(list: &mut Vec<Alert>, alert: Alert) {
    match list.iter_mut().find(|a| a.id == alert.id) {
        Some(slot) => {
            if alert.updated_at >= slot.updated_at {
                *slot = alert;
            }
        }
        None => list.insert(0, alert),
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let toasts = use_toasts();
    let filter = filter_in_url::<Filter>();
    let search_box = search_box(move || filter.with(|f| f.text.clone()));
    let alerts = RwSignal::new(None::<Vec<Alert>>);
    let cursor = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<AppError>);
    let loading_more = RwSignal::new(false);
    let component_slugs = RwSignal::new(Vec::<String>::new());
    let typed = StoredValue::new(0u64);
    // Asks the feed once typing pauses, not at every key.
    let on_search = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev).trim().to_owned();
        let n = typed.get_value() + 1;
        typed.set_value(n);
        spawn_local(async move {
            TimeoutFuture::new(SEARCH_PAUSE_MS).await;
            if typed.try_get_value() == Some(n) && filter.with_untracked(|f| f.text != value) {
                filter.update(|f| f.text = value);
            }
        });
    };

    spawn_local(async move {
        if let Ok(page) = api.call(|c| async move { c.list_components().await }).await {
            component_slugs.try_set(page.items.into_iter().map(|c| c.slug).collect());
        }
    });

    let load = move || {
        let current = filter.get_untracked();
        spawn_local(async move {
            let query = current.query(None);
            let result = api
                .call(move |c| {
                    let query = query.clone();
                    async move { c.list_alerts(&query).await }
                })
                .await;
            if filter.try_with_untracked(|f| *f != current).unwrap_or(true) {
                return;
            }
            match result {
                Ok(page) => {
                    alerts.try_set(Some(page.items));
                    cursor.try_set(page.next_cursor);
                    error.try_set(None);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    Effect::new(move |_| {
        filter.track();
        live.reload.track();
        load();
    });
    live.subscribe(move |event| {
        if event.kind != ALERT_UPDATED {
            return;
        }
        let Ok(alert) = serde_json::from_value::<Alert>(event.data.clone()) else {
            return;
        };
        let matches = filter.with_untracked(|f| f.matches(&alert));
        alerts.update(|list| {
            if let Some(list) = list {
                if matches {
                    upsert(list, alert);
                } else {
                    list.retain(|a| a.id != alert.id);
                }
            }
        });
    });
    let load_more = move |_| {
        let Some(after) = cursor.get_untracked() else {
            return;
        };
        let current = filter.get_untracked();
        loading_more.set(true);
        spawn_local(async move {
            let query = current.query(Some(after));
            let result = api
                .call(move |c| {
                    let query = query.clone();
                    async move { c.list_alerts(&query).await }
                })
                .await;
            loading_more.try_set(false);
            match result {
                Ok(page) if filter.with_untracked(|f| *f == current) => {
                    alerts.update(|list| {
                        let list = list.get_or_insert_default();
                        for a in page.items {
                            if !list.iter().any(|x| x.id == a.id) {
                                list.push(a);
                            }
                        }
                    });
                    cursor.set(page.next_cursor);
                }
                Ok(_) => {}
                Err(e) => toasts.error(format!("Could not load more alerts: {e}")),
            }
        });
    };

    let select = move |label: &'static str,
                       testid: &'static str,
                       options: Signal<Vec<String>>,
                       get: fn(&Filter) -> String,
                       set: fn(&mut Filter, String)| {
        view! {
            <label class="field">
                <span class="field-label">{label}</span>
                <select data-testid=testid
                    prop:value=move || filter.with(get)
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        filter.update(|f| set(f, v));
                    }>
                    <option value="">"Any"</option>
                    {move || options.get().into_iter().map(|o| {
                        let selected = filter.with_untracked(get) == o;
                        view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    };
    let shape = Memo::new(move |_| alerts.with(|a| a.as_ref().map(Vec::is_empty)));
    let can_triage = role_allows(&api, Role::Operator);
    let selection = Selection::default();
    // Only what is on screen and still open to triage stays picked: a new filter, a live
    // resolution or a resolve by someone else drops it.
    Effect::new(move |_| {
        let pickable = alerts.with(pickable);
        if selection.0.with_untracked(|p| !p.is_subset(&pickable)) {
            selection.0.update(|p| p.retain(|id| pickable.contains(id)));
        }
    });
    let on_change = Callback::new(move |a: Alert| {
        alerts.try_update(|l| {
            if let Some(l) = l {
                upsert(l, a)
            }
        });
    });
    let states = Signal::derive(|| {
        ["open", "acknowledged", "escalated", "resolved"]
            .map(String::from)
            .to_vec()
    });
    let severities = Signal::derive(|| ["critical", "warning", "info"].map(String::from).to_vec());

    view! {
        <section class="page">
            <PageHeader title="Alerts" subtitle="Alerts from Alertmanager, newest first. Changes appear live." />
            <div class="card filters alert-filters" role="group" aria-label="Filter alerts">
                {select("State", "alert-filter-state", states, |f| f.state.clone(), |f, v| f.state = v)}
                {select("Severity", "alert-filter-severity", severities, |f| f.severity.clone(), |f, v| f.severity = v)}
                {select("Component", "alert-filter-component", component_slugs.into(), |f| f.component.clone(), |f, v| f.component = v)}
                <label class="field">
                    <span class="field-label">"Search"</span>
                    <input type="search" maxlength="200" placeholder="Name or label, e.g. db-1" data-testid="alert-search"
                        node_ref=search_box on:input=on_search />
                </label>
            </div>
            {move || {
                if let Some(e) = error.get() && shape.get().is_none() {
                    return view! {
                        <div class="state state-error" role="alert" data-testid="error-state">
                            <h3>"Could not load alerts"</h3>
                            <p class="state-body">{e.message}</p>
                            <button class="button" on:click=move |_| load()>"Try again"</button>
                        </div>
                    }.into_any();
                }
                match shape.get() {
                    None => view! { <Loading label="Loading alerts…" /> }.into_any(),
                    Some(true) if filter.with(|f| *f == Filter::default()) => view! { <NoAlerts /> }.into_any(),
                    Some(true) => view! {
                        <EmptyState icon="filter" title="No alert matches these filters" />
                    }.into_any(),
                    Some(false) => view! {
                        {can_triage.then(|| view! { <BulkBar alerts selection on_change /> })}
                        <AlertList alerts=Signal::derive(move || alerts.get().unwrap_or_default()) on_change selection />
                        {move || cursor.get().is_some().then(|| view! {
                            <div class="load-more">
                                <button class="button" data-testid="alerts-load-more"
                                    disabled=move || loading_more.get() on:click=load_more>
                                    {move || if loading_more.get() { "Loading…" } else { "Load more" }}
                                </button>
                            </div>
                        })}
                    }.into_any(),
                }
            }}
        </section>
    }
}

/// Whether triage (and so a bulk pick) still applies: the alert is not resolved.
fn open_to_triage(a: &Alert) -> bool {
    a.state != flightdeck_model::TriageState::Resolved
}

/// The alerts on screen that can still be picked for a bulk step.
fn pickable(list: &Option<Vec<Alert>>) -> HashSet<Id> {
    list.iter()
        .flatten()
        .filter(|a| open_to_triage(a))
        .map(|a| a.id)
        .collect()
}

/// Acknowledge or resolve the picked alerts in one go, with one note: during a storm, one step
/// instead of one per alert. Each is still its own triage call, so each gets its own history
/// entry and audit record; what fails is reported and stays picked.
#[component]
fn BulkBar(
    alerts: RwSignal<Option<Vec<Alert>>>,
    selection: Selection,
    on_change: Callback<Alert>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let Selection(picked) = selection;
    let note = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    // The picked alerts a step applies to: acknowledge only open ones, resolve any unresolved.
    let targets = move |step: Step| -> Vec<Alert> {
        let ids = picked.get();
        alerts.with(|l| {
            l.iter()
                .flatten()
                .filter(|a| ids.contains(&a.id))
                .filter(|a| match step {
                    Step::Acknowledge => a.state == flightdeck_model::TriageState::Open,
                    _ => open_to_triage(a),
                })
                .cloned()
                .collect()
        })
    };
    let pickable = move || alerts.with(pickable);
    let all_picked = move || {
        let all = pickable();
        !all.is_empty() && picked.with(|p| all.is_subset(p))
    };
    let run = move |step: Step| {
        let chosen = targets(step);
        if chosen.is_empty() {
            return;
        }
        let text = note.get_untracked().trim().to_owned();
        busy.set(true);
        spawn_local(async move {
            let total = chosen.len();
            let mut failed = Vec::new();
            for a in chosen {
                let body = TriageRequest {
                    note: (!text.is_empty()).then(|| text.clone()),
                    target: None,
                };
                let id = a.id;
                match triage(api, a, step, body).await {
                    Ok((changed, _)) => {
                        picked.try_update(|p| p.remove(&id));
                        on_change.try_run(changed);
                    }
                    Err(e) => failed.push(e.to_string()),
                }
            }
            busy.try_set(false);
            let verb = match step {
                Step::Acknowledge => "Acknowledged",
                _ => "Resolved",
            };
            let done = total - failed.len();
            let plural = |n: usize| if n == 1 { "alert" } else { "alerts" };
            match failed.first() {
                None => {
                    note.try_set(String::new());
                    toasts.success(format!("{verb} {done} {}", plural(total)));
                }
                Some(first) => toasts.error(format!(
                    "{verb} {done} of {total} {}; the rest stay selected: {first}",
                    plural(total)
                )),
            }
        });
    };
    let count = move |step: Step| targets(step).len();
    view! {
        <div class="card bulk-bar" data-testid="alert-bulk" role="group" aria-label="Triage selected alerts">
            <label class="bulk-all">
                <input type="checkbox" data-testid="alert-select-all"
                    prop:checked=all_picked
                    prop:disabled=move || pickable().is_empty()
                    on:change=move |ev| {
                        if event_target_checked(&ev) { picked.set(pickable()) } else { picked.set(HashSet::new()) }
                    } />
                <span>{move || match picked.with(HashSet::len) {
                    0 => "Select all".to_owned(),
                    n => format!("{n} selected"),
                }}</span>
            </label>
            {move || (picked.with(|p| !p.is_empty())).then(|| view! {
                <input type="text" class="bulk-note" maxlength="2000" placeholder="Note for all of them (optional)"
                    data-testid="alert-bulk-note" bind:value=note />
                <button class="button button-small" data-testid="alert-bulk-ack"
                    disabled=move || busy.get() || count(Step::Acknowledge) == 0
                    on:click=move |_| run(Step::Acknowledge)>
                    {move || format!("Acknowledge {}", count(Step::Acknowledge))}
                </button>
                <button class="button button-small" data-testid="alert-bulk-resolve"
                    disabled=move || busy.get() || count(Step::Resolve) == 0
                    on:click=move |_| run(Step::Resolve)>
                    {move || format!("Resolve {}", count(Step::Resolve))}
                </button>
                <button class="button button-small button-ghost" data-testid="alert-bulk-clear"
                    on:click=move |_| picked.set(HashSet::new())>"Clear"</button>
            })}
        </div>
    }
}

#[component]
fn NoAlerts() -> impl IntoView {
    view! {
        <EmptyState icon="alerts" title="No alerts received yet">
            <p>"Connect Alertmanager with a webhook receiver:"</p>
            <pre class="snippet">"receivers:
  - name: flightdeck
    webhook_configs:
      - url: https://<flightdeck>/api/v1/webhooks/alertmanager
        http_config:
          authorization:
            credentials: <FLIGHTDECK_WEBHOOK_SECRET_ALERTMANAGER>"</pre>
            <p>"Alerts are routed to components by their label matchers (Settings → Catalog)."</p>
        </EmptyState>
    }
}

/// A list of alert rows; `on_change` receives each alert a triage step returned. `histories`
/// holds the histories on show, by alert; a page that opens one itself passes its own.
#[component]
pub fn AlertList(
    alerts: Signal<Vec<Alert>>,
    on_change: Callback<Alert>,
    #[prop(optional)] histories: Option<EventCache>,
    /// Where rows can be picked for a bulk step (the feed); none: no checkboxes.
    #[prop(optional)]
    selection: Option<Selection>,
    /// The page keeps `histories` filled and on show (the alert's own page): no History toggle.
    #[prop(optional)]
    history_pinned: bool,
) -> impl IntoView {
    // Histories outlive their rows: a triage step re-keys (re-creates) the row it changed.
    provide_context(histories.unwrap_or_default());
    provide_context(selection);
    provide_context(HistoryPinned(history_pinned));
    view! {
        <ul class="alert-list">
            <For each=move || alerts.get() key=|a| (a.id, a.updated_at) let(alert)>
                <AlertRow alert on_change />
            </For>
        </ul>
    }
}

/// The alerts picked in the feed for a bulk acknowledge or resolve.
#[derive(Clone, Copy, Default)]
pub struct Selection(pub RwSignal<HashSet<Id>>);

/// Whether an [`AlertList`]'s histories are always on show (see `history_pinned`).
#[derive(Clone, Copy)]
struct HistoryPinned(bool);

/// The histories an [`AlertList`] shows, by alert (oldest event first).
#[derive(Clone, Copy, Default)]
pub struct EventCache(pub RwSignal<HashMap<Id, Vec<AlertEvent>>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Acknowledge,
    Escalate,
    Resolve,
}

impl Step {
    fn action(self) -> &'static str {
        match self {
            Step::Acknowledge => "acknowledge",
            Step::Escalate => "escalate",
            Step::Resolve => "resolve",
        }
    }
}

async fn triage(
    api: Api,
    alert: Alert,
    step: Step,
    body: TriageRequest,
) -> Result<(Alert, Vec<AlertEvent>), AppError> {
    let detail = api
        .call(move |c| {
            let body = body.clone();
            async move { c.triage_alert(alert.id, step.action(), &body).await }
        })
        .await?;
    Ok((detail.alert, detail.events))
}

/// The alert's runbook, from the `runbook_url` annotation Prometheus rules conventionally carry.
fn runbook_url(alert: &Alert) -> Option<String> {
    alert
        .annotations
        .get("runbook_url")
        .or_else(|| alert.annotations.get("runbook"))
        .and_then(|u| web_link(u))
}

/// `url` if it is http(s). Alert links come from whoever can post alerts, and a `javascript:`
/// link must not become one click away.
pub(crate) fn web_link(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| url.to_owned())
}

/// One of an alert's links out of Flightdeck (from [`web_link`]), opened in a new tab.
fn link_out(
    url: String,
    label: &'static str,
    testid: &'static str,
    title: &'static str,
) -> impl IntoView {
    view! {
        " · "<a class="alert-link" href=url target="_blank" rel="noopener noreferrer" data-testid=testid title=title>
            {label}<Icon name="external" size=12 />
        </a>
    }
}

#[component]
fn AlertRow(alert: Alert, on_change: Callback<Alert>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let can_triage = role_allows(&api, Role::Operator);
    let selection = use_context::<Option<Selection>>()
        .flatten()
        .filter(|_| can_triage && open_to_triage(&alert));
    let step = RwSignal::new(None::<Step>);
    let note = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let cache = expect_context::<EventCache>().0;
    let HistoryPinned(pinned) = expect_context::<HistoryPinned>();
    let id = alert.id;
    let events = Signal::derive(move || cache.with(|c| c.get(&id).cloned()));
    let set_events = move |evs: Option<Vec<AlertEvent>>| {
        cache.try_update(|c| match evs {
            Some(evs) => {
                c.insert(id, evs);
            }
            None => {
                c.remove(&id);
            }
        });
    };
    let state = alert.state;
    let summary = alert
        .annotations
        .get("summary")
        .or_else(|| alert.annotations.get("description"))
        .cloned();
    // The labels that tell one alert of a rule from another (instance, job, pod…); the name and
    // severity are shown already.
    let labels: Vec<(String, String)> = alert
        .labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "severity"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let runbook = runbook_url(&alert);
    let source_link = alert.generator_url.as_deref().and_then(web_link);
    let a = alert.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(s) = step.get_untracked() else {
            return;
        };
        let text = note.get_untracked().trim().to_owned();
        let to = target.get_untracked().trim().to_owned();
        let body = TriageRequest {
            note: (!text.is_empty()).then_some(text),
            target: (s == Step::Escalate && !to.is_empty()).then_some(to),
        };
        busy.set(true);
        let a = a.clone();
        spawn_local(async move {
            match triage(api, a, s, body).await {
                Ok((alert, evs)) => {
                    set_events(Some(evs));
                    step.try_set(None);
                    note.try_set(String::new());
                    // The row may be gone already (a live update re-keyed it).
                    on_change.try_run(alert);
                }
                Err(e) => toasts.error(format!("Could not {} the alert: {e}", s.action())),
            }
            busy.try_set(false);
        });
    };
    let show_history = move |_| {
        if events.get_untracked().is_some() {
            set_events(None);
            return;
        }
        spawn_local(async move {
            match api
                .call(move |c| async move { c.get_alert(id).await })
                .await
            {
                Ok(d) => set_events(Some(d.events)),
                Err(e) => toasts.error(format!("Could not load the alert's history: {e}")),
            }
        });
    };
    let latest = alert.acknowledged_by.clone().map(|who| {
        let when = alert
            .acknowledged_at
            .as_ref()
            .map(relative)
            .unwrap_or_default();
        format!("Acknowledged by {who} {when}")
    });
    let open_step = move |s: Step| {
        move |_| step.update(|cur| *cur = if *cur == Some(s) { None } else { Some(s) })
    };

    view! {
        <li class=format!("alert-row sev-edge-{}", alert.severity.as_str()) data-testid="alert-row"
            data-alert-name=alert.name.clone() data-state=state.as_str() data-severity=alert.severity.as_str()
            data-alert-id=alert.id.to_string()>
            <div class="alert-main">
                <div class="alert-title">
                    {selection.map(|Selection(picked)| view! {
                        <input type="checkbox" class="alert-select" data-testid="alert-select"
                            aria-label=format!("Select {}", alert.name)
                            prop:checked=move || picked.with(|p| p.contains(&id))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                picked.update(|p| { if on { p.insert(id); } else { p.remove(&id); } });
                            } />
                    })}
                    <SeverityBadge severity=alert.severity />
                    <a class="alert-name" href=alert_path(alert.id) data-testid="alert-link" title="This alert's page, with its details and history">
                        <strong>{alert.name.clone()}</strong>
                    </a>
                    <TriageBadge state />
                    {(alert.source_status == flightdeck_model::AlertSourceStatus::Resolved && state != flightdeck_model::TriageState::Resolved)
                        .then(|| view! { <span class="badge badge-good">"source resolved"</span> })}
                    {(alert.escalation_level > 0).then(|| view! { <span class="badge badge-warn">{format!("level {}", alert.escalation_level)}</span> })}
                </div>
                {summary.map(|s| view! { <p class="alert-summary">{s}</p> })}
                {(!labels.is_empty()).then(|| view! {
                    <ul class="label-chips" aria-label="Labels" data-testid="alert-labels">
                        {labels.into_iter().map(|(k, v)| view! {
                            <li class="label-chip mono" data-testid="alert-label"><span class="muted">{k}"="</span>{v}</li>
                        }).collect_view()}
                    </ul>
                })}
                <div class="alert-meta muted small">
                    {alert.component.clone().map(|c| view! { <a href=component_path(&c)>{c.clone()}</a>" · " })}
                    <span title=local_time(&alert.starts_at)>{format!("started {}", relative(&alert.starts_at))}</span>
                    {alert.ends_at.map(|e| view! { <span>{format!(" · ended {}", relative(&e))}</span> })}
                    {source_link.map(|url| link_out(url, "Source", "alert-source",
                        "What raised this alert (for Alertmanager, the rule's expression in Prometheus)"))}
                    {runbook.map(|url| link_out(url, "Runbook", "alert-runbook", "The alert's runbook_url annotation"))}
                </div>
                {(latest.is_some() || alert.last_note.is_some()).then(|| view! {
                    <div class="alert-triage" data-testid="alert-triage">
                        {latest.clone().map(|l| view! { <span data-testid="alert-acknowledged-by">{l}</span> })}
                        {alert.last_note.clone().map(|n| view! {
                            <span class="muted">"Latest note:"</span>
                            <q class="alert-last-note" data-testid="alert-last-note">{n}</q>
                        })}
                    </div>
                })}
                {move || events.get().map(|evs| view! {
                    <ol class="alert-events" data-testid="alert-events">
                        {evs.into_iter().map(|e| view! {
                            <li>
                                <span class="cell-time" title=local_time(&e.at)>{relative(&e.at)}</span>" "
                                <b>{e.actor}</b>" "{e.action}
                                {e.target.map(|t| format!(" → {t}"))}
                                {e.note.map(|n| view! { " — "<q>{n}</q> })}
                            </li>
                        }).collect_view()}
                    </ol>
                })}
            </div>
            <div class="alert-actions">
                {(!pinned).then(|| view! {
                    <button class="button button-small button-ghost" on:click=show_history data-testid="alert-history"
                        aria-expanded=move || events.with(|e| e.is_some()).to_string()>
                        {move || if events.with(Option::is_some) { "Hide history" } else { "History" }}
                    </button>
                })}
                {(can_triage && state == flightdeck_model::TriageState::Open).then(|| view! {
                    <button class="button button-small" data-testid="alert-ack" on:click=open_step(Step::Acknowledge)>"Acknowledge"</button>
                })}
                {(can_triage && matches!(state, flightdeck_model::TriageState::Open | flightdeck_model::TriageState::Acknowledged | flightdeck_model::TriageState::Escalated)).then(|| view! {
                    <button class="button button-small" data-testid="alert-escalate" on:click=open_step(Step::Escalate)>"Escalate"</button>
                    <button class="button button-small" data-testid="alert-resolve" on:click=open_step(Step::Resolve)>"Resolve"</button>
                })}
            </div>
            {move || step.get().map(|s| view! {
                <form class="alert-form" on:submit=submit.clone()>
                    {(s == Step::Escalate).then(|| view! {
                        <label class="field">
                            <span class="field-label">"Escalate to"</span>
                            <input type="text" required placeholder="person, rota or channel" data-testid="alert-target" bind:value=target />
                        </label>
                    })}
                    <label class="field">
                        <span class="field-label">"Note"</span>
                        <textarea rows="2" maxlength="2000" data-testid="alert-note" placeholder="What you know, what you are doing"
                            prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                    </label>
                    <div class="form-actions">
                        <button class="button button-primary button-small" type="submit" disabled=move || busy.get()
                            data-testid=format!("alert-{}-submit", match s { Step::Acknowledge => "ack", Step::Escalate => "escalate", Step::Resolve => "resolve" })>
                            {match s { Step::Acknowledge => "Acknowledge", Step::Escalate => "Escalate", Step::Resolve => "Resolve" }}
                        </button>
                        <button class="button button-ghost button-small" type="button" on:click=move |_| step.set(None)>"Cancel"</button>
                    </div>
                </form>
            })}
        </li>
    }
}
