//! Deployments and rollbacks: start, watch (timeline, output), cancel, mark bad, and the
//! callback pipelines report progress through.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use flightdeck_domain::{
    catalog,
    credentials::{secret_digest, visible_prefix},
    deployment::check_can_start,
    freeze::deploy_block,
    rollback::{check_confirmation, choose_target, rollback_from},
};
use flightdeck_model::{
    CancelDeployment, CreateDeployment, CreateRollback, Deployment, DeploymentAlerts,
    DeploymentCallback, DeploymentEvent, DeploymentKind, DeploymentStatus, Environment,
    ExecutorConfig, Id, LogLine, MarkBad, Page, RollbackPreview, Service, StatusReport,
};
use flightdeck_store::{
    DeploymentFilter, NewAudit, NewDeployment, NewDeploymentEvent, StoreError, Tx,
};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    alerts::CHANGE_WINDOW_MINUTES,
    error::{ApiError, ApiResult},
    extract::{Auth, Paging, RequestMeta, bearer_token, role::Deployer},
    idempotency::Idempotency,
};
use crate::{
    deploy::{self, Report, deployment_event, executor::Vars},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_deployments)
        .service(create_deployment)
        .service(get_deployment)
        .service(deployment_events)
        .service(deployment_alerts)
        .service(deployment_logs)
        .service(cancel_deployment)
        .service(mark_bad)
        .service(report_status)
        .service(create_rollback)
        .service(preview_rollback);
}

/// Callback tokens start with this.
const CALLBACK_PREFIX: &str = "fdc_";
/// How far back a target's history is read to choose a rollback target.
const HISTORY_DEPTH: u32 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeploymentQuery {
    /// Service slug.
    service: Option<String>,
    /// Environment slug.
    environment: Option<String>,
    status: Option<DeploymentStatus>,
    kind: Option<DeploymentKind>,
    /// Created at or after.
    since: Option<DateTime<Utc>>,
    /// Created before.
    until: Option<DateTime<Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Deployment history, newest first, filtered.
#[utoipa::path(tag = "deployments", params(DeploymentQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of deployments", body = Page<Deployment>)))]
#[get("/deployments")]
async fn list_deployments(
    _auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<DeploymentQuery>,
) -> ApiResult<web::Json<Page<Deployment>>> {
    let q = query.into_inner();
    let paging = Paging::from_params(q.limit, q.cursor.as_deref())?;
    let filter = DeploymentFilter {
        service: q.service,
        environment: q.environment,
        status: q.status,
        kind: q.kind,
        since: q.since,
        until: q.until,
        before_id: paging.after,
    };
    let rows = state
        .store
        .conn()
        .await?
        .list_deployments(&filter, paging.limit + 1)
        .await?;
    Ok(web::Json(paging.page(rows, |d| d.id)))
}

/// Deploy a version of a service to an environment. Answers 202 at once; watch the deployment
/// (or the live feed) for progress.
///
/// Refused with 409 while the target has an active deployment or the environment is locked or
/// frozen; protected environments need `confirm` equal to their slug.
#[utoipa::path(tag = "deployments", security(("bearer" = [])),
    responses(
        (status = 202, description = "Accepted; the executor starts now", body = Deployment),
        (status = 409, description = "An active deployment, a lock or a freeze is in the way"),
    ))]
#[post("/deployments")]
async fn create_deployment(
    auth: Auth<Deployer>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    req: HttpRequest,
    body: web::Json<CreateDeployment>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let idempotency = Idempotency::from_request(&req, &auth.user.username, "deployments", &body)?;
    if let Some(replayed) = idempotency.replay(&state).await? {
        return Ok(replayed);
    }
    catalog::validate_create_deployment(&body).map_err(ApiError::Validation)?;
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let (service, env) = resolve_target(&mut *tx, &body.service, &body.environment).await?;
    check_confirmation(&env, body.confirm.as_deref())
        .map_err(|e| ApiError::Validation(vec![e.field_error()]))?;
    if let Some(block) = deploy_block(&env, now) {
        return Err(ApiError::Conflict(block.to_string()));
    }
    let plan = Plan {
        kind: DeploymentKind::Deploy,
        version: body.version.trim().to_owned(),
        description: body.description,
        reason: None,
        rollback_to: None,
        replaces: None,
        commit_sha: body.commit_sha,
        commit_url: body.commit_url,
        committed_at: body.committed_at,
    };
    let deployment = start(
        &state,
        tx,
        &auth.user.username,
        meta,
        &idempotency,
        &service,
        &env,
        plan,
        now,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(deployment))
}

