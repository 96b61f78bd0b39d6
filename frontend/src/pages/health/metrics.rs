//! A component's metrics drill-down: a range picker and one chart per metric (request rate,
//! error ratio, p99 latency), all on the same time axis, with the linked service's deployments
//! and the component's alerts in that range as markers.

use flightdeck_model::{Alert, ComponentMetric, ComponentMetrics, Deployment, MetricsQuery};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::charts::{Marker, Series, TimeRange, Unit, has_data, line_chart};
use crate::api::{AppError, use_api};
use crate::format::local_time;

/// The ranges offered, as the server's `range` parameter.
const RANGES: [&str; 5] = ["15m", "1h", "6h", "1d", "7d"];

#[derive(Debug, Clone, PartialEq)]
enum MetricsState {
    Loading,
    /// 503: Prometheus is not configured — a fact about the setup, not a failure.
    NotConfigured(String),
    Failed(AppError),
    Loaded(ComponentMetrics, Vec<Deployment>),
}

fn describe(name: &str) -> (&'static str, Unit) {
    match name {
        "request_rate" => ("Request rate", Unit::PerSecond),
        "error_ratio" => ("Error ratio (5xx)", Unit::Percent),
        "p99_latency_seconds" => ("p99 latency", Unit::Millis),
        _ => ("", Unit::Plain),
    }
}

