//! Screens whose data arrives with later features. Each says plainly what will appear and how
//! to get there, rather than showing invented numbers.

use flightdeck_model::ServerInfo;
use leptos::prelude::*;

use crate::api::{AppError, use_api};
use crate::components::{layout::PageHeader, states::EmptyState};
use crate::routes::Page;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let api = use_api();
    let info =
        LocalResource::new(
            move || async move { api.anonymous().info().await.map_err(AppError::from) },
        );
    let server = move |i: ServerInfo| {
        view! {
            <dl class="facts">
                <div><dt>"Version"</dt><dd>{i.version}</dd></div>
                <div><dt>"Database"</dt><dd>{i.database}</dd></div>
                <div><dt>"Live fan-out"</dt><dd>{if i.redis { "Redis (multi-replica)" } else { "in-process (single replica)" }}</dd></div>
            </dl>
        }
    };
    view! {
        <section class="page">
            <PageHeader title="Overview" subtitle="What is running where, and is it healthy." />
            <div class="grid-2">
                <EmptyState icon="overview" title="Nothing deployed yet">
                    <p>"Once services and environments are registered, this page shows the version running in every environment, deployments in progress, and components that need attention — side by side, so a bad deploy and the alert it caused are seen together."</p>
                </EmptyState>
                <div class="card">
                    <h2>"Getting started"</h2>
                    <ol class="steps">
                        <li><a href=Page::Settings.path()>"Create an API token"</a>" for your CI pipeline to report deployments."</li>
                        <li><a href=Page::Users.path()>"Invite your team"</a>" with the least role they need (viewer, operator, deployer, admin)."</li>
                        <li><a href=Page::Audit.path()>"Watch the audit log"</a>": every change is recorded, live."</li>
                    </ol>
                    <h2>"This server"</h2>
                    {move || info.get().map(|r| match r {
                        Ok(i) => server(i).into_any(),
                        Err(e) => view! { <p class="muted">{e.message}</p> }.into_any(),
                    })}
                </div>
            </div>
        </section>
    }
}

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    view! {
        <section class="page">
            <PageHeader title="Deployments" subtitle="Deploy, watch, and roll back." />
            <EmptyState icon="deploy" title="No deployments recorded yet">
                <p>"Every deployment of a service to an environment will be listed here with its status (queued, in progress, succeeded, failed, cancelled, timed out), who started it and its live log."</p>
                <p>"A one-click rollback returns a service to its last successful version, with the reason recorded in the audit log."</p>
            </EmptyState>
        </section>
    }
}

#[component]
pub fn HealthPage() -> impl IntoView {
    view! {
        <section class="page">
            <PageHeader title="Health" subtitle="Components, SLOs and error budgets." />
            <EmptyState icon="health" title="No components are watched yet">
                <p>"The health grid will show each component's status — operational, degraded, partial outage, major outage, maintenance — with its SLO targets, current values, remaining error budget and burn rates."</p>
            </EmptyState>
        </section>
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    view! {
        <section class="page">
            <PageHeader title="Alerts" subtitle="Firing and recent alerts, with triage." />
            <EmptyState icon="alerts" title="No alerts received">
                <p>"Alerts from Alertmanager will appear here newest first, by severity, with acknowledge and escalate actions — and the deployments that happened just before them."</p>
            </EmptyState>
        </section>
    }
}
