//! API tokens: list, create (the secret is shown once), revoke with confirmation.

use flightdeck_model::{ApiToken, CreateApiToken, CreatedApiToken, Id, PageParams, Role};
use leptos::prelude::*;

use super::grantable_roles;
use crate::api::{ApiResult, use_api};
use crate::components::{
    icons::Icon,
    states::{EmptyState, ErrorState, Loading},
    toast::use_toasts,
};
use crate::format::{local_date, local_time, relative};
use crate::live::use_live;

#[component]
pub fn TokensPanel() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let live = use_live();
    let own_role = api.me().map(|m| m.role).unwrap_or(Role::Viewer);
    let show_all = RwSignal::new(false);
    let secret = RwSignal::new(None::<CreatedApiToken>);
    // Kept here, not in the table: the table is redrawn whenever the list reloads.
    let confirming = RwSignal::new(None::<Id>);
    let changed = live.audited("api_token");

    let create = Action::new_local(move |body: &CreateApiToken| {
        let body = body.clone();
        async move {
            api.call(move |c| {
                let body = body.clone();
                async move { c.create_token(&body).await }
            })
            .await
        }
    });
    let revoke = Action::new_local(move |id: &Id| {
        let id = *id;
        async move {
            api.call(move |c| async move { c.revoke_token(id).await })
                .await
        }
    });
    let tokens = LocalResource::new(move || {
        create.version().track();
        revoke.version().track();
        live.reload.track();
        changed.track();
        let all = show_all.get();
        async move {
            let page = PageParams {
                limit: Some(PageParams::MAX_LIMIT),
                cursor: None,
            };
            api.call(move |c| {
                let page = page.clone();
                async move { c.list_tokens(all, &page).await }
            })
            .await
        }
    });

    Effect::new(move |_| match create.value().get() {
        Some(Ok(created)) => {
            toasts.success(format!("Token “{}” created.", created.token.name));
            secret.set(Some(created));
        }
        Some(Err(e)) => toasts.error(format!("Could not create the token: {e}")),
        None => {}
    });
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(token)) => toasts.success(format!("Token “{}” revoked.", token.name)),
        Some(Err(e)) => toasts.error(format!("Could not revoke the token: {e}")),
        None => {}
    });

    view! {
        <div class="panel-stack">
            <CreateTokenForm own_role create />
            {move || secret.get().map(|created| view! { <SecretBox created on_done=Callback::new(move |_| secret.set(None)) /> })}
            <div class="card">
                <div class="card-header">
                    <h2>"Your API tokens"</h2>
                    {(own_role == Role::Admin).then(|| view! {
                        <label class="checkbox">
                            <input type="checkbox" bind:checked=show_all data-testid="tokens-show-all" />
                            "Show everyone's tokens"
                        </label>
                    })}
                </div>
                <Transition fallback=|| view! { <Loading label="Loading tokens…" /> }>
                    <ErrorBoundary fallback=move |errors| view! {
                        <ErrorState errors retry=Callback::new(move |_| tokens.refetch()) />
                    }>
                        {move || Suspend::new(async move {
                            tokens.await.map(|page| view! { <TokenTable tokens=page.items show_owner=show_all.get_untracked() revoke confirming /> })
                        })}
                    </ErrorBoundary>
                </Transition>
            </div>
        </div>
    }
}

