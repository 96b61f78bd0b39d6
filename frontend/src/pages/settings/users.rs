//! Users (admins only): list, create, change role, disable or enable.

use flightdeck_model::{CreateUser, Id, PageParams, Role, UpdateUser, User};
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
pub fn UsersPanel() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let live = use_live();
    let me = api.me().map(|m| m.user.id);
    // Kept here, not in the table: the table is redrawn whenever the list reloads.
    let confirming = RwSignal::new(None::<Id>);
    let changed = live.audited("user");

    let create = Action::new_local(move |body: &CreateUser| {
        let body = body.clone();
        async move {
            api.call(move |c| {
                let body = body.clone();
                async move { c.create_user(&body).await }
            })
            .await
        }
    });
    let update = Action::new_local(move |(id, body): &(Id, UpdateUser)| {
        let (id, body) = (*id, body.clone());
        async move {
            api.call(move |c| {
                let body = body.clone();
                async move { c.update_user(id, &body).await }
            })
            .await
        }
    });
    let users = LocalResource::new(move || {
        create.version().track();
        update.version().track();
        live.reload.track();
        changed.track();
        async move {
            let page = PageParams {
                limit: Some(PageParams::MAX_LIMIT),
                cursor: None,
            };
            api.call(move |c| {
                let page = page.clone();
                async move { c.list_users(&page).await }
            })
            .await
        }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(user)) => toasts.success(format!(
            "User “{}” created as {}.",
            user.username, user.role
        )),
        Some(Err(e)) => toasts.error(format!("Could not create the user: {e}")),
        None => {}
    });
    Effect::new(move |_| match update.value().get() {
        Some(Ok(user)) => toasts.success(format!(
            "{} is now {}{}.",
            user.username,
            user.role,
            if user.disabled { " (disabled)" } else { "" }
        )),
        Some(Err(e)) => toasts.error(format!("Could not update the user: {e}")),
        None => {}
    });

    view! {
        <div class="panel-stack">
            <CreateUserForm create />
            <div class="card">
                <div class="card-header"><h2>"Users"</h2></div>
                <Transition fallback=|| view! { <Loading label="Loading users…" /> }>
                    <ErrorBoundary fallback=move |errors| view! {
                        <ErrorState errors retry=Callback::new(move |_| users.refetch()) />
                    }>
                        {move || Suspend::new(async move {
                            users.await.map(|page| view! { <UserTable users=page.items me update confirming /> })
                        })}
                    </ErrorBoundary>
                </Transition>
            </div>
        </div>
    }
}

#[component]
fn CreateUserForm(create: Action<CreateUser, ApiResult<User>>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer.as_str().to_owned());
    let pending = create.pending();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            username.set(String::new());
            password.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateUser {
            username: username.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
            role: role.get_untracked().parse().unwrap_or(Role::Viewer),
        });
    };
    view! {
        <form class="card form-grid" on:submit=submit>
            <h2 class="form-title">"Add a user"</h2>
            <p class="muted form-help">"Give the least role that does the job: viewers read, operators triage alerts, deployers deploy and roll back, admins manage users and settings."</p>
            <label class="field">
                <span class="field-label">"Username"</span>
                <input type="text" required maxlength="64" autocomplete="off" pattern="[A-Za-z0-9._@\\-]+"
                    title="Letters, digits, dot, underscore, dash and @" data-testid="user-name" bind:value=username />
            </label>
            <label class="field">
                <span class="field-label">"Initial password"</span>
                <input type="password" required minlength="12" autocomplete="new-password"
                    placeholder="at least 12 characters" data-testid="user-password" bind:value=password />
            </label>
            <label class="field">
                <span class="field-label">"Role"</span>
                <select data-testid="user-role" bind:value=role>
                    {grantable_roles(Role::Admin).into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == Role::Viewer>{r.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <div class="form-actions">
                <button class="button button-primary" type="submit" data-testid="user-create" disabled=move || pending.get()>
                    <Icon name="plus" />
                    {move || if pending.get() { "Adding…" } else { "Add user" }}
                </button>
            </div>
        </form>
    }
}

#[component]
fn UserTable(
    users: Vec<User>,
    me: Option<Id>,
    update: Action<(Id, UpdateUser), ApiResult<User>>,
    confirming: RwSignal<Option<Id>>,
) -> impl IntoView {
    if users.is_empty() {
        return view! { <EmptyState icon="users" title="No users" /> }.into_any();
    }
    let rows = users
        .into_iter()
        .map(|u| {
            let id = u.id;
            let is_me = me == Some(id);
            let disabled = u.disabled;
            let current_role = u.role;
            let change_role = move |ev: leptos::ev::Event| {
                if let Ok(role) = event_target_value(&ev).parse::<Role>()
                    && role != current_role
                {
                    update.dispatch((id, UpdateUser { role: Some(role), ..Default::default() }));
                }
            };
            let set_disabled = move |value: bool| {
                update.dispatch((id, UpdateUser { disabled: Some(value), ..Default::default() }));
                confirming.set(None);
            };
            let self_note = "You cannot change your own role or disable yourself here.";
            view! {
                <tr data-testid="user-row" data-username=u.username.clone()>
                    <td data-label="User" class="cell-strong">
                        {u.username.clone()}
                        {is_me.then(|| view! { <span class="muted">" (you)"</span> })}
                    </td>
                    <td data-label="Role">
                        <select class="select-small" aria-label=format!("Role of {}", u.username)
                            disabled=is_me title=is_me.then_some(self_note) on:change=change_role data-testid="user-role-select">
                            {Role::ALL.into_iter().map(|r| view! {
                                <option value=r.as_str() selected=r == current_role>{r.as_str()}</option>
                            }).collect_view()}
                        </select>
                    </td>
                    <td data-label="Status">
                        {if disabled {
                            view! { <span class="badge badge-bad">"Disabled"</span> }.into_any()
                        } else {
                            view! { <span class="badge badge-good">"Active"</span> }.into_any()
                        }}
                    </td>
                    <td data-label="Created" class="cell-nowrap" title=local_time(&u.created_at)>{local_date(&u.created_at)}</td>
                    <td data-label="Last sign-in" class="cell-nowrap" title=u.last_login_at.as_ref().map(local_time)>
                        {u.last_login_at.as_ref().map(relative).unwrap_or_else(|| "never".into())}
                    </td>
                    <td class="cell-actions">
                        {(!is_me).then(|| if disabled {
                            view! {
                                <button class="button button-small" data-testid="user-enable" on:click=move |_| set_disabled(false)>
                                    "Enable"
                                </button>
                            }.into_any()
                        } else {
                            view! {
                                <Show when=move || confirming.get() == Some(id) fallback=move || view! {
                                    <button class="button button-small button-danger-ghost" data-testid="user-disable"
                                        on:click=move |_| confirming.set(Some(id))>"Disable"</button>
                                }>
                                    <span class="confirm">
                                        <span class="confirm-text">"Signs them out and stops their tokens."</span>
                                        <button class="button button-small button-danger" data-testid="user-disable-confirm"
                                            on:click=move |_| set_disabled(true)>"Disable"</button>
                                        <button class="button button-small button-ghost" on:click=move |_| confirming.set(None)>"Cancel"</button>
                                    </span>
                                </Show>
                            }.into_any()
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
                        <th scope="col">"User"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last sign-in"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