/// What a new deployment is, beyond its target.
struct Plan {
    kind: DeploymentKind,
    version: String,
    description: Option<String>,
    reason: Option<String>,
    rollback_to: Option<Id>,
    /// For rollbacks, the version being replaced (which may be a failed deploy's, not the
    /// current one); deploys replace the current version.
    replaces: Option<String>,
    commit_sha: Option<String>,
    commit_url: Option<String>,
    committed_at: Option<DateTime<Utc>>,
}

async fn resolve_target(
    tx: &mut dyn Tx,
    service: &str,
    environment: &str,
) -> ApiResult<(Service, Environment)> {
    let s = tx.service_by_slug(service).await?;
    let e = tx.environment_by_slug(environment).await?;
    let mut errors = Vec::new();
    if s.is_none() {
        errors.push(field("service", &format!("no service `{service}`")));
    }
    if e.is_none() {
        errors.push(field(
            "environment",
            &format!("no environment `{environment}`"),
        ));
    }
    match (s, e) {
        (Some(s), Some(e)) => Ok((s, e)),
        _ => Err(ApiError::Validation(errors)),
    }
}

fn field(name: &str, message: &str) -> flightdeck_model::FieldError {
    flightdeck_model::FieldError {
        field: name.into(),
        message: message.into(),
    }
}

/// Creates the deployment (queued), its first timeline entry, audit entry and live event in
/// `tx`, commits, and hands it to the executor.
#[allow(clippy::too_many_arguments)]
async fn start(
    state: &web::Data<AppState>,
    mut tx: Box<dyn Tx>,
    actor: &str,
    meta: RequestMeta,
    idempotency: &Idempotency,
    service: &Service,
    env: &Environment,
    plan: Plan,
    now: DateTime<Utc>,
) -> ApiResult<Deployment> {
    let active = tx.active_deployment(service.id, env.id).await?;
    check_can_start(active.as_ref().map(|r| &r.deployment))
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    let current = match plan.replaces {
        Some(version) => Some(version),
        None => tx
            .target(service.id, env.id)
            .await?
            .and_then(|t| t.current_version),
    };
    let config: ExecutorConfig = match tx.executor_for(service.id, env.id).await? {
        Some(value) => serde_json::from_value(value).map_err(ApiError::internal)?,
        None => ExecutorConfig::Record,
    };
    let callback_token = super::auth::random_secret(CALLBACK_PREFIX);
    let id = Id::now_v7();
    let new = NewDeployment {
        id,
        service_id: service.id,
        environment_id: env.id,
        version: plan.version,
        kind: plan.kind,
        status: DeploymentStatus::Queued,
        description: plan.description,
        created_by: actor.to_owned(),
        now,
        previous_version: current,
        rollback_to: plan.rollback_to,
        reason: plan.reason,
        source: "api".into(),
        external_id: None,
        commit_sha: plan.commit_sha,
        commit_url: plan.commit_url,
        ci_url: None,
        committed_at: plan.committed_at,
        executor: config.kind().into(),
        callback_digest: Some(secret_digest(&callback_token)),
    };
    let record = match tx.insert_deployment(&new).await {
        Ok(record) => record,
        // Another request won the race for this target between our check and insert: name the
        // deployment in the way, as the check would have.
        Err(StoreError::Conflict { .. }) => {
            drop(tx);
            let active = state
                .store
                .conn()
                .await?
                .active_deployment(service.id, env.id)
                .await?;
            return Err(
                match check_can_start(active.as_ref().map(|r| &r.deployment)) {
                    Err(conflict) => ApiError::Conflict(conflict.to_string()),
                    Ok(()) => ApiError::Conflict(format!(
                        "{} already has an active deployment to {}; retry",
                        service.slug, env.slug
                    )),
                },
            );
        }
        Err(e) => return Err(e.into()),
    };
    let d = record.deployment;
    let verb = match d.kind {
        DeploymentKind::Deploy => "deploy",
        DeploymentKind::Rollback => "rollback",
    };
    tx.insert_deployment_event(&NewDeploymentEvent {
        deployment_id: id,
        at: now,
        status: Some(DeploymentStatus::Queued),
        actor: actor.to_owned(),
        message: format!(
            "{verb} of {} requested ({} executor)",
            d.version, d.executor
        ),
    })
    .await?;
    let audit = NewAudit {
        actor: actor.to_owned(),
        action: format!("deployment.{verb}"),
        target_type: "deployment".into(),
        target_id: id.to_string(),
        before: Some(serde_json::json!({ "version": d.previous_version })),
        after: Some(
            serde_json::json!({ "service": d.service, "environment": d.environment, "version": d.version }),
        ),
        reason: d.reason.clone().or(d.description.clone()),
        request_id: Some(meta.request_id),
    };
    // A replay answers without the callback token: secrets are shown once, never stored.
    idempotency.save(&mut *tx, 202, &d, now).await?;
    state
        .commit(tx, Some(&audit), vec![deployment_event(&d)], now)
        .await?;
    let vars = Vars {
        service: d.service.clone(),
        environment: d.environment.clone(),
        version: d.version.clone(),
        deployment_id: id.to_string(),
        callback_url: format!("{}/api/v1/deployments/{id}/status", state.public_url),
        callback_token,
    };
    tracing::info!(deployment = %id, service = %d.service, environment = %d.environment, version = %d.version,
        token = %visible_prefix(&vars.callback_token), "deployment started");
    let mut created = d.clone();
    created.callback = Some(DeploymentCallback {
        url: vars.callback_url.clone(),
        token: vars.callback_token.clone(),
    });
    deploy::executor::dispatch(Arc::clone(state), d, config, vars);
    Ok(created)
}

