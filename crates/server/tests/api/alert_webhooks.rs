//! The generic alert webhook (`POST /api/v1/webhooks/alerts`) and the alert webhooks' secrets
//! managed through the secret API.

use flightdeck_model::{Alert, AlertDetail, AlertSeverity, ComponentStatus, Page, TriageState};
use flightdeck_server::settings::Secret;
use reqwest::Method;
use serde_json::{Value, json};

use crate::components::{create_component, get_json};
use crate::helpers::*;

const ALERTS_SECRET: &str = "generic-alerts-bearer-token";
const AM_SECRET: &str = "alertmanager-env-bearer-token";
const WEBHOOK: &str = "/api/v1/webhooks/alerts";

async fn app_with_secret(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.webhook_secrets
            .insert("alerts".into(), Secret::new(ALERTS_SECRET));
    })
    .await
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", app.url.trim_end_matches('/')))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

async fn notify(app: &TestApp, body: &Value) -> Ingested {
    notify_alerts(app, WEBHOOK, ALERTS_SECRET, body).await
}

/// Every stored delivery, in any state.
async fn stored_deliveries(app: &TestApp) -> usize {
    let mut db = app.store.conn().await.unwrap();
    db.list_inbox(None, None, None, 100).await.unwrap().len()
}

async fn feed(app: &TestApp) -> Vec<Alert> {
    get_json::<Page<Alert>>(&app.admin, "/api/v1/alerts")
        .await
        .items
}

async fn alert_live_events(app: &TestApp) -> usize {
    let mut db = app.store.conn().await.unwrap();
    db.events_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.starts_with("alert."))
        .count()
}

fn grafana(status: &str, fingerprint: Option<&str>) -> Value {
    let mut alert = json!({
        "name": "DiskAlmostFull", "severity": "critical", "status": status,
        "labels": { "service": "checkout-api", "mountpoint": "/var" },
        "annotations": { "summary": "/var is 97% full" },
        "starts_at": "2026-11-25T10:00:00.123Z",
        "generator_url": "https://grafana.example.com/alerting/grafana/disk-var/view",
    });
    if status == "resolved" {
        alert["ends_at"] = json!("2026-11-25T10:30:00Z");
    }
    if let Some(f) = fingerprint {
        alert["fingerprint"] = json!(f);
    }
    alert
}

#[tokio::test]
async fn other_sources_open_route_and_resolve_episodes_like_alertmanager() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        let resp = create_component(
            &app,
            json!({ "slug": "checkout", "name": "Checkout", "matchers": ["service=\"checkout-api\""] }),
        )
        .await;
        assert_eq!(resp.status(), 201);

        // One alert with its own fingerprint, one keyed by the hash of its labels.
        let firing = json!({ "source": "grafana", "alerts": [
            grafana("firing", Some("disk-var")),
            { "name": "HighLatency", "severity": "warning", "status": "firing",
              "labels": { "service": "checkout-api" }, "starts_at": "2026-11-25T10:01:00Z" },
        ]});
        let ingested = notify(&app, &firing).await;
        assert_eq!((ingested.received, ingested.changed), (2, 2));
        let alerts = feed(&app).await;
        assert_eq!(alerts.len(), 2, "{backend:?}");
        let disk = alerts.iter().find(|a| a.name == "DiskAlmostFull").unwrap();
        assert_eq!(disk.source, "grafana");
        assert_eq!(disk.fingerprint, "disk-var");
        assert_eq!(disk.severity, AlertSeverity::Critical);
        assert_eq!(disk.component.as_deref(), Some("checkout"));
        assert_eq!(disk.labels["alertname"], "DiskAlmostFull");
        assert_eq!(
            disk.generator_url.as_deref(),
            Some("https://grafana.example.com/alerting/grafana/disk-var/view")
        );
        let latency = alerts.iter().find(|a| a.name == "HighLatency").unwrap();
        assert_eq!(latency.severity, AlertSeverity::Warning);
        assert_eq!(latency.generator_url, None, "optional");
        assert_eq!(latency.fingerprint.len(), 32, "a hex hash of the labels");
        let checkout: flightdeck_model::ComponentDetail =
            get_json(&app.admin, "/api/v1/components/checkout").await;
        assert_eq!(checkout.component.status, ComponentStatus::MajorOutage);

        // The same notification again changes nothing, and the derived fingerprint is stable.
        assert_eq!(notify(&app, &firing).await.changed, 0);
        assert_eq!(feed(&app).await.len(), 2);

        let resolved =
            json!({ "source": "grafana", "alerts": [grafana("resolved", Some("disk-var"))] });
        assert_eq!(notify(&app, &resolved).await.changed, 1);
        let detail: AlertDetail =
            get_json(&app.admin, &format!("/api/v1/alerts/{}", disk.id)).await;
        assert_eq!(detail.alert.state, TriageState::Resolved);
        let history: Vec<_> = detail
            .events
            .iter()
            .map(|e| (e.action.as_str(), e.actor.as_str()))
            .collect();
        assert_eq!(history, [("fire", "grafana"), ("resolve", "grafana")]);
        let checkout: flightdeck_model::ComponentDetail =
            get_json(&app.admin, "/api/v1/components/checkout").await;
        assert_eq!(checkout.component.status, ComponentStatus::Degraded);

        // Another source with the same fingerprint is another alert.
        let other = json!({ "source": "datadog", "alerts": [grafana("firing", Some("disk-var"))] });
        assert_eq!(notify(&app, &other).await.changed, 1);
        assert_eq!(feed(&app).await.len(), 3);
    }
}

