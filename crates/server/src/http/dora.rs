//! DORA figures: deployment frequency, change failure rate, recovery time, lead time.

use actix_web::{get, web};
use chrono::{DateTime, Duration, Utc};
use flightdeck_domain::dora::dora_metrics;
use flightdeck_model::DoraMetrics;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    error::{ApiError, ApiResult},
    extract::Auth,
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(dora);
}

/// Longest period one request may cover.
const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DoraQuery {
    /// Service slug; absent: every service.
    service: Option<String>,
    /// Environment slug; absent: every environment.
    environment: Option<String>,
    /// Start of the period (default: 30 days before `until`).
    since: Option<DateTime<Utc>>,
    /// End of the period (default: now).
    until: Option<DateTime<Utc>>,
}

/// DORA figures for a service and/or environment over a period (default: the last 30 days).
#[utoipa::path(tag = "deployments", params(DoraQuery), security(("bearer" = [])),
    responses((status = 200, description = "The figures", body = DoraMetrics)))]
#[get("/dora")]
async fn dora(
    _auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<DoraQuery>,
) -> ApiResult<web::Json<DoraMetrics>> {
    let until = query.until.unwrap_or_else(Utc::now);
    let since = query.since.unwrap_or(until - Duration::days(30));
    if since >= until || until - since > Duration::days(MAX_DAYS) {
        return Err(ApiError::BadRequest(format!(
            "the period must be positive and at most {MAX_DAYS} days"
        )));
    }
    // Recovery after a failure near the end of the period may come after it: read a week more.
    let rows = state
        .store
        .conn()
        .await?
        .finished_deployments(since, until + Duration::days(7))
        .await?;
    Ok(web::Json(dora_metrics(
        &rows,
        query.service.as_deref(),
        query.environment.as_deref(),
        since,
        until,
    )))
}
