//! The health grid: every watched component as a tile, grouped, coloured by status, with counts,
//! a status filter and a text search. Status changes and alerts arrive live.

mod charts;
mod component;
mod logs;
mod metrics;
mod slo;
pub mod status;

use std::collections::BTreeMap;

use flightdeck_model::{ComponentStatus, ComponentStatusChanged, ComponentSummary, HealthGrid};
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::api::use_api;
use crate::components::{
    layout::PageHeader,
    states::{EmptyState, Loading},
};
use crate::live::use_live;
use crate::routes::Page;
use crate::url_filter::{UrlFilter, filter_in_url, param, search_box};
pub use component::ComponentPage;
pub use slo::SlosPage;
use status::{ALERT_UPDATED, STATUS_CHANGED, STATUS_ORDER, status_label, status_rank};

pub fn component_path(slug: &str) -> String {
    format!("/health/{slug}")
}

/// `/health?status=major_outage&q=db`: the grid's filter, in the URL so a wallboard or a shared
/// link opens on the same view.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filter {
    status: Option<ComponentStatus>,
    /// Matched in slugs, names, groups and services (trimmed, any case).
    text: String,
}

impl UrlFilter for Filter {
    const PAGE: Page = Page::Health;

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "status",
                self.status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            ("q", self.text.clone()),
        ]
    }

    fn from_query(query: &ParamsMap) -> Self {
        Filter {
            status: param(query, "status").parse().ok(),
            text: param(query, "q"),
        }
    }
}

#[component]
pub fn HealthPage() -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let components = RwSignal::new(None::<Vec<ComponentSummary>>);
    let filter = filter_in_url::<Filter>();
    let search_box = search_box(move || filter.with(|f| f.text.clone()));
    let set_status = move |status: Option<ComponentStatus>| filter.update(|f| f.status = status);

    let (error, load) = live.keep_loaded(
        move || async move { api.call(|c| async move { c.health().await }).await },
        move |grid: HealthGrid| {
            components.try_set(Some(grid.components));
        },
    );
    live.subscribe(move |event| {
        if event.kind == STATUS_CHANGED {
            if let Ok(change) = serde_json::from_value::<ComponentStatusChanged>(event.data.clone())
            {
                components.update(|list| {
                    if let Some(tile) = list
                        .iter_mut()
                        .flatten()
                        .find(|t| t.slug == change.component)
                    {
                        tile.status = change.to;
                        tile.status_reasons = change.reasons.clone();
                    }
                });
            }
        } else if event.kind == ALERT_UPDATED {
            // A new component may have been matched or reasons reworded: cheap to reload.
            load();
        }
    });

    let counts = Memo::new(move |_| {
        let mut counts = BTreeMap::<usize, u32>::new();
        components.with(|list| {
            for t in list.iter().flatten() {
                *counts.entry(status_rank(t.status)).or_default() += 1;
            }
        });
        counts
    });
    let groups = Memo::new(move |_| {
        let (needle, wanted) = filter.with(|f| (f.text.to_lowercase(), f.status));
        let mut groups = BTreeMap::<String, Vec<ComponentSummary>>::new();
        components.with(|list| {
            for t in list.iter().flatten() {
                let text_ok = needle.is_empty()
                    || t.slug.to_lowercase().contains(&needle)
                    || t.name.to_lowercase().contains(&needle)
                    || t.group
                        .as_deref()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains(&needle)
                    || t.service
                        .as_deref()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains(&needle);
                if text_ok && wanted.is_none_or(|w| w == t.status) {
                    groups
                        .entry(t.group.clone().unwrap_or_else(|| "Ungrouped".into()))
                        .or_default()
                        .push(t.clone());
                }
            }
        });
        for tiles in groups.values_mut() {
            tiles.sort_by(|a, b| {
                (status_rank(a.status), &a.name).cmp(&(status_rank(b.status), &b.name))
            });
        }
        groups.into_iter().collect::<Vec<_>>()
    });

    let shape = Memo::new(move |_| components.with(|c| c.as_ref().map(Vec::is_empty)));
    let body = move || {
        if let Some(e) = error.get()
            && shape.get().is_none()
        {
            return view! {
                <div class="state state-error" role="alert" data-testid="error-state">
                    <h3>"Could not load the health grid"</h3>
                    <p class="state-body">{e.message}</p>
                    <button class="button" on:click=move |_| load()>"Try again"</button>
                </div>
            }
            .into_any();
        }
        match shape.get() {
            None => view! { <Loading label="Loading the health grid…" /> }.into_any(),
            Some(true) => view! { <NoComponents /> }.into_any(),
            Some(false) => view! {
                <div class="health-counts" role="group" aria-label="Filter by status">
                    <button class="count-chip" class:active=move || filter.with(|f| f.status.is_none())
                        data-testid="health-count-all"
                        on:click=move |_| set_status(None)>
                        "All "<b>{move || components.with(|c| c.as_ref().map_or(0, Vec::len))}</b>
                    </button>
                    {STATUS_ORDER.into_iter().map(|s| view! {
                        <button class=format!("count-chip hs-{}", s.as_str())
                            class:active=move || filter.with(|f| f.status == Some(s))
                            aria-pressed=move || filter.with(|f| f.status == Some(s)).to_string()
                            data-testid=format!("health-count-{}", s.as_str())
                            on:click=move |_| set_status(if filter.with_untracked(|f| f.status) == Some(s) { None } else { Some(s) })>
                            <span class="hs-dot" aria-hidden="true"></span>
                            {status_label(s)}" "
                            <b>{move || counts.with(|c| c.get(&status_rank(s)).copied().unwrap_or(0))}</b>
                        </button>
                    }).collect_view()}
                </div>
                <div class="health-grid" data-testid="health-grid">
                    {move || {
                        let groups = groups.get();
                        if groups.is_empty() {
                            return view! { <p class="muted">"No component matches these filters."</p> }.into_any();
                        }
                        groups.into_iter().map(|(group, tiles)| view! {
                            <section class="health-group">
                                <h2 class="health-group-title">{group}</h2>
                                <div class="health-tiles">
                                    {tiles.into_iter().map(|t| view! { <Tile tile=t /> }).collect_view()}
                                </div>
                            </section>
                        }).collect_view().into_any()
                    }}
                </div>
            }
            .into_any(),
        }
    };

    view! {
        <section class="page">
            <PageHeader title="Health" subtitle="Every watched component, coloured by its status: live alerts, SLO burn, maintenance.">
                <input type="search" class="health-search" placeholder="Search components…"
                    aria-label="Search components" data-testid="health-search" node_ref=search_box
                    on:input=move |ev| {
                        let text = event_target_value(&ev).trim().to_owned();
                        filter.update(|f| f.text = text);
                    } />
            </PageHeader>
            {body}
        </section>
    }
}

