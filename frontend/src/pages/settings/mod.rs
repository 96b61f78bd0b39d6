//! Settings: API tokens for everyone, the catalog (read by all, managed by admins), silences
//! (read by all, managed by operators), notifications (channels for admins, the delivery log for
//! operators), user management for admins.

mod catalog;
mod components;
mod fields;
mod notifications;
mod silences;
mod tokens;
mod users;

use flightdeck_model::Role;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::use_api;
use crate::components::{icons::Icon, layout::PageHeader, states::EmptyState};
use crate::routes::Page;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Tokens,
    Catalog,
    Users,
    Notifications,
    Silences,
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let api = use_api();
    let location = use_location();
    let is_admin = api.me().is_some_and(|m| m.role == Role::Admin);
    let is_operator = api.me().is_some_and(|m| m.role.allows(Role::Operator));
    let tab = move || {
        let path = location.pathname.get();
        if Page::Users.is_active(&path) {
            Tab::Users
        } else if Page::Notifications.is_active(&path) {
            Tab::Notifications
        } else if Page::Silences.is_active(&path) {
            Tab::Silences
        } else if Page::Catalog.is_active(&path) {
            Tab::Catalog
        } else {
            Tab::Tokens
        }
    };
    view! {
        <section class="page">
            <PageHeader title="Settings" />
            <div class="tabs" role="tablist">
                <a href=Page::Settings.path() class="tab" role="tab" class:active=move || tab() == Tab::Tokens
                    aria-selected=move || (tab() == Tab::Tokens).to_string() data-testid="tab-tokens">
                    <Icon name="key" />"API tokens"
                </a>
                <a href=Page::Catalog.path() class="tab" role="tab" class:active=move || tab() == Tab::Catalog
                    aria-selected=move || (tab() == Tab::Catalog).to_string() data-testid="tab-catalog">
                    <Icon name="overview" />"Catalog"
                </a>
                {is_operator.then(|| view! {
                    <a href=Page::Notifications.path() class="tab" role="tab" class:active=move || tab() == Tab::Notifications
                        aria-selected=move || (tab() == Tab::Notifications).to_string() data-testid="tab-notifications">
                        <Icon name="alerts" />"Notifications"
                    </a>
                })}
                <a href=Page::Silences.path() class="tab" role="tab" class:active=move || tab() == Tab::Silences
                    aria-selected=move || (tab() == Tab::Silences).to_string() data-testid="tab-silences">
                    <Icon name="stop" />"Silences"
                </a>
                {is_admin.then(|| view! {
                    <a href=Page::Users.path() class="tab" role="tab" class:active=move || tab() == Tab::Users
                        aria-selected=move || (tab() == Tab::Users).to_string() data-testid="tab-users">
                        <Icon name="users" />"Users"
                    </a>
                })}
            </div>
            {move || match (tab(), is_admin) {
                (Tab::Tokens, _) => view! { <tokens::TokensPanel /> }.into_any(),
                (Tab::Catalog, _) => view! { <catalog::CatalogPanel /> }.into_any(),
                (Tab::Notifications, _) => view! { <notifications::NotificationsPanel /> }.into_any(),
                (Tab::Silences, _) => view! { <silences::SilencesPanel /> }.into_any(),
                (Tab::Users, true) => view! { <users::UsersPanel /> }.into_any(),
                (Tab::Users, false) => view! {
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
