//! DORA figures for the selected service and environment over the last 30 days.

use flightdeck_model::DoraMetrics;
use leptos::prelude::*;

use super::Filter;
use crate::api::use_api;
use crate::format::duration_secs;

const DAYS: i64 = 30;

#[component]
pub fn DoraPanel(filter: RwSignal<Filter>, finished: RwSignal<u64>) -> impl IntoView {
    let api = use_api();
    let figures = LocalResource::new(move || {
        finished.track();
        let (service, environment) = filter.with(|f| (f.service.clone(), f.environment.clone()));
        async move {
            let until = chrono::Utc::now();
            let since = (until - chrono::Duration::days(DAYS))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let until = until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            api.call(move |c| {
                let (service, environment, since, until) = (
                    service.clone(),
                    environment.clone(),
                    since.clone(),
                    until.clone(),
                );
                async move {
                    let mut q = vec![("since", since.as_str()), ("until", until.as_str())];
                    if !service.is_empty() {
                        q.push(("service", service.as_str()));
                    }
                    if !environment.is_empty() {
                        q.push(("environment", environment.as_str()));
                    }
                    c.dora(&q).await
                }
            })
            .await
        }
    });
    let scope = move || {
        filter.with(|f| {
            let s = if f.service.is_empty() {
                "all services"
            } else {
                f.service.as_str()
            };
            let e = if f.environment.is_empty() {
                "all environments"
            } else {
                f.environment.as_str()
            };
            format!("{s} · {e} · last {DAYS} days")
        })
    };
    view! {
        <section class="card dora" data-testid="dora" aria-label="DORA metrics">
            <div class="card-header">
                <h2>"Delivery performance"</h2>
                <span class="muted small">{scope}</span>
            </div>
            {move || match figures.get() {
                None => view! { <div class="dora-grid dora-loading" aria-busy="true">{tiles(None)}</div> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{format!("DORA figures unavailable: {}", e.message)}</p> }.into_any(),
                Some(Ok(m)) => view! { <div class="dora-grid">{tiles(Some(&m))}</div> }.into_any(),
            }}
        </section>
    }
}

fn tiles(m: Option<&DoraMetrics>) -> impl IntoView + use<> {
    let dash = || "—".to_owned();
    let freq = m
        .map(|m| format!("{:.2}", m.deployment_frequency_per_day))
        .unwrap_or_else(dash);
    let freq_note = m
        .map(|m| format!("{} succeeded of {} finished", m.succeeded, m.deployments))
        .unwrap_or_default();
    let cfr = m
        .and_then(|m| m.change_failure_rate)
        .map(|r| format!("{:.0} %", r * 100.0))
        .unwrap_or_else(dash);
    let cfr_note = m
        .map(|m| format!("{} failed or rolled back", m.failed))
        .unwrap_or_default();
    let mttr = m
        .and_then(|m| m.recovery_time_median_secs)
        .map(duration_secs)
        .unwrap_or_else(dash);
    let lead = m
        .and_then(|m| m.lead_time_median_secs)
        .map(duration_secs)
        .unwrap_or_else(dash);
    let cfr_tone = m
        .and_then(|m| m.change_failure_rate)
        .map(|r| {
            if r > 0.3 {
                "bad"
            } else if r > 0.15 {
                "warn"
            } else {
                "good"
            }
        })
        .unwrap_or("");
    view! {
        <div class="dora-tile" data-testid="dora-frequency">
            <span class="dora-label">"Deployment frequency"</span>
            <span class="dora-value">{freq}<span class="dora-unit">" /day"</span></span>
            <span class="dora-note">{freq_note}</span>
        </div>
        <div class=format!("dora-tile tone-text-{cfr_tone}") data-testid="dora-cfr">
            <span class="dora-label">"Change failure rate"</span>
            <span class="dora-value">{cfr}</span>
            <span class="dora-note">{cfr_note}</span>
        </div>
        <div class="dora-tile" data-testid="dora-recovery">
            <span class="dora-label">"Median time to recover"</span>
            <span class="dora-value">{mttr}</span>
            <span class="dora-note">"failed → next success, same target"</span>
        </div>
        <div class="dora-tile" data-testid="dora-lead-time">
            <span class="dora-label">"Median lead time"</span>
            <span class="dora-value">{lead}</span>
            <span class="dora-note">"commit → succeeded deploy, where known"</span>
        </div>
    }
}