/// One deployment.
#[utoipa::path(tag = "deployments", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The deployment", body = Deployment), (status = 404, description = "No such deployment")))]
#[get("/deployments/{id}")]
async fn get_deployment(
    _auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<Deployment>> {
    let record = state.store.conn().await?.deployment_by_id(*id).await?;
    Ok(web::Json(record.ok_or_else(no_deployment)?.deployment))
}

fn no_deployment() -> ApiError {
    ApiError::NotFound("no such deployment".into())
}

/// A deployment's timeline, oldest first.
#[utoipa::path(tag = "deployments", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Timeline", body = Vec<DeploymentEvent>), (status = 404, description = "No such deployment")))]
#[get("/deployments/{id}/events")]
async fn deployment_events(
    _auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<Vec<DeploymentEvent>>> {
    let mut db = state.store.conn().await?;
    db.deployment_by_id(*id).await?.ok_or_else(no_deployment)?;
    Ok(web::Json(db.deployment_events(*id).await?))
}

/// At most this many alerts after a deployment (an outage can raise hundreds).
const MAX_ALERTS_AFTER: u32 = 50;

/// What the deployment may have set off: alerts on the components linked to its service that
/// started in the hour after it was created (the same window the alert page looks back over) and
/// before the next deployment to the same target, oldest first.
#[utoipa::path(tag = "deployments", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Alerts that started just after it", body = DeploymentAlerts),
              (status = 404, description = "No such deployment")))]
#[get("/deployments/{id}/alerts")]
async fn deployment_alerts(
    _auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<DeploymentAlerts>> {
    let mut db = state.store.conn().await?;
    let record = db.deployment_by_id(*id).await?.ok_or_else(no_deployment)?;
    let deployment = record.deployment;
    let window = CHANGE_WINDOW_MINUTES;
    let from = deployment.created_at;
    let mut to = from + chrono::TimeDelta::minutes(i64::from(window));
    // A later deployment to the same target owns what follows it: the window ends there.
    let next = db
        .next_deployment(record.service_id, record.environment_id, deployment.id)
        .await?
        .filter(|n| n.created_at < to);
    if let Some(n) = &next {
        to = n.created_at;
    }
    let components = db.components_of_service(&deployment.service).await?;
    let mut alerts = Vec::new();
    for c in &components {
        alerts.extend(
            db.alerts_started_between(&c.slug, from, to, MAX_ALERTS_AFTER)
                .await?,
        );
    }
    alerts.sort_by_key(|a| (a.starts_at, a.id));
    alerts.truncate(MAX_ALERTS_AFTER as usize);
    Ok(web::Json(DeploymentAlerts {
        components: components.into_iter().map(|c| c.slug).collect(),
        window_minutes: window,
        next,
        alerts,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LogQuery {
    /// Lines after this line number (0: from the start).
    #[serde(default)]
    after: i64,
    /// At most this many lines (1 to 5000; default 1000).
    limit: Option<u32>,
}

/// A deployment's output, in order.
#[utoipa::path(tag = "deployments", params(("id" = uuid::Uuid, Path), LogQuery), security(("bearer" = [])),
    responses((status = 200, description = "Output lines", body = Vec<LogLine>), (status = 404, description = "No such deployment")))]
#[get("/deployments/{id}/logs")]
async fn deployment_logs(
    _auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<Id>,
    query: web::Query<LogQuery>,
) -> ApiResult<web::Json<Vec<LogLine>>> {
    let limit = query.limit.unwrap_or(1000);
    if !(1..=5000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 5000".into(),
        ));
    }
    let mut db = state.store.conn().await?;
    db.deployment_by_id(*id).await?.ok_or_else(no_deployment)?;
    Ok(web::Json(
        db.deployment_logs(*id, query.after, limit).await?,
    ))
}

/// Cancel an active deployment; a running command is stopped (its process group killed).
#[utoipa::path(tag = "deployments", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    request_body(content = Option<CancelDeployment>),
    responses((status = 200, description = "Cancelled", body = Deployment),
              (status = 404, description = "No such deployment"), (status = 409, description = "Already finished")))]
