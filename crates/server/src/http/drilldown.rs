//! Drill-down from a component into Prometheus metrics and the log store.
//!
//! Metrics: the component's own `metric_queries` when it has any; otherwise three default
//! queries over the component's `job` label — the linked service's slug
//! when it has one, else the component's own slug — following the usual HTTP instrumentation
//! names (`http_requests_total` with a `code` label, `http_request_duration_seconds` histogram):
//! request rate, 5xx error ratio and p99 latency. Logs: the component's `log_query` when set;
//! otherwise the same name as a query — a Lucene `service:"<name>"` on OpenSearch/Elasticsearch,
//! `{job="<name>"}` on Loki.
//!
//! Without `PROMETHEUS_URL` (or `LOGS_URL` + `LOGS_KIND`) the routes answer 503
//! `not-configured`; an error from the upstream is 502 `upstream` with its message.

use std::time::Duration as StdDuration;

use actix_web::{get, web};
use chrono::{Duration, Utc};
use flightdeck_domain::health::burn::clamp_step;
use flightdeck_integrations::{
    Auth as UpstreamAuth,
    logs::{LogError, LogSource, loki::Loki, opensearch::OpenSearch},
    prometheus::{PromError, Prometheus},
};
use flightdeck_model::{
    Component, ComponentLogLine, ComponentLogs, ComponentMetric, ComponentMetrics, LogsQuery,
    MetricPoint, MetricSeries, MetricsQuery,
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    error::{ApiError, ApiResult},
    extract::Auth,
};
use crate::{settings::Settings, state::AppState};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(component_metrics).service(component_logs);
}

/// How long an upstream call may take.
const UPSTREAM_TIMEOUT: StdDuration = StdDuration::from_secs(10);
/// The longest drill-down range: 30 days.
const MAX_RANGE_SECS: u64 = 30 * 86_400;
/// About this many points per series.
const TARGET_POINTS: u64 = 240;
const DEFAULT_LOG_LIMIT: u32 = 100;
const MAX_LOG_LIMIT: u32 = 1000;

/// The `job` label (and log stream name) a component's default queries select.
pub fn job_label(component: &Component) -> &str {
    component.service.as_deref().unwrap_or(&component.slug)
}

fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The default metric queries: `(name, PromQL)`.
pub fn default_metric_queries(job: &str) -> Vec<(&'static str, String)> {
    let sel = format!("job=\"{}\"", escape_label(job));
    vec![
        (
            "request_rate",
            format!("sum(rate(http_requests_total{{{sel}}}[1m]))"),
        ),
        (
            "error_ratio",
            format!(
                "sum(rate(http_requests_total{{{sel},code=~\"5..\"}}[1m])) / sum(rate(http_requests_total{{{sel}}}[1m]))"
            ),
        ),
        (
            "p99_latency_seconds",
            format!(
                "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[1m])))"
            ),
        ),
    ]
}

/// What a component's metrics drill-down runs: `(name, PromQL, unit)`, its own queries or the
/// defaults.
pub fn metric_queries(component: &Component) -> Vec<(String, String, Option<String>)> {
    if component.metric_queries.is_empty() {
        let units = ["req/s", "ratio", "seconds"];
        default_metric_queries(job_label(component))
            .into_iter()
            .zip(units)
            .map(|((name, q), unit)| (name.to_owned(), q, Some(unit.to_owned())))
            .collect()
    } else {
        component
            .metric_queries
            .iter()
            .map(|q| (q.name.clone(), q.query.clone(), q.unit.clone()))
            .collect()
    }
}

/// What a component's logs drill-down sends: its own query, or the default for the store.
pub fn log_query(component: &Component, kind: &str) -> String {
    match &component.log_query {
        Some(q) if !q.trim().is_empty() => q.clone(),
        _ => default_log_query(kind, job_label(component)),
    }
}

