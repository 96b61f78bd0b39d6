//! Alerts: Alertmanager's webhook (as Alertmanager itself sends it, too), routing to components,
//! the status rollup, and triage.

use std::time::Duration;

use chrono::{DateTime, Utc};
use flightdeck_model::{
    Alert, AlertCounts, AlertDetail, AlertSeverity, AlertSourceStatus, AlertSummary, Component,
    ComponentStatus, Page, Role, TriageState,
};
use flightdeck_server::settings::Secret;
use reqwest::Method;
use serde_json::{Value, json};

use crate::components::{create_component, get_json};
use crate::helpers::*;

const SECRET: &str = "alertmanager-bearer-token";
const WEBHOOK: &str = "/api/v1/webhooks/alertmanager";

async fn app_with_secret(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.webhook_secrets
            .insert("alertmanager".into(), Secret::new(SECRET));
    })
    .await
}

fn am_alert(status: &str, fingerprint: &str, starts_at: &str, labels: Value) -> Value {
    let ends_at = if status == "resolved" {
        "2026-11-25T10:05:00.000Z"
    } else {
        "0001-01-01T00:00:00Z"
    };
    json!({
        "status": status, "labels": labels, "annotations": { "summary": "errors are high" },
        "startsAt": starts_at, "endsAt": ends_at,
        "generatorURL": "http://prometheus:9090/graph", "fingerprint": fingerprint,
    })
}

fn payload(alerts: Vec<Value>, truncated: u32) -> Value {
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": truncated,
        "status": "firing", "receiver": "flightdeck", "groupLabels": { "alertname": "HighErrorRate" },
        "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    })
}

fn checkout_labels(severity: &str) -> Value {
    json!({ "alertname": "HighErrorRate", "service": "checkout-api", "severity": severity })
}

async fn post(app: &TestApp, token: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}{WEBHOOK}", app.url.trim_end_matches('/')))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

async fn notify(app: &TestApp, body: &Value) -> Ingested {
    notify_alerts(app, WEBHOOK, SECRET, body).await
}

async fn feed(app: &TestApp, query: &str) -> Vec<Alert> {
    get_json::<Page<Alert>>(&app.admin, &format!("/api/v1/alerts{query}"))
        .await
        .items
}

async fn component(app: &TestApp, slug: &str) -> Component {
    get_json::<flightdeck_model::ComponentDetail>(&app.admin, &format!("/api/v1/components/{slug}"))
        .await
        .component
}

async fn seed_checkout(app: &TestApp) {
    let resp = create_component(
        app,
        json!({ "slug": "checkout", "name": "Checkout", "matchers": ["service=\"checkout-api\""] }),
    )
    .await;
    assert_eq!(resp.status(), 201);
}

