//! CI/CD webhooks end to end: signed as the real senders sign, stored durably, applied once by
//! the worker, never half-written when refused.

use std::time::Duration;

use flightdeck_model::{CreateEnvironment, CreateService, DeploymentStatus};
use flightdeck_server::settings::Secret;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

const GITHUB_SECRET: &str = "github-webhook-secret";
const GITLAB_SECRET: &str = "gitlab-webhook-token";

const GH_DEPLOYMENT: &str = include_str!("../../../webhooks/tests/fixtures/github_deployment.json");
const GH_STATUS: &str =
    include_str!("../../../webhooks/tests/fixtures/github_deployment_status.json");
const GITLAB_DEPLOYMENT: &str =
    include_str!("../../../webhooks/tests/fixtures/gitlab_deployment.json");

async fn app_with_secrets(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.webhook_secrets
            .insert("github".into(), Secret::new(GITHUB_SECRET));
        s.webhook_secrets
            .insert("gitlab".into(), Secret::new(GITLAB_SECRET));
    })
    .await
}

async fn seed_catalog(app: &TestApp) {
    app.admin
        .create_service(&CreateService {
            slug: "hello-world".into(),
            name: "Hello World".into(),
            team: None,
            repositories: vec![
                "https://github.com/Codertocat/Hello-World".into(),
                "root/test-deployment-webhooks".into(),
            ],
        })
        .await
        .unwrap();
    for (slug, rank) in [("staging", 20), ("production", 30)] {
        app.admin
            .create_environment(&CreateEnvironment {
                slug: slug.into(),
                name: slug.into(),
                rank,
                protected: false,
                aliases: vec![],
                freeze_windows: vec![],
            })
            .await
            .unwrap();
    }
}

