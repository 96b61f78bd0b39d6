//! Notifications end to end: an alert posted as Alertmanager sends it, or a deployment that
//! fails, reaches a generic webhook (a local recording server), Slack (a stub replaying Slack's
//! recorded answers) and email (a real SMTP server, aiosmtpd) with retries and a delivery log;
//! silences and maintenance windows suppress sending but not recording; bad channel
//! configuration is refused.

use std::time::Duration;

use chrono::Utc;
use flightdeck_integrations::testing::{
    slack::SlackStub,
    smtp::SmtpServer,
    upstream::{Reply, TestServer, eventually},
};
use flightdeck_model::{
    Alert, AuditEntry, AuditQuery, Delivery, DeliveryStatus, MASK, NotificationChannel, Page,
    SilenceState, SilenceView,
};
use flightdeck_server::{Settings, settings::Secret};
use reqwest::Method;
use serde_json::{Value, json};

use crate::components::{create_component, get_json};
use crate::helpers::*;

const SECRET: &str = "alertmanager-bearer-token";
const DEADLINE: Duration = Duration::from_secs(20);

/// Fast retries so a test sees several attempts in well under a second.
fn configure(s: &mut Settings, max_attempts: u32) {
    s.webhook_secrets
        .insert("alertmanager".into(), Secret::new(SECRET));
    s.notify.poll_ms = 100;
    s.notify.backoff_base_ms = 50;
    s.notify.max_attempts = max_attempts;
    s.public_url = Some("https://flightdeck.example.com".into());
}

async fn app(backend: Backend, max_attempts: u32) -> TestApp {
    spawn_app_with(backend, |s| configure(s, max_attempts)).await
}

fn alert_payload(fingerprint: &str, severity: &str) -> Value {
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "flightdeck", "groupLabels": { "alertname": "HighErrorRate" },
        "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": { "alertname": "HighErrorRate", "service": "checkout-api", "severity": severity },
            "annotations": { "summary": "5% of checkout requests fail" },
            // Fixed, so a repeat is the same episode.
            "startsAt": "2026-11-25T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": fingerprint,
        }],
    })
}

async fn fire(app: &TestApp, fingerprint: &str, severity: &str) {
    let payload = alert_payload(fingerprint, severity);
    notify_alerts(app, "/api/v1/webhooks/alertmanager", SECRET, &payload).await;
}

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = app.admin.request(method, path).unwrap();
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

async fn create_channel(app: &TestApp, body: Value) -> NotificationChannel {
    let resp = send(
        app,
        Method::POST,
        "/api/v1/notification-channels",
        Some(body),
    )
    .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    resp.json().await.unwrap()
}

fn webhook_channel(name: &str, url: &str) -> Value {
    json!({
        "name": name,
        "config": { "kind": "webhook", "url": url, "headers": [
            { "name": "X-Team", "value": "payments" },
            { "name": "X-Token", "value": "s3cr3t-token", "secret": true },
        ]},
    })
}

async fn deliveries(app: &TestApp, query: &str) -> Vec<Delivery> {
    get_json::<Page<Delivery>>(
        &app.admin,
        &format!("/api/v1/notifications/deliveries{query}"),
    )
    .await
    .items
}

/// Waits for the channel's only delivery to reach `status`.
async fn settled(app: &TestApp, channel: &NotificationChannel, status: DeliveryStatus) -> Delivery {
    let query = format!("?channel={}", channel.id);
    eventually(
        &format!("a {status:?} delivery on {}", channel.name),
        DEADLINE,
        || async {
            let found = deliveries(app, &query).await;
            assert!(
                found.len() <= 1,
                "one delivery per event and channel: {found:#?}"
            );
            found.into_iter().find(|d| d.status == status)
        },
    )
    .await
}

