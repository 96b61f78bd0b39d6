//! `spawn_app`: the real application on port 0 with its own fresh database, driven through the
//! project's own client crate.

use std::sync::Arc;

use flightdeck_client::Client;
use flightdeck_model::{CreateUser, Role};
use flightdeck_server::{Application, Settings, settings::Secret};
use flightdeck_store::{Store, testing};

pub const ADMIN_PASSWORD: &str = "bootstrap-admin-password";
pub const USER_PASSWORD: &str = "a-long-user-password";
pub const JWT_SECRET: &str = "test-signing-key-test-signing-key-0123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

pub struct TestApp {
    pub url: String,
    pub database_url: String,
    /// Not logged in.
    pub client: Client,
    /// Logged in as the bootstrap admin.
    pub admin: Client,
    pub store: Arc<dyn Store>,
    pub hub: Arc<flightdeck_server::live::Hub>,
}

impl TestApp {
    /// `GET /metrics` (no credentials needed), as text.
    pub async fn metrics_text(&self) -> String {
        self.client
            .request(reqwest::Method::GET, "metrics")
            .unwrap()
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Creates service `slug` (named after it) and an unprotected environment `env` at `rank`.
    pub async fn seed_target(&self, slug: &str, env: &str, rank: i32) {
        self.admin
            .create_service(&flightdeck_model::CreateService {
                slug: slug.into(),
                name: slug.into(),
                team: None,
                repositories: vec![],
            })
            .await
            .unwrap();
        self.admin
            .create_environment(&flightdeck_model::CreateEnvironment {
                slug: env.into(),
                name: env.into(),
                rank,
                protected: false,
                aliases: vec![],
                freeze_windows: vec![],
            })
            .await
            .unwrap();
    }

    /// Deploys `version` of `service` to `env` as the admin (the target must exist).
    pub async fn deploy(
        &self,
        service: &str,
        env: &str,
        version: &str,
    ) -> flightdeck_model::Deployment {
        self.admin
            .deploy(&flightdeck_model::CreateDeployment {
                service: service.into(),
                environment: env.into(),
                version: version.into(),
                description: None,
                confirm: None,
                commit_sha: None,
                commit_url: None,
                committed_at: None,
            })
            .await
            .unwrap()
    }

    /// Creates a user with `role` and returns a client logged in as them.
    pub async fn user_with_role(&self, role: Role) -> Client {
        let username = format!("{role}-{}", uuid::Uuid::now_v7().simple());
        self.admin
            .create_user(&CreateUser {
                username: username.clone(),
                password: USER_PASSWORD.into(),
                role,
            })
            .await
            .expect("create user");
        self.login(&username, USER_PASSWORD).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Client {
        let mut client = self.client.clone();
        client.login(username, password).await.expect("login");
        client
    }
}

pub fn test_settings(database_url: String) -> Settings {
    if std::env::var_os("TEST_LOG").is_some() {
        flightdeck_server::telemetry::init(flightdeck_server::settings::LogFormat::Pretty);
    }
    Settings {
        listen: "127.0.0.1:0".into(),
        database_url: Secret::new(database_url),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        jwt_secret: Some(Secret::new(JWT_SECRET)),
        web_dir: None,
        database_max_connections: 5,
        // Fixtures use fixed past `startsAt` times: with the default 15 minutes the escalator
        // would escalate their critical alerts behind the tests' backs. Tests of it opt in.
        alert_escalate_after_secs: 0,
        ..Settings::default()
    }
}

pub async fn database_url(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => testing::fresh_sqlite_url(),
        Backend::Postgres => testing::fresh_postgres_url().await,
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, customise: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(database_url(backend).await);
    customise(&mut settings);
    spawn_with_settings(settings).await
}

pub async fn spawn_with_settings(settings: Settings) -> TestApp {
    let database_url = settings.database_url.expose().to_owned();
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let url = app.url();
    let store = app.store();
    let hub = app.hub();
    tokio::spawn(app.run_until_stopped());
    let client = Client::new(&url).expect("client");
    let mut admin = client.clone();
    admin
        .login("admin", ADMIN_PASSWORD)
        .await
        .expect("bootstrap admin logs in");
    TestApp {
        url,
        database_url,
        client,
        admin,
        store,
        hub,
    }
}

/// What an alert notification did once the alert applier applied it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    pub received: u32,
    pub truncated_alerts: u32,
    /// Episodes opened or changed, from the applied delivery's note.
    pub changed: u32,
}

/// Posts an alert notification (`path` is `/api/v1/webhooks/alertmanager` or `…/alerts`), expects
/// 202 with its delivery, and waits until the applier has applied it.
pub async fn notify_alerts(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> Ingested {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", app.url.trim_end_matches('/')))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap());
    let accepted: flightdeck_model::AlertsAccepted = resp.json().await.unwrap();
    let note = wait_applied(app, accepted.delivery).await;
    // "<received> alerts; <changed> episodes opened or changed"
    let number = |i: usize| -> u32 {
        note.split_whitespace()
            .nth(i)
            .and_then(|w| w.trim_end_matches(';').parse().ok())
            .unwrap_or_else(|| panic!("unexpected note `{note}`"))
    };
    assert_eq!(number(0), accepted.received, "note `{note}`");
    Ingested {
        received: accepted.received,
        truncated_alerts: accepted.truncated_alerts,
        changed: number(2),
    }
}

/// Waits until a stored delivery is no longer pending; its note. Panics if it failed.
pub async fn wait_applied(app: &TestApp, delivery: uuid::Uuid) -> String {
    let path = format!("/api/v1/webhooks/deliveries/{delivery}");
    crate::upstream::eventually(
        &format!("delivery {path} applied"),
        std::time::Duration::from_secs(20),
        || async {
            let resp = app
                .admin
                .request(reqwest::Method::GET, &path)
                .unwrap()
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "GET {path}");
            let delivery: serde_json::Value = resp.json().await.unwrap();
            match delivery["state"].as_str() {
                Some("pending") => None,
                Some("applied") => Some(delivery["note"].as_str().unwrap_or_default().to_owned()),
                other => panic!("delivery {path} ended {other:?}: {delivery}"),
            }
        },
    )
    .await
}
