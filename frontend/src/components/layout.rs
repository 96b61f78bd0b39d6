//! The signed-in frame: header with navigation, connection state, theme, user and logout.
//! Below 800 px the navigation folds into a menu button.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_location;

use crate::api::use_api;
use crate::components::{
    icons::Icon, live_indicator::LiveIndicator, theme::ThemeToggle, toast::use_toasts,
};
use crate::open_alerts::OpenAlertsBadge;
use crate::routes::Page;

fn nav_icon(page: Page) -> &'static str {
    match page {
        Page::Overview => "overview",
        Page::Deployments => "deploy",
        Page::Health => "health",
        Page::Alerts => "alerts",
        Page::Slos => "flag",
        Page::Audit => "audit",
        Page::Settings | Page::Users | Page::Catalog | Page::Notifications | Page::Silences => {
            "settings"
        }
    }
}

#[component]
pub fn Header() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let location = use_location();
    let menu_open = RwSignal::new(false);
    // Following a link closes the mobile menu.
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    let me = api.me();
    let username = me
        .as_ref()
        .map(|m| m.user.username.clone())
        .unwrap_or_default();
    let role = me.as_ref().map(|m| m.role.as_str()).unwrap_or("");
    let logout = move |_| {
        spawn_local(async move {
            api.logout().await;
            toasts.success("Signed out.");
        });
    };

    view! {
        <header class="header">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <a class="brand" href="/" aria-label="Flightdeck overview">
                <span class="brand-mark" aria-hidden="true">
                    <Icon name="rocket" size=18 />
                </span>
                <span class="brand-name">"Flightdeck"</span>
            </a>
            <button
                class="icon-button menu-button"
                aria-label="Menu"
                aria-controls="primary-nav"
                aria-expanded=move || menu_open.get().to_string()
                data-testid="nav-menu"
                on:click=move |_| menu_open.update(|o| *o = !*o)
            >
                {move || if menu_open.get() { view! { <Icon name="x" /> } } else { view! { <Icon name="menu" /> } }}
                <OpenAlertsBadge testid="menu-alerts-open" />
            </button>
            <nav id="primary-nav" class="nav" class:nav-open=move || menu_open.get() aria-label="Primary">
                {Page::NAV
                    .into_iter()
                    .map(|page| {
                        let current = move || page.is_active(&location.pathname.get());
                        view! {
                            <a
                                href=page.path()
                                class="nav-link"
                                class:active=current
                                aria-current=move || current().then_some("page")
                                data-testid=format!("nav-{}", page.id())
                            >
                                <Icon name=nav_icon(page) />
                                <span>{page.title()}</span>
                                {(page == Page::Alerts).then(|| view! { <OpenAlertsBadge /> })}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            <div class="header-tools">
                <LiveIndicator />
                <ThemeToggle />
                <span class="user-chip" data-testid="current-user" title=format!("Signed in as {username} ({role})")>
                    <span class="user-name">{username.clone()}</span>
                    <span class=format!("role-badge role-{role}") data-testid="current-role">{role}</span>
                </span>
                <button class="button button-ghost" data-testid="logout" aria-label="Log out" title="Log out" on:click=logout>
                    <Icon name="logout" />
                    <span class="logout-label">"Log out"</span>
                </button>
            </div>
        </header>
    }
}

/// Title row of a page with optional actions on the right.
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(optional, into)] subtitle: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                {subtitle.map(|s| view! { <p class="subtitle">{s}</p> })}
            </div>
            {children.map(|c| view! { <div class="page-actions">{c()}</div> })}
        </div>
    }
}