async fn live_event_types(app: &TestApp) -> Vec<String> {
    let mut db = app.store.conn().await.unwrap();
    db.events_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn notifications_open_route_and_resolve_episodes_and_repeats_change_nothing() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        seed_checkout(&app).await;
        let start = "2026-11-25T10:00:00.123456789Z";
        let firing = payload(
            vec![am_alert(
                "firing",
                "a1b2c3",
                start,
                checkout_labels("critical"),
            )],
            2,
        );

        let first = notify(&app, &firing).await;
        assert_eq!(
            (first.received, first.changed, first.truncated_alerts),
            (1, 1, 2)
        );
        let alerts = feed(&app, "").await;
        assert_eq!(alerts.len(), 1);
        let alert = &alerts[0];
        assert_eq!(alert.severity, AlertSeverity::Critical);
        assert_eq!(alert.component.as_deref(), Some("checkout"));
        assert_eq!(alert.state, TriageState::Open);
        assert_eq!(alert.name, "HighErrorRate");
        assert_eq!(
            alert.generator_url.as_deref(),
            Some("http://prometheus:9090/graph")
        );
        let checkout = component(&app, "checkout").await;
        assert_eq!(checkout.status, ComponentStatus::MajorOutage);
        assert!(checkout.status_reasons[0].contains("HighErrorRate"));

        // An HA pair's duplicate, or a resend: nothing changes.
        let again = notify(&app, &firing).await;
        assert_eq!(again.changed, 0);
        assert_eq!(feed(&app, "").await.len(), 1);

        let resolved = payload(
            vec![am_alert(
                "resolved",
                "a1b2c3",
                start,
                checkout_labels("critical"),
            )],
            0,
        );
        assert_eq!(notify(&app, &resolved).await.changed, 1);
        assert_eq!(notify(&app, &resolved).await.changed, 0);
        let alerts = feed(&app, "").await;
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].source_status, AlertSourceStatus::Resolved);
        assert_eq!(alerts[0].state, TriageState::Resolved);
        assert!(alerts[0].ends_at.is_some());
        assert_eq!(
            component(&app, "checkout").await.status,
            ComponentStatus::Operational
        );

        // It fires again later: a new episode.
        let refire = payload(
            vec![am_alert(
                "firing",
                "a1b2c3",
                "2026-11-25T11:00:00Z",
                checkout_labels("warning"),
            )],
            0,
        );
        assert_eq!(notify(&app, &refire).await.changed, 1);
        assert_eq!(feed(&app, "").await.len(), 2);
        assert_eq!(feed(&app, "?state=open").await.len(), 1);
        assert_eq!(
            feed(&app, "?severity=warning&component=checkout")
                .await
                .len(),
            1
        );
        assert_eq!(
            component(&app, "checkout").await.status,
            ComponentStatus::Degraded
        );

        // An alert no component matches is kept, unrouted.
        let stray = payload(
            vec![am_alert(
                "firing",
                "ffff",
                start,
                json!({ "alertname": "DiskFull" }),
            )],
            0,
        );
        notify(&app, &stray).await;
        let stray = feed(&app, "")
            .await
            .into_iter()
            .find(|a| a.fingerprint == "ffff")
            .unwrap();
        assert_eq!(stray.component, None);
        assert_eq!(
            stray.severity,
            AlertSeverity::Warning,
            "no severity label reads as warning"
        );

        let types = live_event_types(&app).await;
        assert!(
            types.iter().filter(|t| *t == "alert.updated").count() >= 4,
            "{types:?}"
        );
        assert_eq!(
            types
                .iter()
                .filter(|t| *t == "component.status_changed")
                .count(),
            3,
            "operational → major_outage → operational → degraded: {types:?}"
        );

        // Paging walks the feed newest first.
        let first_page: Page<Alert> = get_json(&app.admin, "/api/v1/alerts?limit=2").await;
        assert_eq!(first_page.items.len(), 2);
        let cursor = first_page.next_cursor.expect("a second page");
        let second: Page<Alert> = get_json(
            &app.admin,
            &format!("/api/v1/alerts?limit=2&cursor={cursor}"),
        )
        .await;
        assert_eq!(second.items.len(), 1);
        assert!(second.items[0].id < first_page.items[1].id);
    }
}

async fn routed_to(app: &TestApp, fingerprint: &str) -> Option<String> {
    feed(app, "")
        .await
        .into_iter()
        .find(|a| a.fingerprint == fingerprint)
        .unwrap_or_else(|| panic!("{fingerprint} is in the feed"))
        .component
}

/// The writer keeps its routing table between notifications; a component created or
/// re-matched in between must route the very next alert.
#[tokio::test]
async fn routing_follows_components_created_and_rematched_between_notifications() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        let fire = |fingerprint: &str| {
            payload(
                vec![am_alert(
                    "firing",
                    fingerprint,
                    "2026-11-25T10:00:00.000Z",
                    checkout_labels("warning"),
                )],
                0,
            )
        };
        notify(&app, &fire("f1")).await;
        assert_eq!(routed_to(&app, "f1").await, None, "no component yet");

        seed_checkout(&app).await;
        notify(&app, &fire("f2")).await;
        assert_eq!(routed_to(&app, "f2").await.as_deref(), Some("checkout"));

        create_component(&app, json!({ "slug": "payments", "name": "Payments" })).await;
        let patched = app
            .admin
            .request(reqwest::Method::PATCH, "/api/v1/components/checkout")
            .unwrap()
            .json(&json!({ "matchers": ["service=\"cart-api\""] }))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status(), 200);
        let patched = app
            .admin
            .request(reqwest::Method::PATCH, "/api/v1/components/payments")
            .unwrap()
            .json(&json!({ "matchers": ["service=\"checkout-api\""] }))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status(), 200);
        notify(&app, &fire("f3")).await;
        assert_eq!(routed_to(&app, "f3").await.as_deref(), Some("payments"));
    }
}

