//! Components (admin CRUD), the health grid, and the status rollup every alert change runs.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Duration, Utc};
use flightdeck_domain::{
    catalog,
    health::{alerts as dalerts, matchers, rollup},
};
use flightdeck_model::{
    Alert, Component, ComponentDetail, ComponentMaintenance, ComponentSloSummary, ComponentStatus,
    ComponentStatusChanged, ComponentSummary, CreateComponent, FieldError, HealthGrid, MetricQuery,
    Page, Slo, UpdateComponent,
};
use flightdeck_store::{ComponentPatch, DeploymentFilter, NewComponent, Tx};
use serde::{Serialize, de::DeserializeOwned};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    error::{ApiError, ApiResult},
    extract::{Auth, RequestMeta, role::Admin},
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_components)
        .service(create_component)
        .service(get_component)
        .service(update_component)
        .service(health_grid);
}

pub const COMPONENT_UPDATED: &str = "component.updated";
pub const COMPONENT_STATUS_CHANGED: &str = "component.status_changed";

/// An SLO whose last successful evaluation is older than this makes its component `unknown`.
const STALE_AFTER_MINUTES: i64 = 15;
/// Deployments shown on a component's page.
const RECENT_DEPLOYMENTS: u32 = 20;
/// Each metric query is a Prometheus range query per drill-down view: keep the fan-out small.
pub const MAX_METRIC_QUERIES: usize = 10;
const MAX_QUERY_NAME_LEN: usize = 64;
/// PromQL and log queries travel in a URL query string; Prometheus and most proxies take 8 KiB.
pub const MAX_QUERY_LEN: usize = 2000;
const MAX_UNIT_LEN: usize = 32;

pub(crate) fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("wire types serialise")
}

/// Between the wire enums and the domain's: both use the same snake_case names.
pub(crate) fn convert<A: Serialize, B: DeserializeOwned>(a: A) -> B {
    serde_json::from_value(to_json(&a)).expect("wire and domain names agree")
}

pub(crate) fn episode(alert: &Alert) -> dalerts::AlertEpisode {
    dalerts::AlertEpisode {
        fingerprint: alert.fingerprint.clone(),
        starts_at: alert.starts_at,
        name: alert.name.clone(),
        severity: alert.severity.into(),
        source_status: alert.source_status.into(),
        state: alert.state.into(),
        escalation_level: alert.escalation_level,
        ends_at: alert.ends_at,
        labels: alert.labels.clone(),
        annotations: alert.annotations.clone(),
    }
}

fn windows(maintenance: &[ComponentMaintenance]) -> Vec<rollup::MaintenanceWindow> {
    maintenance
        .iter()
        .map(|w| rollup::MaintenanceWindow {
            name: w.name.clone(),
            starts_at: w.starts_at,
            ends_at: w.ends_at,
        })
        .collect()
}

pub(crate) fn roll(
    alerts: &[Alert],
    slos: &[Slo],
    maintenance: &[ComponentMaintenance],
    now: DateTime<Utc>,
) -> (ComponentStatus, Vec<String>) {
    let episodes: Vec<_> = alerts.iter().map(episode).collect();
    let windows = windows(maintenance);
    let slos: Vec<_> = slos.iter().map(super::slos::signal).collect();
    let result = rollup::rollup(
        rollup::Signals {
            alerts: &episodes,
            slos: &slos,
            maintenance: &windows,
            ..Default::default()
        },
        now,
        Duration::minutes(STALE_AFTER_MINUTES),
    );
    (
        convert(result.status),
        result.reasons.into_iter().map(|r| r.text).collect(),
    )
}

