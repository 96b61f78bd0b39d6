//! The Infrastructure Health Dashboard's wire types: components, their status, alerts and triage.
//!
//! The enums mirror `flightdeck_domain::health` (same snake_case names, which are contract in
//! DESIGN.md "Domain"); this crate cannot depend on the domain, so the server converts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Deployment;

/// Names as on the wire, for storage and query strings.
macro_rules! wire_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    other => Err(format!("unknown {} `{other}`", stringify!($ty))),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A component's status (contract): the worst of its live alerts, unless in maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    Degraded,
    PartialOutage,
    MajorOutage,
    Maintenance,
    Unknown,
}

wire_names!(ComponentStatus {
    Operational => "operational",
    Degraded => "degraded",
    PartialOutage => "partial_outage",
    MajorOutage => "major_outage",
    Maintenance => "maintenance",
    Unknown => "unknown",
});

/// From the alert's `severity` label (`critical`/`page`, `warning`, `info`; missing: warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    Critical,
    Warning,
    Info,
}

wire_names!(AlertSeverity {
    Critical => "critical",
    Warning => "warning",
    Info => "info",
});

/// What the source says: `firing` or `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertSourceStatus {
    Firing,
    Resolved,
}

wire_names!(AlertSourceStatus {
    Firing => "firing",
    Resolved => "resolved",
});

/// Where people are with the alert (contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TriageState {
    Open,
    Acknowledged,
    Escalated,
    Resolved,
}

wire_names!(TriageState {
    Open => "open",
    Acknowledged => "acknowledged",
    Escalated => "escalated",
    Resolved => "resolved",
});

/// A one-off maintenance window, `starts_at` inclusive to `ends_at` exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentMaintenance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// One named PromQL query of a component's metrics drill-down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricQuery {
    /// Unique within the component, e.g. `queue_depth`: 1 to 64 characters, no control characters.
    pub name: String,
    /// PromQL run as a range query, at most 2000 characters.
    pub query: String,
    /// How to read the values, e.g. `seconds`, `req/s`, `%` (at most 32 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// Something whose health is watched, e.g. `checkout-db`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Component {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// Grid grouping, e.g. `payments`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The linked service's slug: its deployments show on the component's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// e.g. `1` (most critical) to `3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<i32>,
    /// Slugs of the components it depends on.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Label matchers routing alerts here (`service="checkout-api"`); none: `component="<slug>"`.
    #[serde(default)]
    pub matchers: Vec<String>,
    /// The metrics drill-down's queries; empty: request rate, error ratio and p99 latency
    /// over the `job` label (the linked service's slug, else the component's).
    #[serde(default)]
    pub metric_queries: Vec<MetricQuery>,
    /// The logs drill-down's query (Lucene on OpenSearch/Elasticsearch, LogQL on Loki);
    /// absent: `service:"<job>"` or `{job="<job>"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_query: Option<String>,
    pub status: ComponentStatus,
    /// Why, worst first.
    #[serde(default)]
    pub status_reasons: Vec<String>,
    #[serde(default)]
    pub maintenance: Vec<ComponentMaintenance>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateComponent {
    pub slug: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<i32>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub matchers: Vec<String>,
    /// At most 10, names unique; none: the three defaults.
    #[serde(default)]
    pub metric_queries: Vec<MetricQuery>,
    /// At most 2000 characters; absent or empty: the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_query: Option<String>,
    #[serde(default)]
    pub maintenance: Vec<ComponentMaintenance>,
}

/// Only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateComponent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Absent leaves it; `null` removes it.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, nullable))]
    pub group: Option<Option<String>>,
    /// The linked service's slug. Absent leaves it; `null` unlinks.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, nullable))]
    pub service: Option<Option<String>>,
    /// Absent leaves it; `null` removes it.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>, nullable))]
    pub tier: Option<Option<i32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matchers: Option<Vec<String>>,
    /// `[]` goes back to the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_queries: Option<Vec<MetricQuery>>,
    /// `""` goes back to the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<Vec<ComponentMaintenance>>,
}

/// For a patch field that can be removed: absent is `None` (leave it), `null` is `Some(None)`
/// (remove it), a value is `Some(Some(value))`.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A component's page: the component, its live alerts and its linked service's recent deployments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentDetail {
    pub component: Component,
    /// Live alerts routed here (firing and not resolved by hand), newest first.
    pub alerts: Vec<Alert>,
    /// Its SLOs with their latest evaluation, by name.
    #[serde(default)]
    pub slos: Vec<Slo>,
    /// The linked service's deployments, newest first.
    pub deployments: Vec<Deployment>,
}

/// Live alerts (firing, not resolved by hand) by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertCounts {
    pub critical: u32,
    pub warning: u32,
    pub info: u32,
}

impl AlertCounts {
    pub fn total(&self) -> u32 {
        self.critical + self.warning + self.info
    }
}