fn series_of(metric: &ComponentMetric, title: &str) -> Vec<Series> {
    metric
        .series
        .iter()
        .map(|s| Series {
            label: if s.labels.is_empty() {
                title.to_owned()
            } else {
                s.labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            points: s.points.iter().map(|p| (p.at, p.value)).collect(),
        })
        .collect()
}

fn deploy_marker(d: &Deployment) -> Marker {
    let at = d.started_at.unwrap_or(d.created_at);
    Marker {
        at,
        kind: "deploy",
        status: d.status.as_str().to_owned(),
        title: format!(
            "Deploy {} to {} · {} · {}",
            d.version,
            d.environment,
            d.status.as_str(),
            local_time(&at)
        ),
    }
}

fn alert_marker(a: &Alert) -> Marker {
    Marker {
        at: a.starts_at,
        kind: "alert",
        status: a.severity.as_str().to_owned(),
        title: format!(
            "Alert {} ({}) fired · {}",
            a.name,
            a.severity.as_str(),
            local_time(&a.starts_at)
        ),
    }
}

#[component]
pub fn MetricsPanel(
    slug: String,
    service: Signal<Option<String>>,
    alerts: Signal<Vec<Alert>>,
) -> impl IntoView {
    let api = use_api();
    let range = RwSignal::new("1h");
    let state = RwSignal::new(MetricsState::Loading);
    let slug = StoredValue::new(slug);
    // Each load gets a number, so a slow answer for an older range never replaces a newer one.
    let generation = StoredValue::new(0u64);

    let load = move |range: &'static str, service: Option<String>| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let query = MetricsQuery {
                range: Some(range.to_owned()),
            };
            let metrics = api
                .call(move |c| {
                    let (slug, query) = (slug.get_value(), query.clone());
                    async move { c.component_metrics(&slug, &query).await }
                })
                .await;
            let next = match metrics {
                Ok(m) => {
                    let since = m.start.to_rfc3339();
                    let deployments = match service {
                        Some(service) => api
                            .call(move |c| {
                                let (service, since) = (service.clone(), since.clone());
                                async move {
                                    c.list_deployments(&[
                                        ("service", service.as_str()),
                                        ("since", since.as_str()),
                                        ("limit", "500"),
                                    ])
                                    .await
                                }
                            })
                            .await
                            .map(|p| p.items)
                            // Markers are an extra: the charts stand without them.
                            .unwrap_or_default(),
                        None => Vec::new(),
                    };
                    MetricsState::Loaded(m, deployments)
                }
                Err(e) if e.status == Some(503) => MetricsState::NotConfigured(e.message),
                Err(e) => MetricsState::Failed(e),
            };
            if generation.try_get_value() == Some(mine) {
                state.try_set(next);
            }
        });
    };
    Effect::new(move |_| {
        let (r, s) = (range.get(), service.get());
        state.set(MetricsState::Loading);
        load(r, s);
    });

    let picker = move || {
        view! {
            <div class="range-picker" role="group" aria-label="Time range">
                {RANGES.into_iter().map(|r| view! {
                    <button class="count-chip" class:active=move || range.get() == r
                        aria-pressed=move || (range.get() == r).to_string()
                        data-testid=format!("range-{r}")
                        on:click=move |_| range.set(r)>{r}</button>
                }).collect_view()}
            </div>
        }
    };

    let body = move || {
        match state.get() {
        MetricsState::Loading => view! {
            <div class="charts" role="status" aria-label="Loading metrics">
                <div class="chart-card"><span class="skeleton skeleton-chart"></span></div>
                <div class="chart-card"><span class="skeleton skeleton-chart"></span></div>
                <div class="chart-card"><span class="skeleton skeleton-chart"></span></div>
            </div>
        }
        .into_any(),
        MetricsState::NotConfigured(message) => view! {
            <div class="calm-note" data-testid="metrics-not-configured">
                <p><strong>"Prometheus is not connected."</strong></p>
                <p class="muted small">{message}</p>
                // The server's message says what to set; this says what it brings.
                <p class="muted small">"Connected, this shows the component's request rate, error ratio and p99 latency, with its deployments and alerts on the same time axis."</p>
            </div>
        }
        .into_any(),
        MetricsState::Failed(e) => view! {
            <div class="state state-error" role="alert" data-testid="metrics-error">
                <h3>"Could not read the metrics"</h3>
                <p class="state-body">{e.message}</p>
                <button class="button" on:click=move |_| { state.set(MetricsState::Loading); load(range.get_untracked(), service.get_untracked()) }>"Try again"</button>
            </div>
        }
        .into_any(),
        MetricsState::Loaded(m, deployments) => {
            let time = TimeRange {
                start: m.start,
                end: m.end,
            };
            let any = m.metrics.iter().any(|q| has_data(&series_of(q, "")));
            if !any {
                return view! {
                    <div class="calm-note" data-testid="metrics-empty">
                        <p><strong>"No metrics for this range."</strong></p>
                        <p class="muted small">"Prometheus has no samples for these queries between "{local_time(&m.start)}" and "{local_time(&m.end)}". They select "<code>"job=\""{job_of(&m)}"\""</code>" — is that job scraped?"</p>
                    </div>
                }
                .into_any();
            }
            let deploy_markers: Vec<Marker> = deployments.iter().map(deploy_marker).collect();
            let in_range = deploy_markers.iter().filter(|d| d.at >= m.start && d.at <= m.end).count();
            view! {
                <div class="charts">
                    {m.metrics.into_iter().map(|metric| {
                        let (title, unit) = describe(&metric.name);
                        let title = if title.is_empty() { metric.name.clone() } else { title.to_owned() };
                        let series = series_of(&metric, &title);
                        let deploy_markers = deploy_markers.clone();
                        let has = has_data(&series);
                        let legend = (series.len() > 1).then(|| view! {
                            <ul class="chart-legend">
                                {series.iter().enumerate().map(|(i, s)| view! {
                                    <li><span class=format!("swatch series-{}", i % 6)></span><span class="mono small">{s.label.clone()}</span></li>
                                }).collect_view()}
                            </ul>
                        });
                        let svg = {
                            let title = title.clone();
                            move || {
                                let mut markers = deploy_markers.clone();
                                alerts.with(|a| markers.extend(a.iter().map(alert_marker)));
                                line_chart(&title, unit, &time, &series, &markers)
                            }
                        };
                        view! {
                            <figure class="chart-card" data-testid="chart-card" data-metric=metric.name.clone()>
                                <figcaption>
                                    <strong>{title.clone()}</strong>
                                    {(!has).then(|| view! { <span class="muted small">" — no data in this range"</span> })}
                                </figcaption>
                                <div class="chart-box" title=metric.query.clone() inner_html=svg></div>
                                {legend}
                                {(!metric.warnings.is_empty()).then(|| view! { <p class="muted small">{metric.warnings.join("; ")}</p> })}
                            </figure>
                        }
                    }).collect_view()}
                </div>
                <p class="chart-key muted small">
                    <span class="key-deploy"></span>{format!(" deployments ({in_range} in range, coloured by status) ")}
                    <span class="key-alert"></span>" alerts (when they fired)"
                </p>
            }
            .into_any()
        }
    }
    };

    view! {
        <div class="card metrics-card" data-testid="metrics-panel">
            <div class="card-header">
                <h2>"Metrics"</h2>
                {picker}
            </div>
            {body}
        </div>
    }
}

/// The `job` the default queries select, read back from the first query (for the empty state).
fn job_of(m: &ComponentMetrics) -> String {
    m.metrics
        .first()
        .and_then(|q| q.query.split("job=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or(&m.component)
        .to_owned()
}
