//! A component's recent log lines from the log store, newest first, coloured by level, with
//! their other fields behind a disclosure and older pages on demand.

use std::collections::BTreeMap;

use flightdeck_model::{ComponentLogLine, LogsQuery};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{AppError, use_api};
use crate::format::local_time;

/// How many lines a page asks for.
const PAGE: u32 = 50;

/// What the panel knows so far.
#[derive(Debug, Clone, PartialEq)]
enum LogState {
    Loading,
    /// 503: no log store configured — a fact about the setup, not a failure.
    NotConfigured(String),
    Failed(AppError),
    Loaded,
}

/// The level as the colour classes know it (`warning` reads as `warn`).
fn level_class(level: Option<&str>) -> &'static str {
    match level.map(str::to_ascii_lowercase).as_deref() {
        Some("fatal" | "critical" | "crit" | "emergency" | "alert") => "fatal",
        Some("error" | "err") => "error",
        Some("warn" | "warning") => "warn",
        Some("info" | "notice" | "information") => "info",
        Some("debug") => "debug",
        Some("trace") => "trace",
        _ => "unknown",
    }
}

#[component]
pub fn LogPanel(slug: String) -> impl IntoView {
    let api = use_api();
    let lines = RwSignal::new(Vec::<ComponentLogLine>::new());
    let state = RwSignal::new(LogState::Loading);
    let cursor = RwSignal::new(None::<String>);
    let partial = RwSignal::new(false);
    let query_text = RwSignal::new(String::new());
    let loading_more = RwSignal::new(false);
    let slug = StoredValue::new(slug);

    let fetch = move |after: Option<String>| {
        let more = after.is_some();
        loading_more.set(more);
        spawn_local(async move {
            let query = LogsQuery {
                limit: Some(PAGE),
                cursor: after,
                ..Default::default()
            };
            let result = api
                .call(move |c| {
                    let (slug, query) = (slug.get_value(), query.clone());
                    async move { c.component_logs(&slug, &query).await }
                })
                .await;
            loading_more.try_set(false);
            match result {
                Ok(page) => {
                    if more {
                        lines.try_update(|l| l.extend(page.lines));
                    } else {
                        lines.try_set(page.lines);
                    }
                    cursor.try_set(page.next_cursor);
                    partial.try_update(|p| *p = *p || page.partial);
                    query_text.try_set(page.query);
                    state.try_set(LogState::Loaded);
                }
                Err(e) if e.status == Some(503) => {
                    state.try_set(LogState::NotConfigured(e.message));
                }
                Err(e) => {
                    state.try_set(LogState::Failed(e));
                }
            }
        });
    };
    fetch(None);

    let body = move || {
        match state.get() {
        LogState::Loading => view! {
            <div class="skeleton-lines" role="status" aria-label="Loading log lines">
                <span class="skeleton"></span><span class="skeleton"></span><span class="skeleton"></span>
            </div>
        }
        .into_any(),
        LogState::NotConfigured(message) => view! {
            <div class="calm-note" data-testid="logs-not-configured">
                <p><strong>"No log store is connected."</strong></p>
                <p class="muted small">{message}</p>
                // The server's message says which setting is missing; this says what the rest are.
                <p class="muted small">"Flightdeck reads OpenSearch, Elasticsearch ("<code>"LOGS_KIND"</code>" opensearch or elasticsearch, with "<code>"LOGS_INDEX"</code>") or Loki ("<code>"LOGS_KIND=loki"</code>") at "<code>"LOGS_URL"</code>", and shows this component's recent lines here, newest first."</p>
            </div>
        }
        .into_any(),
        LogState::Failed(e) => view! {
            <div class="state state-error" role="alert" data-testid="logs-error">
                <h3>"Could not read the logs"</h3>
                <p class="state-body">{e.message}</p>
                <button class="button" on:click=move |_| { state.set(LogState::Loading); fetch(None) }>"Try again"</button>
            </div>
        }
        .into_any(),
        LogState::Loaded => view! {
            {move || partial.get().then(|| view! {
                <p class="banner banner-warn" role="status" data-testid="logs-partial">
                    "The log store answered with partial results (some shards failed or the search timed out): lines may be missing."
                </p>
            })}
            {move || if lines.with(Vec::is_empty) {
                view! { <p class="muted" data-testid="logs-empty">"No log lines in the last hour."</p> }.into_any()
            } else {
                view! {
                    <ol class="log-lines" data-testid="log-lines">
                        {move || lines.get().into_iter().map(|line| view! { <LogLineRow line /> }).collect_view()}
                    </ol>
                }.into_any()
            }}
            <div class="log-footer">
                <span class="muted small mono" title="The query sent to the log store">{move || query_text.get()}</span>
                {move || cursor.get().map(|next| view! {
                    <button class="button button-ghost" data-testid="logs-older"
                        disabled=move || loading_more.get()
                        on:click=move |_| fetch(Some(next.clone()))>
                        {move || if loading_more.get() { "Loading…" } else { "Load older" }}
                    </button>
                })}
            </div>
        }
        .into_any(),
    }
    };

    view! {
        <div class="card" data-testid="log-panel">
            <div class="card-header">
                <h2>"Recent logs"</h2>
                <button class="button button-ghost" data-testid="logs-refresh"
                    on:click=move |_| { partial.set(false); fetch(None) }>"Refresh"</button>
            </div>
            {body}
        </div>
    }
}

#[component]
fn LogLineRow(line: ComponentLogLine) -> impl IntoView {
    let level = level_class(line.level.as_deref());
    let shown_level = line.level.clone().unwrap_or_else(|| "—".into());
    let fields = flatten(line.fields);
    let has_fields = !fields.is_empty();
    view! {
        <li class=format!("log-line log-{level}") data-testid="log-line" data-level=level>
            <details>
                <summary>
                    <time class="mono small" datetime=line.at.to_rfc3339()>{local_time(&line.at)}</time>
                    <span class="log-level">{shown_level}</span>
                    <span class="log-message">{line.message}</span>
                </summary>
                {if has_fields {
                    view! {
                        <dl class="log-fields">
                            {fields.into_iter().map(|(k, v)| view! {
                                <div data-testid="log-field" data-field=k.clone()><dt class="mono">{k.clone()}</dt><dd class="mono">{v}</dd></div>
                            }).collect_view()}
                        </dl>
                    }.into_any()
                } else {
                    view! { <p class="muted small">"No other fields."</p> }.into_any()
                }}
            </details>
        </li>
    }
}

/// A document's fields as Kibana's Discover lists them: nested objects become dotted keys
/// (`service.name`, `log.level`), so ECS-shaped logs read field by field instead of as JSON
/// blobs. Arrays and scalars are leaves; strings are shown without quotes.
fn flatten(fields: BTreeMap<String, Value>) -> BTreeMap<String, String> {
    fn walk(key: String, value: Value, out: &mut BTreeMap<String, String>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    walk(format!("{key}.{k}"), v, out);
                }
            }
            Value::String(s) => {
                out.insert(key, s);
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    for (k, v) in fields {
        walk(k, v, &mut out);
    }
    out
}
