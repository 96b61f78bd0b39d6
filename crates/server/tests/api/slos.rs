//! SLOs: admin CRUD, and THE acceptance test — a real Prometheus scrapes an exporter whose error
//! rate the test controls; the SLO poller (1 s) follows within two poll intervals, and the
//! component's status changes in the grid and live on the WebSocket.

use std::time::{Duration, Instant};

use flightdeck_model::{
    ComponentDetail, ComponentStatus, HealthGrid, LiveEvent, Page, Slo, SloBurnRate,
    SloHistoryQuery,
};
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::{connect_async, tungstenite::Message};

use crate::components::{create_component, get_json};
use crate::helpers::*;
use crate::real_prometheus::RealPrometheus;
use crate::upstream::eventually;

const GOOD: &str = r#"sum(rate(http_requests_total{job="exporter",code!~"5.."}[$window]))"#;
const TOTAL: &str = r#"sum(rate(http_requests_total{job="exporter"}[$window]))"#;

fn ratio_slo(name: &str) -> Value {
    json!({
        "name": name,
        "objective": 0.99,
        "window_secs": 2_592_000,
        "sli": {"kind": "ratio", "good": GOOD, "total": TOTAL},
    })
}

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app.admin.request(method, path).unwrap();
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn status_of(app: &TestApp, slug: &str) -> ComponentStatus {
    let grid: HealthGrid = get_json(&app.admin, "/api/v1/health").await;
    grid.components
        .into_iter()
        .find(|c| c.slug == slug)
        .expect("the component is in the grid")
        .status
}

#[tokio::test]
async fn slos_are_created_listed_shown_and_deleted_by_admins() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        assert_eq!(
            create_component(&app, json!({"slug": "checkout-api", "name": "Checkout"}))
                .await
                .status(),
            201
        );
        let (status, body) = send(
            &app,
            Method::POST,
            "/api/v1/components/checkout-api/slos",
            Some(ratio_slo("availability")),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let slo: Slo = serde_json::from_value(body).unwrap();
        assert_eq!(slo.component, "checkout-api");
        assert_eq!(slo.evaluated_at, None);

        let (status, _) = send(
            &app,
            Method::POST,
            "/api/v1/components/checkout-api/slos",
            Some(ratio_slo("availability")),
        )
        .await;
        assert_eq!(status, 409, "one name per component");
        let mut bad = ratio_slo("latency");
        bad["sli"]["good"] = json!("sum(rate(x_total[5m]))");
        bad["objective"] = json!(1.5);
        let (status, body) = send(
            &app,
            Method::POST,
            "/api/v1/components/checkout-api/slos",
            Some(bad),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        let (status, _) = send(
            &app,
            Method::POST,
            "/api/v1/components/nope/slos",
            Some(ratio_slo("x")),
        )
        .await;
        assert_eq!(status, 404);

        // Not evaluated yet: the component says so.
        assert_eq!(
            status_of(&app, "checkout-api").await,
            ComponentStatus::Unknown
        );
        let detail: ComponentDetail = get_json(&app.admin, "/api/v1/components/checkout-api").await;
        assert_eq!(detail.slos, vec![slo.clone()]);
        assert!(
            detail.component.status_reasons[0].contains("no data yet"),
            "{:?}",
            detail.component.status_reasons
        );
        let listed: Page<Slo> = get_json(&app.admin, "/api/v1/components/checkout-api/slos").await;
        assert_eq!(listed.items, vec![slo.clone()]);
        let all: Page<Slo> = get_json(&app.admin, "/api/v1/slos").await;
        assert_eq!(all.items, vec![slo.clone()]);

        let path = format!("/api/v1/components/checkout-api/slos/{}", slo.id);
        let (status, _) = send(&app, Method::DELETE, &path, None).await;
        assert_eq!(status, 204);
        let (status, _) = send(&app, Method::DELETE, &path, None).await;
        assert_eq!(status, 404);
        assert_eq!(
            status_of(&app, "checkout-api").await,
            ComponentStatus::Operational
        );
    }
}

/// An SLO with an evaluation as the poller would store it: budget left `budget`, 5 m burn `burn`.
fn evaluated(slo: &Slo, budget: f64, burn: f64, at: chrono::DateTime<chrono::Utc>) -> Slo {
    Slo {
        current: Some(0.999),
        budget_remaining: Some(budget),
        burn_rates: vec![SloBurnRate {
            window: "5m".into(),
            burn_rate: Some(burn),
        }],
        evaluated_at: Some(at),
        ..slo.clone()
    }
}

