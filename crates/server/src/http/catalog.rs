//! The catalog: services and environments (admin CRUD), environment locks, and what runs where.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{Duration, Utc};
use flightdeck_domain::catalog;
use flightdeck_model::{
    CreateEnvironment, CreateService, Deployment, Environment, EnvironmentLock, EnvironmentStatus,
    Id, LockEnvironment, Page, Service, Target, UpdateEnvironment, UpdateService,
};
use flightdeck_store::{EnvironmentPatch, NewEnvironment, NewService, ServicePatch, TargetRecord};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    components::to_json,
    error::{ApiError, ApiResult},
    extract::{
        Auth, RequestMeta,
        role::{Admin, Deployer},
    },
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_services)
        .service(create_service)
        .service(get_service)
        .service(update_service)
        .service(list_environments)
        .service(create_environment)
        .service(get_environment)
        .service(update_environment)
        .service(lock_environment)
        .service(unlock_environment)
        .service(environment_status);
}

pub const SERVICE_UPDATED: &str = "service.updated";
pub const ENVIRONMENT_UPDATED: &str = "environment.updated";

/// Every service (the catalog is small: one page).
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 200, description = "All services by slug", body = Page<Service>)))]
#[get("/services")]
async fn list_services(
    _auth: Auth,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Page<Service>>> {
    let items = state.store.conn().await?.list_services().await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Add a service.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Service), (status = 409, description = "The slug is taken")))]
#[post("/services")]
async fn create_service(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<CreateService>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    catalog::validate_create_service(&body).map_err(ApiError::Validation)?;
    let now = Utc::now();
    let new = NewService {
        id: uuid::Uuid::now_v7(),
        slug: body.slug,
        name: body.name,
        team: body.team,
        repositories: body.repositories,
        now,
    };
    let mut tx = state.store.begin().await?;
    let service = tx.insert_service(&new).await?;
    let mut entry = meta.audit(
        &auth.user.username,
        "service.create",
        "service",
        service.slug.clone(),
    );
    entry.after = Some(to_json(&service));
    state
        .commit(
            tx,
            Some(&entry),
            vec![(SERVICE_UPDATED, to_json(&service))],
            now,
        )
        .await?;
    Ok(HttpResponse::Created().json(service))
}

/// One service.
#[utoipa::path(tag = "catalog", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The service", body = Service), (status = 404, description = "No such service")))]
#[get("/services/{slug}")]
async fn get_service(
    _auth: Auth,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult<web::Json<Service>> {
    let service = state.store.conn().await?.service_by_slug(&slug).await?;
    Ok(web::Json(
        service.ok_or_else(|| not_found("service", &slug))?,
    ))
}

/// Change a service's name, team or repositories.
#[utoipa::path(tag = "catalog", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Service), (status = 404, description = "No such service")))]
#[patch("/services/{slug}")]
async fn update_service(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    slug: web::Path<String>,
    body: web::Json<UpdateService>,
) -> ApiResult<web::Json<Service>> {
    let body = body.into_inner();
    catalog::validate_update_service(&body).map_err(ApiError::Validation)?;
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let before = tx
        .service_by_slug(&slug)
        .await?
        .ok_or_else(|| not_found("service", &slug))?;
    let patch = ServicePatch {
        name: body.name,
        team: body.team,
        repositories: body.repositories,
    };
    let service = tx.update_service(before.id, &patch, now).await?;
    let mut entry = meta.audit(
        &auth.user.username,
        "service.update",
        "service",
        service.slug.clone(),
    );
    entry.before = Some(to_json(&before));
    entry.after = Some(to_json(&service));
    state
        .commit(
            tx,
            Some(&entry),
            vec![(SERVICE_UPDATED, to_json(&service))],
            now,
        )
        .await?;
    Ok(web::Json(service))
}

/// Every environment, in rank order.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 200, description = "All environments by rank", body = Page<Environment>)))]
#[get("/environments")]
async fn list_environments(
    _auth: Auth,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Page<Environment>>> {
    let items = state.store.conn().await?.list_environments().await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Add an environment.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Environment), (status = 409, description = "The slug is taken")))]
#[post("/environments")]
async fn create_environment(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<CreateEnvironment>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    catalog::validate_create_environment(&body).map_err(ApiError::Validation)?;
    let now = Utc::now();
    let new = NewEnvironment {
        id: uuid::Uuid::now_v7(),
        slug: body.slug,
        name: body.name,
        rank: body.rank,
        protected: body.protected,
        aliases: body.aliases,
        freeze_windows: body.freeze_windows,
        now,
    };
    let mut tx = state.store.begin().await?;
    let env = tx.insert_environment(&new).await?;
    let mut entry = meta.audit(
        &auth.user.username,
        "environment.create",
        "environment",
        env.slug.clone(),
    );
    entry.after = Some(to_json(&env));
    state
        .commit(
            tx,
            Some(&entry),
            vec![(ENVIRONMENT_UPDATED, to_json(&env))],
            now,
        )
        .await?;
    Ok(HttpResponse::Created().json(env))
}