#[tokio::test]
async fn a_webhook_channel_retries_after_a_500_and_delivers_the_firing_alert_once() {
    for backend in BACKENDS {
        let app = app(backend, 5).await;
        let receiver = TestServer::replaying(vec![
            Reply::text(500, "upstream hiccup"),
            Reply::text(200, "thanks"),
        ])
        .await;
        let channel = create_channel(&app, webhook_channel("ops-hook", &receiver.url)).await;
        // Secrets never come back; plain headers do.
        let shown = serde_json::to_value(&channel.config).unwrap();
        assert_eq!(shown["headers"][0]["value"], "payments");
        assert_eq!(shown["headers"][1]["value"], MASK);

        fire(&app, "fp-hook", "critical").await;
        let d = settled(&app, &channel, DeliveryStatus::Sent).await;
        assert_eq!(d.attempts, 2, "{backend:?}: one failure, one success");
        assert!(d.last_error.as_deref().unwrap().contains("500"), "{d:?}");
        assert_eq!(d.channel_kind, "webhook");

        let requests = receiver.requests();
        assert_eq!(requests.len(), 2);
        let last = &requests[1];
        assert_eq!(last.header("x-token"), Some("s3cr3t-token"));
        assert_eq!(last.header("x-team"), Some("payments"));
        let body = last.json();
        assert_eq!(body["event"], "alert.firing");
        assert_eq!(body["title"], "[FIRING] HighErrorRate (critical)", "{body}");
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .contains("5% of checkout requests fail")
        );
        let alert: Alert = get_json::<Page<Alert>>(&app.admin, "/api/v1/alerts")
            .await
            .items
            .remove(0);
        assert_eq!(
            body["link"],
            format!("https://flightdeck.example.com/alerts/{}", alert.id)
        );

        // Re-posting the same state changes nothing and sends nothing more.
        fire(&app, "fp-hook", "critical").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(deliveries(&app, "").await.len(), 1);
        assert_eq!(receiver.requests().len(), 2);
    }
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_is_failed_after_the_last_attempt() {
    for backend in BACKENDS {
        let app = app(backend, 3).await;
        let receiver = TestServer::start(|_| Reply::text(503, "down for good")).await;
        let channel = create_channel(&app, webhook_channel("dead-hook", &receiver.url)).await;
        fire(&app, "fp-dead", "warning").await;
        let d = settled(&app, &channel, DeliveryStatus::Failed).await;
        assert_eq!(d.attempts, 3, "{backend:?}");
        assert!(d.last_error.as_deref().unwrap().contains("503"), "{d:?}");
        assert_eq!(receiver.requests().len(), 3);
        let failed = deliveries(&app, "?status=failed").await;
        assert_eq!(failed.len(), 1);
        assert!(deliveries(&app, "?status=sent").await.is_empty());
    }
}

#[tokio::test]
async fn slack_answers_are_honoured_rate_limits_retried_bad_webhooks_failed_at_once() {
    for backend in BACKENDS {
        let app = app(backend, 5).await;
        let limited = SlackStub::start(&["rate_limited", "ok"]).await;
        let gone = SlackStub::start(&["no_service"]).await;
        let malformed = SlackStub::start(&["invalid_payload"]).await;
        let mut channels = Vec::new();
        for (name, stub) in [
            ("slack-ok", &limited),
            ("slack-gone", &gone),
            ("slack-bad", &malformed),
        ] {
            let c = create_channel(
                &app,
                json!({ "name": name, "config": { "kind": "slack", "webhook_url": stub.url } }),
            )
            .await;
            // The webhook URL is the secret.
            assert_eq!(
                serde_json::to_value(&c.config).unwrap()["webhook_url"],
                MASK
            );
            channels.push(c);
        }
        fire(&app, "fp-slack", "critical").await;

        let sent = settled(&app, &channels[0], DeliveryStatus::Sent).await;
        assert_eq!(sent.attempts, 2, "{backend:?}: 429 then ok");
        assert!(sent.last_error.as_deref().unwrap().contains("429"));
        let received = limited.received();
        assert_eq!(received.len(), 2);
        let text = received[1]["text"].as_str().unwrap();
        assert!(
            text.starts_with("*[FIRING] HighErrorRate (critical)*"),
            "{text}"
        );
        assert!(text.contains("|Open in Flightdeck>"), "{text}");

        let gone_d = settled(&app, &channels[1], DeliveryStatus::Failed).await;
        assert_eq!(gone_d.attempts, 1, "no_service is permanent");
        assert!(
            gone_d
                .last_error
                .as_deref()
                .unwrap()
                .contains("404: no_service")
        );
        let bad_d = settled(&app, &channels[2], DeliveryStatus::Failed).await;
        assert_eq!(bad_d.attempts, 1);
        assert!(
            bad_d
                .last_error
                .as_deref()
                .unwrap()
                .contains("400: invalid_payload")
        );
        assert_eq!(gone.received().len(), 1);
    }
}