#[tokio::test]
async fn refused_notifications_are_401_400_422_or_413_and_write_nothing() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        let good = serde_json::to_vec(&payload(
            vec![am_alert(
                "firing",
                "a1",
                "2026-11-25T10:00:00Z",
                checkout_labels("critical"),
            )],
            0,
        ))
        .unwrap();
        assert_eq!(post(&app, None, good.clone()).await.status(), 401);
        assert_eq!(
            post(&app, Some("wrong-token"), good.clone()).await.status(),
            401
        );
        assert_eq!(
            post(&app, Some(SECRET), b"{not json".to_vec())
                .await
                .status(),
            400
        );
        let wrong_shape =
            serde_json::to_vec(&json!({ "version": "4", "alerts": [{ "status": "boiling" }] }))
                .unwrap();
        assert_eq!(post(&app, Some(SECRET), wrong_shape).await.status(), 422);
        let old_version = serde_json::to_vec(&json!({ "version": "3", "alerts": [] })).unwrap();
        assert_eq!(post(&app, Some(SECRET), old_version).await.status(), 422);
        // PostgreSQL's text cannot hold NUL: refused on both databases rather than stored and
        // then never applied.
        let mut labels = checkout_labels("critical");
        labels["instance"] = json!("host\u{0}1");
        let nul = payload(
            vec![am_alert("firing", "a1", "2026-11-25T10:00:00Z", labels)],
            0,
        );
        let resp = post(&app, Some(SECRET), serde_json::to_vec(&nul).unwrap()).await;
        assert_eq!(resp.status(), 422);
        let problem: Value = resp.json().await.unwrap();
        assert!(problem.to_string().contains("alerts[0]"), "{problem}");
        let mut nul_link = payload(
            vec![am_alert(
                "firing",
                "a2",
                "2026-11-25T10:00:00Z",
                checkout_labels("critical"),
            )],
            0,
        );
        nul_link["alerts"][0]["generatorURL"] = json!("http://prometheus:9090/graph\u{0}");
        let resp = post(&app, Some(SECRET), serde_json::to_vec(&nul_link).unwrap()).await;
        assert_eq!(resp.status(), 422, "a NUL in the generator URL too");
        let huge = vec![b' '; 2 * 1024 * 1024];
        assert_eq!(post(&app, Some(SECRET), huge).await.status(), 413);
        assert!(feed(&app, "").await.is_empty());
        let mut db = app.store.conn().await.unwrap();
        assert!(
            db.list_inbox(None, None, None, 10)
                .await
                .unwrap()
                .is_empty(),
            "refused input is never stored"
        );
        assert!(
            !live_event_types(&app)
                .await
                .iter()
                .any(|t| t.starts_with("alert."))
        );
    }
    // No secret configured: the source is refused.
    let app = spawn_app(Backend::Sqlite).await;
    let body = serde_json::to_vec(&payload(vec![], 0)).unwrap();
    assert_eq!(post(&app, Some(SECRET), body).await.status(), 401);
}

#[tokio::test]
async fn concurrent_duplicates_from_an_ha_pair_store_one_episode_with_one_history() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        seed_checkout(&app).await;
        let start = "2026-11-25T10:00:00Z";
        let firing = payload(
            vec![am_alert(
                "firing",
                "ha1",
                start,
                checkout_labels("critical"),
            )],
            0,
        );
        let resolved = payload(
            vec![am_alert(
                "resolved",
                "ha1",
                start,
                checkout_labels("critical"),
            )],
            0,
        );
        for body in [&firing, &resolved] {
            let sends = (0..6).map(|_| notify(&app, body));
            let changed: u32 = futures_util::future::join_all(sends)
                .await
                .iter()
                .map(|r| r.changed)
                .sum();
            assert_eq!(changed, 1, "exactly one of the copies changes anything");
        }
        let alerts = feed(&app, "").await;
        assert_eq!(alerts.len(), 1);
        let detail: AlertDetail =
            get_json(&app.admin, &format!("/api/v1/alerts/{}", alerts[0].id)).await;
        let actions: Vec<_> = detail.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["fire", "resolve"]);
    }
}