async fn send_github(app: &TestApp, event: &str, delivery: &str, body: &str) -> reqwest::Response {
    app.client
        .request(Method::POST, "api/v1/webhooks/github")
        .unwrap()
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header(
            "x-hub-signature-256",
            flightdeck_webhooks::sign_github(GITHUB_SECRET.as_bytes(), body.as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// Waits until the worker has handled every stored delivery.
async fn settled(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let depth = app.store.conn().await.unwrap().inbox_depth().await.unwrap();
        if depth == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{depth} deliveries still pending"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn deliveries(app: &TestApp, state: &str) -> Vec<Value> {
    let page: Value = app
        .admin
        .request(
            Method::GET,
            &format!("api/v1/webhooks/deliveries?state={state}"),
        )
        .unwrap()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn github_deployment_events_create_and_finish_a_deployment_once() {
    for backend in BACKENDS {
        let app = app_with_secrets(backend).await;
        seed_catalog(&app).await;
        let first = send_github(&app, "deployment", "d-1", GH_DEPLOYMENT).await;
        assert_eq!(first.status(), 202);
        let again = send_github(&app, "deployment", "d-1", GH_DEPLOYMENT).await;
        let body: Value = again.json().await.unwrap();
        assert_eq!(body["duplicate"], true, "a redelivery is a no-op");
        assert_eq!(
            send_github(&app, "deployment_status", "d-2", GH_STATUS)
                .await
                .status(),
            202
        );
        settled(&app).await;

        let list = app
            .admin
            .list_deployments(&[("service", "hello-world")])
            .await
            .unwrap();
        assert_eq!(list.items.len(), 1, "one deployment for both events");
        let d = &list.items[0];
        assert_eq!(
            (
                d.environment.as_str(),
                d.version.as_str(),
                d.source.as_str()
            ),
            ("production", "master", "github")
        );
        assert_eq!(d.status, DeploymentStatus::Succeeded);
        let status = app.admin.environment_status("production").await.unwrap();
        assert_eq!(status.targets[0].current_version.as_deref(), Some("master"));
        assert_eq!(deliveries(&app, "applied").await.len(), 2);
    }
}

#[tokio::test]
async fn a_late_in_progress_report_never_moves_a_finished_deployment_back() {
    let app = app_with_secrets(Backend::Postgres).await;
    seed_catalog(&app).await;
    send_github(&app, "deployment_status", "s-success", GH_STATUS).await;
    settled(&app).await;
    let late = GH_STATUS.replace("\"state\": \"success\"", "\"state\": \"in_progress\"");
    assert_ne!(late, GH_STATUS, "the fixture changed shape");
    send_github(&app, "deployment_status", "s-late", &late).await;
    settled(&app).await;
    let d = &app.admin.list_deployments(&[]).await.unwrap().items[0];
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    let timeline = app.admin.deployment_events(d.id).await.unwrap();
    assert!(
        timeline.iter().any(|e| e.message.contains("ignored")),
        "{timeline:?}"
    );
}

#[tokio::test]
async fn gitlabs_documented_deployment_event_is_applied_with_its_token() {
    let app = app_with_secrets(Backend::Sqlite).await;
    seed_catalog(&app).await;
    let send = |token: &'static str| {
        app.client
            .request(Method::POST, "api/v1/webhooks/gitlab")
            .unwrap()
            .header("content-type", "application/json")
            .header("x-gitlab-event", "Deployment Hook")
            .header("x-gitlab-token", token)
            .header("idempotency-key", "gl-1")
            .body(GITLAB_DEPLOYMENT)
            .send()
    };
    assert_eq!(send("wrong").await.unwrap().status(), 401);
    assert_eq!(send(GITLAB_SECRET).await.unwrap().status(), 202);
    settled(&app).await;
    let d = &app
        .admin
        .list_deployments(&[("environment", "staging")])
        .await
        .unwrap()
        .items[0];
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    assert_eq!(d.source, "gitlab");
}

#[tokio::test]
async fn refused_deliveries_are_401_413_or_400_and_nothing_is_stored() {
    for backend in BACKENDS {
        let app = app_with_secrets(backend).await;
        seed_catalog(&app).await;
        let post = |sig: String, body: String| {
            app.client
                .request(Method::POST, "api/v1/webhooks/github")
                .unwrap()
                .header("x-github-event", "deployment")
                .header("x-github-delivery", "bad-1")
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
        };
        let tampered = GH_DEPLOYMENT.replace("master", "evil");
        let sig =
            flightdeck_webhooks::sign_github(GITHUB_SECRET.as_bytes(), GH_DEPLOYMENT.as_bytes());
        assert_eq!(
            post(sig, tampered).await.unwrap().status(),
            401,
            "signature over other bytes"
        );
        let wrong_key =
            flightdeck_webhooks::sign_github(b"not-the-secret", GH_DEPLOYMENT.as_bytes());
        assert_eq!(
            post(wrong_key, GH_DEPLOYMENT.into())
                .await
                .unwrap()
                .status(),
            401
        );
        let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(6 * 1024 * 1024));
        let huge_sig = flightdeck_webhooks::sign_github(GITHUB_SECRET.as_bytes(), huge.as_bytes());
        assert_eq!(post(huge_sig, huge).await.unwrap().status(), 413);
        let malformed = "{\"deployment\": ".to_owned();
        let malformed_sig =
            flightdeck_webhooks::sign_github(GITHUB_SECRET.as_bytes(), malformed.as_bytes());
        let resp = post(malformed_sig, malformed).await.unwrap();
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        // A source without a secret is refused outright.
        let argo = app
            .client
            .request(Method::POST, "api/v1/webhooks/argocd")
            .unwrap()
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(argo.status(), 401);

        let all = app
            .store
            .conn()
            .await
            .unwrap()
            .list_inbox(None, None, None, 10)
            .await
            .unwrap();
        assert!(all.is_empty(), "refused deliveries are never stored");
        assert!(
            app.admin
                .list_deployments(&[])
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
}

#[tokio::test]
async fn events_that_match_no_service_are_kept_and_listed_as_unmatched() {
    let app = app_with_secrets(Backend::Sqlite).await;
    // No catalog at all.
    assert_eq!(
        send_github(&app, "deployment", "u-1", GH_DEPLOYMENT)
            .await
            .status(),
        202
    );
    settled(&app).await;
    let unmatched = deliveries(&app, "unmatched").await;
    assert_eq!(unmatched.len(), 1);
    assert!(
        unmatched[0]["note"]
            .as_str()
            .unwrap()
            .contains("no service matches"),
        "{unmatched:?}"
    );
    assert_eq!(
        send_github(
            &app,
            "ping",
            "p-1",
            "{\"zen\": \"Keep it logically awesome.\", \"hook_id\": 1}"
        )
        .await
        .status(),
        202
    );
}

#[tokio::test]
async fn a_delivery_accepted_before_a_crash_is_applied_after_restart() {
    let dir = std::env::temp_dir().join(format!("fd-crash-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("fd.db").display());
    let start = |workers: bool| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"));
        cmd.arg("serve")
            .env("FLIGHTDECK_LISTEN", "127.0.0.1:0")
            .env("DATABASE_URL", &db)
            .env("FLIGHTDECK_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("FLIGHTDECK_WEBHOOK_SECRET_GITHUB", GITHUB_SECRET)
            .env(
                "FLIGHTDECK_RUN_WORKERS",
                if workers { "true" } else { "false" },
            )
            .env("FLIGHTDECK_LOG_FORMAT", "json")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        cmd.spawn().unwrap()
    };
    // First life: the API stores the delivery, then the process dies before any worker runs.
    let mut first = start(false);
    let url = crate::system::listening_url(first.stdout.take().unwrap()).await;
    let mut admin = flightdeck_client::Client::new(&url).unwrap();
    admin.login("admin", ADMIN_PASSWORD).await.unwrap();
    let client = admin.clone();
    client
        .create_service(&CreateService {
            slug: "hello-world".into(),
            name: "Hello".into(),
            team: None,
            repositories: vec!["Codertocat/Hello-World".into()],
        })
        .await
        .unwrap();
    client
        .create_environment(&CreateEnvironment {
            slug: "production".into(),
            name: "Production".into(),
            rank: 30,
            protected: false,
            aliases: vec![],
            freeze_windows: vec![],
        })
        .await
        .unwrap();
    let resp = flightdeck_client::Client::new(&url)
        .unwrap()
        .request(Method::POST, "api/v1/webhooks/github")
        .unwrap()
        .header("x-github-event", "deployment_status")
        .header("x-github-delivery", "crash-1")
        .header(
            "x-hub-signature-256",
            flightdeck_webhooks::sign_github(GITHUB_SECRET.as_bytes(), GH_STATUS.as_bytes()),
        )
        .body(GH_STATUS)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    first.kill().await.unwrap();
    assert!(
        client.list_deployments(&[]).await.is_err(),
        "the first process is gone"
    );

    // Second life: the worker finds the stored delivery and applies it.
    let mut second = start(true);
    let url = crate::system::listening_url(second.stdout.take().unwrap()).await;
    let mut admin = flightdeck_client::Client::new(&url).unwrap();
    admin.login("admin", ADMIN_PASSWORD).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let list = admin.list_deployments(&[]).await.unwrap();
        if let Some(d) = list.items.first() {
            assert_eq!(d.status, DeploymentStatus::Succeeded);
            assert_eq!(list.items.len(), 1);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stored delivery was never applied"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().await.unwrap();
}

#[tokio::test]
async fn an_admin_sets_a_source_secret_through_the_api_and_it_wins_over_the_environment() {
    let app = app_with_secrets(Backend::Postgres).await;
    seed_catalog(&app).await;
    let new_secret = "rotated-secret-0123456789";
    let resp = app
        .admin
        .request(Method::PUT, "api/v1/webhooks/github/secret")
        .unwrap()
        .json(&serde_json::json!({ "secret": new_secret }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let status: Value = resp.json().await.unwrap();
    assert_eq!(
        (status["configured"].clone(), status["origin"].clone()),
        (Value::Bool(true), Value::from("api"))
    );
    assert!(
        !status.to_string().contains(new_secret),
        "the secret is never echoed"
    );

    // The old (environment) secret no longer verifies; the new one does.
    assert_eq!(
        send_github(&app, "deployment", "r-1", GH_DEPLOYMENT)
            .await
            .status(),
        401
    );
    let signed = app
        .client
        .request(Method::POST, "api/v1/webhooks/github")
        .unwrap()
        .header("x-github-event", "deployment")
        .header("x-github-delivery", "r-2")
        .header(
            "x-hub-signature-256",
            flightdeck_webhooks::sign_github(new_secret.as_bytes(), GH_DEPLOYMENT.as_bytes()),
        )
        .body(GH_DEPLOYMENT)
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 202);
    let audit = app
        .admin
        .list_audit(&flightdeck_model::AuditQuery {
            action: Some("webhook.".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 1);
    assert!(!serde_json::to_string(&audit).unwrap().contains(new_secret));
}

#[tokio::test]
async fn a_separate_worker_process_applies_what_api_replicas_store() {
    let db = database_url(Backend::Postgres).await;
    let api = spawn_app_with(Backend::Postgres, |s| {
        s.database_url = Secret::new(db.clone());
        s.run_workers = false;
        s.webhook_secrets
            .insert("github".into(), Secret::new(GITHUB_SECRET));
    })
    .await;
    seed_catalog(&api).await;
    assert_eq!(
        send_github(&api, "deployment_status", "w-1", GH_STATUS)
            .await
            .status(),
        202
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        api.store.conn().await.unwrap().inbox_depth().await.unwrap(),
        1,
        "no worker runs in the API replica"
    );
    // /metrics says how far behind the workers are, for an alert on a stopped worker.
    let (depth, waited) = inbox_metrics(&api).await;
    assert_eq!(depth, 1.0);
    assert!(waited >= 0.7, "the delivery has waited {waited} s");

    let mut worker = tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .arg("worker")
        .env("DATABASE_URL", &db)
        .env("FLIGHTDECK_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("FLIGHTDECK_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    settled(&api).await;
    let d = &api.admin.list_deployments(&[]).await.unwrap().items[0];
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    assert_eq!(inbox_metrics(&api).await, (0.0, 0.0));
    worker.kill().await.unwrap();
}

/// `flightdeck_inbox_depth` and `flightdeck_inbox_oldest_pending_seconds` from `/metrics`.
async fn inbox_metrics(app: &TestApp) -> (f64, f64) {
    let text = app.metrics_text().await;
    let gauge = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{name} missing from /metrics"))
            .parse()
            .unwrap()
    };
    (
        gauge("flightdeck_inbox_depth"),
        gauge("flightdeck_inbox_oldest_pending_seconds"),
    )
}
