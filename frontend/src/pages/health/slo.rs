//! SLOs: the cards on a component's page (with a budget trend from the history route), the
//! admin form that adds one, and the `/slos` list of every SLO, least budget left first,
//! following `slo.updated` live.

use flightdeck_model::{
    CreateSlo, Id, Role, Slo, SloBurnRate, SloHistoryPoint, SloHistoryQuery, SloSli,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::charts::{number, sparkline};
use super::component_path;
use crate::api::{AppError, use_api};
use crate::catalog::role_allows;
use crate::components::{
    icons::Icon,
    layout::PageHeader,
    states::{EmptyState, Loading},
    toast::use_toasts,
};
use crate::live::use_live;

pub const SLO_UPDATED: &str = "slo.updated";
pub const SLO_DELETED: &str = "slo.deleted";

/// Points a trend asks for: enough for a small line, few enough to be cheap.
const TREND_POINTS: u32 = 120;

/// `0.9995` → `99.95 %`.
pub fn percent(x: f64) -> String {
    let p = x * 100.0;
    let s = format!("{p:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} %")
}

/// Least budget left first, never-evaluated last (as the server sorts).
pub fn sort_by_budget(slos: &mut [Slo]) {
    slos.sort_by(|a, b| {
        let key = |s: &Slo| s.budget_remaining.unwrap_or(f64::INFINITY);
        key(a)
            .total_cmp(&key(b))
            .then_with(|| a.component.cmp(&b.component))
            .then_with(|| a.name.cmp(&b.name))
    });
}

fn window_label(secs: u64) -> String {
    if secs.is_multiple_of(86_400) {
        format!("{} d", secs / 86_400)
    } else if secs.is_multiple_of(3600) {
        format!("{} h", secs / 3600)
    } else {
        format!("{secs} s")
    }
}

/// The burn rate a trend follows: the 1 h window (the fast-burn page's long window), else the
/// first window that has a value.
fn trend_burn(rates: &[SloBurnRate]) -> Option<f64> {
    rates
        .iter()
        .find(|r| r.window == "1h")
        .and_then(|r| r.burn_rate)
        .or_else(|| rates.iter().find_map(|r| r.burn_rate))
}

/// The trend's label: the burn rate it follows as of the last evaluation.
fn current_burn(slo: &Slo) -> String {
    trend_burn(&slo.burn_rates)
        .map(|b| format!("{}× now", number(b)))
        .unwrap_or_else(|| "—".into())
}

/// Loads an SLO's recent history into a signal (empty until it arrives or when it fails: a
/// trend is a nicety, the card stands without it).
fn load_history(id: Id) -> RwSignal<Vec<SloHistoryPoint>> {
    let api = use_api();
    let history = RwSignal::new(Vec::new());
    spawn_local(async move {
        let query = SloHistoryQuery {
            since: None,
            limit: Some(TREND_POINTS),
        };
        if let Ok(points) = api
            .call(move |c| {
                let query = query.clone();
                async move { c.slo_history(id, &query).await }
            })
            .await
        {
            history.try_set(points);
        }
    });
    history
}

#[component]
pub fn BurnBadges(slo: Slo) -> impl IntoView {
    view! {
        <span class="slo-badges">
            {slo.fast_burn.then(|| view! { <span class="badge badge-bad" data-testid="slo-fast-burn">"fast burn"</span> })}
            {slo.slow_burn.then(|| view! { <span class="badge badge-warn" data-testid="slo-slow-burn">"slow burn"</span> })}
            {slo.ticket.then(|| view! { <span class="badge badge-info" data-testid="slo-ticket">"ticket"</span> })}
            {(!slo.fast_burn && !slo.slow_burn && !slo.ticket && slo.evaluated_at.is_some())
                .then(|| view! { <span class="badge badge-good">"within budget"</span> })}
        </span>
    }
}

#[component]
fn BudgetBar(budget: Option<f64>) -> impl IntoView {
    let Some(b) = budget else {
        return view! { <span class="muted small">"budget: no data yet"</span> }.into_any();
    };
    let width = (b.clamp(0.0, 1.0) * 100.0).round();
    let tone = if b <= 0.0 {
        "bad"
    } else if b < 0.25 {
        "warn"
    } else {
        "good"
    };
    view! {
        <div class="budget">
            <div class=format!("budget-bar budget-{tone}") role="meter" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=width.to_string() aria-label="Error budget left" data-testid="slo-budget" data-budget=b.to_string()>
                <span style=format!("width: {width}%")></span>
            </div>
            <span class="small">{if b <= 0.0 {
                // "-9900 % of budget left" reads as a glitch; overspent is the news.
                format!("budget exhausted ({} left)", percent(b))
            } else {
                format!("{} of budget left", percent(b))
            }}</span>
        </div>
    }
    .into_any()
}

/// One SLO on a component's page.
#[component]
pub fn SloCard(slo: Slo, on_delete: Option<Callback<Slo>>) -> impl IntoView {
    let history = load_history(slo.id);
    let current = slo
        .current
        .map(percent)
        .unwrap_or_else(|| "no data yet".into());
    let sli_kind = match &slo.sli {
        SloSli::Ratio { .. } => "good / total",
        SloSli::Threshold { .. } => "threshold",
    };
    let burning = slo.fast_burn || slo.slow_burn;
    let for_delete = slo.clone();
    view! {
        <div class="slo-card" class:slo-burning=burning data-testid="slo-card" data-slo=slo.name.clone()>
            <div class="slo-card-top">
                <strong>{slo.name.clone()}</strong>
                {on_delete.map(|cb| {
                    let slo = for_delete.clone();
                    view! {
                        <button class="icon-button" title="Delete this SLO" aria-label=format!("Delete SLO {}", slo.name)
                            data-testid="slo-delete" on:click=move |_| cb.run(slo.clone())>
                            <Icon name="x" />
                        </button>
                    }
                })}
            </div>
            <span class="slo-current">
                <b data-testid="slo-current">{current}</b>
                <span class="muted">{format!(" / {}", percent(slo.objective))}</span>
            </span>
            <span class="muted small">{format!("{} over {}", sli_kind, window_label(slo.window_secs))}</span>
            <BudgetBar budget=slo.budget_remaining />
            <ul class="burn-rates" aria-label="Burn rates">
                {slo.burn_rates.iter().map(|r| view! {
                    <li><span class="muted">{r.window.clone()}</span>" "
                        {r.burn_rate.map(|b| format!("{}×", number(b))).unwrap_or_else(|| "—".into())}</li>
                }).collect_view()}
            </ul>
            <BurnBadges slo=slo.clone() />
            {slo.error.clone().map(|e| view! { <p class="form-error small" data-testid="slo-error"><Icon name="alert" />{format!("Evaluation failed: {e}")}</p> })}
            <div class="slo-trend" title="Budget left over time" inner_html=move || {
                history.with(|h| sparkline(&h.iter().map(|p| p.budget_remaining).collect::<Vec<_>>(), Some(0.0)))
            }></div>
        </div>
    }
}

/// The SLO section of a component's page: cards, and for admins an add form and delete buttons.
#[component]
pub fn SloSection(slug: String, slos: Signal<Vec<Slo>>, on_change: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let is_admin = role_allows(&api, Role::Admin);
    let adding = RwSignal::new(false);
    let delete = Callback::new(move |slo: Slo| {
        let confirmed = window()
            .confirm_with_message(&format!("Delete the SLO “{}” and its history?", slo.name))
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        spawn_local(async move {
            let (component, id, name) = (slo.component.clone(), slo.id, slo.name.clone());
            match api
                .call(move |c| {
                    let component = component.clone();
                    async move { c.delete_slo(&component, id).await }
                })
                .await
            {
                Ok(()) => {
                    toasts.success(format!("SLO “{name}” deleted."));
                    on_change.run(());
                }
                Err(e) => toasts.error(e.message),
            }
        });
    });
    let slug = StoredValue::new(slug);
    view! {
        <div class="card" data-testid="slo-section">
            <div class="card-header">
                <h2>"SLOs"</h2>
                {is_admin.then(|| view! {
                    <button class="button" data-testid="slo-new" on:click=move |_| adding.update(|a| *a = !*a)>
                        <Icon name="plus" />"Add SLO"
                    </button>
                })}
            </div>
            {move || adding.get().then(|| view! {
                <SloForm slug=slug.get_value() on_saved=Callback::new(move |_| { adding.set(false); on_change.run(()); })
                    on_cancel=Callback::new(move |_| adding.set(false)) />
            })}
            {move || {
                let list = slos.get();
                if list.is_empty() {
                    view! { <p class="muted" data-testid="slo-empty">"No SLOs yet."{is_admin.then_some(" Add one: a good/total ratio of PromQL queries, or a threshold on a value such as p99 latency.")}</p> }.into_any()
                } else {
                    view! {
                        <div class="slo-cards">
                            {list.into_iter().map(|s| view! { <SloCard slo=s on_delete=is_admin.then_some(delete) /> }).collect_view()}
                        </div>
                    }.into_any()
                }
            }}
        </div>
    }
}

#[component]
fn SloForm(slug: String, on_saved: Callback<()>, on_cancel: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let name = RwSignal::new(String::from("availability"));
    let objective = RwSignal::new(String::from("99.9"));
    let window_days = RwSignal::new(String::from("30"));
    let kind = RwSignal::new(String::from("ratio"));
    let good = RwSignal::new(String::new());
    let total = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let comparison = RwSignal::new(String::from("le"));
    let threshold = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let slug = StoredValue::new(slug);

    let submit = move || {
        let parse = |s: String, what: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| AppError::new(format!("{what} must be a number")))
        };
        let body = (|| -> Result<CreateSlo, AppError> {
            let sli = if kind.get_untracked() == "ratio" {
                SloSli::Ratio {
                    good: good.get_untracked().trim().to_owned(),
                    total: total.get_untracked().trim().to_owned(),
                }
            } else {
                SloSli::Threshold {
                    query: query.get_untracked().trim().to_owned(),
                    comparison: comparison.get_untracked(),
                    threshold: parse(threshold.get_untracked(), "The threshold")?,
                }
            };
            let days = parse(window_days.get_untracked(), "The window")?;
            Ok(CreateSlo {
                name: name.get_untracked().trim().to_owned(),
                objective: parse(objective.get_untracked(), "The objective")? / 100.0,
                window_secs: (days * 86_400.0).round().max(0.0) as u64,
                sli,
            })
        })();
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        error.set(None);
        pending.set(true);
        spawn_local(async move {
            let result = api
                .call(move |c| {
                    let (slug, body) = (slug.get_value(), body.clone());
                    async move { c.create_slo(&slug, &body).await }
                })
                .await;
            pending.try_set(false);
            match result {
                Ok(slo) => {
                    toasts.success(format!("SLO “{}” added.", slo.name));
                    on_saved.run(());
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let field_error = move |f: &'static str| {
        move || {
            error
                .get()
                .and_then(|e| e.field(f))
                .map(|m| view! { <span class="form-error small">{m}</span> })
        }
    };

    view! {
        <form class="catalog-form slo-form" data-testid="slo-form" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <label class="field"><span class="field-label">"Name"</span>
                <input type="text" required data-testid="slo-name" bind:value=name />{field_error("name")}</label>
            <label class="field"><span class="field-label">"Objective (%)"</span>
                <input type="text" inputmode="decimal" required data-testid="slo-objective" bind:value=objective />{field_error("objective")}</label>
            <label class="field"><span class="field-label">"Window (days)"</span>
                <input type="text" inputmode="decimal" required data-testid="slo-window" bind:value=window_days />{field_error("window_secs")}</label>
            <label class="field"><span class="field-label">"Indicator"</span>
                <select data-testid="slo-kind" prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="ratio">"Ratio: good / total"</option>
                    <option value="threshold">"Threshold on a value"</option>
                </select></label>
            {move || if kind.get() == "ratio" {
                view! {
                    <label class="field field-wide"><span class="field-label">"Good events (PromQL, "<code>"$window"</code>" for the range)"</span>
                        <input type="text" class="mono" required data-testid="slo-good"
                            placeholder="sum(rate(http_requests_total{job=\"checkout-api\",code!~\"5..\"}[$window]))" bind:value=good />{field_error("sli.good")}</label>
                    <label class="field field-wide"><span class="field-label">"All events (PromQL)"</span>
                        <input type="text" class="mono" required data-testid="slo-total"
                            placeholder="sum(rate(http_requests_total{job=\"checkout-api\"}[$window]))" bind:value=total />{field_error("sli.total")}</label>
                }.into_any()
            } else {
                view! {
                    <label class="field field-wide"><span class="field-label">"Value (PromQL)"</span>
                        <input type="text" class="mono" required data-testid="slo-query"
                            placeholder="histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"checkout-api\"}[5m])))" bind:value=query />{field_error("sli.query")}</label>
                    <label class="field"><span class="field-label">"Good when the value is"</span>
                        <select data-testid="slo-comparison" prop:value=move || comparison.get() on:change=move |ev| comparison.set(event_target_value(&ev))>
                            <option value="le">"≤"</option><option value="lt">"<"</option>
                            <option value="ge">"≥"</option><option value="gt">">"</option>
                        </select></label>
                    <label class="field"><span class="field-label">"Threshold"</span>
                        <input type="text" inputmode="decimal" required data-testid="slo-threshold" placeholder="0.3" bind:value=threshold />{field_error("sli.threshold")}</label>
                }.into_any()
            }}
            {move || error.get().map(|e| view! { <p class="form-error field-wide" role="alert" data-testid="slo-form-error"><Icon name="alert" />{e.message}</p> })}
            <div class="form-actions field-wide">
                <button class="button button-primary" type="submit" data-testid="slo-save" disabled=move || pending.get()>"Add SLO"</button>
                <button class="button button-ghost" type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
}

/// `/slos`: every SLO, least budget left first, each with its burn-rate trend.
#[component]
pub fn SlosPage() -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let slos = RwSignal::new(None::<Vec<Slo>>);
    let (error, load) = live.keep_loaded(
        move || async move { api.call(|c| async move { c.list_slos().await }).await },
        move |page: flightdeck_model::Page<Slo>| {
            let mut items = page.items;
            sort_by_budget(&mut items);
            slos.try_set(Some(items));
        },
    );
    live.subscribe(move |event| {
        if event.kind == SLO_UPDATED {
            match serde_json::from_value::<Slo>(event.data.clone()) {
                Ok(updated) => slos.update(|list| {
                    if let Some(list) = list {
                        match list.iter_mut().find(|s| s.id == updated.id) {
                            Some(slot) => *slot = updated,
                            None => list.push(updated),
                        }
                        sort_by_budget(list);
                    }
                }),
                Err(_) => load(),
            }
        } else if event.kind == SLO_DELETED {
            let id = event
                .data
                .get("id")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            slos.update(|list| {
                if let (Some(list), Some(id)) = (list, id) {
                    list.retain(|s| s.id.to_string() != id);
                }
            });
        }
    });

    let body = move || {
        if let Some(e) = error.get()
            && slos.with(Option::is_none)
        {
            return view! {
                <div class="state state-error" role="alert" data-testid="error-state">
                    <h3>"Could not load the SLOs"</h3>
                    <p class="state-body">{e.message}</p>
                    <button class="button" on:click=move |_| load()>"Try again"</button>
                </div>
            }
            .into_any();
        }
        match slos.get() {
            None => view! { <Loading label="Loading SLOs…" /> }.into_any(),
            Some(list) if list.is_empty() => view! {
                <EmptyState icon="flag" title="No SLOs yet">
                    <p>"Open a component from the Health page and add an SLO there: an objective (e.g. 99.9 %) over a window, measured as good/total PromQL or as a threshold on a value such as p99 latency."</p>
                    <p>"Flightdeck evaluates them against Prometheus ("<code>"PROMETHEUS_URL"</code>") and ranks them here by error budget left."</p>
                </EmptyState>
            }
            .into_any(),
            Some(list) => view! {
                <div class="card card-flush">
                    <div class="table-wrap">
                        <table class="table table-cards slo-table" data-testid="slo-list">
                            <thead><tr>
                                <th>"SLO"</th><th>"Current / objective"</th><th>"Budget left"</th>
                                <th>"Burn"</th><th>"1 h burn rate"</th>
                            </tr></thead>
                            <tbody>
                                <For each=move || list.clone() key=|s| (s.id, s.evaluated_at, s.budget_remaining.map(f64::to_bits)) let(slo)>
                                    <SloRow slo />
                                </For>
                            </tbody>
                        </table>
                    </div>
                </div>
            }
            .into_any(),
        }
    };

    view! {
        <section class="page">
            <PageHeader title="SLOs" subtitle="Every service level objective, least error budget left first." />
            {body}
        </section>
    }
}

#[component]
fn SloRow(slo: Slo) -> impl IntoView {
    let history = load_history(slo.id);
    view! {
        <tr data-testid="slo-row" data-slo=slo.name.clone() data-component=slo.component.clone()
            data-budget=slo.budget_remaining.map(|b| b.to_string()).unwrap_or_default()>
            <td data-label="SLO">
                <a href=component_path(&slo.component)><strong>{slo.name.clone()}</strong></a>
                <div class="muted small mono">{slo.component.clone()}</div>
                {slo.error.clone().map(|e| view! { <div class="form-error small"><Icon name="alert" />{e}</div> })}
            </td>
            <td class="nowrap" data-label="Current">
                {slo.current.map(percent).unwrap_or_else(|| "no data yet".into())}
                <span class="muted">{format!(" / {}", percent(slo.objective))}</span>
            </td>
            <td data-label="Budget left"><BudgetBar budget=slo.budget_remaining /></td>
            <td data-label="Burn"><BurnBadges slo=slo.clone() /></td>
            <td data-label="1 h burn" data-testid="slo-trend">
                <div class="slo-trend-cell" title="1 h burn rate at each recent evaluation; the dashed line is 1×, which spends the whole budget exactly over the window">
                    <div class="slo-trend" inner_html=move || {
                        history.with(|h| sparkline(&h.iter().map(|p| trend_burn(&p.burn_rates)).collect::<Vec<_>>(), Some(1.0)))
                    }></div>
                    <span class="small nowrap" data-testid="slo-burn-now">{current_burn(&slo)}</span>
                </div>
            </td>
        </tr>
    }
}
