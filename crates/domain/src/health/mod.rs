//! The Infrastructure Health Dashboard's rules, free of I/O.
//!
//! - [`slo`]: SLI values, error budgets and time to exhaustion, and reading Prometheus samples
//!   (`"NaN"`, `"+Inf"`) without letting a NaN slip into the arithmetic.
//! - [`burn`]: multi-window burn rates (SRE workbook pairs) and the PromQL for them.
//! - [`rollup`]: a component's status from its alerts, SLO burns, probes, data freshness and
//!   maintenance, with the reasons; and which components a broken dependency impacts.
//! - [`alerts`]: the triage state machine, Alertmanager episodes and duplicates, auto-escalation and
//!   whether to notify.
//! - [`matchers`]: Prometheus-style label matchers and routing an alert to a component.
//!
//! Every input and output type derives `Serialize`/`Deserialize` with snake_case names, so the wire
//! types can be written from these. Time is always a parameter.

pub mod alerts;
pub mod burn;
pub mod matchers;
pub mod rollup;
pub mod slo;

/// Formats a time as people read it in reasons and messages: `2026-11-25 10:00 UTC`.
pub(crate) fn human_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
