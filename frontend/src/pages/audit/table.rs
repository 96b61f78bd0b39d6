//! The audit table. Rows keyed by id, so a live entry is inserted without redrawing the rest.

use flightdeck_model::{AuditEntry, Id};
use leptos::prelude::*;

use crate::components::states::EmptyState;
use crate::format::{local_time, relative};

/// Tone of an action badge, from its verb.
fn tone(action: &str) -> &'static str {
    let verb = action.rsplit('.').next().unwrap_or(action);
    match verb {
        "create" | "enable" | "succeeded" => "good",
        "revoke" | "delete" | "disable" | "failed" | "rollback" => "bad",
        "update" | "lock" | "unlock" => "warn",
        _ => "neutral",
    }
}

fn short_id(id: &str) -> String {
    if id.chars().count() > 13 {
        format!("{}…", id.chars().take(12).collect::<String>())
    } else {
        id.to_owned()
    }
}

#[component]
pub fn AuditTable(
    rows: Signal<Vec<AuditEntry>>,
    fresh_ids: Signal<Vec<Id>>,
    filtered: bool,
) -> impl IntoView {
    let empty = move || rows.with(Vec::is_empty);
    view! {
        <Show when=move || !empty() fallback=move || view! {
            <EmptyState icon="audit" title=if filtered { "No entries match these filters" } else { "No audit entries yet" }>
                <p>{if filtered {
                    "Loosen the filters, or wait: matching entries will appear here as they happen."
                } else {
                    "Sign-ins, tokens, users and every deployment action will be recorded here — they appear the moment they happen."
                }}</p>
            </EmptyState>
        }>
            <div class="table-wrap">
                <table class="table table-cards audit-table">
                    <thead>
                        <tr>
                            <th scope="col">"Time"</th>
                            <th scope="col">"Actor"</th>
                            <th scope="col">"Action"</th>
                            <th scope="col">"Target"</th>
                            <th scope="col">"Reason"</th>
                            <th scope="col">"Request"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || rows.get() key=|e| e.id let:entry>
                            <AuditRow is_new=Signal::derive(move || fresh_ids.with(|f| f.contains(&entry.id))) entry=entry.clone() />
                        </For>
                    </tbody>
                </table>
            </div>
        </Show>
    }
}

#[component]
fn AuditRow(entry: AuditEntry, is_new: Signal<bool>) -> impl IntoView {
    let changes = (entry.before.is_some() || entry.after.is_some()).then(|| {
        let pretty = |v: &Option<serde_json::Value>| {
            v.as_ref()
                .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
                .unwrap_or_else(|| "—".into())
        };
        let (before, after) = (pretty(&entry.before), pretty(&entry.after));
        view! {
            <details class="changes">
                <summary>"changes"</summary>
                <div class="changes-grid">
                    <div><span class="muted">"before"</span><pre>{before}</pre></div>
                    <div><span class="muted">"after"</span><pre>{after}</pre></div>
                </div>
            </details>
        }
    });
    view! {
        <tr data-testid="audit-row" data-action=entry.action.clone() data-id=entry.id.to_string() class:row-new=move || is_new.get()>
            <td data-label="Time" class="cell-time" title=relative(&entry.at)>{local_time(&entry.at)}</td>
            <td data-label="Actor" class="cell-strong">{entry.actor.clone()}</td>
            <td data-label="Action"><span class=format!("action-badge tone-{}", tone(&entry.action))>{entry.action.clone()}</span></td>
            <td data-label="Target">
                <span class="target-type">{entry.target_type.clone()}</span>
                " "
                <code class="target-id" title=entry.target_id.clone()>{short_id(&entry.target_id)}</code>
                {changes}
            </td>
            <td data-label="Reason" class="cell-reason">{entry.reason.clone().unwrap_or_default()}</td>
            <td data-label="Request">
                {entry.request_id.clone().map(|r| view! { <code class="request-id" title=r.clone()>{short_id(&r)}</code> })}
            </td>
        </tr>
    }
}
