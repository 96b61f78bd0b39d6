//! Executor configuration: how deployments to an environment (or one service in it) happen.
//! Admins only; header values are secrets, stored and never shown again.

use actix_web::{get, put, web};
use chrono::Utc;
use flightdeck_model::{Environment, ExecutorConfig, Service};
use flightdeck_store::NewAudit;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    catalog::not_found,
    error::{ApiError, ApiResult},
    extract::{Auth, RequestMeta, role::Admin},
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_environment_executor)
        .service(put_environment_executor)
        .service(get_target_executor)
        .service(put_target_executor);
}

const REDACTED: &str = "[redacted]";

fn redacted(mut config: ExecutorConfig) -> ExecutorConfig {
    if let ExecutorConfig::Webhook(w) = &mut config {
        w.headers.values_mut().for_each(|v| *v = REDACTED.into());
    }
    config
}

fn validate(config: &ExecutorConfig) -> ApiResult<()> {
    match config {
        ExecutorConfig::Record => Ok(()),
        ExecutorConfig::Webhook(w) => {
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(ApiError::validation("url", "must be an http(s) URL"));
            }
            if reqwest::Method::from_bytes(w.method.to_uppercase().as_bytes()).is_err() {
                return Err(ApiError::validation("method", "must be an HTTP method"));
            }
            if w.headers.values().any(|v| v == REDACTED) {
                return Err(ApiError::validation(
                    "headers",
                    "send the real header values, not [redacted]",
                ));
            }
            Ok(())
        }
        ExecutorConfig::Command(c) => {
            if c.program.trim().is_empty() {
                return Err(ApiError::validation("program", "must not be empty"));
            }
            if c.timeout_secs == 0 {
                return Err(ApiError::validation("timeout_secs", "must be at least 1"));
            }
            Ok(())
        }
    }
}

async fn scope(
    state: &AppState,
    env: &str,
    service: Option<&str>,
) -> ApiResult<(Environment, Option<Service>)> {
    let mut db = state.store.conn().await?;
    let environment = db
        .environment_by_slug(env)
        .await?
        .ok_or_else(|| not_found("environment", env))?;
    let service = match service {
        Some(slug) => Some(
            db.service_by_slug(slug)
                .await?
                .ok_or_else(|| not_found("service", slug))?,
        ),
        None => None,
    };
    Ok((environment, service))
}

async fn read(
    state: &AppState,
    env: &str,
    service: Option<&str>,
) -> ApiResult<web::Json<ExecutorConfig>> {
    let (environment, service) = scope(state, env, service).await?;
    let mut db = state.store.conn().await?;
    let config = match &service {
        Some(s) => db.executor_for(s.id, environment.id).await?,
        None => db.executor_for(uuid::Uuid::nil(), environment.id).await?,
    };
    let config = match config {
        Some(value) => serde_json::from_value(value).map_err(ApiError::internal)?,
        None => ExecutorConfig::Record,
    };
    Ok(web::Json(redacted(config)))
}

async fn write(
    state: &AppState,
    actor: &str,
    meta: RequestMeta,
    env: &str,
    service: Option<&str>,
    config: ExecutorConfig,
) -> ApiResult<web::Json<ExecutorConfig>> {
    validate(&config)?;
    let (environment, service) = scope(state, env, service).await?;
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let value = serde_json::to_value(&config).expect("configs serialise");
    tx.put_executor(environment.id, service.as_ref().map(|s| s.id), &value, now)
        .await?;
    let target = match &service {
        Some(s) => format!("{}/{}", environment.slug, s.slug),
        None => environment.slug.clone(),
    };
    let shown = redacted(config);
    let audit = NewAudit {
        actor: actor.to_owned(),
        action: "executor.update".into(),
        target_type: "executor".into(),
        target_id: target,
        after: Some(serde_json::to_value(&shown).expect("configs serialise")),
        request_id: Some(meta.request_id),
        ..Default::default()
    };
    state.commit(tx, Some(&audit), vec![], now).await?;
    Ok(web::Json(shown))
}

/// The executor of an environment (`record` when none is set). Header values are redacted.
#[utoipa::path(tag = "executors", params(("env" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The executor", body = ExecutorConfig), (status = 404, description = "No such environment")))]
#[get("/environments/{env}/executor")]
async fn get_environment_executor(
    _auth: Auth<Admin>,
    state: web::Data<AppState>,
    env: web::Path<String>,
) -> ApiResult<web::Json<ExecutorConfig>> {
    read(&state, &env, None).await
}

/// Set the executor of an environment. See the README for GitHub, GitLab and Argo CD presets.
#[utoipa::path(tag = "executors", params(("env" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Saved (header values redacted)", body = ExecutorConfig), (status = 404, description = "No such environment")))]
#[put("/environments/{env}/executor")]
async fn put_environment_executor(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    env: web::Path<String>,
    body: web::Json<ExecutorConfig>,
) -> ApiResult<web::Json<ExecutorConfig>> {
    write(
        &state,
        &auth.user.username,
        meta,
        &env,
        None,
        body.into_inner(),
    )
    .await
}

/// The executor one service uses in an environment (its own, else the environment's).
#[utoipa::path(tag = "executors", params(("env" = String, Path), ("service" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The executor", body = ExecutorConfig), (status = 404, description = "No such environment or service")))]
#[get("/environments/{env}/services/{service}/executor")]
async fn get_target_executor(
    _auth: Auth<Admin>,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<ExecutorConfig>> {
    read(&state, &path.0, Some(&path.1)).await
}

/// Override the executor for one service in an environment.
#[utoipa::path(tag = "executors", params(("env" = String, Path), ("service" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Saved (header values redacted)", body = ExecutorConfig), (status = 404, description = "No such environment or service")))]
#[put("/environments/{env}/services/{service}/executor")]
async fn put_target_executor(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Json<ExecutorConfig>,
) -> ApiResult<web::Json<ExecutorConfig>> {
    write(
        &state,
        &auth.user.username,
        meta,
        &path.0,
        Some(&path.1),
        body.into_inner(),
    )
    .await
}