#[tokio::test]
async fn the_feed_searches_alert_names_and_labels_case_insensitively_and_literally() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        let start = "2026-11-25T10:00:00Z";
        let alert =
            |fingerprint: &str, labels: Value| am_alert("firing", fingerprint, start, labels);
        let body = payload(
            vec![
                alert(
                    "s1",
                    json!({ "alertname": "HighErrorRate", "service": "checkout-api", "severity": "critical" }),
                ),
                alert(
                    "s2",
                    json!({ "alertname": "DiskFull", "instance": "DB-1", "severity": "warning" }),
                ),
                alert(
                    "s3",
                    json!({ "alertname": "Disk_Full_100%", "instance": "db-2", "severity": "info" }),
                ),
            ],
            0,
        );
        notify(&app, &body).await;
        let names = |alerts: Vec<Alert>| {
            let mut n: Vec<String> = alerts.into_iter().map(|a| a.name).collect();
            n.sort();
            n
        };
        assert_eq!(
            names(feed(&app, "?q=errorrate").await),
            ["HighErrorRate"],
            "{backend:?}"
        );
        // Label values, either case.
        assert_eq!(
            names(feed(&app, "?q=db-1").await),
            ["DiskFull"],
            "{backend:?}"
        );
        assert_eq!(
            names(feed(&app, "?q=DB-").await),
            ["DiskFull", "Disk_Full_100%"]
        );
        // `_` and `%` are the characters typed, not LIKE wildcards.
        assert_eq!(
            names(feed(&app, "?q=k_f").await),
            ["Disk_Full_100%"],
            "{backend:?}"
        );
        assert_eq!(names(feed(&app, "?q=100%25").await), ["Disk_Full_100%"]);
        assert!(feed(&app, "?q=%25%25%25x").await.is_empty());
        // Combined with the other filters, and blank means no search.
        assert_eq!(
            names(feed(&app, "?q=disk&severity=warning").await),
            ["DiskFull"]
        );
        assert_eq!(feed(&app, "?q=%20%20").await.len(), 3);

        let too_long = format!("/api/v1/alerts?q={}", "x".repeat(201));
        let resp = app
            .admin
            .request(Method::GET, &too_long)
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422);
        let problem: Value = resp.json().await.unwrap();
        assert!(problem.to_string().contains("\"q\""), "{problem}");
    }
}

async fn summary(app: &TestApp) -> AlertSummary {
    get_json::<AlertSummary>(&app.admin, "/api/v1/alerts/summary").await
}

#[tokio::test]
async fn the_summary_counts_live_alerts_by_triage_state_and_severity_routed_or_not() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        seed_checkout(&app).await;
        assert_eq!(summary(&app).await, AlertSummary::default());
        let unrouted =
            json!({ "alertname": "DiskFull", "instance": "db-7", "severity": "warning" });
        let firing =
            |fp: &str, labels: Value| am_alert("firing", fp, "2026-11-25T10:00:00Z", labels);
        notify(
            &app,
            &payload(
                vec![
                    firing("s1", checkout_labels("critical")),
                    firing("s2", checkout_labels("critical")),
                    firing("s3", unrouted.clone()),
                ],
                0,
            ),
        )
        .await;
        let s = summary(&app).await;
        assert_eq!(
            (s.open.critical, s.open.warning, s.open.info),
            (2, 1, 0),
            "{s:?}"
        );
        assert_eq!(s.acknowledged.total() + s.escalated.total(), 0, "{s:?}");

        // Taking one moves it out of `open`; the source resolving another drops it.
        let alerts = feed(&app, "").await;
        let id = |fp: &str| alerts.iter().find(|a| a.fingerprint == fp).unwrap().id;
        let operator = app.user_with_role(Role::Operator).await;
        assert_eq!(
            triage(&operator, id("s1"), "acknowledge", json!({}))
                .await
                .status(),
            200
        );
        assert_eq!(
            triage(&operator, id("s3"), "escalate", json!({ "target": "dba" }))
                .await
                .status(),
            200
        );
        notify(
            &app,
            &payload(
                vec![am_alert(
                    "resolved",
                    "s2",
                    "2026-11-25T10:00:00Z",
                    checkout_labels("critical"),
                )],
                0,
            ),
        )
        .await;
        let s = summary(&app).await;
        assert_eq!(s.open, AlertCounts::default(), "{s:?}");
        assert_eq!(
            (s.acknowledged.critical, s.acknowledged.total()),
            (1, 1),
            "{s:?}"
        );
        assert_eq!((s.escalated.warning, s.escalated.total()), (1, 1), "{s:?}");

        // Viewers may read it; without a token it is 401.
        let viewer = app.user_with_role(Role::Viewer).await;
        let resp = viewer
            .request(Method::GET, "/api/v1/alerts/summary")
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let anonymous = reqwest::get(format!(
            "{}/api/v1/alerts/summary",
            app.url.trim_end_matches('/')
        ))
        .await
        .unwrap();
        assert_eq!(anonymous.status(), 401);
    }
}