/// Recomputes the status of each named component from its live alerts, SLO burn and maintenance; stores
/// changes and returns the `component.status_changed` events to commit with them.
pub(crate) async fn recompute(
    tx: &mut dyn Tx,
    slugs: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<(&'static str, serde_json::Value)>> {
    let mut events = Vec::new();
    for slug in slugs {
        // Locked before its alerts are read (slugs in order, after any alert rows: the order
        // every writer takes them in), so concurrent rollups of one component — the alert
        // writer, triage, the escalator — run one after the other and the last sees everything.
        let Some(component) = tx.component_for_update(slug).await? else {
            continue;
        };
        let live = tx.live_alerts(slug).await?;
        let slos = tx.list_slos(Some(slug)).await?;
        let (status, reasons) = roll(&live, &slos, &component.maintenance, now);
        if status == component.status && reasons == component.status_reasons {
            continue;
        }
        tx.set_component_status(component.id, status, &reasons, now)
            .await?;
        if status != component.status {
            events.push((
                COMPONENT_STATUS_CHANGED,
                to_json(&ComponentStatusChanged {
                    component: component.slug.clone(),
                    from: component.status,
                    to: status,
                    reasons,
                }),
            ));
        }
    }
    Ok(events)
}

/// Something derived from every component, kept with the catalog stamp it was built at. The
/// stamp (count and latest change) is one aggregate, and any create or change moves it. A change
/// written by a replica whose clock lags might not move the latest change, so the copy is also
/// rebuilt every [`CATALOG_COPY_MAX_AGE`].
pub(crate) struct CatalogCopy<T> {
    stamp: Option<(i64, Option<DateTime<Utc>>)>,
    loaded: Option<std::time::Instant>,
    value: T,
}

impl<T: Default> Default for CatalogCopy<T> {
    fn default() -> Self {
        CatalogCopy {
            stamp: None,
            loaded: None,
            value: T::default(),
        }
    }
}

const CATALOG_COPY_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(10);

impl<T> CatalogCopy<T> {
    /// The copy, rebuilt by `build` from every component first if the catalog changed.
    pub(crate) async fn current(
        &mut self,
        tx: &mut dyn Tx,
        build: impl FnOnce(Vec<Component>) -> T,
    ) -> ApiResult<&T> {
        let stamp = tx.components_stamp().await?;
        let fresh = self
            .loaded
            .is_some_and(|at| at.elapsed() < CATALOG_COPY_MAX_AGE);
        if self.stamp != Some(stamp) || !fresh {
            self.value = build(tx.list_components().await?);
            self.stamp = Some(stamp);
            self.loaded = Some(std::time::Instant::now());
        }
        Ok(&self.value)
    }
}

/// Every component's routing matchers, for [`matchers::route`]. A component without matchers
/// gets `component="<slug>"`.
pub(crate) fn routing(components: &[Component]) -> Vec<matchers::ComponentMatchers> {
    components
        .iter()
        .map(|c| matchers::ComponentMatchers {
            component: c.slug.clone(),
            matchers: if c.matchers.is_empty() {
                matchers::default_matchers(&c.slug)
            } else {
                c.matchers
                    .iter()
                    .filter_map(|m| matchers::parse_matcher(m).ok())
                    .collect()
            },
        })
        .collect()
}

fn field(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Problems with a component's drill-down queries: at most ten metric queries with unique,
/// non-blank names and non-blank PromQL, and lengths that fit a request URL.
pub(crate) fn query_problems(
    metric_queries: &[MetricQuery],
    log_query: Option<&str>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if metric_queries.len() > MAX_METRIC_QUERIES {
        errors.push(field("metric_queries", "at most 10 queries"));
    }
    let mut seen = BTreeSet::new();
    for (i, q) in metric_queries.iter().enumerate() {
        let name = q.name.trim();
        if name.is_empty()
            || q.name.chars().count() > MAX_QUERY_NAME_LEN
            || q.name.chars().any(char::is_control)
        {
            errors.push(field(
                &format!("metric_queries[{i}].name"),
                "must be 1 to 64 characters without control characters",
            ));
        } else if !seen.insert(name) {
            errors.push(field(
                &format!("metric_queries[{i}].name"),
                "names must be unique within the component",
            ));
        }
        if q.query.trim().is_empty() || q.query.chars().count() > MAX_QUERY_LEN {
            errors.push(field(
                &format!("metric_queries[{i}].query"),
                "must be 1 to 2000 characters of PromQL",
            ));
        }
        if let Some(unit) = &q.unit
            && (unit.trim().is_empty()
                || unit.chars().count() > MAX_UNIT_LEN
                || unit.chars().any(char::is_control))
        {
            errors.push(field(
                &format!("metric_queries[{i}].unit"),
                "must be 1 to 32 characters without control characters",
            ));
        }
    }
    if log_query.is_some_and(|q| q.chars().count() > MAX_QUERY_LEN) {
        errors.push(field("log_query", "at most 2000 characters"));
    }
    errors
}

/// Checks what a create or update sets; the service must exist.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn validate(
    tx: &mut dyn Tx,
    name: Option<&str>,
    service: Option<&str>,
    depends_on: Option<&[String]>,
    matchers_in: Option<&[String]>,
    metric_queries: Option<&[MetricQuery]>,
    log_query: Option<&str>,
    maintenance: Option<&[ComponentMaintenance]>,
) -> ApiResult<()> {
    let mut errors = query_problems(metric_queries.unwrap_or_default(), log_query);
    if let Some(problem) = name.and_then(catalog::name_problem) {
        errors.push(field("name", problem));
    }
    if let Some(service) = service
        && tx.service_by_slug(service).await?.is_none()
    {
        errors.push(field("service", "no such service"));
    }
    for (i, dep) in depends_on.unwrap_or_default().iter().enumerate() {
        if let Some(problem) = catalog::slug_problem(dep) {
            errors.push(field(&format!("depends_on[{i}]"), problem));
        }
    }
    if let Err(errs) = matchers::validate_matchers(matchers_in.unwrap_or_default()) {
        errors.extend(errs);
    }
    for (i, w) in maintenance.unwrap_or_default().iter().enumerate() {
        if w.ends_at <= w.starts_at {
            errors.push(field(
                &format!("maintenance[{i}]"),
                "ends_at must be after starts_at",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Every component by slug (one page).
#[utoipa::path(tag = "health", security(("bearer" = [])),
    responses((status = 200, description = "All components by slug", body = Page<Component>)))]
#[get("/components")]
async fn list_components(
    _auth: Auth,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Page<Component>>> {
    let items = state.store.conn().await?.list_components().await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Add a component (admins).
#[utoipa::path(tag = "health", security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Component), (status = 409, description = "The slug is taken"),
              (status = 422, description = "Invalid fields")))]
#[post("/components")]
async fn create_component(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<CreateComponent>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    if let Some(problem) = catalog::slug_problem(&body.slug) {
        return Err(ApiError::validation("slug", problem));
    }
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    validate(
        &mut *tx,
        Some(&body.name),
        body.service.as_deref(),
        Some(&body.depends_on),
        Some(&body.matchers),
        Some(&body.metric_queries),
        body.log_query.as_deref(),
        Some(&body.maintenance),
    )
    .await?;
    let (status, status_reasons) = roll(&[], &[], &body.maintenance, now);
    let new = NewComponent {
        id: uuid::Uuid::now_v7(),
        slug: body.slug,
        name: body.name,
        group: body.group,
        service: body.service,
        tier: body.tier,
        depends_on: body.depends_on,
        matchers: body.matchers,
        metric_queries: body.metric_queries,
        log_query: body.log_query.filter(|q| !q.trim().is_empty()),
        maintenance: body.maintenance,
        status,
        status_reasons,
        now,
    };
    let component = tx.insert_component(&new).await?;
    let mut entry = meta.audit(
        &auth.user.username,
        "component.create",
        "component",
        &component.slug,
    );
    entry.after = Some(to_json(&component));
    state
        .commit(
            tx,
            Some(&entry),
            vec![(COMPONENT_UPDATED, to_json(&component))],
            now,
        )
        .await?;
    Ok(HttpResponse::Created().json(component))
}

/// One component with its live alerts, its SLOs and its linked service's recent deployments.
#[utoipa::path(tag = "health", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The component", body = ComponentDetail), (status = 404, description = "No such component")))]
#[get("/components/{slug}")]
async fn get_component(
    _auth: Auth,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult<web::Json<ComponentDetail>> {
    let mut db = state.store.conn().await?;
    let component = db
        .component_by_slug(&slug)
        .await?
        .ok_or_else(|| not_found(&slug))?;
    let alerts = db.live_alerts(&component.slug).await?;
    let slos = db.list_slos(Some(&component.slug)).await?;
    let deployments = match &component.service {
        Some(service) => {
            let filter = DeploymentFilter {
                service: Some(service.clone()),
                ..Default::default()
            };
            db.list_deployments(&filter, RECENT_DEPLOYMENTS).await?
        }
        None => Vec::new(),
    };
    Ok(web::Json(ComponentDetail {
        component,
        alerts,
        slos,
        deployments,
    }))
}

/// Change a component (admins); its status is recomputed (maintenance windows may change it).
#[utoipa::path(tag = "health", params(("slug" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Component), (status = 404, description = "No such component"),
              (status = 422, description = "Invalid fields")))]
#[patch("/components/{slug}")]
async fn update_component(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    slug: web::Path<String>,
    body: web::Json<UpdateComponent>,
) -> ApiResult<web::Json<Component>> {
    let body = body.into_inner();
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let before = tx
        .component_by_slug(&slug)
        .await?
        .ok_or_else(|| not_found(&slug))?;
    validate(
        &mut *tx,
        body.name.as_deref(),
        body.service.as_ref().and_then(|s| s.as_deref()),
        body.depends_on.as_deref(),
        body.matchers.as_deref(),
        body.metric_queries.as_deref(),
        body.log_query.as_deref(),
        body.maintenance.as_deref(),
    )
    .await?;
    let patch = ComponentPatch {
        name: body.name,
        group: body.group,
        service: body.service,
        tier: body.tier,
        depends_on: body.depends_on,
        matchers: body.matchers,
        metric_queries: body.metric_queries,
        // Blank goes back to the default, stored as ''.
        log_query: body.log_query.map(|q| {
            if q.trim().is_empty() {
                String::new()
            } else {
                q
            }
        }),
        maintenance: body.maintenance,
    };
    tx.update_component(before.id, &patch, now).await?;
    let mut events = recompute(&mut *tx, &BTreeSet::from([before.slug.clone()]), now).await?;
    let component = tx
        .component_by_slug(&before.slug)
        .await?
        .ok_or_else(|| not_found(&slug))?;
    let mut entry = meta.audit(
        &auth.user.username,
        "component.update",
        "component",
        &component.slug,
    );
    entry.before = Some(to_json(&before));
    entry.after = Some(to_json(&component));
    events.push((COMPONENT_UPDATED, to_json(&component)));
    state.commit(tx, Some(&entry), events, now).await?;
    Ok(web::Json(component))
}

/// The health grid: every component with its status and why, its live alerts by severity, its
/// SLOs at a glance and the broken dependencies that impact it; and how many are in each status.
///
/// Three queries whatever the number of components (components, SLOs, grouped alert counts);
/// the dependency impact is computed in memory by the domain's [`rollup::impacts`].
#[utoipa::path(tag = "health", security(("bearer" = [])),
    responses((status = 200, description = "The grid", body = HealthGrid)))]
