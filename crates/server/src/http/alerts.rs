//! The alert feed and triage: acknowledge, escalate, resolve — each an alert event, an audit entry
//! and live events, in one transaction.

use std::collections::BTreeSet;

use actix_web::{get, post, web};
use chrono::Utc;
use flightdeck_domain::health::alerts::{self as dalerts, TriageAction, TriageError};
use flightdeck_model::{
    Alert, AlertDeployments, AlertDetail, AlertEvent, AlertQuery, AlertSummary, Id, Page,
    TriageRequest, TriageState,
};
use flightdeck_store::{AlertFilter, DeploymentFilter, NewAudit};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    components::{convert, episode, recompute, to_json},
    error::{ApiError, ApiResult},
    extract::{Auth, Paging, RequestMeta, role::Operator},
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    // `summary` before `{id}`, which would otherwise take the word for an id.
    cfg.service(list_alerts)
        .service(alert_summary)
        .service(get_alert)
        .service(alert_deployments)
        .service(acknowledge)
        .service(escalate)
        .service(resolve);
}

pub const ALERT_UPDATED: &str = "alert.updated";

/// Longest `q` the feed searches for.
const MAX_SEARCH_CHARS: usize = 200;

/// The feed's `q`, trimmed; blank means no search.
fn search_text(q: Option<&str>) -> ApiResult<Option<String>> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if q.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::validation(
            "q",
            &format!("at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    if q.contains('\0') {
        return Err(ApiError::validation("q", "must not contain NUL characters"));
    }
    Ok(Some(q.to_owned()))
}

/// The alert feed, newest first; filter by triage state, severity and component, and search
/// names and labels with `q`.
#[utoipa::path(tag = "health", params(AlertQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of alerts", body = Page<Alert>),
              (status = 400, description = "Unknown filter value or bad cursor"),
              (status = 422, description = "`q` longer than 200 characters")))]
#[get("/alerts")]
async fn list_alerts(
    _auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<AlertQuery>,
) -> ApiResult<web::Json<Page<Alert>>> {
    let paging = Paging::from_params(query.limit, query.cursor.as_deref())?;
    let filter = AlertFilter {
        state: query
            .state
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        severity: query
            .severity
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        component: query.component.clone(),
        text: search_text(query.q.as_deref())?,
        before_id: paging.after,
    };
    let rows = state
        .store
        .conn()
        .await?
        .list_alerts(&filter, paging.limit + 1)
        .await?;
    Ok(web::Json(paging.page(rows, |a| a.id)))
}

/// Every live alert (firing, not resolved by hand), routed to a component or not, counted by
/// triage state and severity: what a pager badge or a wallboard shows.
#[utoipa::path(tag = "health", security(("bearer" = [])),
    responses((status = 200, description = "Live alerts by triage state and severity", body = AlertSummary)))]
#[get("/alerts/summary")]
async fn alert_summary(
    _auth: Auth,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<AlertSummary>> {
    let summary = state.store.conn().await?.live_alert_summary().await?;
    Ok(web::Json(summary))
}

/// One alert with its events, oldest first.
#[utoipa::path(tag = "health", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The alert", body = AlertDetail), (status = 404, description = "No such alert")))]
#[get("/alerts/{id}")]
async fn get_alert(
    _auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<AlertDetail>> {
    let mut db = state.store.conn().await?;
    let alert = db.alert_by_id(*id).await?.ok_or_else(not_found)?;
    let events = db.alert_events(alert.id).await?;
    Ok(web::Json(AlertDetail { alert, events }))
}

/// How far before an alert's start its service's deployments count as "just before": long
/// enough for a slow rollout and a symptom that takes a while to trip a rule.
pub const CHANGE_WINDOW_MINUTES: u32 = 60;
/// At most this many of them (a busy service deploys often).
const MAX_CHANGES: u32 = 20;

/// What changed just before the alert started: its component's linked service's deployments
/// created in the hour before, in any environment, newest first.
#[utoipa::path(tag = "health", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The deployments just before the alert started", body = AlertDeployments),
              (status = 404, description = "No such alert")))]
#[get("/alerts/{id}/deployments")]
async fn alert_deployments(
    _auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<AlertDeployments>> {
    let mut db = state.store.conn().await?;
    let alert = db.alert_by_id(*id).await?.ok_or_else(not_found)?;
    let component = match &alert.component {
        Some(slug) => db.component_by_slug(slug).await?,
        None => None,
    };
    let service = component.as_ref().and_then(|c| c.service.clone());
    let deployments = match &service {
        Some(service) => {
            let filter = DeploymentFilter {
                service: Some(service.clone()),
                since: Some(
                    alert.starts_at - chrono::TimeDelta::minutes(i64::from(CHANGE_WINDOW_MINUTES)),
                ),
                // Started at the very moment: still before, for the alert.
                until: Some(alert.starts_at + chrono::TimeDelta::milliseconds(1)),
                ..Default::default()
            };
            db.list_deployments(&filter, MAX_CHANGES).await?
        }
        None => Vec::new(),
    };
    Ok(web::Json(AlertDeployments {
        component: alert.component,
        service,
        window_minutes: CHANGE_WINDOW_MINUTES,
        deployments,
    }))
}

/// Acknowledge: someone is on it (operators and up). A note is optional.
#[utoipa::path(tag = "health", params(("id" = uuid::Uuid, Path)), request_body = TriageRequest, security(("bearer" = [])),
    responses((status = 200, description = "Acknowledged", body = AlertDetail), (status = 404, description = "No such alert"),
              (status = 409, description = "Already acknowledged or resolved"), (status = 422, description = "Note too long")))]
