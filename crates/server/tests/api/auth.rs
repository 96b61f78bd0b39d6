use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use chrono::Utc;
use flightdeck_model::{AuthKind, Role, UpdateUser};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn login_gives_a_token_that_identifies_the_user() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let me = app.admin.me().await.unwrap();
        assert_eq!(me.user.username, "admin");
        assert_eq!((me.role, me.auth), (Role::Admin, AuthKind::Session));
        assert!(me.user.last_login_at.is_some());
    }
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_401() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let mut c = app.client.clone();
        let wrong = c.login("admin", "not-the-password").await.unwrap_err();
        let unknown = c.login("nobody", "not-the-password").await.unwrap_err();
        assert_eq!(wrong.status(), Some(401));
        assert_eq!(
            wrong.problem().unwrap().detail,
            unknown.problem().unwrap().detail
        );
    }
}

#[tokio::test]
async fn login_attempts_are_limited_per_account() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.auth.login_attempts_per_account = 3).await;
    let mut c = app.client.clone();
    for _ in 0..2 {
        assert_eq!(
            c.login("admin", "wrong-password-x")
                .await
                .unwrap_err()
                .status(),
            Some(401)
        );
    }
    // The admin's own login in spawn_app counted as the first attempt.
    let limited = c.login("admin", ADMIN_PASSWORD).await.unwrap_err();
    assert_eq!(limited.status(), Some(429), "{limited}");
    // Another account is not affected.
    let other = app.user_with_role(Role::Viewer).await;
    assert!(other.me().await.is_ok());
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_a_replayed_refresh_token_ends_the_session() {
    for backend in BACKENDS {
        let app = spawn_app_with(backend, |s| s.auth.refresh_reuse_grace_secs = 0).await;
        let mut c = app.client.clone();
        let first = c.login("admin", ADMIN_PASSWORD).await.unwrap();
        let second = c.refresh(&first.refresh_token).await.unwrap();
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_eq!(c.me().await.unwrap().user.username, "admin");

        let replay = c.clone().refresh(&first.refresh_token).await.unwrap_err();
        assert_eq!(replay.status(), Some(401));
        // The whole session is gone: its newest refresh token and its access token too.
        assert_eq!(
            c.clone()
                .refresh(&second.refresh_token)
                .await
                .unwrap_err()
                .status(),
            Some(401)
        );
        assert_eq!(c.me().await.unwrap_err().status(), Some(401));
        let audit = app.admin.list_audit(&Default::default()).await.unwrap();
        assert!(
            audit
                .items
                .iter()
                .any(|e| e.action == "auth.refresh_reused")
        );
    }
}

#[tokio::test]
async fn a_refresh_token_replayed_within_the_grace_period_is_refused_without_ending_the_session() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut c = app.client.clone();
    let first = c.login("admin", ADMIN_PASSWORD).await.unwrap();
    let second = c.refresh(&first.refresh_token).await.unwrap();
    assert_eq!(
        c.clone()
            .refresh(&first.refresh_token)
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
    assert!(
        c.refresh(&second.refresh_token).await.is_ok(),
        "two racing tabs keep their session"
    );
}

#[tokio::test]
async fn logout_revokes_the_session_and_its_tokens() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let mut c = app.client.clone();
        let tokens = c.login("admin", ADMIN_PASSWORD).await.unwrap();
        c.logout(None).await.unwrap();
        assert_eq!(c.me().await.unwrap_err().status(), Some(401));
        assert_eq!(
            c.refresh(&tokens.refresh_token).await.unwrap_err().status(),
            Some(401)
        );
        // Other sessions of the same user are untouched.
        assert!(app.admin.me().await.is_ok());
    }
}

#[tokio::test]
async fn logout_of_another_users_session_is_not_found() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut c = app.client.clone();
    let admin_tokens = c.login("admin", ADMIN_PASSWORD).await.unwrap();
    let viewer = app.user_with_role(Role::Viewer).await;
    let err = viewer
        .logout(Some(&admin_tokens.refresh_token))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(c.me().await.is_ok());
}

fn sign(claims: &serde_json::Value, alg: Algorithm, key: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
}

#[tokio::test]
async fn missing_expired_forged_none_and_wrong_algorithm_tokens_never_reach_a_handler() {
    let app = spawn_app(Backend::Sqlite).await;
    let me = app.admin.me().await.unwrap();
    let claims = |exp_offset: i64| {
        let now = Utc::now().timestamp();
        // A real session id, so only the property under test is wrong.
        let payload = app.admin.token().unwrap().split('.').nth(1).unwrap();
        let sid = serde_json::from_slice::<serde_json::Value>(&B64.decode(payload).unwrap())
            .unwrap()["sid"]
            .clone();
        json!({ "sub": me.user.id, "sid": sid, "role": "admin", "iat": now - 10, "exp": now + exp_offset,
                "iss": "flightdeck", "aud": "flightdeck-api" })
    };
    let valid = sign(&claims(600), Algorithm::HS256, JWT_SECRET.as_bytes());
    assert!(
        app.client.with_token(&valid).me().await.is_ok(),
        "control: a well-made token works"
    );

    let expired = sign(&claims(-120), Algorithm::HS256, JWT_SECRET.as_bytes());
    let forged = sign(
        &claims(600),
        Algorithm::HS256,
        b"some-other-key-some-other-key-0000",
    );
    let wrong_alg = sign(&claims(600), Algorithm::HS512, JWT_SECRET.as_bytes());
    let none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        B64.encode(claims(600).to_string())
    );
    let mut wrong_aud = claims(600);
    wrong_aud["aud"] = "elsewhere".into();
    let wrong_aud = sign(&wrong_aud, Algorithm::HS256, JWT_SECRET.as_bytes());
    for (name, token) in [
        ("expired", expired),
        ("forged", forged),
        ("HS512", wrong_alg),
        ("alg none", none),
        ("wrong audience", wrong_aud),
        ("garbage", "not.a.jwt".to_owned()),
        ("fake api token", "fdt_0000000000000000".to_owned()),
    ] {
        let err = app.client.with_token(token).me().await.unwrap_err();
        assert_eq!(err.status(), Some(401), "{name}");
    }
    let resp = app
        .client
        .request(reqwest::Method::GET, "api/v1/me")
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "no token at all");
    assert!(resp.headers().get("www-authenticate").is_some());
    let resp = app
        .client
        .request(reqwest::Method::GET, "api/v1/me")
        .unwrap()
        .header("authorization", "Basic YWRtaW46eA==")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "wrong scheme");
}

#[tokio::test]
async fn disabling_a_user_ends_their_access_at_once() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let viewer = app.user_with_role(Role::Viewer).await;
        let me = viewer.me().await.unwrap();
        app.admin
            .update_user(
                me.user.id,
                &UpdateUser {
                    disabled: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(viewer.me().await.unwrap_err().status(), Some(401));
        let mut again = app.client.clone();
        assert_eq!(
            again
                .login(&me.user.username, USER_PASSWORD)
                .await
                .unwrap_err()
                .status(),
            Some(401)
        );
    }
}

#[tokio::test]
async fn a_role_change_takes_effect_on_the_next_request() {
    let app = spawn_app(Backend::Sqlite).await;
    let deployer = app.user_with_role(Role::Deployer).await;
    let id = deployer.me().await.unwrap().user.id;
    app.admin
        .update_user(
            id,
            &UpdateUser {
                role: Some(Role::Admin),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        deployer.me().await.unwrap().role,
        Role::Admin,
        "promotion keeps the session"
    );
    assert!(deployer.list_users(&Default::default()).await.is_ok());
}