/// `GET /api/v1/alerts/summary`: every live alert (firing, not resolved by hand), routed or not,
/// by triage state and severity. What a pager badge shows: `open` is what nobody has taken yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertSummary {
    /// Nobody has acknowledged them.
    pub open: AlertCounts,
    pub acknowledged: AlertCounts,
    pub escalated: AlertCounts,
}

/// A component's SLOs at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentSloSummary {
    /// How many SLOs it has.
    pub count: u32,
    /// The least error budget left among its evaluated SLOs (a fraction; negative when
    /// overspent); absent when none has been evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_budget_remaining: Option<f64>,
    /// Any SLO burning fast (1 h and 5 m above 14.4×).
    pub fast_burn: bool,
    /// Any SLO burning slowly (6 h and 30 m above 6×).
    pub slow_burn: bool,
}

/// One tile of the health grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentSummary {
    pub slug: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<i32>,
    pub status: ComponentStatus,
    #[serde(default)]
    pub status_reasons: Vec<String>,
    /// Its live alerts by severity.
    #[serde(default)]
    pub alert_counts: AlertCounts,
    #[serde(default)]
    pub slos: ComponentSloSummary,
    /// Slugs of the dependencies (direct or further down) that are degraded, in an outage or in
    /// maintenance, worst first. Its own status is unchanged by them.
    #[serde(default)]
    pub impacted_by: Vec<String>,
}

/// `GET /api/v1/health`: every component with its status, and how many are in each status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthGrid {
    pub components: Vec<ComponentSummary>,
    /// Every status name, with 0 for those no component is in.
    pub counts: BTreeMap<String, u32>,
}

/// The data of a `component.status_changed` live event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentStatusChanged {
    pub component: String,
    pub from: ComponentStatus,
    pub to: ComponentStatus,
    pub reasons: Vec<String>,
}

/// One episode of an alert: a fingerprint's firing from `starts_at` until resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: Uuid,
    /// `alertmanager`.
    pub source: String,
    pub fingerprint: String,
    /// The `alertname` label.
    pub name: String,
    pub severity: AlertSeverity,
    pub source_status: AlertSourceStatus,
    pub state: TriageState,
    /// 0 until escalated; each escalation adds one.
    pub escalation_level: u32,
    /// The component it was routed to by label matchers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Where the source says it came from: Alertmanager's `generatorURL` (the Prometheus graph of
    /// the rule's expression), as the first notification of the episode gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_url: Option<String>,
    pub starts_at: DateTime<Utc>,
    /// When the source resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The note of the latest triage step that had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_note: Option<String>,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One step in an alert's life: fired, acknowledged, escalated, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertEvent {
    pub id: Uuid,
    pub alert_id: Uuid,
    pub at: DateTime<Utc>,
    /// A username, or the source (`alertmanager`).
    pub actor: String,
    /// `fire`, `acknowledge`, `escalate`, `resolve`.
    pub action: String,
    pub from_state: Option<TriageState>,
    pub to_state: TriageState,
    pub escalation_level: u32,
    /// Whom it was escalated to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An alert with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertDetail {
    pub alert: Alert,
    /// Oldest first.
    pub events: Vec<AlertEvent>,
}

/// `GET /api/v1/alerts/{id}/deployments`: what changed just before an alert started — the
/// deployments of its component's linked service created in the window before its start, in any
/// environment, newest first. `component` and `service` say why the list may be empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertDeployments {
    /// The component the alert is routed to, if any.
    pub component: Option<String>,
    /// That component's linked service, if it has one.
    pub service: Option<String>,
    /// How far before the alert's start a deployment may have been created.
    pub window_minutes: u32,
    pub deployments: Vec<Deployment>,
}

/// `GET /api/v1/deployments/{id}/alerts`: what a deployment may have set off — alerts on the
/// components linked to its service that started within the window after it was created, oldest
/// first. `components` says where they were looked for (none: no component is linked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentAlerts {
    /// The components whose linked service is the deployment's, by slug.
    pub components: Vec<String>,
    /// How long after the deployment was created an alert may have started.
    pub window_minutes: u32,
    /// The next deployment to the same service and environment inside that window: what
    /// follows it is that one's, so the window ends where it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Deployment>,
    pub alerts: Vec<Alert>,
}

/// Acknowledge, escalate or resolve.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriageRequest {
    /// At most 2000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Escalate only: a person, rota or channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Filters for `GET /api/v1/alerts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AlertQuery {
    /// `open`, `acknowledged`, `escalated` or `resolved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `critical`, `warning` or `info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// A component slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// Text in the alert's name or its labels (keys and values), case-insensitive; `%` and `_`
    /// are plain characters. At most 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The answer to an alert notification: stored durably, applied moments later in the order
