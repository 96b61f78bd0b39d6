//! Settings → Catalog: services, environments and (in `components.rs`) health components.
//! Admins create and edit them; deployers lock and unlock environments; everyone else reads. Changes made elsewhere (the config file at
//! start, another admin) arrive through the shared catalog's live updates.

use flightdeck_model::{
    CreateEnvironment, CreateService, Environment, LockEnvironment, Role, Service,
    UpdateEnvironment, UpdateService,
};
use leptos::prelude::*;

use super::fields::{opt, split_list};
use crate::api::{AppError, use_api};
use crate::catalog::{role_allows, use_catalog};
use crate::components::{icons::Icon, states::Loading, toast::use_toasts};
use crate::format::local_time;

#[component]
pub fn CatalogPanel() -> impl IntoView {
    let catalog = use_catalog();
    view! {
        <div class="panel-stack">
            {move || match catalog.state.get() {
                None => view! { <div class="card"><Loading label="Loading the catalog…" /></div> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error" role="alert"><Icon name="alert" />{e.message}</p> }.into_any(),
                Some(Ok(())) => view! { <ServicesCard /><EnvironmentsCard /><super::components::ComponentsCard /> }.into_any(),
            }}
        </div>
    }
}

/// Which row is being edited: `Some("")` is the create form.
type Editing = RwSignal<Option<String>>;

#[component]
fn ServicesCard() -> impl IntoView {
    let api = use_api();
    let catalog = use_catalog();
    let is_admin = role_allows(&api, Role::Admin);
    let editing: Editing = RwSignal::new(None);
    view! {
        <section class="card" data-testid="catalog-services">
            <div class="card-header">
                <h2>"Services"</h2>
                {is_admin.then(|| view! {
                    <button class="button button-small" data-testid="service-new" on:click=move |_| editing.set(Some(String::new()))>
                        <Icon name="plus" />"Add service"
                    </button>
                })}
            </div>
            // Forms live outside the rows: a row is redrawn when its service changes, which
            // would take a form inside it (and its pending save) along.
            {move || editing.get().map(|slug| {
                let existing = (!slug.is_empty())
                    .then(|| catalog.services.with_untracked(|l| l.iter().find(|s| s.slug == slug).cloned()))
                    .flatten();
                view! { <ServiceForm existing editing /> }
            })}
            <div class="table-wrap">
                <table class="table table-cards">
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"Slug"</th><th scope="col">"Team"</th>
                        <th scope="col">"Repositories"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        <For each=move || catalog.services.get() key=|s| format!("{s:?}") let:s>
                            {
                                let slug = s.slug.clone();
                                view! {
                                    <tr data-testid="service-row" data-slug=s.slug.clone()>
                                        <td data-label="Name" class="cell-strong">{s.name.clone()}</td>
                                        <td data-label="Slug"><code>{s.slug.clone()}</code></td>
                                        <td data-label="Team">{s.team.clone().unwrap_or_default()}</td>
                                        <td data-label="Repositories" class="cell-reason">{s.repositories.join(", ")}</td>
                                        <td class="cell-actions">
                                            {is_admin.then(|| view! {
                                                <button class="button button-small button-ghost" data-testid="service-edit"
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
            <Show when=move || catalog.services.with(Vec::is_empty)>
                <p class="muted empty-note">"No services yet. "{if is_admin { "Add one above, or declare them under [[catalog.services]] in the config file." } else { "An admin adds them here or in the config file." }}</p>
            </Show>
        </section>
    }
}

#[component]
fn ServiceForm(existing: Option<Service>, editing: Editing) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let creating = existing.is_none();
    let e = existing.clone();
    let slug = RwSignal::new(e.as_ref().map(|s| s.slug.clone()).unwrap_or_default());
    let name = RwSignal::new(e.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let team = RwSignal::new(e.as_ref().and_then(|s| s.team.clone()).unwrap_or_default());
    let repos = RwSignal::new(
        e.as_ref()
            .map(|s| s.repositories.join(", "))
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<AppError>);
    let save = Action::new_local(move |_: &()| async move {
        let (slug, name, team, repos) = (
            slug.get_untracked().trim().to_owned(),
            name.get_untracked().trim().to_owned(),
            opt(&team.get_untracked()),
            split_list(&repos.get_untracked()),
        );
        if creating {
            let body = CreateService {
                slug,
                name,
                team,
                repositories: repos,
            };
            api.call(move |c| {
                let body = body.clone();
                async move { c.create_service(&body).await }
            })
            .await
        } else {
            let body = UpdateService {
                name: Some(name),
                team: Some(team.unwrap_or_default()),
                repositories: Some(repos),
            };
            api.call(move |c| {
                let (body, slug) = (body.clone(), slug.clone());
                async move { c.update_service(&slug, &body).await }
            })
            .await
        }
    });
    let catalog = use_catalog();
    Effect::new(move |_| match save.value().get() {
        Some(Ok(s)) => {
            toasts.success(format!("Service “{}” saved.", s.name));
            catalog.refresh();
            editing.set(None);
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    view! {
        <form class="catalog-form" data-testid="service-form" on:submit=move |ev| { ev.prevent_default(); error.set(None); save.dispatch(()); }>
            <h3 class="field-wide">{match &existing { Some(s) => format!("Edit {}", s.name), None => "New service".into() }}</h3>
            <label class="field"><span class="field-label">"Slug"</span>
                <input type="text" required pattern="[a-z0-9][a-z0-9\\-]*" placeholder="checkout-api" class="mono"
                    disabled=!creating data-testid="service-slug" bind:value=slug /></label>
            <label class="field"><span class="field-label">"Name"</span>
                <input type="text" required placeholder="Checkout API" data-testid="service-name" bind:value=name /></label>
            <label class="field"><span class="field-label">"Team"</span>
                <input type="text" placeholder="payments" data-testid="service-team" bind:value=team /></label>
            <label class="field field-wide"><span class="field-label">"Repositories (comma-separated)"</span>
                <input type="text" placeholder="acme/checkout-api" data-testid="service-repos" bind:value=repos /></label>
            {move || error.get().map(|e| view! { <p class="form-error field-wide" role="alert"><Icon name="alert" />{e.message}</p> })}
            <div class="form-actions field-wide">
                <button class="button button-primary" type="submit" data-testid="service-save" disabled=move || save.pending().get()>
                    {if creating { "Create service" } else { "Save" }}</button>
                <button class="button button-ghost" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
fn EnvironmentsCard() -> impl IntoView {
    let api = use_api();
    let catalog = use_catalog();
    let is_admin = role_allows(&api, Role::Admin);
    let can_lock = role_allows(&api, Role::Deployer);
    let editing: Editing = RwSignal::new(None);
    let locking: Editing = RwSignal::new(None);
    view! {
        <section class="card" data-testid="catalog-environments">
            <div class="card-header">
                <h2>"Environments"</h2>
                {is_admin.then(|| view! {
                    <button class="button button-small" data-testid="environment-new" on:click=move |_| editing.set(Some(String::new()))>
                        <Icon name="plus" />"Add environment"
                    </button>
                })}
            </div>
            {move || editing.get().map(|slug| {
                let existing = (!slug.is_empty())
                    .then(|| catalog.environments.with_untracked(|l| l.iter().find(|e| e.slug == slug).cloned()))
                    .flatten();
                view! { <EnvironmentForm existing editing /> }
            })}
            {move || locking.get().map(|slug| view! { <LockForm slug locking /> })}
            <div class="table-wrap">
                <table class="table table-cards">
                    <thead><tr>
                        <th scope="col">"Rank"</th><th scope="col">"Name"</th><th scope="col">"Slug"</th>
                        <th scope="col">"Aliases"</th><th scope="col">"Protection"</th><th scope="col">"Lock"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        <For each=move || catalog.environments.get() key=|e| format!("{e:?}") let:e>
                            <EnvironmentRow e editing locking is_admin can_lock />
                        </For>
                    </tbody>
                </table>
            </div>
            <Show when=move || catalog.environments.with(Vec::is_empty)>
                <p class="muted empty-note">"No environments yet. "{if is_admin { "Add one above, or declare them under [[catalog.environments]] in the config file." } else { "An admin adds them here or in the config file." }}</p>
            </Show>
        </section>
    }
}

#[component]
fn EnvironmentRow(
    e: Environment,
    editing: Editing,
    locking: Editing,
    is_admin: bool,
    can_lock: bool,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let catalog = use_catalog();
    let slug = e.slug.clone();
    let unlock = Action::new_local(move |slug: &String| {
        let slug = slug.clone();
        async move {
            api.call(move |c| {
                let slug = slug.clone();
                async move { c.unlock_environment(&slug).await }
            })
            .await
        }
    });
    Effect::new(move |_| match unlock.value().get() {
        Some(Ok(env)) => {
            toasts.success(format!("{} unlocked: deploys are allowed again.", env.name));
            catalog.refresh();
        }
        Some(Err(e)) => toasts.error(format!("Could not unlock: {e}")),
        None => {}
    });
    let (s_edit, s_lock, s_unlock) = (slug.clone(), slug.clone(), slug.clone());
    let locked = e.lock.is_some();
    view! {
        <tr data-testid="environment-row" data-slug=slug.clone() data-locked=locked.to_string()>
            <td data-label="Rank" class="mono">{e.rank}</td>
            <td data-label="Name" class="cell-strong">{e.name.clone()}</td>
            <td data-label="Slug"><code>{e.slug.clone()}</code></td>
            <td data-label="Aliases">{e.aliases.join(", ")}</td>
            <td data-label="Protection">{if e.protected {
                view! { <span class="badge badge-warn"><Icon name="shield" size=12 />" protected"</span> }.into_any()
            } else { view! { <span class="muted">"—"</span> }.into_any() }}</td>
            <td data-label="Lock" class="cell-reason">{e.lock.clone().map(|l| view! {
                <span class="badge badge-warn" data-testid="env-locked"><Icon name="lock" size=12 />" locked"</span>
                <span class="small">{format!(" {} — {} ({})", l.reason, l.locked_by, local_time(&l.locked_at))}</span>
            })}</td>
            <td class="cell-actions">
                {(can_lock && locked).then(|| view! {
                    <button class="button button-small" data-testid="environment-unlock" disabled=move || unlock.pending().get()
                        on:click=move |_| { unlock.dispatch(s_unlock.clone()); }><Icon name="unlock" />"Unlock"</button>
                })}
                {(can_lock && !locked).then(|| view! {
                    <button class="button button-small button-ghost" data-testid="environment-lock"
                        on:click=move |_| locking.set(Some(s_lock.clone()))><Icon name="lock" />"Lock"</button>
                })}
                {is_admin.then(|| view! {
                    <button class="button button-small button-ghost" data-testid="environment-edit"
                        on:click=move |_| editing.set(Some(s_edit.clone()))><Icon name="edit" />"Edit"</button>
                })}
            </td>
        </tr>
    }
}

#[component]
fn LockForm(slug: String, locking: Editing) -> impl IntoView {
    let slug_title = slug.clone();
    let api = use_api();
    let toasts = use_toasts();
    let catalog = use_catalog();
    let reason = RwSignal::new(String::new());
    let minutes = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let lock = Action::new_local(move |slug: &String| {
        let slug = slug.clone();
        let body = LockEnvironment {
            reason: reason.get_untracked().trim().to_owned(),
            expires_in_minutes: minutes.get_untracked().trim().parse().ok(),
        };
        async move {
            api.call(move |c| {
                let (slug, body) = (slug.clone(), body.clone());
                async move { c.lock_environment(&slug, &body).await }
            })
            .await
        }
    });
    Effect::new(move |_| match lock.value().get() {
        Some(Ok(env)) => {
            toasts.success(format!(
                "{} locked: deploys are refused, rollbacks still allowed.",
                env.name
            ));
            catalog.refresh();
            locking.set(None);
        }
        Some(Err(e)) => error.set(Some(e.message)),
        None => {}
    });
    view! {
        <form class="catalog-form" data-testid="lock-form" on:submit=move |ev| {
            ev.prevent_default();
            if reason.get_untracked().trim().is_empty() { error.set(Some("Say why deploys are frozen.".into())); return; }
            error.set(None);
            lock.dispatch(slug.clone());
        }>
            <h3 class="field-wide">{format!("Lock {slug_title}: refuse deploys (rollbacks stay allowed)")}</h3>
            <label class="field field-wide"><span class="field-label">"Reason (shown to everyone who tries to deploy)"</span>
                <input type="text" required maxlength="500" placeholder="Black Friday freeze" data-testid="lock-reason" bind:value=reason /></label>
            <label class="field"><span class="field-label">"Lift after (minutes)"</span>
                <input type="number" min="1" placeholder="until unlocked" data-testid="lock-minutes" bind:value=minutes /></label>
            {move || error.get().map(|e| view! { <p class="form-error field-wide" role="alert"><Icon name="alert" />{e}</p> })}
            <div class="form-actions field-wide">
                <button class="button button-danger" type="submit" data-testid="lock-submit" disabled=move || lock.pending().get()><Icon name="lock" />"Lock"</button>
                <button class="button button-ghost" type="button" on:click=move |_| locking.set(None)>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
fn EnvironmentForm(existing: Option<Environment>, editing: Editing) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let catalog = use_catalog();
    let creating = existing.is_none();
    let e = existing.clone();
    let slug = RwSignal::new(e.as_ref().map(|s| s.slug.clone()).unwrap_or_default());
    let name = RwSignal::new(e.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let rank = RwSignal::new(
        e.as_ref()
            .map(|s| s.rank.to_string())
            .unwrap_or_else(|| "10".into()),
    );
    let protected = RwSignal::new(e.as_ref().is_some_and(|s| s.protected));
    let aliases = RwSignal::new(e.as_ref().map(|s| s.aliases.join(", ")).unwrap_or_default());
    let error = RwSignal::new(None::<AppError>);
    let save = Action::new_local(move |_: &()| async move {
        let Ok(rank_n) = rank.get_untracked().trim().parse::<i32>() else {
            return Err(AppError::new(
                "Rank must be a whole number (lower ranks come first).",
            ));
        };
        let (slug, name, protected, aliases) = (
            slug.get_untracked().trim().to_owned(),
            name.get_untracked().trim().to_owned(),
            protected.get_untracked(),
            split_list(&aliases.get_untracked()),
        );
        if creating {
            let body = CreateEnvironment {
                slug,
                name,
                rank: rank_n,
                protected,
                aliases,
                freeze_windows: Vec::new(),
            };
            api.call(move |c| {
                let body = body.clone();
                async move { c.create_environment(&body).await }
            })
            .await
        } else {
            let body = UpdateEnvironment {
                name: Some(name),
                rank: Some(rank_n),
                protected: Some(protected),
                aliases: Some(aliases),
                freeze_windows: None,
            };
            api.call(move |c| {
                let (body, slug) = (body.clone(), slug.clone());
                async move { c.update_environment(&slug, &body).await }
            })
            .await
        }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(env)) => {
            toasts.success(format!("Environment “{}” saved.", env.name));
            catalog.refresh();
            editing.set(None);
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    view! {
        <form class="catalog-form" data-testid="environment-form" on:submit=move |ev| { ev.prevent_default(); error.set(None); save.dispatch(()); }>
            <h3 class="field-wide">{match &existing { Some(e) => format!("Edit {}", e.name), None => "New environment".into() }}</h3>
            <label class="field"><span class="field-label">"Slug"</span>
                <input type="text" required pattern="[a-z0-9][a-z0-9\\-]*" placeholder="staging" class="mono"
                    disabled=!creating data-testid="environment-slug" bind:value=slug /></label>
            <label class="field"><span class="field-label">"Name"</span>
                <input type="text" required placeholder="Staging" data-testid="environment-name" bind:value=name /></label>
            <label class="field"><span class="field-label">"Rank"</span>
                <input type="number" required step="1" data-testid="environment-rank" bind:value=rank /></label>
            <label class="field"><span class="field-label">"Aliases (comma-separated)"</span>
                <input type="text" placeholder="stg, preprod" data-testid="environment-aliases" bind:value=aliases /></label>
            <label class="checkbox field-wide">
                <input type="checkbox" data-testid="environment-protected" bind:checked=protected />
                "Protected: deploying needs the deployer role and the slug typed as confirmation"
            </label>
            {move || error.get().map(|e| view! { <p class="form-error field-wide" role="alert"><Icon name="alert" />{e.message}</p> })}
            <div class="form-actions field-wide">
                <button class="button button-primary" type="submit" data-testid="environment-save" disabled=move || save.pending().get()>
                    {if creating { "Create environment" } else { "Save" }}</button>
                <button class="button button-ghost" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
            </div>
        </form>
    }
}
