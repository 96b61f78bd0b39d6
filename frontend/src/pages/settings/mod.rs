//! Settings: API tokens for everyone, user management for admins.

mod tokens;
mod users;

use flightdeck_model::Role;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::use_api;
use crate::components::{icons::Icon, layout::PageHeader, states::EmptyState};
use crate::routes::Page;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let api = use_api();
    let location = use_location();
    let is_admin = api.me().is_some_and(|m| m.role == Role::Admin);
    let on_users = move || Page::Users.is_active(&location.pathname.get());
    view! {
        <section class="page">
            <PageHeader title="Settings" />
            <div class="tabs" role="tablist">
                <a href=Page::Settings.path() class="tab" role="tab" class:active=move || !on_users()
                    aria-selected=move || (!on_users()).to_string() data-testid="tab-tokens">
                    <Icon name="key" />"API tokens"
                </a>
                {is_admin.then(|| view! {
                    <a href=Page::Users.path() class="tab" role="tab" class:active=on_users
                        aria-selected=move || on_users().to_string() data-testid="tab-users">
                        <Icon name="users" />"Users"
                    </a>
                })}
            </div>
            {move || match (on_users(), is_admin) {
                (false, _) => view! { <tokens::TokensPanel /> }.into_any(),
                (true, true) => view! { <users::UsersPanel /> }.into_any(),
                (true, false) => view! {
                    <EmptyState icon="users" title="Admins only">
                        <p>"Only administrators manage users. Ask one to change your role if you need access."</p>
                    </EmptyState>
                }.into_any(),
            }}
        </section>
    }
}

/// Roles a user may hand out: their own and below.
pub fn grantable_roles(own: Role) -> Vec<Role> {
    Role::ALL.into_iter().filter(|r| own.allows(*r)).collect()
}
