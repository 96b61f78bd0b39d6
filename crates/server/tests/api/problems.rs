//! Bad input gets a clear problem+json 4xx, and nothing is written.

use flightdeck_model::{PageParams, Problem};
use reqwest::Method;

use crate::helpers::*;

async fn problem(resp: reqwest::Response) -> (u16, Problem) {
    let status = resp.status().as_u16();
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    assert!(resp.headers().get("x-request-id").is_some());
    (status, resp.json().await.unwrap())
}

async fn token_count(app: &TestApp) -> usize {
    app.admin
        .list_tokens(true, &PageParams::default())
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn malformed_json_wrong_types_wrong_media_type_and_oversized_bodies_are_refused_cleanly() {
    for backend in BACKENDS {
        let app = spawn_app_with(backend, |s| s.max_body_bytes = 4096).await;
        let post = || app.admin.request(Method::POST, "api/v1/tokens").unwrap();
        let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
            (
                post()
                    .header("content-type", "application/json")
                    .body("{\"name\": "),
                400,
            ),
            (post().json(&serde_json::json!({ "name": 42 })), 422),
            (
                post().json(&serde_json::json!({ "name": "x", "role": "superuser" })),
                422,
            ),
            (post().json(&serde_json::json!({})), 422),
            (
                post().header("content-type", "text/plain").body("name=x"),
                415,
            ),
            (
                post().json(&serde_json::json!({ "name": "x".repeat(10_000) })),
                413,
            ),
        ];
        for (req, expected) in cases {
            let (status, body) = problem(req.send().await.unwrap()).await;
            assert_eq!(status, expected, "{body:?}");
            assert_eq!(body.status, expected);
            assert!(body.kind.starts_with("https://flightdeck.dev/problems/"));
            assert!(body.detail.as_deref().is_some_and(|d| !d.is_empty()));
            assert!(body.request_id.is_some());
        }
        assert_eq!(token_count(&app).await, 0, "nothing was written");
    }
}

#[tokio::test]
async fn unknown_routes_bad_ids_and_bad_queries_are_problems_too() {
    let app = spawn_app(Backend::Sqlite).await;
    let cases = [
        (Method::GET, "api/v1/nope", 404),
        (Method::GET, "api/elsewhere", 404),
        (Method::GET, "api/v1/users/not-a-uuid", 404),
        (Method::GET, "api/v1/tokens?limit=banana", 400),
        (Method::GET, "api/v1/tokens?limit=0", 400),
        (Method::GET, "api/v1/audit?cursor=%%%", 400),
        (Method::GET, "api/v1/audit?since=yesterday", 400),
        (Method::PUT, "api/v1/me", 404),
        (Method::GET, "nothing-here", 404),
    ];
    for (method, path, expected) in cases {
        let (status, body) = problem(
            app.admin
                .request(method.clone(), path)
                .unwrap()
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, expected, "{method} {path}: {body:?}");
        assert_eq!(
            body.instance.as_deref(),
            Some(format!("/{}", path.split('?').next().unwrap()).as_str())
        );
    }
}

#[tokio::test]
async fn a_callers_request_id_is_echoed_and_a_malicious_one_replaced() {
    let app = spawn_app(Backend::Sqlite).await;
    let resp = app
        .client
        .request(Method::GET, "healthz")
        .unwrap()
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    let resp = app
        .client
        .request(Method::GET, "healthz")
        .unwrap()
        .header("x-request-id", "bad id\"<>")
        .send()
        .await
        .unwrap();
    assert_ne!(resp.headers()["x-request-id"], "bad id\"<>");
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in ["healthz", "api/v1/me", "api/v1/nope"] {
        let resp = app
            .client
            .request(Method::GET, path)
            .unwrap()
            .send()
            .await
            .unwrap();
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
    }
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.cors_origins = vec!["https://ops.example".into()]
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, "api/v1/me")
            .unwrap()
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
    };
    let ok = preflight("https://ops.example").send().await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://ops.example"
    );
    let other = preflight("https://evil.example").send().await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
