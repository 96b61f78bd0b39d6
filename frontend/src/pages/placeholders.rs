//! Screens whose data arrives with later features. Each says plainly what will appear and how
//! to get there, rather than showing invented numbers.

use leptos::prelude::*;

use crate::components::{layout::PageHeader, states::EmptyState};

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
