//! The audit log: filterable, paged with "Load more", exportable, and live — entries created
//! while the page is open appear at the top as the feed delivers them.

mod filter;
mod table;

use flightdeck_model::{AuditEntry, AuditFormat};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{Api, AppError, use_api};
use crate::components::{
    icons::Icon,
    layout::PageHeader,
    states::{ErrorState, Loading},
    toast::use_toasts,
};
use crate::live::{AUDIT_CREATED, use_live};
use crate::url_filter::filter_in_url;
use filter::Filter;
use table::AuditTable;

async fn fetch(
    api: Api,
    filter: &Filter,
    cursor: Option<String>,
) -> Result<flightdeck_model::Page<AuditEntry>, AppError> {
    let query = filter.query(cursor);
    api.call(move |c| {
        let query = query.clone();
        async move { c.list_audit(&query).await }
    })
    .await
}

/// Entries shown: newest first, each once.
fn merge(parts: [&[AuditEntry]; 3]) -> Vec<AuditEntry> {
    let mut all: Vec<AuditEntry> = parts.concat();
    all.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
    all.dedup_by_key(|e| e.id);
    all
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let api = use_api();
    let live = use_live();
    let toasts = use_toasts();
    let filter = filter_in_url::<Filter>();
    // Entries that arrived after the first page was loaded (live or by a top-up).
    let fresh = RwSignal::new(Vec::<AuditEntry>::new());
    // Pages loaded with "Load more", and the cursor after them (None: use the first page's).
    let more = RwSignal::new(Vec::<AuditEntry>::new());
    let more_cursor = RwSignal::new(None::<Option<String>>);

    let first = LocalResource::new(move || {
        let filter = filter.get();
        async move { fetch(api, &filter, None).await }
    });

    // A new filter, from the form or from the URL (a link, the nav), starts the list over.
    Effect::new(move |previous: Option<Filter>| {
        let current = filter.get();
        if previous.is_some_and(|p| p != current) {
            fresh.set(Vec::new());
            more.set(Vec::new());
            more_cursor.set(None);
        }
        current
    });

    live.subscribe(move |event| {
        if event.kind != AUDIT_CREATED {
            return;
        }
        let Ok(entry) = serde_json::from_value::<AuditEntry>(event.data.clone()) else {
            return;
        };
        if filter.with_untracked(|f| f.matches(&entry)) {
            fresh.update(|f| {
                if !f.iter().any(|e| e.id == entry.id) {
                    f.insert(0, entry);
                }
            });
        }
    });

    // After a reconnect, a resync or a polling tick, fetch the newest page and keep what is new.
    Effect::new(move |previous: Option<u64>| {
        let tick = live.reload.get();
        if previous.is_some() {
            spawn_local(async move {
                let current = filter.get_untracked();
                if let Ok(page) = fetch(api, &current, None).await
                    && filter.with_untracked(|f| *f == current)
                {
                    fresh.update(|f| *f = merge([f, &page.items, &[]]));
                }
            });
        }
        tick
    });

    let load_more = Action::new_local(move |cursor: &String| {
        let cursor = cursor.clone();
        let current = filter.get_untracked();
        async move {
            let page = fetch(api, &current, Some(cursor)).await?;
            // A filter changed meanwhile makes this page belong to another list.
            if filter.with_untracked(|f| *f == current) {
                more.update(|m| m.extend(page.items));
                more_cursor.set(Some(page.next_cursor));
            }
            Ok::<_, AppError>(())
        }
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = load_more.value().get() {
            toasts.error(format!("Could not load more entries: {e}"));
        }
    });

    let export = Action::new_local(move |format: &AuditFormat| {
        let format = *format;
        let query = filter.get_untracked().export(format);
        async move {
            let text = api
                .call(move |c| {
                    let query = query.clone();
                    async move { c.export_audit(&query).await }
                })
                .await?;
            let (ext, mime) = match format {
                AuditFormat::Csv => ("csv", "text/csv"),
                _ => ("jsonl", "application/x-ndjson"),
            };
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
            crate::download::save_text(&format!("flightdeck-audit-{stamp}.{ext}"), mime, &text)
                .map_err(AppError::new)
        }
    });
    Effect::new(move |_| match export.value().get() {
        Some(Ok(())) => toasts.success("Export downloaded."),
        Some(Err(e)) => toasts.error(format!("Export failed: {e}")),
        None => {}
    });
    let exporting = export.pending();

    view! {
        <section class="page">
            <PageHeader title="Audit log" subtitle="Every change, who made it and why. New entries appear live.">
                <button class="button" disabled=move || exporting.get() data-testid="audit-export-csv"
                    on:click=move |_| { export.dispatch(AuditFormat::Csv); }>
                    <Icon name="download" />"CSV"
                </button>
                <button class="button" disabled=move || exporting.get() data-testid="audit-export-jsonl"
                    on:click=move |_| { export.dispatch(AuditFormat::Jsonl); }>
                    <Icon name="download" />"JSON lines"
                </button>
            </PageHeader>
            <FilterForm current=filter />
            <div class="card card-flush">
                <Transition fallback=|| view! { <Loading label="Loading the audit log…" /> }>
                    <ErrorBoundary fallback=move |errors| view! {
                        <ErrorState errors retry=Callback::new(move |_| first.refetch()) />
                    }>
                        {move || Suspend::new(async move {
                            first.await.map(|page| {
                                let items = page.items;
                                let first_cursor = page.next_cursor;
                                let rows = Signal::derive(move || {
                                    more.with(|m| fresh.with(|f| merge([f, &items, m])))
                                });
                                let fresh_ids = Signal::derive(move || {
                                    fresh.with(|f| f.iter().map(|e| e.id).collect::<Vec<_>>())
                                });
                                let cursor = move || more_cursor.get().unwrap_or_else(|| first_cursor.clone());
                                let filtered = !filter.get_untracked().is_empty();
                                view! {
                                    <AuditTable rows fresh_ids filtered />
                                    {move || cursor().map(|c| view! {
                                        <div class="load-more">
                                            <button class="button" data-testid="audit-load-more"
                                                disabled=move || load_more.pending().get()
                                                on:click=move |_| { load_more.dispatch(c.clone()); }>
                                                {move || if load_more.pending().get() { "Loading…" } else { "Load more" }}
                                            </button>
                                        </div>
                                    })}
                                }
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </div>
        </section>
    }
}

/// Edits a draft of the page's filter and sets it on Apply; the page starts its list over when
/// it changes.
#[component]
fn FilterForm(current: RwSignal<Filter>) -> impl IntoView {
    let actor = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let target_type = RwSignal::new(String::new());
    let since = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    // The form shows the filter in force: at first (from the URL), and whenever a link or the
    // nav changes it.
    Effect::new(move |_| {
        let f = current.get();
        actor.set(f.actor);
        action.set(f.action);
        target_type.set(f.target_type);
        since.set(f.since);
        until.set(f.until);
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        current.set(Filter {
            actor: actor.get_untracked().trim().to_owned(),
            action: action.get_untracked().trim().to_owned(),
            target_type: target_type.get_untracked().trim().to_owned(),
            since: since.get_untracked(),
            until: until.get_untracked(),
        });
    };
    let clear = move |_| {
        for s in [actor, action, target_type, since, until] {
            s.set(String::new());
        }
        current.set(Filter::default());
    };
    view! {
        <form class="card filters" on:submit=submit aria-label="Filter the audit log">
            <label class="field">
                <span class="field-label">"Actor"</span>
                <input type="text" placeholder="username" data-testid="audit-filter-actor" bind:value=actor />
            </label>
            <label class="field">
                <span class="field-label">"Action"</span>
                <input type="text" placeholder="token. or token.create" data-testid="audit-filter-action"
                    title="An exact action, or a prefix ending in a dot" bind:value=action />
            </label>
            <label class="field">
                <span class="field-label">"Target type"</span>
                <input type="text" placeholder="api_token, user…" data-testid="audit-filter-target-type" bind:value=target_type />
            </label>
            <label class="field">
                <span class="field-label">"Since"</span>
                <input type="datetime-local" data-testid="audit-filter-since" bind:value=since />
            </label>
            <label class="field">
                <span class="field-label">"Until"</span>
                <input type="datetime-local" data-testid="audit-filter-until" bind:value=until />
            </label>
            <div class="filter-actions">
                <button class="button button-primary" type="submit" data-testid="audit-filter-apply">
                    <Icon name="filter" />"Apply"
                </button>
                <button class="button button-ghost" type="button" on:click=clear data-testid="audit-filter-clear">
                    "Clear"
                </button>
            </div>
        </form>
    }
}