#[tokio::test]
async fn alerts_and_deployments_within_the_hour_are_shown_next_to_each_other() {
    use flightdeck_model::AlertDeployments;
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        app.seed_target("checkout-api", "production", 30).await;
        let resp = create_component(
            &app,
            json!({ "slug": "checkout", "name": "Checkout", "service": "checkout-api",
                    "matchers": ["service=\"checkout-api\""] }),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let deployment = app.deploy("checkout-api", "production", "1.43.0").await;

        // One alert starts just after the deploy, one started hours before it, one is unrouted.
        let at = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let now = Utc::now();
        notify(
            &app,
            &payload(
                vec![
                    am_alert(
                        "firing",
                        "after",
                        &at(now + chrono::TimeDelta::seconds(5)),
                        checkout_labels("critical"),
                    ),
                    am_alert(
                        "firing",
                        "before",
                        &at(now - chrono::TimeDelta::hours(3)),
                        checkout_labels("warning"),
                    ),
                    am_alert(
                        "firing",
                        "elsewhere",
                        &at(now),
                        json!({ "alertname": "DiskFull", "severity": "warning" }),
                    ),
                ],
                0,
            ),
        )
        .await;
        let alerts = feed(&app, "").await;
        let changes = |fp: &str| {
            let id = alerts.iter().find(|a| a.fingerprint == fp).unwrap().id;
            let admin = &app.admin;
            async move {
                get_json::<AlertDeployments>(admin, &format!("/api/v1/alerts/{id}/deployments"))
                    .await
            }
        };
        let after = changes("after").await;
        assert_eq!(
            (after.component.as_deref(), after.service.as_deref()),
            (Some("checkout"), Some("checkout-api"))
        );
        assert_eq!(after.window_minutes, 60);
        let ids: Vec<_> = after.deployments.iter().map(|d| d.id).collect();
        assert_eq!(ids, vec![deployment.id]);

        let before = changes("before").await;
        assert!(
            before.deployments.is_empty(),
            "the deploy came after it: {before:?}"
        );
        let elsewhere = changes("elsewhere").await;
        assert_eq!((elsewhere.component, elsewhere.service), (None, None));
        assert!(elsewhere.deployments.is_empty());

        let missing = app
            .admin
            .request(
                Method::GET,
                &format!("/api/v1/alerts/{}/deployments", uuid::Uuid::now_v7()),
            )
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        // The other way round, from the deployment: the alert that started after it, not the
        // one that started hours before, nor the one on no component.
        let after_deploy: flightdeck_model::DeploymentAlerts = get_json(
            &app.admin,
            &format!("/api/v1/deployments/{}/alerts", deployment.id),
        )
        .await;
        assert_eq!(after_deploy.components, vec!["checkout".to_owned()]);
        assert_eq!(after_deploy.next, None);
        let fps: Vec<_> = after_deploy
            .alerts
            .iter()
            .map(|a| a.fingerprint.as_str())
            .collect();
        assert_eq!(fps, vec!["after"]);

        // A later deploy to the same target (before the alert started, seconds from now) owns
        // the alert: the first one's window ends where the next was created.
        let token = deployment.callback.as_ref().unwrap().token.clone();
        app.client
            .report_status(
                deployment.id,
                &token,
                &flightdeck_model::StatusReport {
                    status: flightdeck_model::DeploymentStatus::Succeeded,
                    message: None,
                    url: None,
                    log: vec![],
                },
            )
            .await
            .unwrap();
        let next = app.deploy("checkout-api", "production", "1.44.0").await;
        let alerts_after = |id: uuid::Uuid| {
            let admin = &app.admin;
            async move {
                get_json::<flightdeck_model::DeploymentAlerts>(
                    admin,
                    &format!("/api/v1/deployments/{id}/alerts"),
                )
                .await
            }
        };
        let first = alerts_after(deployment.id).await;
        assert_eq!(first.next.as_ref().map(|d| d.id), Some(next.id));
        assert!(first.alerts.is_empty(), "{first:?}");
        let fps: Vec<_> = alerts_after(next.id)
            .await
            .alerts
            .into_iter()
            .map(|a| a.fingerprint)
            .collect();
        assert_eq!(fps, vec!["after".to_owned()]);
        let missing = app
            .admin
            .request(
                Method::GET,
                &format!("/api/v1/deployments/{}/alerts", uuid::Uuid::now_v7()),
            )
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
    }
}