#[get("/health")]
async fn health_grid(_auth: Auth, state: web::Data<AppState>) -> ApiResult<web::Json<HealthGrid>> {
    let mut db = state.store.conn().await?;
    let components = db.list_components().await?;
    let slos = db.list_slos(None).await?;
    let mut alert_counts = db.live_alert_counts().await?;
    drop(db);
    Ok(web::Json(grid(components, &slos, &mut alert_counts)))
}

/// Assembles the grid from what [`health_grid`] read.
pub(crate) fn grid(
    components: Vec<Component>,
    slos: &[Slo],
    alert_counts: &mut BTreeMap<String, flightdeck_model::AlertCounts>,
) -> HealthGrid {
    let mut counts: BTreeMap<String, u32> = ComponentStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    for c in &components {
        *counts.entry(c.status.as_str().to_owned()).or_default() += 1;
    }
    let mut slo_summaries: BTreeMap<&str, ComponentSloSummary> = BTreeMap::new();
    for slo in slos {
        let summary = slo_summaries.entry(slo.component.as_str()).or_default();
        summary.count += 1;
        if let Some(left) = slo.budget_remaining {
            summary.worst_budget_remaining = Some(
                summary
                    .worst_budget_remaining
                    .map_or(left, |worst| worst.min(left)),
            );
        }
        summary.fast_burn |= slo.fast_burn;
        summary.slow_burn |= slo.slow_burn;
    }
    let nodes: Vec<rollup::ComponentNode> = components
        .iter()
        .map(|c| rollup::ComponentNode {
            component: c.slug.clone(),
            status: convert(c.status),
            depends_on: c.depends_on.clone(),
        })
        .collect();
    let mut impacted: BTreeMap<String, Vec<String>> = rollup::impacts(&nodes)
        .into_iter()
        .map(|i| {
            let mut slugs: Vec<String> = Vec::with_capacity(i.impacted_by.len());
            for by in i.impacted_by {
                if !slugs.contains(&by.dependency) {
                    slugs.push(by.dependency);
                }
            }
            (i.component, slugs)
        })
        .collect();
    let components = components
        .into_iter()
        .map(|c| ComponentSummary {
            alert_counts: alert_counts.remove(&c.slug).unwrap_or_default(),
            slos: slo_summaries.remove(c.slug.as_str()).unwrap_or_default(),
            impacted_by: impacted.remove(&c.slug).unwrap_or_default(),
            slug: c.slug,
            name: c.name,
            group: c.group,
            service: c.service,
            tier: c.tier,
            status: c.status,
            status_reasons: c.status_reasons,
        })
        .collect();
    HealthGrid { components, counts }
}

fn not_found(slug: &str) -> ApiError {
    ApiError::NotFound(format!("no component `{slug}`"))
}