#[tokio::test]
async fn refused_generic_notifications_are_401_400_422_or_413_and_write_nothing() {
    for backend in BACKENDS {
        let app = app_with_secret(backend).await;
        let good = serde_json::to_vec(
            &json!({ "source": "grafana", "alerts": [grafana("firing", None)] }),
        )
        .unwrap();
        assert_eq!(post(&app, WEBHOOK, None, good.clone()).await.status(), 401);
        assert_eq!(
            post(&app, WEBHOOK, Some("wrong-token"), good.clone())
                .await
                .status(),
            401
        );
        assert_eq!(
            post(&app, WEBHOOK, Some(ALERTS_SECRET), b"{\"source\":".to_vec())
                .await
                .status(),
            400
        );
        let mut bad_severity = grafana("firing", None);
        bad_severity["severity"] = json!("apocalyptic");
        let mut no_name = grafana("firing", None);
        no_name.as_object_mut().unwrap().remove("name");
        let mut empty_name = grafana("firing", None);
        empty_name["name"] = json!(" ");
        let mut bad_status = grafana("firing", None);
        bad_status["status"] = json!("boiling");
        let mut bad_time = grafana("firing", None);
        bad_time["starts_at"] = json!("yesterday");
        let wrong_shapes = [
            // The second alert is bad: the first must not be stored either.
            json!({ "source": "grafana", "alerts": [grafana("firing", None), bad_severity] }),
            json!({ "source": "grafana", "alerts": [no_name] }),
            json!({ "source": "grafana", "alerts": [empty_name] }),
            json!({ "source": "grafana", "alerts": [bad_status] }),
            json!({ "source": "grafana", "alerts": [bad_time] }),
            json!({ "source": "Not A Name!", "alerts": [grafana("firing", None)] }),
            json!({ "source": "alertmanager", "alerts": [grafana("firing", None)] }),
            json!({ "alerts": [grafana("firing", None)] }),
            json!([grafana("firing", None)]),
        ];
        for body in wrong_shapes {
            let resp = post(
                &app,
                WEBHOOK,
                Some(ALERTS_SECRET),
                serde_json::to_vec(&body).unwrap(),
            )
            .await;
            assert_eq!(resp.status(), 422, "{body}");
            assert!(
                resp.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/problem+json")
            );
        }
        let huge = vec![b' '; 2 * 1024 * 1024];
        assert_eq!(
            post(&app, WEBHOOK, Some(ALERTS_SECRET), huge)
                .await
                .status(),
            413
        );
        assert!(feed(&app).await.is_empty());
        assert_eq!(alert_live_events(&app).await, 0);
        assert_eq!(
            stored_deliveries(&app).await,
            0,
            "refused input is never stored"
        );
    }
    // No secret configured: the source is refused.
    let app = spawn_app(Backend::Sqlite).await;
    let body = serde_json::to_vec(&json!({ "source": "grafana", "alerts": [] })).unwrap();
    assert_eq!(
        post(&app, WEBHOOK, Some(ALERTS_SECRET), body)
            .await
            .status(),
        401
    );
}

