//! Components: admin CRUD, the detail page with the linked service's deployments, the health grid.

use flightdeck_model::{Component, ComponentDetail, ComponentStatus, HealthGrid};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

pub async fn create_component(app: &TestApp, body: Value) -> reqwest::Response {
    app.admin
        .request(Method::POST, "/api/v1/components")
        .unwrap()
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn get_json<T: serde::de::DeserializeOwned>(
    client: &flightdeck_client::Client,
    path: &str,
) -> T {
    let resp = client
        .request(Method::GET, path)
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn components_are_created_listed_patched_and_shown_with_their_services_deployments() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        app.seed_target("checkout-api", "staging", 20).await;
        let deployment = app.deploy("checkout-api", "staging", "v1.2.3").await;

        let resp = create_component(
            &app,
            json!({ "slug": "checkout", "name": "Checkout", "group": "payments", "service": "checkout-api",
                    "tier": 1, "depends_on": ["checkout-db"], "matchers": ["service=\"checkout-api\""] }),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let created: Component = resp.json().await.unwrap();
        assert_eq!(created.status, ComponentStatus::Operational);

        let dup = create_component(&app, json!({ "slug": "checkout", "name": "Again" })).await;
        assert_eq!(dup.status(), 409);
        let bad = create_component(
            &app,
            json!({ "slug": "x", "name": "X", "service": "nope", "matchers": ["no operator"] }),
        )
        .await;
        assert_eq!(bad.status(), 422);
        let problem: Value = bad.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("service") && detail.contains("matchers[0]"),
            "{detail}"
        );

        let detail: ComponentDetail = get_json(&app.admin, "/api/v1/components/checkout").await;
        assert_eq!(detail.component, created);
        assert!(detail.alerts.is_empty());
        assert_eq!(detail.deployments.len(), 1);
        assert_eq!(detail.deployments[0].id, deployment.id);

        let patched = app
            .admin
            .request(Method::PATCH, "/api/v1/components/checkout")
            .unwrap()
            .json(&json!({ "name": "Checkout (EU)", "tier": 2 }))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status(), 200);
        let patched: Component = patched.json().await.unwrap();
        assert_eq!(
            (patched.name.as_str(), patched.tier),
            ("Checkout (EU)", Some(2))
        );
        assert_eq!(patched.group.as_deref(), Some("payments"));
        assert_eq!(patched.service.as_deref(), Some("checkout-api"));

        // `null` removes an optional field (the service link too); absent leaves it.
        let cleared = app
            .admin
            .request(Method::PATCH, "/api/v1/components/checkout")
            .unwrap()
            .json(&json!({ "group": null, "service": null }))
            .send()
            .await
            .unwrap();
        assert_eq!(cleared.status(), 200);
        let cleared: Component = cleared.json().await.unwrap();
        assert_eq!((cleared.group, cleared.service), (None, None));
        assert_eq!(cleared.tier, Some(2), "absent: left as it was");
        let detail: ComponentDetail = get_json(&app.admin, "/api/v1/components/checkout").await;
        assert!(detail.deployments.is_empty(), "unlinked from the service");

        let missing = app
            .admin
            .request(Method::GET, "/api/v1/components/nope")
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        let audit = app
            .admin
            .list_audit(&flightdeck_model::AuditQuery {
                action: Some("component.".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audit.items.len(), 3, "create and updates are audited");
    }
}

#[tokio::test]
async fn a_maintenance_window_puts_a_component_in_maintenance_and_the_grid_counts_every_status() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let now = chrono::Utc::now();
        create_component(&app, json!({ "slug": "api", "name": "API" })).await;
        let resp = create_component(
            &app,
            json!({ "slug": "db", "name": "DB", "maintenance": [{ "name": "upgrade",
                    "starts_at": now - chrono::Duration::minutes(5), "ends_at": now + chrono::Duration::hours(1) }] }),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let db: Component = resp.json().await.unwrap();
        assert_eq!(db.status, ComponentStatus::Maintenance);
        assert!(
            db.status_reasons[0].contains("maintenance upgrade"),
            "{:?}",
            db.status_reasons
        );

        let grid: HealthGrid = get_json(&app.admin, "/api/v1/health").await;
        assert_eq!(grid.components.len(), 2);
        assert_eq!(grid.counts["operational"], 1);
        assert_eq!(grid.counts["maintenance"], 1);
        assert_eq!(grid.counts["major_outage"], 0);
        assert_eq!(grid.counts.len(), 6);

        // Ending the window brings it back.
        let patched = app
            .admin
            .request(Method::PATCH, "/api/v1/components/db")
            .unwrap()
            .json(&json!({ "maintenance": [] }))
            .send()
            .await
            .unwrap();
        let patched: Component = patched.json().await.unwrap();
        assert_eq!(patched.status, ComponentStatus::Operational);
    }
}

