//! The live alerts nobody has acknowledged yet, as a pager shows them: a count on the Alerts
//! link (red when one is critical) and in the tab title, so a background tab says it too. Loaded
//! from `GET /api/v1/alerts/summary` and again as `alert.updated` events arrive.

use std::time::Duration;

use flightdeck_model::{AlertCounts, AlertSummary};
use leptos::prelude::*;

use crate::api::Api;
use crate::live::Live;
use crate::pages::health::status::ALERT_UPDATED;

/// An alert storm sends thousands of events a second; the count is asked for at most this often.
const RECOUNT_AFTER: Duration = Duration::from_millis(750);

#[derive(Clone, Copy)]
pub struct OpenAlerts(pub RwSignal<Option<AlertCounts>>);

pub fn use_open_alerts() -> OpenAlerts {
    expect_context::<OpenAlerts>()
}

impl OpenAlerts {
    /// Starts counting for the signed-in shell.
    pub fn provide(api: Api, live: Live) -> OpenAlerts {
        let open = OpenAlerts(RwSignal::new(None));
        let counts = open.0;
        let (_, recount) = live.keep_loaded(
            move || async move { api.call(|c| async move { c.alert_summary().await }).await },
            move |summary: AlertSummary| {
                counts.try_set(Some(summary.open));
            },
        );
        let queued = StoredValue::new(false);
        live.subscribe(move |event| {
            if event.kind != ALERT_UPDATED || queued.get_value() {
                return;
            }
            queued.set_value(true);
            set_timeout(
                move || {
                    if queued.try_update_value(|q| *q = false).is_some() {
                        recount();
                    }
                },
                RECOUNT_AFTER,
            );
        });
        provide_context(open);
        open
    }

    /// How many, when known and not none.
    pub fn total(self) -> Option<u32> {
        self.0.with(|c| c.map(|c| c.total())).filter(|n| *n > 0)
    }
}

/// The count on the Alerts link (and on the menu button, where the links fold away on a phone).
#[component]
pub fn OpenAlertsBadge(#[prop(default = "nav-alerts-open")] testid: &'static str) -> impl IntoView {
    let open = use_open_alerts();
    move || {
        let counts = open.0.get()?;
        let total = open.total()?;
        let critical = counts.critical > 0;
        let title = if critical {
            format!(
                "{total} open alerts nobody has acknowledged, {} critical",
                counts.critical
            )
        } else {
            format!("{total} open alerts nobody has acknowledged")
        };
        Some(view! {
            <span class="nav-count" class:nav-count-critical=critical data-testid=testid
                data-critical=counts.critical.to_string() title=title.clone() aria-label=title>
                {total.to_string()}
            </span>
        })
    }
}
