//! SLOs on components: admin create/delete, per-component and global lists (the latter sorted by
//! budget left). Their evaluation is the SLO poller's (`workers::slo_poller`).

use std::collections::BTreeSet;

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::Utc;
use flightdeck_domain::health::{rollup, slo as dslo};
use flightdeck_model::{
    CreateSlo, FieldError, Page, Slo, SloHistoryPoint, SloHistoryQuery, SloSli,
};
use flightdeck_store::NewAudit;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    components::{recompute, to_json},
    error::{ApiError, ApiResult},
    extract::{Auth, RequestMeta, role::Admin},
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_all_slos)
        .service(list_component_slos)
        .service(create_slo)
        .service(delete_slo)
        .service(slo_history);
}

/// The most points a history answer carries (and its default).
pub const MAX_HISTORY_POINTS: u32 = 2000;
/// The most stored evaluations read for one answer before thinning (a week at a 30 s poll).
const MAX_HISTORY_ROWS: u32 = 20_160;

pub const SLO_UPDATED: &str = "slo.updated";
pub const SLO_DELETED: &str = "slo.deleted";

/// The domain's view of a wire SLO definition, or the fields that are wrong.
pub fn domain_slo(
    objective: f64,
    window_secs: u64,
    sli: &SloSli,
) -> Result<dslo::Slo, Vec<FieldError>> {
    let field = |f: &str, m: &str| FieldError {
        field: f.into(),
        message: m.into(),
    };
    let objective = dslo::Objective::new(objective).map_err(|_| {
        vec![field(
            "objective",
            "must be between 0 and 1 exclusive, e.g. 0.999",
        )]
    })?;
    let sli = match sli {
        SloSli::Ratio { good, total } => dslo::Sli::Ratio {
            good: good.clone(),
            total: total.clone(),
        },
        SloSli::Threshold {
            query,
            comparison,
            threshold,
        } => dslo::Sli::Threshold {
            query: query.clone(),
            comparison: serde_json::from_value(serde_json::Value::String(comparison.clone()))
                .map_err(|_| vec![field("sli.comparison", "must be le, lt, ge or gt")])?,
            threshold: *threshold,
        },
    };
    let slo = dslo::Slo {
        objective,
        window_secs,
        sli,
    };
    dslo::validate_slo(&slo)?;
    Ok(slo)
}

/// What the rollup needs from a stored SLO.
pub fn signal(slo: &Slo) -> rollup::SloSignal {
    let rates = slo
        .burn_rates
        .iter()
        .filter_map(|r| {
            serde_json::from_value(
                serde_json::json!({"window": r.window, "burn_rate": r.burn_rate}),
            )
            .ok()
        })
        .collect();
    rollup::SloSignal {
        name: slo.name.clone(),
        evaluated_at: slo.evaluated_at,
        burn: slo
            .evaluated_at
            .map(|_| flightdeck_domain::health::burn::BurnAssessment {
                fast_burn: slo.fast_burn,
                slow_burn: slo.slow_burn,
                ticket: slo.ticket,
                rates,
            }),
    }
}

/// Least budget left first; never-evaluated SLOs last.
pub fn sort_by_budget(slos: &mut [Slo]) {
    slos.sort_by(|a, b| {
        let key = |s: &Slo| s.budget_remaining.unwrap_or(f64::INFINITY);
        key(a)
            .total_cmp(&key(b))
            .then_with(|| a.component.cmp(&b.component))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// Every SLO, least error budget left first.
#[utoipa::path(tag = "health", security(("bearer" = [])),
    responses((status = 200, description = "All SLOs, least budget left first", body = Page<Slo>)))]
#[get("/slos")]
async fn list_all_slos(_auth: Auth, state: web::Data<AppState>) -> ApiResult<web::Json<Page<Slo>>> {
    let mut items = state.store.conn().await?.list_slos(None).await?;
    sort_by_budget(&mut items);
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// A component's SLOs by name.
#[utoipa::path(tag = "health", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The component's SLOs", body = Page<Slo>),
              (status = 404, description = "No such component")))]
#[get("/components/{slug}/slos")]
async fn list_component_slos(
    _auth: Auth,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult<web::Json<Page<Slo>>> {
    let mut db = state.store.conn().await?;
    if db.component_by_slug(&slug).await?.is_none() {
        return Err(not_found(&slug));
    }
    let items = db.list_slos(Some(&slug)).await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Add an SLO to a component (admins). It is evaluated on the poller's next round; until then
/// the component shows "no data yet".
#[utoipa::path(tag = "health", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Slo), (status = 404, description = "No such component"),
              (status = 409, description = "The component already has an SLO of that name"),
              (status = 422, description = "Invalid fields")))]