/// notifications arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertsAccepted {
    /// The stored notification: `GET /api/v1/webhooks/deliveries/{delivery}` tells when it was
    /// applied and how many episodes it opened or changed.
    pub delivery: Uuid,
    /// Alerts in the payload.
    pub received: u32,
    /// Alerts Alertmanager left out of the payload (`truncatedAlerts`, over its `max_alerts`).
    pub truncated_alerts: u32,
}

/// `GET /api/v1/components/{slug}/metrics?range=`: a query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
pub struct MetricsQuery {
    /// How far back, as a Prometheus duration (`15m`, `1h`, `6h`, `1d`, `7d`); default `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
}

/// One point of a metric series: a time and a value (`null` for NaN or ±Inf).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricPoint {
    pub at: DateTime<Utc>,
    pub value: Option<f64>,
}

/// One time series of a query: its labels and points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricSeries {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<MetricPoint>,
}

/// One of a component's metric queries and what Prometheus answered for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentMetric {
    /// The query's name: `request_rate`, `error_ratio` and `p99_latency_seconds` by default.
    pub name: String,
    /// The PromQL that was run.
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub series: Vec<MetricSeries>,
    /// Prometheus' warnings, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A component's metrics drill-down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentMetrics {
    pub component: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The step used, in seconds (clamped so that no series has more than 11,000 points).
    pub step_secs: u64,
    pub metrics: Vec<ComponentMetric>,
}

/// `GET /api/v1/components/{slug}/logs`: query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
pub struct LogsQuery {
    /// RFC 3339; default one hour before `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339; default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// 1 to 1000; default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentLogLine {
    pub at: DateTime<Utc>,
    /// `trace`, `debug`, `info`, `warn`, `error` or `fatal`; absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    pub message: String,
    /// The document's other fields (OpenSearch/Elasticsearch) or the stream's labels (Loki).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// A page of a component's log lines, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentLogs {
    pub component: String,
    /// The query sent to the log store.
    pub query: String,
    pub lines: Vec<ComponentLogLine>,
    /// Pass back as `cursor` for the next (older) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The store answered with only part of the data (failed shards, a timed-out search).
    pub partial: bool,
}

/// How an SLO's indicator is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SloSli {
    /// `good / total`; both PromQL with `$window` standing for the range, e.g.
    /// `sum(rate(http_requests_total{code!~"5.."}[$window]))`.
    Ratio { good: String, total: String },
    /// The fraction of time an instant value (e.g. p99 latency) meets a threshold.
    Threshold {
        query: String,
        /// `le`, `lt`, `ge` or `gt`.
        comparison: String,
        threshold: f64,
    },
}

/// The burn rate over one window (`5m`, `30m`, `1h`, `6h`, `3d`); absent when there is no data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SloBurnRate {
    pub window: String,
    pub burn_rate: Option<f64>,
}

/// A service level objective on a component, with its latest evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slo {
    pub id: Uuid,
    /// The component's slug.
    pub component: String,
    pub name: String,
    /// E.g. `0.999`.
    pub objective: f64,
    /// The rolling window in seconds (30 days = 2592000).
    pub window_secs: u64,
    pub sli: SloSli,
    /// The SLI over the window; absent before the first evaluation or without traffic.
    #[serde(default)]
    pub current: Option<f64>,
    /// The fraction of the error budget left (negative when overspent).
    #[serde(default)]
    pub budget_remaining: Option<f64>,
    #[serde(default)]
    pub burn_rates: Vec<SloBurnRate>,
    /// 1 h and 5 m both above 14.4×: page.
    #[serde(default)]
    pub fast_burn: bool,
    /// 6 h and 30 m both above 6×: page.
    #[serde(default)]
    pub slow_burn: bool,
    /// 3 d and 6 h both above 1×: ticket.
    #[serde(default)]
    pub ticket: bool,
    /// When it was last evaluated successfully.
    #[serde(default)]
    pub evaluated_at: Option<DateTime<Utc>>,
    /// The last evaluation's error (Prometheus unreachable, a bad query); cleared on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/components/{slug}/slos`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSlo {
    pub name: String,
    pub objective: f64,
    pub window_secs: u64,
    pub sli: SloSli,
}

/// `slo.updated`: an SLO after an evaluation.
pub type SloUpdated = Slo;

/// `GET /api/v1/slos/{id}/history`: query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
pub struct SloHistoryQuery {
    /// RFC 3339: only evaluations at or after this time; default: all kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// At most this many points, 1 to 2000 (default 2000); more are thinned out evenly,
    /// always keeping the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One evaluation of an SLO, for trend charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SloHistoryPoint {
    pub at: DateTime<Utc>,
    /// The SLI over the window; absent without traffic or when the evaluation failed.
    #[serde(default)]
    pub current: Option<f64>,
    /// The fraction of the error budget left (negative when overspent).
    #[serde(default)]
    pub budget_remaining: Option<f64>,
    #[serde(default)]
    pub burn_rates: Vec<SloBurnRate>,
    /// Why the evaluation failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
