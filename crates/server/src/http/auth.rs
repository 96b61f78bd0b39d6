//! Sessions: login, refresh (rotating, with reuse detection), logout, and who am I.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use flightdeck_domain::{
    credentials::{REFRESH_TOKEN_PREFIX, format_secret, secret_digest},
    ratelimit::{Decision, Limit},
};
use flightdeck_model::{LoginRequest, LogoutRequest, Me, RefreshRequest, TokenResponse, User};
use flightdeck_store::{NewAudit, NewSession, Session};
use rand::RngCore;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    error::{ApiError, ApiResult},
    extract::{Auth, RequestMeta},
};
use crate::{auth::password, state::AppState};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me);
}

/// Log in with a username and password.
///
/// Attempts are limited per account and per client address; past the limit the answer is 429
/// with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong username or password, or the user is disabled"),
        (status = 429, description = "Too many attempts"),
    )
)]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<LoginRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let now = Utc::now();
    let LoginRequest { username, password } = body.into_inner();
    throttle(&state, &username, &meta.ip, now).await?;

    let record = state
        .store
        .conn()
        .await?
        .user_by_username(&username)
        .await?;
    // Verify even for unknown users so response time does not reveal which names exist.
    let hash = record
        .as_ref()
        .map_or(password::dummy_hash(), |r| r.password_hash.as_str());
    let password_ok = {
        let (password, hash) = (password.clone(), hash.to_owned());
        web::block(move || password::verify(&password, &hash))
            .await
            .map_err(ApiError::internal)?
    };
    let user = match record {
        Some(r) if password_ok && !r.user.disabled => r.user,
        _ => {
            tracing::info!(username = %username, ip = %meta.ip, "login failed");
            return Err(ApiError::Unauthorized("wrong username or password".into()));
        }
    };

    let mut tx = state.store.begin().await?;
    let (session, refresh_token) = new_session(&state, &user, now);
    tx.insert_session(&session).await?;
    tx.record_login(user.id, now).await?;
    let audit = NewAudit {
        actor: user.username.clone(),
        action: "auth.login".into(),
        target_type: "session".into(),
        target_id: session.id.to_string(),
        request_id: Some(meta.request_id),
        after: Some(serde_json::json!({ "ip": meta.ip })),
        ..Default::default()
    };
    state.commit(tx, Some(&audit), vec![], now).await?;
    Ok(web::Json(token_response(
        &state,
        &user,
        session.id,
        refresh_token,
        now,
    )))
}

async fn throttle(state: &AppState, username: &str, ip: &str, now: DateTime<Utc>) -> ApiResult<()> {
    let auth = &state.settings.auth;
    let checks = [
        (
            format!("login:user:{}", username.to_lowercase()),
            auth.login_attempts_per_account,
        ),
        (format!("login:ip:{ip}"), auth.login_attempts_per_ip),
    ];
    for (key, max) in checks {
        let limit = Limit {
            max,
            window_secs: auth.login_window_secs,
        };
        if let Decision::Limited { retry_after_secs } = state.limiter.check(&key, limit, now).await
        {
            tracing::warn!(key = %key, "login rate limited");
            return Err(ApiError::RateLimited { retry_after_secs });
        }
    }
    Ok(())
}

fn new_session(state: &AppState, user: &User, now: DateTime<Utc>) -> (NewSession, String) {
    let refresh_token = random_secret(REFRESH_TOKEN_PREFIX);
    let session = NewSession {
        id: uuid::Uuid::now_v7(),
        user_id: user.id,
        refresh_digest: secret_digest(&refresh_token),
        now,
        expires_at: refresh_expiry(state, now),
    };
    (session, refresh_token)
}

fn refresh_expiry(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(i64::from(state.settings.auth.refresh_token_ttl_days))
}

pub(crate) fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format_secret(prefix, &bytes)
}

fn token_response(
    state: &AppState,
    user: &User,
    session: uuid::Uuid,
    refresh_token: String,
    now: DateTime<Utc>,
) -> TokenResponse {
    TokenResponse {
        access_token: state.jwt.issue(user.id, session, user.role, now),
        token_type: "Bearer".into(),
        expires_in: state.jwt.ttl_secs,
        refresh_token,
    }
}