/// One environment.
#[utoipa::path(tag = "catalog", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The environment", body = Environment), (status = 404, description = "No such environment")))]
#[get("/environments/{slug}")]
async fn get_environment(
    _auth: Auth,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult<web::Json<Environment>> {
    let env = state.store.conn().await?.environment_by_slug(&slug).await?;
    Ok(web::Json(
        env.ok_or_else(|| not_found("environment", &slug))?,
    ))
}

/// Change an environment's name, rank, protection, aliases or freeze windows.
#[utoipa::path(tag = "catalog", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Environment), (status = 404, description = "No such environment")))]
#[patch("/environments/{slug}")]
async fn update_environment(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    slug: web::Path<String>,
    body: web::Json<UpdateEnvironment>,
) -> ApiResult<web::Json<Environment>> {
    let body = body.into_inner();
    catalog::validate_update_environment(&body).map_err(ApiError::Validation)?;
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let before = tx
        .environment_by_slug(&slug)
        .await?
        .ok_or_else(|| not_found("environment", &slug))?;
    let patch = EnvironmentPatch {
        name: body.name,
        rank: body.rank,
        protected: body.protected,
        aliases: body.aliases,
        freeze_windows: body.freeze_windows,
    };
    let env = tx.update_environment(before.id, &patch, now).await?;
    let mut entry = meta.audit(
        &auth.user.username,
        "environment.update",
        "environment",
        env.slug.clone(),
    );
    entry.before = Some(to_json(&before));
    entry.after = Some(to_json(&env));
    state
        .commit(
            tx,
            Some(&entry),
            vec![(ENVIRONMENT_UPDATED, to_json(&env))],
            now,
        )
        .await?;
    Ok(web::Json(env))
}

/// Lock an environment: deploys are refused until it is unlocked or the lock expires.
/// Rollbacks stay allowed.
#[utoipa::path(tag = "catalog", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Locked", body = Environment), (status = 404, description = "No such environment")))]
#[post("/environments/{slug}/lock")]
async fn lock_environment(
    auth: Auth<Deployer>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    slug: web::Path<String>,
    body: web::Json<LockEnvironment>,
) -> ApiResult<web::Json<Environment>> {
    let reason = body.reason.trim();
    if reason.is_empty() || reason.len() > 1000 {
        return Err(ApiError::validation(
            "reason",
            "must be 1 to 1000 characters",
        ));
    }
    let now = Utc::now();
    let lock = EnvironmentLock {
        reason: reason.to_owned(),
        locked_by: auth.user.username.clone(),
        locked_at: now,
        expires_at: body
            .expires_in_minutes
            .map(|m| now + Duration::minutes(i64::from(m))),
    };
    set_lock(&state, &auth.user.username, meta, &slug, Some(lock)).await
}

/// Lift an environment's lock.
#[utoipa::path(tag = "catalog", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Unlocked", body = Environment), (status = 404, description = "No such environment")))]
#[post("/environments/{slug}/unlock")]
async fn unlock_environment(
    auth: Auth<Deployer>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    slug: web::Path<String>,
) -> ApiResult<web::Json<Environment>> {
    set_lock(&state, &auth.user.username, meta, &slug, None).await
}

async fn set_lock(
    state: &AppState,
    actor: &str,
    meta: RequestMeta,
    slug: &str,
    lock: Option<EnvironmentLock>,
) -> ApiResult<web::Json<Environment>> {
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let before = tx
        .environment_by_slug(slug)
        .await?
        .ok_or_else(|| not_found("environment", slug))?;
    let env = tx
        .set_environment_lock(before.id, lock.as_ref(), now)
        .await?;
    let action = if lock.is_some() {
        "environment.lock"
    } else {
        "environment.unlock"
    };
    let mut entry = meta.audit(actor, action, "environment", env.slug.clone());
    entry.reason = lock.as_ref().map(|l| l.reason.clone());
    entry.before = Some(json!({ "lock": before.lock }));
    entry.after = Some(json!({ "lock": env.lock }));
    state
        .commit(
            tx,
            Some(&entry),
            vec![(ENVIRONMENT_UPDATED, to_json(&env))],
            now,
        )
        .await?;
    Ok(web::Json(env))
}

/// What runs in an environment: every service with its current version and latest deployment.
#[utoipa::path(tag = "catalog", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The environment's targets", body = EnvironmentStatus),
              (status = 404, description = "No such environment")))]
#[get("/environments/{slug}/status")]
async fn environment_status(
    _auth: Auth,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult<web::Json<EnvironmentStatus>> {
    let mut db = state.store.conn().await?;
    let environment = db
        .environment_by_slug(&slug)
        .await?
        .ok_or_else(|| not_found("environment", &slug))?;
    // A fixed number of queries whatever the number of services: the Overview asks this for
    // every environment on each refresh.
    let targets_by_service: HashMap<Id, TargetRecord> = db
        .environment_targets(environment.id)
        .await?
        .into_iter()
        .map(|t| (t.service_id, t))
        .collect();
    let (current, latest) = db.environment_deployments(environment.id).await?;
    let mut current: HashMap<Id, Deployment> = current.into_iter().map(|d| (d.id, d)).collect();
    let mut latest: HashMap<String, Deployment> =
        latest.into_iter().map(|d| (d.service.clone(), d)).collect();
    let targets = db
        .list_services()
        .await?
        .into_iter()
        .map(|service| {
            let target = targets_by_service.get(&service.id);
            Target {
                current_version: target.and_then(|t| t.current_version.clone()),
                current_deployment: target
                    .and_then(|t| t.current_deployment_id)
                    .and_then(|id| current.remove(&id)),
                latest_deployment: latest.remove(&service.slug),
                environment: environment.slug.clone(),
                service: service.slug,
            }
        })
        .collect();
    Ok(web::Json(EnvironmentStatus {
        environment,
        targets,
    }))
}

pub(crate) fn not_found(kind: &str, slug: &str) -> ApiError {
    ApiError::NotFound(format!("no {kind} `{slug}`"))
}
