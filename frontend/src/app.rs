//! The root: session, toasts, the router, and the switch between the login page and the
//! signed-in shell (which owns the live feed).

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, StaticSegment};

use crate::api::{Api, Auth};
use crate::catalog::Catalog;
use crate::components::{
    layout::Header,
    states::Loading,
    toast::{ToastStack, Toasts},
};
use crate::live::Live;
use crate::open_alerts::OpenAlerts;
use crate::pages::{
    alert::AlertPage,
    alerts::AlertsPage,
    audit::AuditPage,
    deployments::{
        DeploymentDetailPage, DeploymentsPage,
        dialogs::{DialogHost, Dialogs},
    },
    health::{ComponentPage, HealthPage, SlosPage},
    login::LoginPage,
    not_found::NotFound,
    overview::OverviewPage,
    settings::SettingsPage,
};
use crate::routes::Page;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Restoring,
    SignedOut,
    SignedIn,
}

#[component]
pub fn App() -> impl IntoView {
    Toasts::provide();
    let api = Api::provide();
    // Only a change of phase swaps the tree, so the shell and its socket survive a refresh of
    // the user's details.
    let phase = Memo::new(move |_| match api.auth.get() {
        Auth::Restoring => Phase::Restoring,
        Auth::SignedOut => Phase::SignedOut,
        Auth::SignedIn(_) => Phase::SignedIn,
    });
    view! {
        <Router>
            {move || match phase.get() {
                Phase::Restoring => view! {
                    <div class="splash"><Loading label="Restoring your session…" /></div>
                }.into_any(),
                Phase::SignedOut => view! { <LoginPage /> }.into_any(),
                Phase::SignedIn => view! { <Shell /> }.into_any(),
            }}
            <ToastStack />
        </Router>
    }
}

#[component]
fn Shell() -> impl IntoView {
    let api = crate::api::use_api();
    let live = Live::provide(api);
    Catalog::provide(api, live);
    Dialogs::provide();
    let open_alerts = OpenAlerts::provide(api, live);
    let location = leptos_router::hooks::use_location();
    // The tab title names the page, so a row of Flightdeck tabs can be told apart, and leads
    // with the open alerts, so a tab in the background still says someone is needed.
    Effect::new(move |_| {
        let title = location
            .pathname
            .with(|p| Page::for_path(p))
            .map(Page::title);
        let title = match title {
            Some(t) => format!("{t} · Flightdeck"),
            None => "Flightdeck".into(),
        };
        document().set_title(&match open_alerts.total() {
            Some(n) => format!("({n}) {title}"),
            None => title,
        });
    });
    view! {
        <div class="shell">
            <Header />
            <main class="main" id="main" tabindex="-1">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=StaticSegment(Page::Overview.segment()) view=OverviewPage />
                    <Route path=StaticSegment(Page::Deployments.segment()) view=DeploymentsPage />
                    <Route
                        path=(StaticSegment(Page::Deployments.segment()), ParamSegment("id"))
                        view=DeploymentDetailPage
                    />
                    <Route path=StaticSegment(Page::Health.segment()) view=HealthPage />
                    <Route
                        path=(StaticSegment(Page::Health.segment()), ParamSegment("slug"))
                        view=ComponentPage
                    />
                    <Route path=StaticSegment(Page::Alerts.segment()) view=AlertsPage />
                    <Route
                        path=(StaticSegment(Page::Alerts.segment()), ParamSegment("id"))
                        view=AlertPage
                    />
                    <Route path=StaticSegment(Page::Slos.segment()) view=SlosPage />
                    <Route path=StaticSegment(Page::Audit.segment()) view=AuditPage />
                    <Route path=StaticSegment(Page::Settings.segment()) view=SettingsPage />
                    <Route
                        path=(StaticSegment(Page::Users.segment()), StaticSegment(Page::Users.subsegment()))
                        view=SettingsPage
                    />
                    <Route
                        path=(StaticSegment(Page::Catalog.segment()), StaticSegment(Page::Catalog.subsegment()))
                        view=SettingsPage
                    />
                    <Route
                        path=(StaticSegment(Page::Notifications.segment()), StaticSegment(Page::Notifications.subsegment()))
                        view=SettingsPage
                    />
                    <Route
                        path=(StaticSegment(Page::Silences.segment()), StaticSegment(Page::Silences.subsegment()))
                        view=SettingsPage
                    />
                </Routes>
            </main>
            <DialogHost />
        </div>
    }
}
