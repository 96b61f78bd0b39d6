//! API tokens for scripts and CI: created from a login session, shown once, stored as a digest.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{Duration, Utc};
use flightdeck_domain::credentials::{
    API_TOKEN_PREFIX, secret_digest, token_role, validate_expiry_days, validate_token_name,
    visible_prefix,
};
use flightdeck_model::{ApiToken, AuthKind, CreateApiToken, CreatedApiToken, Id, Page, Role};
use flightdeck_store::{NewApiToken, NewAudit};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    auth::random_secret,
    error::{ApiError, ApiResult},
    extract::{Auth, Paging, RequestMeta},
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_token)
        .service(list_tokens)
        .service(revoke_token);
}

/// Create an API token. Its secret is in the answer and never shown again.
///
/// Only a logged-in user can create tokens (not another token), and a token's role cannot
/// exceed its creator's.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = CreatedApiToken),
    )
)]
#[post("/tokens")]
async fn create_token(
    auth: Auth,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<CreateApiToken>,
) -> ApiResult<HttpResponse> {
    if auth.auth != AuthKind::Session {
        return Err(ApiError::Forbidden(
            "API tokens cannot create API tokens; log in".into(),
        ));
    }
    let body = body.into_inner();
    let mut errors = Vec::new();
    errors.extend(validate_token_name(&body.name).err());
    errors.extend(validate_expiry_days(body.expires_in_days).err());
    let role = token_role(auth.role, body.role)
        .map_err(|e| errors.push(e))
        .ok();
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };

    let now = Utc::now();
    let secret = random_secret(API_TOKEN_PREFIX);
    let new = NewApiToken {
        id: Id::now_v7(),
        user_id: auth.user.id,
        name: body.name.trim().to_owned(),
        prefix: visible_prefix(&secret),
        digest: secret_digest(&secret),
        role,
        now,
        expires_at: body
            .expires_in_days
            .map(|d| now + Duration::days(i64::from(d))),
    };
    let mut tx = state.store.begin().await?;
    let token = tx.insert_api_token(&new).await?;
    let audit = NewAudit {
        actor: auth.user.username.clone(),
        action: "token.create".into(),
        target_type: "api_token".into(),
        target_id: token.id.to_string(),
        after: Some(serde_json::to_value(&token).expect("tokens serialise")),
        request_id: Some(meta.request_id),
        ..Default::default()
    };
    state.commit(tx, Some(&audit), vec![], now).await?;
    Ok(HttpResponse::Created().json(CreatedApiToken { token, secret }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenListQuery {
    /// Everyone's tokens instead of the caller's (admins only).
    #[serde(default)]
    all: bool,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// List API tokens, newest first: the caller's, or with `all=true` everyone's (admin).
#[utoipa::path(
    tag = "tokens",
    params(TokenListQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of tokens", body = Page<ApiToken>))
)]
#[get("/tokens")]
async fn list_tokens(
    auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<TokenListQuery>,
) -> ApiResult<web::Json<Page<ApiToken>>> {
    if query.all && auth.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only admins can list everyone's tokens".into(),
        ));
    }
    let paging = Paging::from_params(query.limit, query.cursor.as_deref())?;
    let owner = (!query.all).then_some(auth.user.id);
    let rows = state
        .store
        .conn()
        .await?
        .list_api_tokens(owner, paging.after, paging.limit + 1)
        .await?;
    Ok(web::Json(paging.page(rows, |t| t.id)))
}

/// Revoke an API token at once. Admins may revoke anyone's; others only their own.
#[utoipa::path(
    tag = "tokens",
    params(("id" = uuid::Uuid, Path, description = "Token id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = ApiToken),
        (status = 404, description = "No such token, or not the caller's"),
        (status = 409, description = "Already revoked"),
    )
)]
#[delete("/tokens/{id}")]
async fn revoke_token(
    auth: Auth,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
) -> ApiResult<web::Json<ApiToken>> {
    let now = Utc::now();
    let id = id.into_inner();
    let mut tx = state.store.begin().await?;
    let record = tx
        .api_token_by_id(id)
        .await?
        .filter(|r| r.user_id == auth.user.id || auth.role == Role::Admin)
        .ok_or_else(|| ApiError::NotFound("no such token".into()))?;
    let token = tx
        .revoke_api_token(id, now)
        .await?
        .ok_or_else(|| ApiError::Conflict("the token is already revoked".into()))?;
    let audit = NewAudit {
        actor: auth.user.username.clone(),
        action: "token.revoke".into(),
        target_type: "api_token".into(),
        target_id: id.to_string(),
        before: Some(serde_json::to_value(&record.token).expect("tokens serialise")),
        after: Some(serde_json::to_value(&token).expect("tokens serialise")),
        request_id: Some(meta.request_id),
        ..Default::default()
    };
    state.commit(tx, Some(&audit), vec![], now).await?;
    Ok(web::Json(token))
}