async fn triage(
    client: &flightdeck_client::Client,
    id: uuid::Uuid,
    action: &str,
    body: Value,
) -> reqwest::Response {
    client
        .request(Method::POST, &format!("/api/v1/alerts/{id}/{action}"))
        .unwrap()
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn triage_records_who_when_and_the_note_as_alert_events_and_audit_entries() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        seed_checkout(&app).await;
        notify(
            &app,
            &payload(
                vec![am_alert(
                    "firing",
                    "t1",
                    "2026-11-25T10:00:00Z",
                    checkout_labels("critical"),
                )],
                0,
            ),
        )
        .await;
        let id = feed(&app, "").await[0].id;
        let operator = app.user_with_role(Role::Operator).await;
        let viewer = app.user_with_role(Role::Viewer).await;
        assert_eq!(
            triage(&viewer, id, "acknowledge", json!({})).await.status(),
            403
        );

        let resp = triage(
            &operator,
            id,
            "acknowledge",
            json!({ "note": "looking at the pool" }),
        )
        .await;
        assert_eq!(resp.status(), 200);
        let acked: AlertDetail = resp.json().await.unwrap();
        assert_eq!(acked.alert.state, TriageState::Acknowledged);
        assert!(
            acked
                .alert
                .acknowledged_by
                .as_deref()
                .unwrap()
                .starts_with("operator-")
        );
        assert!(acked.alert.acknowledged_at.is_some());
        assert_eq!(
            acked.alert.last_note.as_deref(),
            Some("looking at the pool")
        );
        assert_eq!(
            triage(&operator, id, "acknowledge", json!({}))
                .await
                .status(),
            409
        );
        // Acknowledging says someone is on it, not that it is fixed.
        assert_eq!(
            component(&app, "checkout").await.status,
            ComponentStatus::MajorOutage
        );

        let long = "x".repeat(2001);
        assert_eq!(
            triage(&operator, id, "escalate", json!({ "note": long }))
                .await
                .status(),
            422
        );
        let resp = triage(
            &operator,
            id,
            "escalate",
            json!({ "target": "dba-oncall", "note": "need a DBA" }),
        )
        .await;
        let escalated: AlertDetail = resp.json().await.unwrap();
        assert_eq!(escalated.alert.state, TriageState::Escalated);
        assert_eq!(escalated.alert.escalation_level, 1);

        let resp = triage(&operator, id, "resolve", json!({ "note": "pool resized" })).await;
        let resolved: AlertDetail = resp.json().await.unwrap();
        assert_eq!(resolved.alert.state, TriageState::Resolved);
        assert_eq!(
            triage(&operator, id, "resolve", json!({})).await.status(),
            409
        );
        assert_eq!(
            component(&app, "checkout").await.status,
            ComponentStatus::Operational
        );

        let detail: AlertDetail = get_json(&app.admin, &format!("/api/v1/alerts/{id}")).await;
        let actions: Vec<_> = detail.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["fire", "acknowledge", "escalate", "resolve"]);
        assert_eq!(detail.events[2].target.as_deref(), Some("dba-oncall"));
        assert_eq!(detail.events[3].note.as_deref(), Some("pool resized"));

        let audit = app
            .admin
            .list_audit(&flightdeck_model::AuditQuery {
                action: Some("alert.".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut audited: Vec<_> = audit.items.iter().map(|e| e.action.as_str()).collect();
        audited.sort();
        assert_eq!(
            audited,
            ["alert.acknowledge", "alert.escalate", "alert.resolve"]
        );
        assert!(
            audit
                .items
                .iter()
                .any(|e| e.reason.as_deref() == Some("need a DBA"))
        );

        let missing = triage(&operator, uuid::Uuid::now_v7(), "acknowledge", json!({})).await;
        assert_eq!(missing.status(), 404);
    }
}

/// Debian's Alertmanager, on a free port with its own config and storage, killed on drop.
struct Alertmanager {
    child: std::process::Child,
    url: String,
    _dir: TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const ALERTMANAGER_BIN: &str = "/usr/bin/prometheus-alertmanager";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_alertmanager(webhook_url: &str) -> Alertmanager {
    assert!(
        std::path::Path::new(ALERTMANAGER_BIN).exists(),
        "{ALERTMANAGER_BIN} is missing: install Debian's prometheus-alertmanager \
         (scripts/ensure-test-deps.sh does)"
    );
    let dir =
        std::env::temp_dir().join(format!("fd-alertmanager-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let config = format!(
        "route:\n  receiver: flightdeck\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n\
         receivers:\n  - name: flightdeck\n    webhook_configs:\n      - url: '{webhook_url}'\n        send_resolved: true\n\
         \x20       http_config:\n          authorization:\n            credentials: '{SECRET}'\n"
    );
    std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
    let port = free_port();
    let child = std::process::Command::new(ALERTMANAGER_BIN)
        .arg(format!(
            "--config.file={}",
            dir.join("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {ALERTMANAGER_BIN}: {e}"));
    let am = Alertmanager {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: TempDir(dir),
    };
    // An external process: poll its readiness endpoint until it answers.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("{}/-/ready", am.url)).await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return am;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Alertmanager did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post_to_alertmanager(am: &Alertmanager, alerts: Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v2/alerts", am.url))
        .json(&alerts)
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "Alertmanager refused: {}",
        resp.status()
    );
}

async fn wait_for_feed(app: &TestApp, what: &str, done: impl Fn(&[Alert]) -> bool) -> Vec<Alert> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let alerts = feed(app, "").await;
        if done(&alerts) {
            return alerts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {alerts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn alerts_posted_to_a_real_alertmanager_arrive_resolve_and_do_not_duplicate() {
    for backend in BACKENDS {
        real_alertmanager_round_trip(backend).await;
    }
}

async fn real_alertmanager_round_trip(backend: Backend) {
    let app = app_with_secret(backend).await;
    seed_checkout(&app).await;
    let am = start_alertmanager(&format!("{}{WEBHOOK}", app.url.trim_end_matches('/'))).await;
    let starts_at: DateTime<Utc> = Utc::now() - chrono::Duration::minutes(1);
    let alert = |ends_at: Option<DateTime<Utc>>| {
        let mut a = json!({
            "labels": { "alertname": "CheckoutErrors", "service": "checkout-api", "severity": "critical" },
            "annotations": { "summary": "5xx above 5%" },
            "startsAt": starts_at, "generatorURL": "http://prometheus.test/graph",
        });
        if let Some(end) = ends_at {
            a["endsAt"] = json!(end);
        }
        json!([a])
    };

    post_to_alertmanager(&am, alert(None)).await;
    let alerts = wait_for_feed(&app, "the firing alert", |a| !a.is_empty()).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].severity, AlertSeverity::Critical);
    assert_eq!(alerts[0].component.as_deref(), Some("checkout"));
    assert_eq!(alerts[0].name, "CheckoutErrors");
    assert_eq!(
        alerts[0].generator_url.as_deref(),
        Some("http://prometheus.test/graph"),
        "Alertmanager passes the rule's link through"
    );
    assert_eq!(
        component(&app, "checkout").await.status,
        ComponentStatus::MajorOutage
    );

    // Repeats: posted again, still one episode here.
    post_to_alertmanager(&am, alert(None)).await;
    post_to_alertmanager(&am, alert(None)).await;
    tokio::time::sleep(Duration::from_secs(3)).await; // past group_interval: any resend has happened
    assert_eq!(feed(&app, "").await.len(), 1);

    // Resolved there (endsAt in the past) → resolved here.
    post_to_alertmanager(&am, alert(Some(Utc::now() - chrono::Duration::seconds(1)))).await;
    let alerts = wait_for_feed(&app, "the resolution", |a| {
        a.first().is_some_and(|a| a.state == TriageState::Resolved)
    })
    .await;
    assert_eq!(alerts.len(), 1, "resolving never opens a second episode");
    assert_eq!(alerts[0].source_status, AlertSourceStatus::Resolved);
    assert_eq!(
        component(&app, "checkout").await.status,
        ComponentStatus::Operational
    );
}

#[tokio::test]
async fn queued_notifications_apply_in_arrival_order() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        seed_checkout(&app).await;
        let start = "2026-11-25T10:00:00Z";
        let state = |status: &str| {
            serde_json::to_vec(&payload(
                vec![am_alert(status, "o1", start, checkout_labels("critical"))],
                0,
            ))
            .unwrap()
        };
        // Sent back to back without waiting for the applier: fire, resolve, fire again (a stale
        // resend), resolve. The episode ends resolved, with one fire and one resolve.
        let mut last = None;
        for status in ["firing", "resolved", "firing", "resolved"] {
            let resp = post(&app, Some(SECRET), state(status)).await;
            assert_eq!(resp.status(), 202);
            let accepted: flightdeck_model::AlertsAccepted = resp.json().await.unwrap();
            last = Some(accepted.delivery);
        }
        wait_applied(&app, last.unwrap()).await;
        let alerts = feed(&app, "").await;
        assert_eq!(alerts.len(), 1, "{backend:?}");
        assert_eq!(alerts[0].state, TriageState::Resolved);
        let detail: AlertDetail =
            get_json(&app.admin, &format!("/api/v1/alerts/{}", alerts[0].id)).await;
        let actions: Vec<_> = detail.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["fire", "resolve"], "{backend:?}");
    }
}