/// The default log query for the configured store.
pub fn default_log_query(kind: &str, job: &str) -> String {
    if kind == "loki" {
        format!("{{job=\"{}\"}}", escape_label(job))
    } else {
        format!("service:\"{}\"", escape_label(job))
    }
}

/// Parses a Prometheus-style duration: a whole number and one of `s`, `m`, `h`, `d`, `w`.
pub fn parse_range(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = raw.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(mult).filter(|&s| s > 0)
}

fn prometheus(settings: &Settings) -> ApiResult<Prometheus> {
    let url = settings.prometheus_url.as_deref().ok_or_else(|| {
        ApiError::NotConfigured("Prometheus is not configured (set PROMETHEUS_URL)".into())
    })?;
    Prometheus::new(url, UPSTREAM_TIMEOUT, UpstreamAuth::None).map_err(prom_error)
}

/// The log store from `LOGS_URL`, `LOGS_KIND` (`LOGS_INDEX` for OpenSearch/Elasticsearch) and
/// its credentials; with its kind.
fn log_source(settings: &Settings) -> ApiResult<(LogSource, String)> {
    let not_configured = || {
        ApiError::NotConfigured(
            "the log store is not configured (set LOGS_URL and LOGS_KIND)".into(),
        )
    };
    let url = settings.logs_url.as_deref().ok_or_else(not_configured)?;
    let kind = settings.logs_kind.as_deref().ok_or_else(not_configured)?;
    let auth = match (&settings.logs_api_key, &settings.logs_username) {
        (Some(key), _) => UpstreamAuth::ApiKey(key.expose().to_owned()),
        (None, Some(user)) => UpstreamAuth::Basic {
            username: user.clone(),
            password: settings
                .logs_password
                .as_ref()
                .map(|p| p.expose().to_owned())
                .unwrap_or_default(),
        },
        (None, None) => UpstreamAuth::None,
    };
    let source = match kind {
        "loki" => LogSource::Loki(Loki::new(url, UPSTREAM_TIMEOUT, auth).map_err(log_error)?),
        _ => {
            let index = settings.logs_index.as_deref().ok_or_else(|| {
                ApiError::NotConfigured(
                    "the log store is not configured (set LOGS_INDEX for OpenSearch/Elasticsearch)"
                        .into(),
                )
            })?;
            LogSource::Search(
                OpenSearch::new(url, index, UPSTREAM_TIMEOUT, auth).map_err(log_error)?,
            )
        }
    };
    Ok((source, kind.to_owned()))
}

fn prom_error(err: PromError) -> ApiError {
    ApiError::Upstream(err.to_string())
}

fn log_error(err: LogError) -> ApiError {
    match err {
        LogError::BadCursor => {
            ApiError::validation("cursor", "not a cursor this log source issued")
        }
        other => ApiError::Upstream(other.to_string()),
    }
}

async fn component(state: &AppState, slug: &str) -> ApiResult<Component> {
    state
        .store
        .conn()
        .await?
        .component_by_slug(slug)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no component `{slug}`")))
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// A component's metric queries (by default request rate, error ratio and p99 latency) over
/// `range` (default `1h`, at most `30d`), about 240 points per series, from Prometheus.
#[utoipa::path(tag = "health", params(("slug" = String, Path), MetricsQuery), security(("bearer" = [])),
    responses((status = 200, description = "Series per query", body = ComponentMetrics),
              (status = 404, description = "No such component"),
              (status = 422, description = "Invalid range"),
              (status = 502, description = "Prometheus answered with an error (its message in `detail`)"),
              (status = 503, description = "Prometheus is not configured (`not-configured`)")))]
