//! Authentication: password hashing, JWT access tokens, opaque refresh and API tokens, login
//! throttling, and [`authenticate`], which every protected route and the live feed go through.

pub mod jwt;
pub mod limiter;
pub mod password;

use chrono::{DateTime, Utc};
use flightdeck_domain::credentials::{API_TOKEN_PREFIX, secret_digest};
use flightdeck_model::{AuthKind, Id, Role, User};

use crate::{http::error::ApiError, state::AppState};

/// Who is calling, as established from a bearer token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// The role in force: an API token's role, capped by its owner's current role.
    pub role: Role,
    pub auth: AuthKind,
    pub session_id: Option<Id>,
    pub token_id: Option<Id>,
    /// When the credential stops being valid (the live feed closes the socket then).
    pub expires_at: Option<DateTime<Utc>>,
}

/// How often an API token's `last_used_at` is written at most.
const TOKEN_TOUCH_INTERVAL_SECS: i64 = 60;

/// Checks a bearer token — an API token (`fdt_…`) or a JWT access token — against the database,
/// so revoked sessions, revoked tokens, disabled users and role changes take effect at once.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Principal, ApiError> {
    let unauthorized = || ApiError::Unauthorized("invalid or expired credentials".into());
    let mut db = state.store.conn().await?;
    if token.starts_with(API_TOKEN_PREFIX) {
        let record = db
            .api_token_by_digest(&secret_digest(token))
            .await?
            .ok_or_else(unauthorized)?;
        let t = &record.token;
        if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) {
            return Err(unauthorized());
        }
        let owner = db
            .user_by_id(record.user_id)
            .await?
            .ok_or_else(unauthorized)?;
        if owner.user.disabled {
            return Err(unauthorized());
        }
        db.touch_api_token(t.id, now, TOKEN_TOUCH_INTERVAL_SECS)
            .await?;
        return Ok(Principal {
            role: t.role.min(owner.user.role),
            user: owner.user,
            auth: AuthKind::ApiToken,
            session_id: None,
            token_id: Some(t.id),
            expires_at: t.expires_at,
        });
    }
    let claims = state.jwt.verify(token).map_err(|_| unauthorized())?;
    let session = db
        .session_by_id(claims.sid)
        .await?
        .ok_or_else(unauthorized)?;
    if session.revoked_at.is_some() || session.user_id != claims.sub {
        return Err(unauthorized());
    }
    let user = db
        .user_by_id(claims.sub)
        .await?
        .ok_or_else(unauthorized)?
        .user;
    if user.disabled {
        return Err(unauthorized());
    }
    Ok(Principal {
        role: user.role,
        user,
        auth: AuthKind::Session,
        session_id: Some(session.id),
        token_id: None,
        expires_at: DateTime::from_timestamp(claims.exp, 0),
    })
}