#[tokio::test]
async fn email_goes_through_a_real_smtp_server_and_a_refused_recipient_fails() {
    let smtp = SmtpServer::start().await;
    for backend in BACKENDS {
        let app = app(backend, 3).await;
        let before = smtp.messages().len();
        let email = |name: &str, to: &str| {
            json!({ "name": name, "config": {
                "kind": "email", "host": smtp.host, "port": smtp.port, "tls": "none",
                "from": "Flightdeck <flightdeck@example.com>", "to": [to],
                "username": "mailer", "password": "smtp-password",
            }})
        };
        // aiosmtpd offers no AUTH on a plain connection; a channel with credentials would be
        // refused there, so the accepted one goes without them.
        let mut ok_body = email("mail-oncall", "oncall@example.com");
        ok_body["config"]
            .as_object_mut()
            .unwrap()
            .remove("username");
        ok_body["config"]
            .as_object_mut()
            .unwrap()
            .remove("password");
        let ok = create_channel(&app, ok_body).await;
        let masked = create_channel(&app, email("mail-masked", "reject@example.com")).await;
        assert_eq!(
            serde_json::to_value(&masked.config).unwrap()["password"],
            MASK
        );
        // Without credentials the refused recipient is what fails it, permanently.
        let mut refused_body = email("mail-refused", "reject@example.com");
        refused_body["config"]
            .as_object_mut()
            .unwrap()
            .remove("username");
        refused_body["config"]
            .as_object_mut()
            .unwrap()
            .remove("password");
        let refused = create_channel(&app, refused_body).await;
        send(
            &app,
            Method::DELETE,
            &format!("/api/v1/notification-channels/{}", masked.id),
            None,
        )
        .await;

        fire(&app, "fp-mail", "critical").await;
        let d = settled(&app, &ok, DeliveryStatus::Sent).await;
        assert_eq!(d.attempts, 1, "{backend:?}");
        let messages = smtp.messages();
        assert_eq!(messages.len(), before + 1, "{messages:#?}");
        let mail = &messages[before];
        assert!(mail.contains("X-Envelope-To: oncall@example.com"), "{mail}");
        assert!(
            mail.contains("Subject: [FIRING] HighErrorRate (critical)"),
            "{mail}"
        );
        assert!(mail.contains("5% of checkout requests fail"), "{mail}");
        assert!(
            mail.contains("https://flightdeck.example.com/alerts/"),
            "{mail}"
        );

        let r = settled(&app, &refused, DeliveryStatus::Failed).await;
        assert_eq!(r.attempts, 1, "a 550 is permanent: {r:?}");
        assert!(r.last_error.as_deref().unwrap().contains("550"), "{r:?}");
    }
}

