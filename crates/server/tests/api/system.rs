use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn readiness_reports_the_database_and_info_names_the_backend() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let ready = app.client.readyz().await.unwrap();
        assert!(ready.ready);
        assert_eq!(
            (ready.database.as_str(), ready.redis.as_str()),
            ("ok", "not configured")
        );
        let info = app.client.info().await.unwrap();
        let expected = if backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        };
        assert_eq!(info.database, expected);
    }
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app(Backend::Postgres).await;
    flightdeck_store::testing::drop_postgres(&app.database_url).await;
    let resp = app
        .client
        .request(Method::GET, "readyz")
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: flightdeck_model::Readiness = resp.json().await.unwrap();
    assert!(!body.ready);
    assert_ne!(body.database, "ok");
}

#[tokio::test]
async fn a_configured_redis_that_is_down_makes_the_replica_unready() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.redis_url = Some(flightdeck_server::settings::Secret::new(
            "redis://127.0.0.1:1",
        ))
    })
    .await;
    let resp = app
        .client
        .request(Method::GET, "readyz")
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    // Data still flows: Redis only carries live fan-out.
    assert!(app.admin.me().await.is_ok());
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = spawn_app(Backend::Sqlite).await;
    for _ in 0..3 {
        app.admin.me().await.unwrap();
    }
    let text = app.metrics_text().await;
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("flightdeck_http_requests_total") && l.contains("route=\"/api/v1/me\"")
        })
        .expect("a counter for /api/v1/me");
    assert!(line.ends_with(" 3"), "{line}");
    for name in [
        "flightdeck_http_request_duration_seconds_bucket",
        "flightdeck_db_pool_connections",
        "flightdeck_websocket_clients",
        "flightdeck_inbox_depth",
        "flightdeck_inbox_oldest_pending_seconds",
    ] {
        assert!(text.contains(name), "{name} missing");
    }
}

#[tokio::test]
async fn secrets_never_appear_in_the_database_or_the_logs_in_clear() {
    let dir = std::env::temp_dir().join(format!("fd-secrets-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("fd.db");
    let password = "a-very-memorable-password";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .arg("serve")
        .env("FLIGHTDECK_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("FLIGHTDECK_ADMIN_PASSWORD", password)
        .env("FLIGHTDECK_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = listening_url(child.stdout.take().unwrap()).await;
    let mut client = flightdeck_client::Client::new(&url).unwrap();
    let tokens = client.login("admin", password).await.unwrap();
    let created = client
        .create_token(&flightdeck_model::CreateApiToken {
            name: "t".into(),
            role: None,
            expires_in_days: None,
        })
        .await
        .unwrap();
    client.with_token(&created.secret).me().await.unwrap();
    child.kill().await.unwrap();

    let logs = std::fs::read_to_string(dir.join("stderr.log")).unwrap();
    assert!(logs.contains("handled"), "the server logged requests");
    let mut database = std::fs::read(&db).unwrap();
    for extra in ["fd.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join(extra)) {
            database.extend(bytes);
        }
    }
    let database = String::from_utf8_lossy(&database);
    for secret in [
        password,
        &tokens.refresh_token,
        &created.secret,
        &tokens.access_token,
    ] {
        assert!(!logs.contains(secret), "a secret was logged");
        assert!(!database.contains(secret), "a secret was stored in clear");
    }
}

/// Reads the server's stdout until its "listening on" line.
pub async fn listening_url(stdout: tokio::process::ChildStdout) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(url) = line.strip_prefix("flightdeck: listening on ") {
            let url = url.to_owned();
            // Keep draining so the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return url;
        }
    }
    panic!("the server exited before listening");
}