#[post("/components/{slug}/slos")]
async fn create_slo(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    slug: web::Path<String>,
    body: web::Json<CreateSlo>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    if body.name.trim().is_empty() || body.name.len() > 100 {
        errors.push(FieldError {
            field: "name".into(),
            message: "must be 1 to 100 characters".into(),
        });
    }
    if let Err(errs) = domain_slo(body.objective, body.window_secs, &body.sli) {
        errors.extend(errs);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let component = tx
        .component_by_slug(&slug)
        .await?
        .ok_or_else(|| not_found(&slug))?;
    if tx
        .list_slos(Some(&component.slug))
        .await?
        .iter()
        .any(|s| s.name == body.name)
    {
        return Err(ApiError::Conflict(format!(
            "component `{}` already has an SLO named `{}`",
            component.slug, body.name
        )));
    }
    let slo = tx
        .insert_slo(&Slo {
            id: uuid::Uuid::now_v7(),
            component: component.slug.clone(),
            name: body.name,
            objective: body.objective,
            window_secs: body.window_secs,
            sli: body.sli,
            current: None,
            budget_remaining: None,
            burn_rates: Vec::new(),
            fast_burn: false,
            slow_burn: false,
            ticket: false,
            evaluated_at: None,
            error: None,
            created_at: now,
        })
        .await?;
    let mut events = recompute(&mut *tx, &BTreeSet::from([component.slug.clone()]), now).await?;
    events.push((SLO_UPDATED, to_json(&slo)));
    let entry = NewAudit {
        after: Some(to_json(&slo)),
        ..meta.audit(&auth.user.username, "slo.create", "slo", slo.id.to_string())
    };
    state.commit(tx, Some(&entry), events, now).await?;
    Ok(HttpResponse::Created().json(slo))
}

/// Remove an SLO and its history (admins).
#[utoipa::path(tag = "health", params(("slug" = String, Path), ("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such SLO on that component")))]
#[delete("/components/{slug}/slos/{id}")]
async fn delete_slo(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, uuid::Uuid)>,
) -> ApiResult<HttpResponse> {
    let (slug, id) = path.into_inner();
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let slo = tx
        .slo_by_id(id)
        .await?
        .filter(|s| s.component == slug)
        .ok_or_else(|| ApiError::NotFound(format!("no SLO {id} on component `{slug}`")))?;
    tx.delete_slo(id).await?;
    let mut events = recompute(&mut *tx, &BTreeSet::from([slug.clone()]), now).await?;
    events.push((
        SLO_DELETED,
        serde_json::json!({"id": id, "component": slug}),
    ));
    let entry = NewAudit {
        before: Some(to_json(&slo)),
        ..meta.audit(&auth.user.username, "slo.delete", "slo", id.to_string())
    };
    state.commit(tx, Some(&entry), events, now).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An SLO's evaluations, oldest first, for trend charts: at most `limit` (default and maximum
/// 2000) points, thinned out evenly when more were kept (the newest is always included).
#[utoipa::path(tag = "health", params(("id" = uuid::Uuid, Path), SloHistoryQuery), security(("bearer" = [])),
    responses((status = 200, description = "Evaluations, oldest first", body = Vec<SloHistoryPoint>),
              (status = 404, description = "No such SLO"),
              (status = 422, description = "Invalid `limit`")))]
#[get("/slos/{id}/history")]
async fn slo_history(
    _auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
    query: web::Query<SloHistoryQuery>,
) -> ApiResult<web::Json<Vec<SloHistoryPoint>>> {
    let limit = query.limit.unwrap_or(MAX_HISTORY_POINTS);
    if !(1..=MAX_HISTORY_POINTS).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            &format!("must be between 1 and {MAX_HISTORY_POINTS}"),
        ));
    }
    let id = id.into_inner();
    let mut db = state.store.conn().await?;
    if db.slo_by_id(id).await?.is_none() {
        return Err(ApiError::NotFound(format!("no SLO {id}")));
    }
    let rows = db
        .slo_history_since(id, query.since, MAX_HISTORY_ROWS)
        .await?;
    let points = thin_evenly(rows, limit as usize)
        .into_iter()
        .map(|r| SloHistoryPoint {
            at: r.at,
            current: r.current,
            budget_remaining: r.budget_remaining,
            burn_rates: r.burn_rates.0,
            error: r.error,
        })
        .collect();
    Ok(web::Json(points))
}

/// At most `max` of `items`, evenly spaced, keeping the first and the last (so a trend still
/// spans the whole range and ends at the latest value).
pub fn thin_evenly<T>(items: Vec<T>, max: usize) -> Vec<T> {
    let n = items.len();
    if n <= max || max == 0 {
        return if max == 0 { Vec::new() } else { items };
    }
    if max == 1 {
        return items.into_iter().last().into_iter().collect();
    }
    // Index i*(n-1)/(max-1) for i in 0..max: strictly increasing because n > max.
    let mut wanted = (0..max).map(|i| i * (n - 1) / (max - 1)).peekable();
    items
        .into_iter()
        .enumerate()
        .filter_map(|(idx, item)| {
            if wanted.peek() == Some(&idx) {
                wanted.next();
                Some(item)
            } else {
                None
            }
        })
        .collect()
}

fn not_found(slug: &str) -> ApiError {
    ApiError::NotFound(format!("no component `{slug}`"))
}