#[get("/components/{slug}/metrics")]
async fn component_metrics(
    _auth: Auth,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<MetricsQuery>,
) -> ApiResult<web::Json<ComponentMetrics>> {
    let range_secs = match query.range.as_deref() {
        None => 3600,
        Some(raw) => parse_range(raw)
            .filter(|&s| s <= MAX_RANGE_SECS)
            .ok_or_else(|| {
                ApiError::validation(
                    "range",
                    "expected a duration such as 15m, 1h or 7d, at most 30d",
                )
            })?,
    };
    let component = component(&state, &slug).await?;
    let prometheus = prometheus(&state.settings)?;
    let end = Utc::now();
    let start = end - Duration::seconds(i64::try_from(range_secs).unwrap_or(i64::MAX));
    let step_secs = clamp_step(range_secs, (range_secs / TARGET_POINTS).max(1));
    let mut metrics = Vec::new();
    for (name, promql, unit) in metric_queries(&component) {
        let data = prometheus
            .range(&promql, start, end, step_secs)
            .await
            .map_err(prom_error)?;
        metrics.push(ComponentMetric {
            name,
            query: promql,
            unit,
            series: data
                .series
                .into_iter()
                .map(|s| MetricSeries {
                    labels: s.metric,
                    points: s
                        .points
                        .into_iter()
                        .map(|p| MetricPoint {
                            at: p.at,
                            value: finite(p.value),
                        })
                        .collect(),
                })
                .collect(),
            warnings: data.warnings,
        });
    }
    Ok(web::Json(ComponentMetrics {
        component: component.slug,
        start,
        end,
        step_secs,
        metrics,
    }))
}

/// A component's recent log lines, newest first, from the configured log store
/// (OpenSearch/Elasticsearch `_search` or Loki `query_range`), paged by `cursor`.
#[utoipa::path(tag = "health", params(("slug" = String, Path), LogsQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of log lines", body = ComponentLogs),
              (status = 404, description = "No such component"),
              (status = 422, description = "Invalid parameters"),
              (status = 502, description = "The log store answered with an error (its message in `detail`)"),
              (status = 503, description = "The log store is not configured (`not-configured`)")))]
#[get("/components/{slug}/logs")]
async fn component_logs(
    _auth: Auth,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<LogsQuery>,
) -> ApiResult<web::Json<ComponentLogs>> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_LOG_LIMIT);
    if !(1..=MAX_LOG_LIMIT).contains(&limit) {
        return Err(ApiError::validation("limit", "must be between 1 and 1000"));
    }
    let until = query.until.unwrap_or_else(Utc::now);
    let since = query.since.unwrap_or(until - Duration::hours(1));
    if since >= until {
        return Err(ApiError::validation("since", "must be before until"));
    }
    let component = component(&state, &slug).await?;
    let (source, kind) = log_source(&state.settings)?;
    let log_query = log_query(&component, &kind);
    let page = source
        .search(
            &log_query,
            since,
            until,
            usize::try_from(limit).unwrap_or(usize::MAX),
            query.cursor.as_deref(),
        )
        .await
        .map_err(log_error)?;
    Ok(web::Json(ComponentLogs {
        component: component.slug,
        query: log_query,
        lines: page
            .lines
            .into_iter()
            .map(|l| ComponentLogLine {
                at: l.at,
                level: l.level.and_then(|lv| {
                    serde_json::to_value(lv)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                }),
                message: l.message,
                fields: l.fields,
            })
            .collect(),
        next_cursor: page.next_cursor,
        partial: page.partial,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("1h"), Some(3600));
        assert_eq!(parse_range("15m"), Some(900));
        assert_eq!(parse_range("7d"), Some(604_800));
        assert_eq!(parse_range("0h"), None);
        assert_eq!(parse_range("h"), None);
        assert_eq!(parse_range("1y"), None);
        assert_eq!(parse_range("10"), None);
    }

    #[test]
    fn default_queries_select_the_job() {
        let q = default_metric_queries("checkout-api");
        assert_eq!(q.len(), 3);
        assert!(
            q.iter()
                .all(|(_, promql)| promql.contains("job=\"checkout-api\""))
        );
        assert_eq!(default_log_query("loki", "a"), "{job=\"a\"}");
        assert_eq!(default_log_query("opensearch", "a"), "service:\"a\"");
    }
}
