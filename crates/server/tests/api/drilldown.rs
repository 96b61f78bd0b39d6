//! Drill-down: a component's metrics from a real Prometheus, its logs from an OpenSearch stub
//! answering a recorded `_search` body, 503 when an integration is not configured, 502 with the
//! upstream's message when it fails.

use std::time::Duration;

use flightdeck_model::{ComponentLogs, ComponentMetrics, problem_type};
use reqwest::Method;
use serde_json::{Value, json};

use crate::components::{create_component, get_json};
use crate::helpers::*;
use crate::real_prometheus::RealPrometheus;
use crate::upstream::{Reply, TestServer, eventually};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let resp = app
        .admin
        .request(Method::GET, path)
        .unwrap()
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if status >= 400 {
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{path}"
        );
    }
    (status, body)
}

async fn component(app: &TestApp, slug: &str) {
    let resp = create_component(app, json!({"slug": slug, "name": slug})).await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn without_integrations_the_drill_down_is_503_not_configured() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        component(&app, "checkout-db").await;
        for path in [
            "/api/v1/components/checkout-db/metrics?range=1h",
            "/api/v1/components/checkout-db/logs",
        ] {
            let (status, body) = get(&app, path).await;
            assert_eq!(status, 503, "{path}: {body}");
            assert_eq!(body["type"], problem_type::NOT_CONFIGURED, "{path}");
        }
        let (status, _) = get(&app, "/api/v1/components/nope/metrics").await;
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn logs_come_from_opensearch_with_basic_auth_and_errors_are_502() {
    let page = fixture("opensearch_search_page1.json");
    let search = TestServer::start(move |r| {
        if r.header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
        {
            Reply::json(200, page.clone())
        } else {
            Reply::json(401, fixture("elasticsearch_error_401.json"))
        }
    })
    .await;
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.logs_url = Some(search.url.clone());
        s.logs_kind = Some("opensearch".into());
        s.logs_index = Some("logs-*".into());
        s.logs_username = Some("reader".into());
        s.logs_password = Some(flightdeck_server::settings::Secret::new("s3cret"));
    })
    .await;
    component(&app, "checkout-api").await;
    let logs: ComponentLogs = get_json(
        &app.admin,
        "/api/v1/components/checkout-api/logs?since=2026-11-25T10:00:00Z&until=2026-11-25T11:00:00Z&limit=2",
    )
    .await;
    assert_eq!(logs.component, "checkout-api");
    assert_eq!(logs.query, "service:\"checkout-api\"");
    assert_eq!(logs.lines.len(), 2);
    assert_eq!(
        logs.lines[0].message,
        "payment provider timed out after 5000 ms"
    );
    assert_eq!(logs.lines[0].level.as_deref(), Some("error"));
    assert_eq!(logs.lines[1].level.as_deref(), Some("warn"));
    assert!(logs.lines[0].at > logs.lines[1].at, "newest first");
    assert!(!logs.partial);
    let request = search.requests().pop().expect("OpenSearch was asked");
    assert_eq!(request.path(), "/logs-*/_search");
    let body = request.json();
    assert!(
        body.to_string().contains("checkout-api"),
        "the component's query is sent: {body}"
    );

    // A component's own log query replaces the default.
    let resp = create_component(
        &app,
        json!({ "slug": "payments", "name": "Payments", "log_query": "app:payments AND level:error" }),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let logs: ComponentLogs = get_json(
        &app.admin,
        "/api/v1/components/payments/logs?since=2026-11-25T10:00:00Z&until=2026-11-25T11:00:00Z&limit=2",
    )
    .await;
    assert_eq!(logs.query, "app:payments AND level:error");
    let body = search
        .requests()
        .pop()
        .expect("OpenSearch was asked")
        .json();
    assert!(
        body.to_string().contains("app:payments AND level:error"),
        "the component's own query is sent: {body}"
    );

    // Without credentials the store refuses: 502 with its message.
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.logs_url = Some(search.url.clone());
        s.logs_kind = Some("elasticsearch".into());
        s.logs_index = Some("logs-*".into());
    })
    .await;
    component(&app, "checkout-api").await;
    let (status, body) = get(&app, "/api/v1/components/checkout-api/logs").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["type"], problem_type::UPSTREAM);
    assert!(
        body["detail"].as_str().unwrap().contains("401"),
        "the upstream's answer is passed on: {body}"
    );
    let (status, _) = get(&app, "/api/v1/components/checkout-api/logs?limit=0").await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn metrics_come_from_a_real_prometheus() {
    let prom = RealPrometheus::start(10.0, 1.0).await;
    prom.wait_for_value("sum(rate(http_requests_total{job=\"exporter\"}[1m]))")
        .await;
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.prometheus_url = Some(prom.url.clone());
    })
    .await;
    // Linked to no service: the component's own slug is the `job` its queries select.
    component(&app, "exporter").await;
    let metrics: ComponentMetrics = eventually(
        "request-rate and error-ratio points from Prometheus",
        Duration::from_secs(30),
        || async {
            let m: ComponentMetrics =
                get_json(&app.admin, "/api/v1/components/exporter/metrics?range=5m").await;
            let has_points = |name: &str| {
                m.metrics.iter().find(|q| q.name == name).is_some_and(|q| {
                    q.series
                        .iter()
                        .any(|s| s.points.iter().any(|p| p.value.is_some()))
                })
            };
            (has_points("request_rate") && has_points("error_ratio")).then_some(m)
        },
    )
    .await;
    assert_eq!(metrics.component, "exporter");
    assert!(
        metrics.step_secs >= 1 && metrics.step_secs <= 5,
        "{}",
        metrics.step_secs
    );
    let names: Vec<_> = metrics.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["request_rate", "error_ratio", "p99_latency_seconds"]
    );
    let rate = metrics.metrics[0].series[0]
        .points
        .iter()
        .filter_map(|p| p.value)
        .next_back()
        .unwrap();
    // `rate()` over 1 m of a few seconds of data extrapolates low, but never to zero.
    assert!(rate > 0.0 && rate < 20.0, "at most 11 requests/s: {rate}");
    let ratio = metrics.metrics[1].series[0]
        .points
        .iter()
        .filter_map(|p| p.value)
        .next_back()
        .unwrap();
    assert!((0.03..0.2).contains(&ratio), "about 1/11 errors: {ratio}");

    let (status, body) = get(&app, "/api/v1/components/exporter/metrics?range=1y").await;
    assert_eq!(status, 422, "{body}");

    // A component's own queries replace the defaults, in its order, with their units.
    let resp = create_component(
        &app,
        json!({ "slug": "custom", "name": "Custom", "metric_queries": [
            { "name": "requests_total", "query": "sum(http_requests_total{job=\"exporter\"})", "unit": "requests" },
            { "name": "targets_up", "query": "count(up == 1)" }
        ] }),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let custom: ComponentMetrics = eventually(
        "the custom queries' points from Prometheus",
        Duration::from_secs(30),
        || async {
            let m: ComponentMetrics =
                get_json(&app.admin, "/api/v1/components/custom/metrics?range=5m").await;
            m.metrics
                .iter()
                .all(|q| {
                    q.series
                        .iter()
                        .any(|s| s.points.iter().any(|p| p.value.is_some()))
                })
                .then_some(m)
        },
    )
    .await;
    let names: Vec<_> = custom.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["requests_total", "targets_up"]);
    assert_eq!(
        custom.metrics[0].query,
        "sum(http_requests_total{job=\"exporter\"})"
    );
    assert_eq!(custom.metrics[0].unit.as_deref(), Some("requests"));
    assert_eq!(custom.metrics[1].unit, None);
    let total = custom.metrics[0].series[0]
        .points
        .iter()
        .filter_map(|p| p.value)
        .next_back()
        .unwrap();
    assert!(total > 0.0, "a counter of served requests: {total}");
}