#[component]
fn CreateTokenForm(
    own_role: Role,
    create: Action<CreateApiToken, ApiResult<CreatedApiToken>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(own_role.as_str().to_owned());
    let expiry = RwSignal::new(String::new());
    let pending = create.pending();
    // Clear the form once a token was made from it.
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
            expiry.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let expires_in_days = expiry.get_untracked().trim().parse::<u32>().ok();
        create.dispatch(CreateApiToken {
            name: name.get_untracked().trim().to_owned(),
            role: role.get_untracked().parse().ok(),
            expires_in_days,
        });
    };
    view! {
        <form class="card form-grid" on:submit=submit>
            <h2 class="form-title">"Create a token"</h2>
            <p class="muted form-help">"For scripts and CI: send it as "<code>"Authorization: Bearer …"</code>". A token can do at most what your role allows."</p>
            <label class="field">
                <span class="field-label">"Name"</span>
                <input type="text" required maxlength="100" placeholder="github-actions checkout-api"
                    data-testid="token-name" bind:value=name />
            </label>
            <label class="field">
                <span class="field-label">"Role"</span>
                <select data-testid="token-role" bind:value=role>
                    {grantable_roles(own_role).into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == own_role>{r.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span class="field-label">"Expires after (days)"</span>
                <input type="number" min="1" max="3650" placeholder="never" inputmode="numeric"
                    data-testid="token-expiry" bind:value=expiry />
            </label>
            <div class="form-actions">
                <button class="button button-primary" type="submit" data-testid="token-create" disabled=move || pending.get()>
                    <Icon name="plus" />
                    {move || if pending.get() { "Creating…" } else { "Create token" }}
                </button>
            </div>
        </form>
    }
}

/// The new secret, shown this once with a copy button and a clear warning.
#[component]
fn SecretBox(created: CreatedApiToken, on_done: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let secret = created.secret.clone();
    let copy = move |_| {
        let secret = secret.clone();
        leptos::task::spawn_local(async move {
            let clipboard = window().navigator().clipboard();
            match wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&secret)).await {
                Ok(_) => toasts.success("Token copied to the clipboard."),
                Err(_) => toasts.error(
                    "The browser refused the clipboard; select the token and copy it by hand.",
                ),
            }
        });
    };
    view! {
        <div class="card secret-box" role="region" aria-label="New token secret" data-testid="token-secret-box">
            <div class="secret-warning">
                <Icon name="alert" />
                <p>
                    <strong>"Copy this token now — it will not be shown again."</strong>
                    " Store it in your CI's secret store. If it is lost, revoke it and create a new one."
                </p>
            </div>
            <div class="secret-row">
                <code class="secret" data-testid="token-secret">{created.secret.clone()}</code>
                <button class="button" type="button" on:click=copy data-testid="token-copy">
                    <Icon name="copy" />"Copy"
                </button>
            </div>
            <div class="secret-footer">
                <span class="muted">{format!("“{}” · {} · prefix ", created.token.name, created.token.role)}<code>{created.token.prefix.clone()}</code></span>
                <button class="button button-ghost" type="button" on:click=move |_| on_done.run(()) data-testid="token-secret-done">
                    "I have stored it"
                </button>
            </div>
        </div>
    }
}

fn token_status(t: &ApiToken) -> (&'static str, &'static str) {
    if t.revoked_at.is_some() {
        ("Revoked", "bad")
    } else if t.expires_at.is_some_and(|e| e <= chrono::Utc::now()) {
        ("Expired", "warn")
    } else {
        ("Active", "good")
    }
}

#[component]
fn TokenTable(
    tokens: Vec<ApiToken>,
    show_owner: bool,
    revoke: Action<Id, ApiResult<ApiToken>>,
    confirming: RwSignal<Option<Id>>,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! {
            <EmptyState icon="key" title="No API tokens yet">
                <p>"Create one above for each script or pipeline, so each can be revoked on its own."</p>
            </EmptyState>
        }
        .into_any();
    }
    let rows = tokens
        .into_iter()
        .map(|t| {
            let id = t.id;
            let (status, tone) = token_status(&t);
            let active = t.revoked_at.is_none();
            let name = t.name.clone();
            view! {
                <tr data-testid="token-row" data-token-id=id.to_string() data-status=status.to_lowercase()>
                    <td data-label="Name" class="cell-strong">{t.name.clone()}</td>
                    {show_owner.then(|| view! { <td data-label="Owner">{t.owner.clone()}</td> })}
                    <td data-label="Prefix"><code>{t.prefix.clone()}</code></td>
                    <td data-label="Role"><span class=format!("role-badge role-{}", t.role)>{t.role.as_str()}</span></td>
                    <td data-label="Created" class="cell-nowrap" title=local_time(&t.created_at)>{local_date(&t.created_at)}</td>
                    <td data-label="Expires" class="cell-nowrap" title=t.expires_at.as_ref().map(local_time)>
                        {t.expires_at.as_ref().map(relative).unwrap_or_else(|| "never".into())}
                    </td>
                    <td data-label="Last used" class="cell-nowrap" title=t.last_used_at.as_ref().map(local_time)>
                        {t.last_used_at.as_ref().map(relative).unwrap_or_else(|| "never".into())}
                    </td>
                    <td data-label="Status"><span class=format!("badge badge-{tone}")>{status}</span></td>
                    <td class="cell-actions">
                        {active.then(|| view! {
                            <Show
                                when=move || confirming.get() == Some(id)
                                fallback=move || view! {
                                    <button class="button button-small button-danger-ghost" data-testid="token-revoke"
                                        on:click=move |_| confirming.set(Some(id))>
                                        "Revoke"
                                    </button>
                                }
                            >
                                <span class="confirm" role="group" aria-label=format!("Confirm revoking {name}")>
                                    <span class="confirm-text">"Scripts using it stop working at once."</span>
                                    <button class="button button-small button-danger" data-testid="token-revoke-confirm"
                                        disabled=move || revoke.pending().get()
                                        on:click=move |_| { revoke.dispatch(id); confirming.set(None); }>
                                        "Revoke"
                                    </button>
                                    <button class="button button-small button-ghost" on:click=move |_| confirming.set(None)>
                                        "Cancel"
                                    </button>
                                </span>
                            </Show>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table table-cards">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        {show_owner.then(|| view! { <th scope="col">"Owner"</th> })}
                        <th scope="col">"Prefix"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