#[tokio::test]
async fn slo_history_is_served_oldest_first_filtered_by_since_and_thinned_to_the_limit() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        assert_eq!(
            create_component(&app, json!({"slug": "checkout-api", "name": "Checkout"}))
                .await
                .status(),
            201
        );
        let (status, body) = send(
            &app,
            Method::POST,
            "/api/v1/components/checkout-api/slos",
            Some(ratio_slo("availability")),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let slo: Slo = serde_json::from_value(body).unwrap();
        let viewer = app.user_with_role(flightdeck_model::Role::Viewer).await;
        let none = viewer
            .slo_history(slo.id, &SloHistoryQuery::default())
            .await
            .unwrap();
        assert!(none.is_empty(), "not evaluated yet: {none:?}");

        // Five evaluations a minute apart, the budget shrinking as the burn grows.
        let base = chrono::Utc::now() - chrono::Duration::minutes(10);
        let at = |i: i64| base + chrono::Duration::minutes(i);
        {
            let mut db = app.store.conn().await.unwrap();
            for i in 0..5 {
                let e = evaluated(&slo, 1.0 - 0.1 * i as f64, i as f64, at(i));
                db.record_slo_evaluation(&e, at(i)).await.unwrap();
            }
        }
        let all = viewer
            .slo_history(slo.id, &SloHistoryQuery::default())
            .await
            .unwrap();
        assert_eq!(all.len(), 5);
        let budgets: Vec<f64> = all.iter().map(|p| p.budget_remaining.unwrap()).collect();
        for (got, want) in budgets.iter().zip([1.0, 0.9, 0.8, 0.7, 0.6]) {
            assert!((got - want).abs() < 1e-9, "oldest first: {budgets:?}");
        }
        assert_eq!(all[4].burn_rates[0].window, "5m");
        assert_eq!(all[4].burn_rates[0].burn_rate, Some(4.0));
        assert!(all.windows(2).all(|w| w[0].at < w[1].at));

        let recent = viewer
            .slo_history(
                slo.id,
                &SloHistoryQuery {
                    since: Some(at(2)),
                    limit: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(recent.len(), 3, "since is inclusive: {recent:?}");
        assert_eq!(recent[0].burn_rates[0].burn_rate, Some(2.0));

        let thinned = viewer
            .slo_history(
                slo.id,
                &SloHistoryQuery {
                    since: None,
                    limit: Some(3),
                },
            )
            .await
            .unwrap();
        let burns: Vec<_> = thinned
            .iter()
            .map(|p| p.burn_rates[0].burn_rate.unwrap())
            .collect();
        assert_eq!(burns, vec![0.0, 2.0, 4.0], "evenly, first and newest kept");

        for bad in ["0", "2001", "many"] {
            let path = format!("/api/v1/slos/{}/history?limit={bad}", slo.id);
            let (status, body) = send(&app, Method::GET, &path, None).await;
            assert!([400, 422].contains(&status), "limit={bad}: {status} {body}");
            if bad != "many" {
                assert_eq!(status, 422, "{body}");
                assert_eq!(body["errors"][0]["field"], "limit", "{body}");
            }
        }
        let missing = format!("/api/v1/slos/{}/history", uuid::Uuid::now_v7());
        assert_eq!(send(&app, Method::GET, &missing, None).await.0, 404);

        // Deleting the SLO takes its history with it.
        let path = format!("/api/v1/components/checkout-api/slos/{}", slo.id);
        assert_eq!(send(&app, Method::DELETE, &path, None).await.0, 204);
        let gone = format!("/api/v1/slos/{}/history", slo.id);
        assert_eq!(send(&app, Method::GET, &gone, None).await.0, 404);
    }
}

#[tokio::test]
async fn the_slo_follows_a_real_prometheus_and_the_component_status_changes_live() {
    let prom = RealPrometheus::start(10.0, 0.0).await;
    prom.wait_for_value(r#"sum(rate(http_requests_total{job="exporter"}[5m]))"#)
        .await;
    let poll = Duration::from_secs(1);
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.prometheus_url = Some(prom.url.clone());
        s.slo_poll_secs = 1;
    })
    .await;
    assert_eq!(
        create_component(&app, json!({"slug": "exporter", "name": "Exporter"}))
            .await
            .status(),
        201
    );
    let ws_url = format!("{}/api/v1/stream", app.url.replace("http://", "ws://"));
    let mut ws = connect_async(ws_url).await.expect("websocket connects").0;
    let hello = json!({"token": app.admin.token().unwrap(), "since": null, "topics": []});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();

    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/components/exporter/slos",
        Some(ratio_slo("availability")),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // Healthy: every request succeeds.
    let healthy: Slo = eventually(
        "a first healthy evaluation",
        Duration::from_secs(15),
        || async {
            let page: Page<Slo> = get_json(&app.admin, "/api/v1/components/exporter/slos").await;
            page.items
                .into_iter()
                .next()
                .filter(|s| s.evaluated_at.is_some() && s.current.is_some())
        },
    )
    .await;
    assert_eq!(healthy.error, None);
    assert!(healthy.current.unwrap() > 0.999, "{healthy:?}");
    assert!(!healthy.fast_burn && !healthy.slow_burn, "{healthy:?}");
    assert!(healthy.budget_remaining.unwrap() > 0.9, "{healthy:?}");
    eventually(
        "the component to be operational",
        Duration::from_secs(5),
        || async {
            (status_of(&app, "exporter").await == ComponentStatus::Operational).then_some(())
        },
    )
    .await;

    // 90 % errors from now on.
    prom.exporter.set_rates(1.0, 9.0);
    let client = prom.client();
    eventually("Prometheus to see errors", Duration::from_secs(15), || {
        let client = client.clone();
        async move {
            let data = client
                .instant(
                    r#"sum(rate(http_requests_total{job="exporter",code="500"}[5m]))"#,
                    chrono::Utc::now(),
                )
                .await
                .ok()?;
            data.result.single_value().filter(|v| *v > 0.0)
        }
    })
    .await;
    // From the moment Prometheus has the data: two poll intervals, plus a second for the
    // burn rate to climb past 14.4× as errors accumulate in the window.
    let seen = Instant::now();
    let burning: Slo = eventually(
        "the SLO to follow within two poll intervals",
        2 * poll + Duration::from_secs(1),
        || async {
            let page: Page<Slo> = get_json(&app.admin, "/api/v1/components/exporter/slos").await;
            page.items.into_iter().next().filter(|s| s.fast_burn)
        },
    )
    .await;
    eprintln!("SLO followed in {:?}", seen.elapsed());
    assert!(
        burning.current.unwrap() < healthy.current.unwrap(),
        "{burning:?}"
    );
    let rate_5m = burning
        .burn_rates
        .iter()
        .find(|r| r.window == "5m")
        .and_then(|r| r.burn_rate)
        .unwrap();
    assert!(rate_5m > 14.4, "{burning:?}");
    assert!(burning.budget_remaining.unwrap() < healthy.budget_remaining.unwrap());

    assert_eq!(
        status_of(&app, "exporter").await,
        ComponentStatus::PartialOutage
    );
    let detail: ComponentDetail = get_json(&app.admin, "/api/v1/components/exporter").await;
    assert!(
        detail
            .component
            .status_reasons
            .iter()
            .any(|r| r.contains("availability")),
        "{:?}",
        detail.component.status_reasons
    );

    // Live: the status change (and the SLO updates) arrived on the socket.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut saw_slo_update = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .expect("a component.status_changed event to partial_outage")
            .expect("the socket stays open")
            .unwrap();
        let Message::Text(text) = msg else { continue };
        let event: LiveEvent = serde_json::from_str(&text).unwrap();
        if event.kind == "slo.updated" {
            saw_slo_update = true;
        }
        if event.kind == "component.status_changed"
            && event.data["component"] == "exporter"
            && event.data["to"] == "partial_outage"
        {
            break;
        }
    }
    assert!(saw_slo_update, "slo.updated events are sent too");

    // The history keeps every evaluation.
    let history = app
        .store
        .conn()
        .await
        .unwrap()
        .slo_history(burning.id, 100)
        .await
        .unwrap();
    assert!(history.len() >= 2, "{history:?}");
    assert!(history.first().unwrap().at < history.last().unwrap().at);
}

#[tokio::test]
async fn the_poller_lease_is_held_by_one_replica_renewed_by_it_and_free_after_its_ttl() {
    use flightdeck_server::workers::lease::try_lease;
    let pool = deadpool_redis::Config::from_url("redis://127.0.0.1:6379")
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .unwrap();
    let key = format!("flightdeck:test-lease:{}", uuid::Uuid::now_v7());
    let ttl = Duration::from_millis(600);
    let lease = |who: &'static str| {
        let (pool, key) = (pool.clone(), key.clone());
        async move {
            try_lease(&pool, &key, who, ttl)
                .await
                .expect("Redis is required for this test at 127.0.0.1:6379")
        }
    };
    assert!(lease("a").await, "a free lease is taken");
    assert!(!lease("b").await, "another replica is refused");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(lease("a").await, "the holder renews");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!lease("b").await, "renewed: still a's after the first ttl");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(lease("b").await, "expired: b takes over");
    assert!(!lease("a").await);
}