#[post("/deployments/{id}/cancel")]
async fn cancel_deployment(
    auth: Auth<Deployer>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
    body: web::Bytes,
) -> ApiResult<web::Json<Deployment>> {
    let body: CancelDeployment = optional_json(&body)?.unwrap_or(CancelDeployment { reason: None });
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let record = tx.deployment_by_id(*id).await?.ok_or_else(no_deployment)?;
    flightdeck_domain::deployment::check_can_cancel(&record.deployment)
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    let before = record.deployment.status;
    let report = Report {
        status: DeploymentStatus::Cancelled,
        actor: auth.user.username.clone(),
        message: body.reason.clone().unwrap_or_else(|| "cancelled".into()),
        ci_url: None,
    };
    let (updated, events) = deploy::record_status(&mut *tx, record, &report, now).await?;
    let audit = NewAudit {
        actor: auth.user.username.clone(),
        action: "deployment.cancel".into(),
        target_type: "deployment".into(),
        target_id: id.to_string(),
        before: Some(serde_json::json!({ "status": before })),
        after: Some(serde_json::json!({ "status": updated.deployment.status })),
        reason: body.reason,
        request_id: Some(meta.request_id),
    };
    state.commit(tx, Some(&audit), events, now).await?;
    state.executions.cancel(*id);
    Ok(web::Json(updated.deployment))
}

/// Mark a deployment's version bad: it is never chosen as a rollback target again.
#[utoipa::path(tag = "deployments", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Marked", body = Deployment), (status = 404, description = "No such deployment")))]
#[post("/deployments/{id}/mark-bad")]
async fn mark_bad(
    auth: Auth<Deployer>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
    body: web::Json<MarkBad>,
) -> ApiResult<web::Json<Deployment>> {
    let body = body.into_inner();
    catalog::validate_mark_bad(&body).map_err(ApiError::Validation)?;
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    tx.deployment_by_id(*id).await?.ok_or_else(no_deployment)?;
    let updated = tx.set_marked_bad(*id, true).await?;
    tx.insert_deployment_event(&NewDeploymentEvent {
        deployment_id: *id,
        at: now,
        status: None,
        actor: auth.user.username.clone(),
        message: format!("marked bad: {}", body.reason),
    })
    .await?;
    let audit = NewAudit {
        actor: auth.user.username.clone(),
        action: "deployment.mark_bad".into(),
        target_type: "deployment".into(),
        target_id: id.to_string(),
        after: Some(
            serde_json::json!({ "version": updated.deployment.version, "marked_bad": true }),
        ),
        reason: Some(body.reason),
        request_id: Some(meta.request_id),
        ..Default::default()
    };
    state
        .commit(
            tx,
            Some(&audit),
            vec![deployment_event(&updated.deployment)],
            now,
        )
        .await?;
    Ok(web::Json(updated.deployment))
}

/// Progress from an external pipeline. Authenticate with the deployment's own callback token
/// (`Authorization: Bearer fdc_…`, given to the executor), not a user's.
#[utoipa::path(tag = "deployments", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Recorded; late or backwards reports change nothing", body = Deployment),
              (status = 401, description = "Not this deployment's callback token")))]
