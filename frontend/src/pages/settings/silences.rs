//! Settings → Silences: notifications held back for alerts matching label matchers, for a
//! while. Everyone reads; operators create and expire. Silenced alerts are still recorded.

use flightdeck_model::{CreateSilence, Role, SilenceState, SilenceView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{AppError, use_api};
use crate::catalog::role_allows;
use crate::components::{icons::Icon, toast::use_toasts};
use crate::format::{local_time, relative};

fn state_badge(state: SilenceState) -> (&'static str, &'static str) {
    match state {
        SilenceState::Active => ("active", "badge-warn"),
        SilenceState::Pending => ("pending", "role-badge"),
        SilenceState::Expired => ("expired", "role-badge"),
    }
}

#[component]
pub fn SilencesPanel() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let can_write = role_allows(&api, Role::Operator);
    let list = RwSignal::new(Vec::<SilenceView>::new());
    let error = RwSignal::new(None::<AppError>);
    let creating = RwSignal::new(false);
    let load = move || {
        spawn_local(async move {
            match api
                .call(|c| async move { c.list_silences(None).await })
                .await
            {
                Ok(page) => {
                    list.try_set(page.items);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    load();
    let expire = move |id: flightdeck_model::Id| {
        spawn_local(async move {
            match api
                .call(move |c| async move { c.expire_silence(id).await })
                .await
            {
                Ok(_) => {
                    toasts.success("Silence expired.");
                    load();
                }
                Err(e) => toasts.error(e.message),
            }
        });
    };
    view! {
        <section class="card" data-testid="silences">
            <div class="card-header">
                <h2>"Silences"</h2>
                {can_write.then(|| view! {
                    <button class="button button-small" data-testid="silence-new" on:click=move |_| creating.set(true)>
                        <Icon name="plus" />"New silence"
                    </button>
                })}
            </div>
            <Show when=move || creating.get()>
                <SilenceForm creating saved=Callback::new(move |_| load()) />
            </Show>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert"><Icon name="alert" />{e.message}</p> })}
            <div class="table-wrap">
                <table class="table table-cards">
                    <thead><tr>
                        <th scope="col">"Matchers"</th><th scope="col">"State"</th><th scope="col">"Ends"</th>
                        <th scope="col">"Comment"</th><th scope="col">"By"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        <For each=move || list.get() key=|s| format!("{s:?}") let:s>
                            {
                                let (label, tone) = state_badge(s.state);
                                let id = s.silence.id;
                                let live = s.state != SilenceState::Expired;
                                view! {
                                    <tr data-testid="silence-row" data-state=label>
                                        <td data-label="Matchers" class="mono small">{s.silence.matchers.join(", ")}</td>
                                        <td data-label="State"><span class=format!("badge {tone}")>{label}</span></td>
                                        <td data-label="Ends" title=local_time(&s.silence.ends_at)>{relative(&s.silence.ends_at)}</td>
                                        <td data-label="Comment" class="cell-reason">{s.silence.comment.clone()}</td>
                                        <td data-label="By">{s.silence.created_by.clone()}</td>
                                        <td class="cell-actions">
                                            {(can_write && live).then(|| view! {
                                                <button class="button button-small button-ghost" data-testid="silence-expire"
                                                    on:click=move |_| expire(id)><Icon name="stop" />"Expire"</button>
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
                <p class="muted empty-note">"No silences. A silence holds back notifications for matching alerts; they still show in the feed."</p>
            </Show>
        </section>
    }
}

#[component]
fn SilenceForm(creating: RwSignal<bool>, saved: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let matchers = RwSignal::new(String::new());
    let hours = RwSignal::new("2".to_owned());
    let comment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let save = Action::new_local(move |_: &()| async move {
        let hours = hours.get_untracked().trim().parse::<f64>().unwrap_or(2.0);
        let body = CreateSilence {
            matchers: matchers
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            starts_at: None,
            ends_at: chrono::Utc::now() + chrono::Duration::minutes((hours * 60.0) as i64),
            comment: comment.get_untracked().trim().to_owned(),
        };
        api.call(move |c| {
            let body = body.clone();
            async move { c.create_silence(&body).await }
        })
        .await
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            toasts.success("Silence created.");
            saved.run(());
            creating.set(false);
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    view! {
        <form class="catalog-form" data-testid="silence-form" on:submit=move |ev| { ev.prevent_default(); error.set(None); save.dispatch(()); }>
            <h3 class="field-wide">"New silence"</h3>
            <label class="field field-wide"><span class="field-label">"Label matchers (one per line)"</span>
                <textarea rows="3" class="mono" required placeholder="service=\"checkout-api\"" data-testid="silence-matchers"
                    prop:value=move || matchers.get() on:input=move |ev| matchers.set(event_target_value(&ev))></textarea></label>
            <label class="field"><span class="field-label">"Duration (hours)"</span>
                <input type="number" min="0.1" step="0.1" required data-testid="silence-hours" bind:value=hours /></label>
            <label class="field"><span class="field-label">"Comment"</span>
                <input type="text" required placeholder="Planned failover drill" data-testid="silence-comment" bind:value=comment /></label>
            {move || error.get().map(|e| view! { <p class="form-error field-wide" role="alert"><Icon name="alert" />{e.message}</p> })}
            <div class="form-actions field-wide">
                <button class="button button-primary" type="submit" data-testid="silence-save" disabled=move || save.pending().get()>"Create silence"</button>
                <button class="button button-ghost" type="button" on:click=move |_| creating.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}