/// Nothing happens when a maintenance window opens or closes, so the status clock moves the
/// status on its own: into `maintenance` when a window starts and out of it when it ends, each
/// a `component.status_changed` in the event log.
#[tokio::test]
async fn maintenance_windows_open_and_close_on_their_own() {
    for backend in BACKENDS {
        let app = spawn_app_with(backend, |s| s.status_clock_secs = 1).await;
        let now = chrono::Utc::now();
        let resp = create_component(
            &app,
            json!({ "slug": "db", "name": "DB", "maintenance": [{ "name": "failover",
                    "starts_at": now + chrono::Duration::seconds(2),
                    "ends_at": now + chrono::Duration::seconds(4) }] }),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let db: Component = resp.json().await.unwrap();
        assert_eq!(db.status, ComponentStatus::Operational, "not started yet");

        let status = |wanted: ComponentStatus| {
            let app = &app;
            async move {
                let detail: ComponentDetail = get_json(&app.admin, "/api/v1/components/db").await;
                (detail.component.status == wanted).then_some(detail.component)
            }
        };
        let during = crate::upstream::eventually(
            "the window to open",
            std::time::Duration::from_secs(15),
            || status(ComponentStatus::Maintenance),
        )
        .await;
        assert!(
            during.status_reasons[0].contains("failover"),
            "{:?}",
            during.status_reasons
        );
        crate::upstream::eventually(
            "the window to close",
            std::time::Duration::from_secs(15),
            || status(ComponentStatus::Operational),
        )
        .await;

        let mut db = app.store.conn().await.unwrap();
        let changes: Vec<(String, String)> = db
            .events_after(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "component.status_changed")
            .map(|e| {
                (
                    e.data["from"].as_str().unwrap().to_owned(),
                    e.data["to"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            changes,
            [
                ("operational".into(), "maintenance".into()),
                ("maintenance".into(), "operational".into())
            ]
        );
    }
}

#[tokio::test]
async fn components_keep_their_own_metric_and_log_queries_and_bad_ones_are_422_writing_nothing() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let resp = create_component(
            &app,
            json!({ "slug": "queue", "name": "Queue",
                    "metric_queries": [
                        { "name": "depth", "query": "sum(queue_depth{job=\"queue\"})", "unit": "messages" },
                        { "name": "consumers", "query": "count(up{job=\"queue-consumer\"} == 1)" }
                    ],
                    "log_query": "{app=\"queue\"} |= \"error\"" }),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let created: Component = resp.json().await.unwrap();
        assert_eq!(created.metric_queries.len(), 2);
        assert_eq!(created.metric_queries[0].unit.as_deref(), Some("messages"));
        assert_eq!(created.metric_queries[1].unit, None);
        assert_eq!(
            created.log_query.as_deref(),
            Some("{app=\"queue\"} |= \"error\"")
        );
        let shown: ComponentDetail = get_json(&app.admin, "/api/v1/components/queue").await;
        assert_eq!(shown.component, created);

        // Refused: duplicate and blank names, blank PromQL, too many queries, an oversize log
        // query — each named in the problem, and nothing is stored.
        let q = |name: &str| json!({ "name": name, "query": "up" });
        let cases = [
            (
                json!({ "slug": "dup", "name": "Dup", "metric_queries": [q("a"), q("a")] }),
                "metric_queries[1].name",
            ),
            (
                json!({ "slug": "blank", "name": "Blank", "metric_queries": [q(" ")] }),
                "metric_queries[0].name",
            ),
            (
                json!({ "slug": "noq", "name": "NoQ", "metric_queries": [{ "name": "a", "query": "" }] }),
                "metric_queries[0].query",
            ),
            (
                json!({ "slug": "many", "name": "Many",
                        "metric_queries": (0..11).map(|i| q(&format!("q{i}"))).collect::<Vec<_>>() }),
                "metric_queries",
            ),
            (
                json!({ "slug": "longlog", "name": "Long", "log_query": "x".repeat(2001) }),
                "log_query",
            ),
        ];
        for (body, field) in cases {
            let resp = create_component(&app, body.clone()).await;
            assert_eq!(resp.status(), 422, "{body}");
            let problem: Value = resp.json().await.unwrap();
            assert!(
                problem.to_string().contains(field),
                "{field} is named: {problem}"
            );
        }
        let all: flightdeck_model::Page<Component> =
            get_json(&app.admin, "/api/v1/components").await;
        assert_eq!(all.items.len(), 1, "refused components are not stored");

        // A bad patch changes nothing; `[]` and `""` go back to the defaults.
        let patch = |body: Value| {
            let admin = app.admin.clone();
            async move {
                admin
                    .request(Method::PATCH, "/api/v1/components/queue")
                    .unwrap()
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let resp = patch(json!({ "name": "Renamed", "metric_queries": [q("a"), q("a")] })).await;
        assert_eq!(resp.status(), 422);
        let shown: ComponentDetail = get_json(&app.admin, "/api/v1/components/queue").await;
        assert_eq!(shown.component.name, "Queue", "nothing half-written");
        let resp = patch(json!({ "metric_queries": [], "log_query": "" })).await;
        assert_eq!(resp.status(), 200);
        let reset: Component = resp.json().await.unwrap();
        assert!(reset.metric_queries.is_empty());
        assert_eq!(reset.log_query, None);
    }
}

#[tokio::test]
async fn the_grid_shows_live_alert_counts_slo_summaries_and_dependency_impact() {
    use flightdeck_model::{Slo, SloSli};
    for backend in BACKENDS {
        let app = spawn_app_with(backend, |s| {
            s.webhook_secrets.insert(
                "alertmanager".into(),
                flightdeck_server::settings::Secret::new("am-token"),
            );
        })
        .await;
        for body in [
            json!({ "slug": "db", "name": "DB" }),
            json!({ "slug": "api", "name": "API", "depends_on": ["db"] }),
            json!({ "slug": "web", "name": "Web", "depends_on": ["api"] }),
            json!({ "slug": "docs", "name": "Docs" }),
        ] {
            assert_eq!(create_component(&app, body).await.status(), 201);
        }
        // Two critical alerts and a warning on the database, one of them resolved by the source.
        let alert = |fp: &str, severity: &str, status: &str| {
            json!({ "status": status, "fingerprint": fp,
                    "labels": { "alertname": format!("A{fp}"), "component": "db", "severity": severity },
                    "annotations": {}, "startsAt": "2026-11-25T10:00:00Z",
                    "endsAt": if status == "resolved" { "2026-11-25T10:05:00Z" } else { "0001-01-01T00:00:00Z" } })
        };
        let payload = json!({
            "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
            "receiver": "flightdeck", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": [alert("f1", "critical", "firing"), alert("f2", "critical", "firing"),
                       alert("f3", "warning", "firing"), alert("f4", "critical", "resolved")],
        });
        notify_alerts(&app, "/api/v1/webhooks/alertmanager", "am-token", &payload).await;
        // Two SLOs on the API, one evaluated with a fast burn and 42 % budget left.
        let mut tx = app.store.begin().await.unwrap();
        let now = chrono::Utc::now();
        for (name, budget) in [("availability", Some(0.42)), ("latency", None)] {
            let slo = Slo {
                id: uuid::Uuid::now_v7(),
                component: "api".into(),
                name: name.into(),
                objective: 0.999,
                window_secs: 2_592_000,
                sli: SloSli::Ratio {
                    good: "sum(rate(ok[$window]))".into(),
                    total: "sum(rate(all[$window]))".into(),
                },
                current: None,
                budget_remaining: budget,
                burn_rates: vec![],
                fast_burn: budget.is_some(),
                slow_burn: false,
                ticket: false,
                evaluated_at: budget.map(|_| now),
                error: None,
                created_at: now,
            };
            tx.insert_slo(&slo).await.unwrap();
        }
        tx.commit().await.unwrap();

        let grid: HealthGrid = crate::upstream::eventually(
            "the database's alerts in the grid",
            std::time::Duration::from_secs(20),
            || async {
                let grid: HealthGrid = get_json(&app.admin, "/api/v1/health").await;
                let db = grid.components.iter().find(|c| c.slug == "db")?;
                (db.status == ComponentStatus::MajorOutage && db.alert_counts.total() == 3)
                    .then_some(grid)
            },
        )
        .await;
        let tile = |slug: &str| grid.components.iter().find(|c| c.slug == slug).unwrap();
        let db = tile("db");
        assert_eq!(
            (
                db.alert_counts.critical,
                db.alert_counts.warning,
                db.alert_counts.info
            ),
            (2, 1, 0),
            "the resolved alert is not counted"
        );
        assert!(db.impacted_by.is_empty());
        assert_eq!(tile("api").impacted_by, ["db"]);
        assert_eq!(tile("web").impacted_by, ["db"], "through the API");
        assert!(tile("docs").impacted_by.is_empty());
        let api = &tile("api").slos;
        assert_eq!(api.count, 2);
        assert_eq!(api.worst_budget_remaining, Some(0.42));
        assert!(api.fast_burn && !api.slow_burn);
        assert_eq!(tile("docs").slos.count, 0);
        assert_eq!(tile("docs").alert_counts.total(), 0);
    }
}