/// Exchange a refresh token for a new access token and a new refresh token.
///
/// Refresh tokens are single-use. Presenting one that was already exchanged ends the session
/// (it was probably stolen).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "Unknown, spent, expired or revoked refresh token"),
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<RefreshRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let now = Utc::now();
    let rejected = || ApiError::Unauthorized("invalid or expired refresh token".into());
    let digest = secret_digest(&body.refresh_token);
    let mut tx = state.store.begin().await?;
    let session = tx
        .session_by_refresh_digest(&digest)
        .await?
        .ok_or_else(rejected)?;
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(rejected());
    }
    if session.refresh_digest != digest {
        return reused_refresh_token(&state, tx, session, meta, now).await;
    }
    let user = tx
        .user_by_id(session.user_id)
        .await?
        .ok_or_else(rejected)?
        .user;
    if user.disabled {
        return Err(rejected());
    }
    let new_token = random_secret(REFRESH_TOKEN_PREFIX);
    let rotated = tx
        .rotate_session(
            session.id,
            &digest,
            &secret_digest(&new_token),
            now,
            refresh_expiry(&state, now),
        )
        .await?;
    if !rotated {
        return Err(rejected());
    }
    tx.commit().await?;
    Ok(web::Json(token_response(
        &state, &user, session.id, new_token, now,
    )))
}

async fn reused_refresh_token(
    state: &AppState,
    mut tx: Box<dyn flightdeck_store::Tx>,
    session: Session,
    meta: RequestMeta,
    now: DateTime<Utc>,
) -> ApiResult<web::Json<TokenResponse>> {
    let grace = Duration::seconds(i64::from(state.settings.auth.refresh_reuse_grace_secs));
    if now - session.refreshed_at < grace {
        return Err(ApiError::RefreshRaced);
    }
    let owner = tx
        .user_by_id(session.user_id)
        .await?
        .map(|r| r.user.username);
    tx.revoke_session(session.id, now).await?;
    let audit = NewAudit {
        actor: owner.unwrap_or_else(|| "unknown".into()),
        action: "auth.refresh_reused".into(),
        target_type: "session".into(),
        target_id: session.id.to_string(),
        reason: Some("a spent refresh token was presented again; the session was ended".into()),
        request_id: Some(meta.request_id),
        after: Some(serde_json::json!({ "ip": meta.ip })),
        ..Default::default()
    };
    state.commit(tx, Some(&audit), vec![], now).await?;
    tracing::warn!(session = %session.id, "refresh token reuse; session revoked");
    Err(ApiError::Unauthorized(
        "refresh token already used; the session has been ended".into(),
    ))
}

/// End a session: the one of the given refresh token (which must be the caller's), else the
/// caller's own. The body may be empty.
#[utoipa::path(
    tag = "auth",
    request_body(content = Option<LogoutRequest>, description = "Optional; `{}` or empty"),
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out"))
)]
#[post("/auth/logout")]
async fn logout(
    auth: Auth,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let now = Utc::now();
    let body: LogoutRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?
    };
    let mut tx = state.store.begin().await?;
    let session_id = match body.refresh_token {
        Some(token) => {
            let session = tx.session_by_refresh_digest(&secret_digest(&token)).await?;
            match session {
                Some(s) if s.user_id == auth.user.id => Some(s.id),
                _ => return Err(ApiError::NotFound("no such session".into())),
            }
        }
        None => auth.session_id,
    };
    let Some(session_id) = session_id else {
        return Err(ApiError::BadRequest(
            "an API token has no session; pass the refresh_token of the session to end".into(),
        ));
    };
    tx.revoke_session(session_id, now).await?;
    let audit = NewAudit {
        actor: auth.user.username.clone(),
        action: "auth.logout".into(),
        target_type: "session".into(),
        target_id: session_id.to_string(),
        request_id: Some(meta.request_id),
        ..Default::default()
    };
    state.commit(tx, Some(&audit), vec![], now).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller: user, effective role, and whether it is a session or an API token.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me))
)]
#[get("/me")]
async fn me(auth: Auth) -> web::Json<Me> {
    let p = auth.principal;
    web::Json(Me {
        user: p.user,
        role: p.role,
        auth: p.auth,
    })
}