#[post("/deployments/{id}/status")]
async fn report_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Id>,
    body: web::Json<StatusReport>,
) -> ApiResult<web::Json<Deployment>> {
    let token = bearer_token(&req)?;
    let unauthorized = || ApiError::Unauthorized("not this deployment's callback token".into());
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let record = tx
        .deployment_by_callback_digest(&secret_digest(&token))
        .await?
        .ok_or_else(unauthorized)?;
    if record.deployment.id != *id {
        return Err(unauthorized());
    }
    let body = body.into_inner();
    let mut events = Vec::new();
    if !body.log.is_empty() {
        let lines: Vec<_> = body
            .log
            .into_iter()
            .map(|l| (flightdeck_model::LogStream::Stdout, l))
            .collect();
        let saved = tx.append_logs(*id, &lines, now).await?;
        events.push((
            deploy::DEPLOYMENT_LOG,
            serde_json::json!({ "deployment_id": *id, "lines": saved }),
        ));
    }
    let report = Report {
        status: body.status,
        actor: "pipeline".into(),
        message: body
            .message
            .unwrap_or_else(|| format!("reported {}", body.status)),
        ci_url: body.url,
    };
    let (updated, more) = deploy::record_status(&mut *tx, record, &report, now).await?;
    events.extend(more);
    state.commit(tx, None, events, now).await?;
    Ok(web::Json(updated.deployment))
}

/// Roll a target back: to the most recent succeeded version other than the current one and not
/// marked bad, or to `to_deployment`. Allowed during locks and freezes; a reason is required.
#[utoipa::path(tag = "deployments", security(("bearer" = [])),
    responses(
        (status = 202, description = "Accepted; the executor starts now", body = Deployment),
        (status = 409, description = "An active deployment is in the way"),
        (status = 422, description = "Nothing to roll back to, or missing reason or confirmation"),
    ))]
#[post("/rollbacks")]
async fn create_rollback(
    auth: Auth<Deployer>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    req: HttpRequest,
    body: web::Json<CreateRollback>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let idempotency = Idempotency::from_request(&req, &auth.user.username, "rollbacks", &body)?;
    if let Some(replayed) = idempotency.replay(&state).await? {
        return Ok(replayed);
    }
    catalog::validate_create_rollback(&body).map_err(ApiError::Validation)?;
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let (service, env) = resolve_target(&mut *tx, &body.service, &body.environment).await?;
    check_confirmation(&env, body.confirm.as_deref())
        .map_err(|e| ApiError::Validation(vec![e.field_error()]))?;
    let (to, from) = rollback_choice(&mut *tx, &service, &env, body.to_deployment).await?;
    let plan = Plan {
        kind: DeploymentKind::Rollback,
        version: to.version.clone(),
        description: Some(format!(
            "roll back to {} (deployment {})",
            to.version, to.id
        )),
        reason: Some(body.reason.trim().to_owned()),
        rollback_to: Some(to.id),
        replaces: from,
        commit_sha: to.commit_sha.clone(),
        commit_url: to.commit_url.clone(),
        committed_at: to.committed_at,
    };
    let deployment = start(
        &state,
        tx,
        &auth.user.username,
        meta,
        &idempotency,
        &service,
        &env,
        plan,
        now,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(deployment))
}

async fn rollback_choice(
    tx: &mut dyn Tx,
    service: &Service,
    env: &Environment,
    explicit: Option<Id>,
) -> ApiResult<(Deployment, Option<String>)> {
    let current = tx
        .target(service.id, env.id)
        .await?
        .and_then(|t| t.current_version);
    let history = tx.target_history(service.id, env.id, HISTORY_DEPTH).await?;
    let from = rollback_from(&history, &service.slug, &env.slug, current.as_deref());
    let chosen = choose_target(&history, &service.slug, &env.slug, from, explicit)
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    Ok((chosen.clone(), from.map(str::to_owned)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PreviewQuery {
    service: String,
    environment: String,
    to_deployment: Option<uuid::Uuid>,
}

/// What a rollback would do (from → to), without doing it.
#[utoipa::path(tag = "deployments", params(PreviewQuery), security(("bearer" = [])),
    responses((status = 200, description = "The rollback that would happen", body = RollbackPreview),
              (status = 422, description = "Nothing to roll back to")))]
#[get("/rollbacks/preview")]
async fn preview_rollback(
    _auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<PreviewQuery>,
) -> ApiResult<web::Json<RollbackPreview>> {
    let mut tx = state.store.begin().await?;
    let (service, env) = resolve_target(&mut *tx, &query.service, &query.environment).await?;
    let (to, from) = rollback_choice(&mut *tx, &service, &env, query.to_deployment).await?;
    Ok(web::Json(RollbackPreview {
        service: service.slug,
        environment: env.slug,
        from_version: from,
        to_version: to.version,
        to_deployment: to.id,
        protected: env.protected,
    }))
}

/// An optional JSON body: empty means absent; anything else must parse.
fn optional_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<Option<T>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some).map_err(|e| {
        if e.is_data() {
            ApiError::Unprocessable(format!("the JSON does not match the expected shape: {e}"))
        } else {
            ApiError::BadRequest(format!("malformed JSON: {e}"))
        }
    })
}