#[tokio::test]
async fn a_silence_suppresses_the_delivery_but_the_alert_is_recorded_and_expiring_it_resumes() {
    for backend in BACKENDS {
        let app = app(backend, 3).await;
        let receiver = TestServer::start(|_| Reply::text(200, "ok")).await;
        let channel = create_channel(&app, webhook_channel("silenced-hook", &receiver.url)).await;
        let operator = app.user_with_role(flightdeck_model::Role::Operator).await;
        let resp = operator
            .request(Method::POST, "/api/v1/silences")
            .unwrap()
            .json(&json!({
                "matchers": ["service=\"checkout-api\"", "severity=~\"critical|warning\""],
                "ends_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
                "comment": "planned failover drill",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let silence: SilenceView = resp.json().await.unwrap();
        assert_eq!(silence.state, SilenceState::Active);

        fire(&app, "fp-silenced", "critical").await;
        let d = settled(&app, &channel, DeliveryStatus::Suppressed).await;
        let reason = d.reason.unwrap();
        assert!(reason.contains(&silence.silence.id.to_string()), "{reason}");
        assert!(reason.contains("planned failover drill"), "{reason}");
        assert_eq!(d.attempts, 0);
        let feed = get_json::<Page<Alert>>(&app.admin, "/api/v1/alerts")
            .await
            .items;
        assert_eq!(
            feed.len(),
            1,
            "{backend:?}: the alert is recorded all the same"
        );
        assert!(receiver.requests().is_empty());

        // Expire it: the next alert is sent; expiring twice is a conflict.
        let path = format!("/api/v1/silences/{}", silence.silence.id);
        let resp = operator
            .request(Method::DELETE, &path)
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let expired: SilenceView = resp.json().await.unwrap();
        assert_eq!(expired.state, SilenceState::Expired);
        let again = operator
            .request(Method::DELETE, &path)
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 409);
        let listed =
            get_json::<Page<SilenceView>>(&app.admin, "/api/v1/silences?state=expired").await;
        assert_eq!(listed.items.len(), 1);
        let audit: Page<AuditEntry> = app
            .admin
            .list_audit(&AuditQuery {
                action: Some("silence.".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let actions: Vec<_> = audit.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["silence.expire", "silence.create"]);

        fire(&app, "fp-after", "critical").await;
        eventually("the next alert sent", DEADLINE, || async {
            deliveries(&app, "?status=sent").await.into_iter().next()
        })
        .await;
        assert_eq!(receiver.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_component_in_maintenance_suppresses_its_alerts_notifications() {
    for backend in BACKENDS {
        let app = app(backend, 3).await;
        let receiver = TestServer::start(|_| Reply::text(200, "ok")).await;
        let resp = create_component(
            &app,
            json!({
                "slug": "checkout", "name": "Checkout", "matchers": ["service=\"checkout-api\""],
                "maintenance": [{
                    "name": "database upgrade",
                    "starts_at": (Utc::now() - chrono::Duration::minutes(5)).to_rfc3339(),
                    "ends_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
                }],
            }),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let channel = create_channel(&app, webhook_channel("maint-hook", &receiver.url)).await;
        fire(&app, "fp-maint", "critical").await;
        let d = settled(&app, &channel, DeliveryStatus::Suppressed).await;
        let reason = d.reason.unwrap();
        assert!(
            reason.contains("`checkout` is in maintenance (database upgrade)"),
            "{backend:?}: {reason}"
        );
        assert!(receiver.requests().is_empty());

        // The window is removed early: the notifier's copy of the catalog follows at once, and
        // the next alert is sent.
        let resp = send(
            &app,
            Method::PATCH,
            "/api/v1/components/checkout",
            Some(json!({ "maintenance": [] })),
        )
        .await;
        assert_eq!(resp.status(), 200);
        fire(&app, "fp-after-maint", "critical").await;
        let query = format!("?channel={}", channel.id);
        let sent = eventually("the alert after maintenance sent", DEADLINE, || async {
            deliveries(&app, &query)
                .await
                .into_iter()
                .find(|d| d.status == DeliveryStatus::Sent)
        })
        .await;
        assert!(sent.reason.is_none(), "{backend:?}: {sent:?}");
        assert_eq!(receiver.requests().len(), 1, "{backend:?}");
    }
}

/// Deploys checkout-api 1.4.2 to staging and reports it failed: a `deployment.failed`.
async fn fail_a_deployment(app: &TestApp) -> flightdeck_model::Deployment {
    app.seed_target("checkout-api", "staging", 10).await;
    let created = app.deploy("checkout-api", "staging", "1.4.2").await;
    let token = created.callback.as_ref().unwrap().token.clone();
    app.client
        .report_status(
            created.id,
            &token,
            &flightdeck_model::StatusReport {
                status: flightdeck_model::DeploymentStatus::Failed,
                message: Some("smoke tests failed".into()),
                url: None,
                log: vec![],
            },
        )
        .await
        .unwrap();
    created
}

#[tokio::test]
async fn a_failed_deployment_is_delivered_to_channels_that_want_it() {
    for backend in BACKENDS {
        let app = app(backend, 3).await;
        let receiver = TestServer::start(|_| Reply::text(204, "")).await;
        let mut body = webhook_channel("deploy-hook", &receiver.url);
        body["filters"] = json!({ "events": ["deployment.failed"], "environments": ["staging"] });
        let channel = create_channel(&app, body).await;
        let created = fail_a_deployment(&app).await;
        // An alert is not among this channel's events.
        fire(&app, "fp-ignored", "critical").await;

        let d = settled(&app, &channel, DeliveryStatus::Sent).await;
        assert_eq!(d.dedupe_key, format!("deployment:{}:failed", created.id));
        let body = receiver.only_request().json();
        assert_eq!(body["event"], "deployment.failed", "{backend:?}");
        assert_eq!(
            body["title"],
            "[DEPLOYMENT FAILED] checkout-api 1.4.2 to staging"
        );
        assert_eq!(
            body["link"],
            format!("https://flightdeck.example.com/deployments/{}", created.id)
        );
    }
}

#[tokio::test]
async fn bad_channel_configuration_is_refused_and_nothing_is_written() {
    for backend in BACKENDS {
        let app = app(backend, 3).await;
        let cases = [
            (
                json!({ "name": "x", "config": { "kind": "webhook", "url": "not a url" } }),
                vec!["config.url"],
            ),
            (
                json!({ "name": "", "config": { "kind": "email", "host": "smtp.example.com",
                    "port": 0, "from": "nobody", "to": [] } }),
                vec!["name", "config.port", "config.from", "config.to"],
            ),
            (
                json!({ "name": "s", "config": { "kind": "slack", "webhook_url": MASK } }),
                vec!["config.webhook_url"],
            ),
            (
                json!({ "name": "f", "config": { "kind": "slack", "webhook_url": "https://hooks.slack.com/x" },
                        "filters": { "events": [] } }),
                vec!["filters.events"],
            ),
        ];
        for (body, fields) in cases {
            let resp = send(
                &app,
                Method::POST,
                "/api/v1/notification-channels",
                Some(body),
            )
            .await;
            assert_eq!(resp.status(), 422, "{backend:?}");
            let problem: Value = resp.json().await.unwrap();
            let got: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("{problem}"))
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert_eq!(got, fields, "{problem}");
        }
        // Wrong shape (an unknown kind) is 422 too; malformed JSON is 400.
        let resp = send(
            &app,
            Method::POST,
            "/api/v1/notification-channels",
            Some(json!({ "name": "p", "config": { "kind": "pager" } })),
        )
        .await;
        assert_eq!(resp.status(), 422);
        let resp = app
            .admin
            .request(Method::POST, "/api/v1/notification-channels")
            .unwrap()
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let bad_silence = send(
            &app,
            Method::POST,
            "/api/v1/silences",
            Some(
                json!({ "matchers": ["service=~\".*\""], "ends_at": Utc::now().to_rfc3339(),
                         "comment": "" }),
            ),
        )
        .await;
        assert_eq!(bad_silence.status(), 422);
        let bad_status = app
            .admin
            .request(Method::GET, "/api/v1/notifications/deliveries?status=lost")
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(bad_status.status(), 400);

        let channels =
            get_json::<Page<NotificationChannel>>(&app.admin, "/api/v1/notification-channels")
                .await;
        assert!(channels.items.is_empty(), "{backend:?}: nothing written");
        let silences = get_json::<Page<SilenceView>>(&app.admin, "/api/v1/silences").await;
        assert!(silences.items.is_empty());
    }
}

#[tokio::test]
async fn a_channel_is_edited_without_retyping_its_secrets_and_tested_on_demand() {
    for backend in BACKENDS {
        let app = app(backend, 3).await;
        let receiver = TestServer::start(|_| Reply::text(200, "ok")).await;
        let channel = create_channel(&app, webhook_channel("edit-hook", &receiver.url)).await;
        let path = format!("/api/v1/notification-channels/{}", channel.id);
        // Send back what was shown (the mask) with a new name: the secret is kept.
        let mut edited = serde_json::to_value(&channel).unwrap();
        edited["name"] = json!("edited-hook");
        let resp = send(&app, Method::PUT, &path, Some(edited)).await;
        assert_eq!(resp.status(), 200, "{backend:?}");
        let resp = send(&app, Method::POST, &format!("{path}/test"), None).await;
        assert_eq!(resp.status(), 200);
        let result: Value = resp.json().await.unwrap();
        assert_eq!(result["ok"], true, "{result}");
        let request = receiver.only_request();
        assert_eq!(request.header("x-token"), Some("s3cr3t-token"));
        assert!(
            request.json()["title"]
                .as_str()
                .unwrap()
                .contains("edited-hook")
        );

        let dead = TestServer::start(|_| Reply::text(404, "no such hook")).await;
        let broken = create_channel(&app, webhook_channel("broken-hook", &dead.url)).await;
        let resp = send(
            &app,
            Method::POST,
            &format!("/api/v1/notification-channels/{}/test", broken.id),
            None,
        )
        .await;
        let result: Value = resp.json().await.unwrap();
        assert_eq!(result["ok"], false);
        assert!(
            result["error"].as_str().unwrap().contains("404"),
            "{result}"
        );

        let resp = send(&app, Method::DELETE, &path, None).await;
        assert_eq!(resp.status(), 204);
        let resp = send(&app, Method::GET, &path, None).await;
        assert_eq!(resp.status(), 404);
    }
}

#[tokio::test]
async fn events_recorded_while_no_notifier_runs_are_delivered_when_one_starts() {
    for backend in BACKENDS {
        let url = database_url(backend).await;
        let receiver = TestServer::start(|_| Reply::text(200, "ok")).await;
        // API replicas only (`FLIGHTDECK_RUN_WORKERS=false`): alerts are recorded, nothing sends.
        let mut settings = test_settings(url.clone());
        configure(&mut settings, 3);
        settings.run_workers = false;
        let api = spawn_with_settings(settings).await;
        let channel = create_channel(&api, webhook_channel("late-hook", &receiver.url)).await;
        let failed = fail_a_deployment(&api).await;
        // Stored, not applied: applying alert notifications is a worker's job too.
        let resp = reqwest::Client::new()
            .post(format!("{}/api/v1/webhooks/alertmanager", api.url))
            .bearer_auth(SECRET)
            .json(&alert_payload("fp-late", "critical"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(deliveries(&api, "").await.is_empty());

        // A process with workers starts later on the same database and resumes from the
        // persisted cursor: the failure recorded before it started is delivered, once; so is
        // the alert, once the process has applied the stored notification.
        let mut settings = test_settings(url);
        configure(&mut settings, 3);
        let worker = spawn_with_settings(settings).await;
        let query = format!("?channel={}", channel.id);
        let sent = eventually("both deliveries sent", DEADLINE, || async {
            let found = deliveries(&worker, &query).await;
            (found.len() == 2 && found.iter().all(|d| d.status == DeliveryStatus::Sent))
                .then_some(found)
        })
        .await;
        let mut keys: Vec<_> = sent.iter().map(|d| d.dedupe_key.clone()).collect();
        keys.sort();
        assert!(keys[0].starts_with("alert:"), "{backend:?}: {keys:?}");
        assert!(keys[0].ends_with(":firing"), "{backend:?}: {keys:?}");
        assert_eq!(keys[1], format!("deployment:{}:failed", failed.id));
        assert_eq!(receiver.requests().len(), 2);
    }
}

#[tokio::test]
async fn an_escalation_by_hand_is_sent_even_under_a_silence_and_resolutions_only_on_request() {
    for backend in BACKENDS {
        let app = app(backend, 3).await;
        let receiver = TestServer::start(|_| Reply::text(200, "ok")).await;
        let mut body = webhook_channel("escalation-hook", &receiver.url);
        body["filters"] =
            json!({ "events": ["alert.firing", "alert.escalated", "alert.resolved"] });
        let channel = create_channel(&app, body).await;
        let quiet = create_channel(&app, webhook_channel("default-hook", &receiver.url)).await;
        let resp = send(
            &app,
            Method::POST,
            "/api/v1/silences",
            Some(json!({ "matchers": ["alertname=\"HighErrorRate\""],
                         "ends_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
                         "comment": "known issue" })),
        )
        .await;
        assert_eq!(resp.status(), 201);
        fire(&app, "fp-escalate", "critical").await;
        settled(&app, &channel, DeliveryStatus::Suppressed).await;
        let alert = get_json::<Page<Alert>>(&app.admin, "/api/v1/alerts")
            .await
            .items
            .remove(0);

        let operator = app.user_with_role(flightdeck_model::Role::Operator).await;
        for action in ["escalate", "resolve"] {
            let resp = operator
                .request(
                    Method::POST,
                    &format!("/api/v1/alerts/{}/{action}", alert.id),
                )
                .unwrap()
                .json(&json!({ "note": "paging the database team", "target": "db-oncall" }))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{action}");
        }
        let mine = eventually(
            "three deliveries on the opted-in channel",
            DEADLINE,
            || async {
                let found = deliveries(&app, &format!("?channel={}", channel.id)).await;
                (found.len() == 3 && found.iter().all(|d| d.status != DeliveryStatus::Pending))
                    .then_some(found)
            },
        )
        .await;
        // Newest first: resolved (silenced: suppressed), escalated by hand (sent), fired (suppressed).
        let got: Vec<_> = mine
            .iter()
            .map(|d| (d.message.event.as_str(), d.status))
            .collect();
        assert_eq!(
            got,
            [
                ("alert.resolved", DeliveryStatus::Suppressed),
                ("alert.escalated", DeliveryStatus::Sent),
                ("alert.firing", DeliveryStatus::Suppressed),
            ],
            "{backend:?}"
        );
        assert_eq!(
            mine[1].dedupe_key,
            format!("alert:{}:escalated:1", alert.id)
        );
        // The channel with default filters got the escalation too (both post to the same
        // receiver), and never the resolution.
        eventually(
            "the escalation sent on the default channel",
            DEADLINE,
            || async {
                deliveries(&app, &format!("?channel={}&status=sent", quiet.id))
                    .await
                    .into_iter()
                    .next()
            },
        )
        .await;
        let requests = receiver.requests();
        assert_eq!(
            requests.len(),
            2,
            "only the escalation is sent, once per channel"
        );
        for r in &requests {
            let sent = r.json();
            assert_eq!(sent["title"], "[ESCALATED L1] HighErrorRate (critical)");
            assert!(
                sent["text"]
                    .as_str()
                    .unwrap()
                    .contains("Note: paging the database team")
            );
        }
        let theirs = deliveries(&app, &format!("?channel={}", quiet.id)).await;
        let events: Vec<_> = theirs.iter().map(|d| d.message.event.as_str()).collect();
        assert_eq!(events, ["alert.escalated", "alert.firing"]);
    }
}