#[post("/alerts/{id}/acknowledge")]
async fn acknowledge(
    auth: Auth<Operator>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
    body: web::Json<TriageRequest>,
) -> ApiResult<web::Json<AlertDetail>> {
    let body = body.into_inner();
    step(
        &state,
        &auth,
        meta,
        *id,
        TriageAction::Acknowledge,
        body.note,
    )
    .await
}

/// Escalate, optionally to a named person, rota or channel; the level rises by one each time.
#[utoipa::path(tag = "health", params(("id" = uuid::Uuid, Path)), request_body = TriageRequest, security(("bearer" = [])),
    responses((status = 200, description = "Escalated", body = AlertDetail), (status = 404, description = "No such alert"),
              (status = 409, description = "Already resolved"), (status = 422, description = "Bad target or note")))]
#[post("/alerts/{id}/escalate")]
async fn escalate(
    auth: Auth<Operator>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
    body: web::Json<TriageRequest>,
) -> ApiResult<web::Json<AlertDetail>> {
    let body = body.into_inner();
    let action = TriageAction::Escalate {
        target: body.target,
    };
    step(&state, &auth, meta, *id, action, body.note).await
}

/// Resolve by hand: the episode is over (if it fires again, that is a new episode).
#[utoipa::path(tag = "health", params(("id" = uuid::Uuid, Path)), request_body = TriageRequest, security(("bearer" = [])),
    responses((status = 200, description = "Resolved", body = AlertDetail), (status = 404, description = "No such alert"),
              (status = 409, description = "Already resolved"), (status = 422, description = "Note too long")))]
#[post("/alerts/{id}/resolve")]
async fn resolve(
    auth: Auth<Operator>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
    body: web::Json<TriageRequest>,
) -> ApiResult<web::Json<AlertDetail>> {
    let body = body.into_inner();
    step(&state, &auth, meta, *id, TriageAction::Resolve, body.note).await
}

fn action_name(action: &TriageAction) -> &'static str {
    match action {
        TriageAction::Acknowledge => "acknowledge",
        TriageAction::Escalate { .. } => "escalate",
        TriageAction::Resolve => "resolve",
    }
}

async fn step(
    state: &AppState,
    auth: &Auth<Operator>,
    meta: RequestMeta,
    id: Id,
    action: TriageAction,
    note: Option<String>,
) -> ApiResult<web::Json<AlertDetail>> {
    let now = Utc::now();
    let by = auth.user.username.as_str();
    let mut tx = state.store.begin().await?;
    let before = tx.alert_by_id(id).await?.ok_or_else(not_found)?;
    let event = dalerts::triage(&episode(&before), action, by, now, note.as_deref()).map_err(
        |e| match e {
            TriageError::AlreadyResolved | TriageError::AlreadyAcknowledged => {
                ApiError::Conflict(e.to_string())
            }
            TriageError::NoteTooLong | TriageError::BadTarget => {
                ApiError::Unprocessable(e.to_string())
            }
        },
    )?;
    let name = action_name(&event.action);
    let target = match &event.action {
        TriageAction::Escalate { target } => target.clone(),
        _ => None,
    };
    let to: TriageState = convert(event.to);
    let mut alert = Alert {
        state: to,
        escalation_level: event.escalation_level,
        last_note: event.note.clone().or(before.last_note.clone()),
        updated_at: now,
        ..before.clone()
    };
    if matches!(event.action, TriageAction::Acknowledge) {
        alert.acknowledged_by = Some(by.to_owned());
        alert.acknowledged_at = Some(now);
    }
    let alert = tx.update_alert(&alert).await?;
    tx.insert_alert_event(&AlertEvent {
        id: uuid::Uuid::now_v7(),
        alert_id: alert.id,
        at: now,
        actor: by.to_owned(),
        action: name.to_owned(),
        from_state: Some(before.state),
        to_state: to,
        escalation_level: event.escalation_level,
        target: target.clone(),
        note: event.note.clone(),
    })
    .await?;
    let mut events = vec![(ALERT_UPDATED, to_json(&alert))];
    if let Some(component) = &alert.component {
        events.extend(recompute(&mut *tx, &BTreeSet::from([component.clone()]), now).await?);
    }
    let history = tx.alert_events(alert.id).await?;
    let entry = NewAudit {
        actor: by.to_owned(),
        action: format!("alert.{name}"),
        target_type: "alert".into(),
        target_id: alert.id.to_string(),
        before: Some(
            serde_json::json!({ "state": before.state, "escalation_level": before.escalation_level }),
        ),
        after: Some(
            serde_json::json!({ "state": alert.state, "escalation_level": alert.escalation_level, "target": target }),
        ),
        reason: event.note,
        request_id: Some(meta.request_id),
    };
    state.commit(tx, Some(&entry), events, now).await?;
    Ok(web::Json(AlertDetail {
        alert,
        events: history,
    }))
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such alert".into())
}
