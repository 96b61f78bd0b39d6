//! Settings → Catalog → Components: what the health grid watches. Admins create and edit them
//! (slug, name, group, linked service, tier, dependencies, label matchers, drill-down queries and
//! maintenance windows, as text one per line); others read.

use chrono::{DateTime, NaiveDateTime, Utc};
use flightdeck_model::{
    Component, ComponentMaintenance, CreateComponent, MetricQuery, Role, UpdateComponent,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{lines, opt, split_list};
use crate::api::{AppError, use_api};
use crate::catalog::{role_allows, use_catalog};
use crate::components::{icons::Icon, toast::use_toasts};
use crate::pages::health::component_path;

/// `name | unit | PromQL`, one per line (unit may be empty). The query comes last so a `|` in a
/// regex matcher stays part of it.
fn parse_metric_queries(s: &str) -> Result<Vec<MetricQuery>, String> {
    lines(s)
        .iter()
        .map(|line| {
            let mut parts = line.splitn(3, '|').map(str::trim);
            match (parts.next(), parts.next(), parts.next()) {
                (Some(name), Some(unit), Some(query)) if !name.is_empty() && !query.is_empty() => {
                    Ok(MetricQuery {
                        name: name.to_owned(),
                        query: query.to_owned(),
                        unit: opt(unit),
                    })
                }
                _ => Err(format!(
                    "metric query “{line}”: write it as `name | unit | PromQL` (unit may be empty)"
                )),
            }
        })
        .collect()
}

fn format_metric_queries(queries: &[MetricQuery]) -> String {
    queries
        .iter()
        .map(|q| {
            format!(
                "{} | {} | {}",
                q.name,
                q.unit.as_deref().unwrap_or(""),
                q.query
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// RFC 3339, or `2026-11-27T02:00` taken as UTC.
fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%dT%H:%M")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// `start end [name]`, one window per line, times in UTC.
fn parse_maintenance(s: &str) -> Result<Vec<ComponentMaintenance>, String> {
    lines(s)
        .iter()
        .map(|line| {
            let mut parts = line.splitn(3, char::is_whitespace);
            let (Some(start), Some(end)) = (parts.next(), parts.next()) else {
                return Err(format!("maintenance “{line}”: write `start end name`"));
            };
            match (parse_instant(start), parse_instant(end.trim())) {
                (Some(starts_at), Some(ends_at)) if starts_at < ends_at => {
                    Ok(ComponentMaintenance {
                        name: parts.next().and_then(opt),
                        starts_at,
                        ends_at,
                    })
                }
                (Some(_), Some(_)) => {
                    Err(format!("maintenance “{line}”: it ends before it starts"))
                }
                _ => Err(format!(
                    "maintenance “{line}”: times look like 2026-11-27T02:00Z (UTC)"
                )),
            }
        })
        .collect()
}

fn format_maintenance(windows: &[ComponentMaintenance]) -> String {
    windows
        .iter()
        .map(|w| {
            format!(
                "{} {} {}",
                w.starts_at.format("%Y-%m-%dT%H:%MZ"),
                w.ends_at.format("%Y-%m-%dT%H:%MZ"),
                w.name.as_deref().unwrap_or("")
            )
            .trim_end()
            .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[component]
pub fn ComponentsCard() -> impl IntoView {
    let api = use_api();
    let is_admin = role_allows(&api, Role::Admin);
    let list = RwSignal::new(Vec::<Component>::new());
    let editing = RwSignal::new(None::<String>);
    let load = move || {
        spawn_local(async move {
            if let Ok(page) = api.call(|c| async move { c.list_components().await }).await {
                list.try_set(page.items);
            }
        });
    };
    load();
    view! {
        <section class="card" data-testid="catalog-components">
            <div class="card-header">
                <h2>"Components"</h2>
                {is_admin.then(|| view! {
                    <button class="button button-small" data-testid="component-new" on:click=move |_| editing.set(Some(String::new()))>
                        <Icon name="plus" />"Add component"
                    </button>
                })}
            </div>
            {move || editing.get().map(|slug| {
                let existing = (!slug.is_empty())
                    .then(|| list.with_untracked(|l| l.iter().find(|c| c.slug == slug).cloned()))
                    .flatten();
                view! { <ComponentForm existing editing saved=Callback::new(move |_| load()) /> }
            })}
            <div class="table-wrap">
                <table class="table table-cards">
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"Slug"</th><th scope="col">"Group"</th>
                        <th scope="col">"Service"</th><th scope="col">"Tier"</th><th scope="col">"Matchers"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        <For each=move || list.get() key=|c| format!("{c:?}") let:c>
                            {
                                let slug = c.slug.clone();
                                view! {
                                    <tr data-testid="component-row" data-slug=c.slug.clone()>
                                        <td data-label="Name" class="cell-strong"><a href=component_path(&c.slug)>{c.name.clone()}</a></td>
                                        <td data-label="Slug"><code>{c.slug.clone()}</code></td>
                                        <td data-label="Group">{c.group.clone().unwrap_or_default()}</td>
                                        <td data-label="Service">{c.service.clone().unwrap_or_default()}</td>
                                        <td data-label="Tier">{c.tier.map(|t| t.to_string()).unwrap_or_default()}</td>
                                        <td data-label="Matchers" class="cell-reason mono small">{c.matchers.join(", ")}</td>
                                        <td class="cell-actions">
                                            {is_admin.then(|| view! {
                                                <button class="button button-small button-ghost" data-testid="component-edit"
                                                    on:click=move |_| editing.set(Some(slug.clone()))><Icon name="edit" />"Edit"</button>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
            </div>
            <Show when=move || list.with(Vec::is_empty)>
                <p class="muted empty-note">"No components yet. Each one is a tile on the Health page; alerts whose labels match its matchers set its status."</p>
            </Show>
        </section>
    }
}

#[component]
fn ComponentForm(
    existing: Option<Component>,
    editing: RwSignal<Option<String>>,
    saved: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let catalog = use_catalog();
    let creating = existing.is_none();
    let e = existing.clone();
    let text = |f: fn(&Component) -> Option<String>| {
        RwSignal::new(e.as_ref().and_then(f).unwrap_or_default())
    };
    let slug = text(|c| Some(c.slug.clone()));
    let name = text(|c| Some(c.name.clone()));
    let group = text(|c| c.group.clone());
    let service = text(|c| c.service.clone());
    let tier = text(|c| c.tier.map(|t| t.to_string()));
    let matchers = text(|c| Some(c.matchers.join("\n")));
    let depends_on = text(|c| Some(c.depends_on.join(", ")));
    let metric_queries = text(|c| Some(format_metric_queries(&c.metric_queries)));
    let log_query = text(|c| c.log_query.clone());
    let maintenance = text(|c| Some(format_maintenance(&c.maintenance)));
    let error = RwSignal::new(None::<AppError>);
    let save = Action::new_local(move |_: &()| async move {
        let parsed = parse_metric_queries(&metric_queries.get_untracked())
            .and_then(|q| parse_maintenance(&maintenance.get_untracked()).map(|m| (q, m)));
        let (metric_queries_v, maintenance_v) = match parsed {
            Ok(v) => v,
            Err(message) => return Err(AppError::new(message)),
        };
        let tier_value = tier.get_untracked().trim().parse::<i32>().ok();
        let slug_v = slug.get_untracked().trim().to_owned();
        if creating {
            let body = CreateComponent {
                slug: slug_v,
                name: name.get_untracked().trim().to_owned(),
                group: opt(&group.get_untracked()),
                service: opt(&service.get_untracked()),
                tier: tier_value,
                depends_on: split_list(&depends_on.get_untracked()),
                matchers: lines(&matchers.get_untracked()),
                metric_queries: metric_queries_v,
                log_query: opt(&log_query.get_untracked()),
                maintenance: maintenance_v,
            };
            api.call(move |c| {
                let body = body.clone();
                async move { c.create_component(&body).await }
            })
            .await
        } else {
            let body = UpdateComponent {
                name: Some(name.get_untracked().trim().to_owned()),
                // Always sent, so emptying a field removes it (null) rather than leaving it.
                group: Some(opt(&group.get_untracked())),
                service: Some(opt(&service.get_untracked())),
                tier: Some(tier_value),
                depends_on: Some(split_list(&depends_on.get_untracked())),
                matchers: Some(lines(&matchers.get_untracked())),
                metric_queries: Some(metric_queries_v),
                log_query: Some(log_query.get_untracked().trim().to_owned()),
                maintenance: Some(maintenance_v),
            };
            api.call(move |c| {
                let (body, slug) = (body.clone(), slug_v.clone());
                async move { c.update_component(&slug, &body).await }
            })
            .await
        }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(c)) => {
            toasts.success(format!("Component “{}” saved.", c.name));
            saved.run(());
            editing.set(None);
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    view! {
        <form class="catalog-form" data-testid="component-form" on:submit=move |ev| { ev.prevent_default(); error.set(None); save.dispatch(()); }>
            <h3 class="field-wide">{match &existing { Some(c) => format!("Edit {}", c.name), None => "New component".into() }}</h3>
            <label class="field"><span class="field-label">"Slug"</span>
                <input type="text" required pattern="[a-z0-9][a-z0-9\\-]*" placeholder="checkout-db" class="mono"
                    disabled=!creating data-testid="component-slug" bind:value=slug /></label>
            <label class="field"><span class="field-label">"Name"</span>
                <input type="text" required placeholder="Checkout database" data-testid="component-name" bind:value=name /></label>
            <label class="field"><span class="field-label">"Group"</span>
                <input type="text" placeholder="payments" data-testid="component-group" bind:value=group /></label>
            <label class="field"><span class="field-label">"Linked service"</span>
                <select data-testid="component-service" prop:value=move || service.get()
                    on:change=move |ev| service.set(event_target_value(&ev))>
                    <option value="">"None"</option>
                    {move || catalog.services.get().into_iter().map(|s| {
                        let selected = service.get_untracked() == s.slug;
                        view! { <option value=s.slug.clone() selected=selected>{s.name.clone()}</option> }
                    }).collect_view()}
                </select></label>
            <label class="field"><span class="field-label">"Tier"</span>
                <input type="number" min="1" max="5" placeholder="1" data-testid="component-tier" bind:value=tier /></label>
            <label class="field field-wide"><span class="field-label">"Label matchers (one per line; none: component=\"<slug>\")"</span>
                <textarea rows="3" class="mono" placeholder="service=\"checkout-api\"" data-testid="component-matchers"
                    prop:value=move || matchers.get() on:input=move |ev| matchers.set(event_target_value(&ev))></textarea></label>
            <label class="field field-wide"><span class="field-label">"Depends on (component slugs)"</span>
                <input type="text" class="mono" placeholder="checkout-db, payments-gateway" data-testid="component-depends-on" bind:value=depends_on /></label>
            <label class="field field-wide"><span class="field-label">"Metric queries (name | unit | PromQL, one per line; none: request rate, error ratio, p99 latency)"</span>
                <textarea rows="3" class="mono" placeholder="queue_depth | messages | sum(queue_depth{job=\"checkout-worker\"})" data-testid="component-metric-queries"
                    prop:value=move || metric_queries.get() on:input=move |ev| metric_queries.set(event_target_value(&ev))></textarea></label>
            <label class="field field-wide"><span class="field-label">"Log query (Lucene or LogQL; empty: the linked service's logs)"</span>
                <input type="text" class="mono" placeholder="service:\"checkout-api\" AND level:error" data-testid="component-log-query" bind:value=log_query /></label>
            <label class="field field-wide"><span class="field-label">"Maintenance windows (start end name, UTC, one per line)"</span>
                <textarea rows="2" class="mono" placeholder="2026-11-27T02:00Z 2026-11-27T04:00Z database upgrade" data-testid="component-maintenance"
                    prop:value=move || maintenance.get() on:input=move |ev| maintenance.set(event_target_value(&ev))></textarea></label>
            {move || error.get().map(|e| view! { <p class="form-error field-wide" role="alert"><Icon name="alert" />{e.message}</p> })}
            <div class="form-actions field-wide">
                <button class="button button-primary" type="submit" data-testid="component-save" disabled=move || save.pending().get()>
                    {if creating { "Create component" } else { "Save" }}</button>
                <button class="button button-ghost" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
            </div>
        </form>
    }
}