#[tokio::test]
async fn a_stored_notification_that_cannot_be_read_is_set_aside_and_the_rest_still_apply() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        seed_checkout(&app).await;
        // A row as an older version might have stored it, which this one cannot read.
        let bad = uuid::Uuid::now_v7();
        let mut tx = app.store.begin().await.unwrap();
        tx.insert_inbox(&flightdeck_store::NewInbox {
            id: bad,
            source: "alertmanager".into(),
            delivery_id: bad.to_string(),
            event_type: None,
            body: r#"{"version":"5","alerts":[]}"#.into(),
            now: Utc::now(),
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let good = payload(
            vec![am_alert(
                "firing",
                "after-bad",
                "2026-11-25T10:00:00Z",
                checkout_labels("warning"),
            )],
            0,
        );
        assert_eq!(notify(&app, &good).await.changed, 1, "{backend:?}");
        let row = app
            .store
            .conn()
            .await
            .unwrap()
            .inbox_delivery(bad)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.state, flightdeck_store::InboxState::Failed);
        assert!(row.note.unwrap().contains("version 5"));
        let failed: Page<Value> = get_json(
            &app.admin,
            "/api/v1/webhooks/deliveries?source=alertmanager&state=failed",
        )
        .await;
        assert_eq!(failed.items.len(), 1);
        assert_eq!(failed.items[0]["id"], bad.to_string());
        let alertmanager: Page<Value> = get_json(
            &app.admin,
            "/api/v1/webhooks/deliveries?source=alertmanager",
        )
        .await;
        assert_eq!(
            alertmanager.items.len(),
            2,
            "the failed one and the applied one"
        );
        let github: Page<Value> =
            get_json(&app.admin, "/api/v1/webhooks/deliveries?source=github").await;
        assert!(github.items.is_empty());
    }
}