#[component]
fn Tile(tile: ComponentSummary) -> impl IntoView {
    let status = tile.status;
    let reason = tile.status_reasons.first().cloned();
    view! {
        <a class=format!("health-tile hs-{}", status.as_str()) href=component_path(&tile.slug)
            data-testid="health-tile" data-component=tile.slug.clone() data-status=status.as_str()>
            <span class="health-tile-top">
                <span class="health-tile-name">{tile.name.clone()}</span>
                {tile.tier.map(|t| view! { <span class="badge badge-neutral">{format!("tier {t}")}</span> })}
            </span>
            <span class="health-tile-status"><span class="hs-dot" aria-hidden="true"></span>{status_label(status)}</span>
            <span class="health-tile-reason">{reason.unwrap_or_else(|| tile.service.clone().map(|s| format!("service {s}")).unwrap_or_default())}</span>
            <TileSignals tile=tile.clone() />
        </a>
    }
}

/// The tile's extra line: live alert count, SLO budget and the dependencies impacting it.
#[component]
fn TileSignals(tile: ComponentSummary) -> impl IntoView {
    let counts = tile.alert_counts;
    let alerts = (counts.total() > 0).then(|| {
        let class = if counts.critical > 0 {
            "badge badge-bad"
        } else if counts.warning > 0 {
            "badge badge-warn"
        } else {
            "badge badge-info"
        };
        let total = counts.total();
        let title = format!(
            "{} critical, {} warning, {} info",
            counts.critical, counts.warning, counts.info
        );
        view! {
            <span class=class title=title data-testid="tile-alerts">
                {format!("{total} alert{}", if total == 1 { "" } else { "s" })}
            </span>
        }
    });
    let slos = tile.slos.clone();
    let budget = (slos.count > 0).then(|| {
        let (class, text) = match slos.worst_budget_remaining {
            _ if slos.fast_burn => ("badge badge-bad", "fast burn".to_owned()),
            _ if slos.slow_burn => ("badge badge-warn", "slow burn".to_owned()),
            Some(left) if left < 0.0 => ("badge badge-bad", "budget spent".to_owned()),
            Some(left) => (
                if left < 0.25 {
                    "badge badge-warn"
                } else {
                    "badge badge-good"
                },
                format!("budget {:.0}%", left * 100.0),
            ),
            None => ("badge badge-neutral", "SLO: no data".to_owned()),
        };
        let title = format!(
            "{} SLO{}",
            slos.count,
            if slos.count == 1 { "" } else { "s" }
        );
        view! { <span class=class title=title data-testid="tile-slo">{text}</span> }
    });
    let impacted = (!tile.impacted_by.is_empty()).then(|| {
        view! {
            <span class="health-tile-impact muted" data-testid="tile-impacted">
                {format!("impacted by {}", tile.impacted_by.join(", "))}
            </span>
        }
    });
    let any = alerts.is_some() || budget.is_some() || impacted.is_some();
    any.then(|| {
        view! { <span class="health-tile-signals">{alerts}" "{budget}" "{impacted}</span> }
    })
}

#[component]
fn NoComponents() -> impl IntoView {
    view! {
        <EmptyState icon="health" title="No components are watched yet">
            <p>"Add components under Settings → Catalog (slug, group, linked service, label matchers such as "<code>"service=\"checkout-api\""</code>")."</p>
            <p>"Then point Alertmanager at Flightdeck: a "<code>"webhook_configs"</code>" receiver with URL "<code>"/api/v1/webhooks/alertmanager"</code>" and "<code>"http_config.authorization.credentials"</code>" set to "<code>"FLIGHTDECK_WEBHOOK_SECRET_ALERTMANAGER"</code>". Firing alerts turn the matching tiles amber or red."</p>
        </EmptyState>
    }
}