async fn put_secret(app: &TestApp, source: &str, secret: Option<&str>) -> Value {
    let resp = app
        .admin
        .request(Method::PUT, &format!("api/v1/webhooks/{source}/secret"))
        .unwrap()
        .json(&json!({ "secret": secret }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn am_payload() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "flightdeck", "alerts": [{
            "status": "firing", "labels": { "alertname": "HighErrorRate" }, "annotations": {},
            "startsAt": "2026-11-25T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": "f1",
        }],
    }))
    .unwrap()
}

#[tokio::test]
async fn admins_manage_the_alert_webhooks_secrets_and_the_api_wins_over_the_environment() {
    for backend in BACKENDS {
        let app = spawn_app_with(backend, |s| {
            s.webhook_secrets
                .insert("alertmanager".into(), Secret::new(AM_SECRET));
        })
        .await;
        const AM_PATH: &str = "/api/v1/webhooks/alertmanager";
        // The environment's secret works as before.
        assert_eq!(
            post(&app, AM_PATH, Some(AM_SECRET), am_payload())
                .await
                .status(),
            202
        );
        let status: Value = get_json(&app.admin, "/api/v1/webhooks/alertmanager/secret").await;
        assert_eq!(status["origin"], "environment");

        let rotated = "rotated-alertmanager-token-0123";
        let status = put_secret(&app, "alertmanager", Some(rotated)).await;
        assert_eq!(
            (&status["configured"], &status["origin"]),
            (&json!(true), &json!("api"))
        );
        assert!(!status.to_string().contains(rotated), "never echoed");
        assert_eq!(
            post(&app, AM_PATH, Some(AM_SECRET), am_payload())
                .await
                .status(),
            401,
            "the API's secret wins over the environment's"
        );
        assert_eq!(
            post(&app, AM_PATH, Some(rotated), am_payload())
                .await
                .status(),
            202
        );
        // Cleared: the environment's applies again.
        let status = put_secret(&app, "alertmanager", None).await;
        assert_eq!(status["origin"], "environment");
        assert_eq!(
            post(&app, AM_PATH, Some(AM_SECRET), am_payload())
                .await
                .status(),
            202
        );

        // The generic alert webhook: off until an admin sets a secret.
        let body = serde_json::to_vec(
            &json!({ "source": "grafana", "alerts": [grafana("firing", None)] }),
        )
        .unwrap();
        let status: Value = get_json(&app.admin, "/api/v1/webhooks/alerts/secret").await;
        assert_eq!(status["configured"], false);
        assert_eq!(
            post(&app, WEBHOOK, Some(ALERTS_SECRET), body.clone())
                .await
                .status(),
            401
        );
        put_secret(&app, "alerts", Some(ALERTS_SECRET)).await;
        assert_eq!(
            post(&app, WEBHOOK, Some(ALERTS_SECRET), body)
                .await
                .status(),
            202
        );

        // Too short a secret is refused and changes nothing.
        let resp = app
            .admin
            .request(Method::PUT, "api/v1/webhooks/alertmanager/secret")
            .unwrap()
            .json(&json!({ "secret": "short" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422);
        let status: Value = get_json(&app.admin, "/api/v1/webhooks/alertmanager/secret").await;
        assert_eq!(status["origin"], "environment");

        let audit = app
            .admin
            .list_audit(&flightdeck_model::AuditQuery {
                action: Some("webhook.".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let targets: Vec<_> = audit
            .items
            .iter()
            .map(|e| (e.action.as_str(), e.target_id.as_str()))
            .collect();
        assert_eq!(targets.len(), 3, "{targets:?}");
        assert!(targets.contains(&("webhook.secret_set", "alertmanager")));
        assert!(targets.contains(&("webhook.secret_cleared", "alertmanager")));
        assert!(targets.contains(&("webhook.secret_set", "alerts")));
        let text = serde_json::to_string(&audit).unwrap();
        assert!(!text.contains(rotated) && !text.contains(ALERTS_SECRET));
    }
}