#[tokio::test]
async fn notifications_taken_by_a_replica_without_workers_are_applied_by_one_with_them() {
    let database_url = database_url(Backend::Postgres).await;
    let secret = |s: &mut flightdeck_server::Settings| {
        s.webhook_secrets
            .insert("alertmanager".into(), Secret::new(SECRET));
    };
    let mut api_only = test_settings(database_url.clone());
    secret(&mut api_only);
    api_only.run_workers = false;
    let api = spawn_with_settings(api_only).await;
    seed_checkout(&api).await;
    let body = payload(
        vec![am_alert(
            "firing",
            "r1",
            "2026-11-25T10:00:00Z",
            checkout_labels("critical"),
        )],
        0,
    );
    let resp = post(&api, Some(SECRET), serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(resp.status(), 202);
    let accepted: flightdeck_model::AlertsAccepted = resp.json().await.unwrap();
    assert_eq!((accepted.received, accepted.truncated_alerts), (1, 0));
    // Stored, not applied: this replica runs no workers.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(feed(&api, "").await.is_empty());
    let mut db = api.store.conn().await.unwrap();
    assert_eq!(
        db.inbox_delivery(accepted.delivery)
            .await
            .unwrap()
            .unwrap()
            .state,
        flightdeck_store::InboxState::Pending
    );

    let mut worker = test_settings(database_url);
    secret(&mut worker);
    let with_workers = spawn_with_settings(worker).await;
    let note = wait_applied(&with_workers, accepted.delivery).await;
    assert_eq!(note, "1 alerts; 1 episodes opened or changed");
    let alerts = feed(&api, "").await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].component.as_deref(), Some("checkout"));
}
