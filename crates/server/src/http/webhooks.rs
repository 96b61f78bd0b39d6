//! CI/CD webhooks (DESIGN.md "Ingestion"): verify, store durably in the inbox, answer 202.
//! The inbox worker applies deliveries later; a redelivery is a no-op.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::Utc;
use flightdeck_model::Page;
use flightdeck_store::{InboxRecord, InboxState, NewAudit, NewInbox};
use flightdeck_webhooks::{Headers, Source, VerifyError};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    error::{ApiError, ApiResult},
    extract::{Auth, Paging, RequestMeta, role},
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(github)
        .service(gitlab)
        .service(argocd)
        .service(generic)
        .service(list_deliveries)
        .service(get_delivery)
        .service(secret_status)
        .service(set_secret);
}

/// How long an API-set secret is trusted from memory; another replica's change takes at most
/// this long to apply here.
const SECRET_TTL: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Default)]
pub struct SecretCache {
    entries: std::sync::Mutex<
        std::collections::HashMap<&'static str, (Option<String>, std::time::Instant)>,
    >,
}

impl SecretCache {
    async fn get(&self, state: &AppState, source: &'static str) -> ApiResult<Option<String>> {
        let cached = self
            .entries
            .lock()
            .expect("secret cache")
            .get(source)
            .cloned();
        if let Some((value, at)) = cached
            && at.elapsed() < SECRET_TTL
        {
            return Ok(value);
        }
        let value = state
            .store
            .conn()
            .await?
            .get_setting(&secret_key(source))
            .await?;
        self.entries
            .lock()
            .expect("secret cache")
            .insert(source, (value.clone(), std::time::Instant::now()));
        Ok(value)
    }

    fn forget(&self, source: &'static str) {
        self.entries.lock().expect("secret cache").remove(source);
    }
}

/// The settings key of a source's secret set through the API (it wins over the environment).
fn secret_key(source: &str) -> String {
    format!("webhook_secret:{source}")
}

/// Every source with a secret: the CI/CD webhooks, and the alert webhooks
/// (`/webhooks/alertmanager`, `/webhooks/alerts`).
const SECRET_SOURCES: [&str; 6] = [
    "github",
    "gitlab",
    "argocd",
    "generic",
    super::alertmanager::SOURCE,
    super::alertmanager::GENERIC_SOURCE,
];

/// The secret in force for a source: set by an admin through the API, else from
/// `FLIGHTDECK_WEBHOOK_SECRET_<SOURCE>`.
pub(crate) async fn secret_for(
    state: &AppState,
    source: &'static str,
) -> ApiResult<(Vec<u8>, Option<&'static str>)> {
    if let Some(secret) = state.webhook_secrets.get(state, source).await? {
        return Ok((secret.into_bytes(), Some("api")));
    }
    Ok(match state.settings.webhook_secrets.get(source) {
        Some(s) => (s.expose().as_bytes().to_vec(), Some("environment")),
        None => (Vec::new(), None),
    })
}

/// Largest accepted delivery (GitHub caps payloads at 25 MB, but deployment events are small).
pub const MAX_DELIVERY_BYTES: usize = 5 * 1024 * 1024;

/// The answer to an accepted delivery.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Accepted {
    pub delivery_id: String,
    /// True when this delivery was already stored: nothing new happens.
    pub duplicate: bool,
}

/// A stored delivery, for finding the ones that matched nothing.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: uuid::Uuid,
    pub source: String,
    pub delivery_id: String,
    pub event_type: Option<String>,
    pub received_at: chrono::DateTime<Utc>,
    /// `pending`, `applied`, `ignored`, `unmatched` or `failed`.
    pub state: String,
    /// Why it was ignored, unmatched or failed.
    pub note: Option<String>,
    pub processed_at: Option<chrono::DateTime<Utc>>,
}

impl From<InboxRecord> for Delivery {
    fn from(r: InboxRecord) -> Self {
        Delivery {
            id: r.id,
            source: r.source,
            delivery_id: r.delivery_id,
            event_type: r.event_type,
            received_at: r.received_at,
            state: r.state.as_str().into(),
            note: r.note,
            processed_at: r.processed_at,
        }
    }
}

struct RequestHeaders<'a>(&'a HttpRequest);

impl Headers for RequestHeaders<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// The header carrying the event type, which the worker needs again to parse.
fn event_header(source: Source) -> Option<&'static str> {
    match source {
        Source::Github => Some("x-github-event"),
        Source::Gitlab => Some("x-gitlab-event"),
        Source::Argocd | Source::Generic => None,
    }
}

async fn ingest(
    state: &AppState,
    source: Source,
    req: &HttpRequest,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    if body.len() > MAX_DELIVERY_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "deliveries are limited to {MAX_DELIVERY_BYTES} bytes"
        )));
    }
    let (secret, _) = secret_for(state, source.as_str()).await?;
    let headers = RequestHeaders(req);
    let now = Utc::now();
    source
        .verify(&headers, body, &secret, now)
        .map_err(|e| match e {
            VerifyError::SecretNotConfigured => ApiError::Unauthorized(format!(
                "{source} webhooks are not enabled: no secret is configured"
            )),
            e => ApiError::Unauthorized(e.to_string()),
        })?;
    // Parse now as well, so garbage is refused here and never stored.
    let inbound = source
        .parse(&headers, body)
        .map_err(|e| match e.http_status() {
            400 => ApiError::BadRequest(e.to_string()),
            _ => ApiError::Unprocessable(e.to_string()),
        })?;
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
    let new = NewInbox {
        id: uuid::Uuid::now_v7(),
        source: source.as_str().into(),
        delivery_id: inbound.delivery_id.clone(),
        event_type: event_header(source).and_then(|h| headers.get(h)),
        body: text.to_owned(),
        now,
    };
    let inserted = state
        .inbox_writer
        .insert(new)
        .await
        .map_err(ApiError::internal)?;
    if inserted {
        state.inbox_ready.notify_one();
    }
    Ok(HttpResponse::Accepted().json(Accepted {
        delivery_id: inbound.delivery_id,
        duplicate: !inserted,
    }))
}

/// GitHub: `deployment`, `deployment_status`, `workflow_run` (workflows named like "Deploy to
/// production") and `ping`, signed with `X-Hub-Signature-256`.
#[utoipa::path(tag = "webhooks", request_body(content = Object, description = "GitHub's payload"),
    responses((status = 202, description = "Stored; applied shortly", body = Accepted),
              (status = 400, description = "Malformed payload"), (status = 401, description = "Bad or missing signature, or no secret configured"),
              (status = 413, description = "Too large"), (status = 422, description = "Valid JSON that is not a usable event")))]
#[post("/webhooks/github")]
async fn github(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    ingest(&state, Source::Github, &req, &body).await
}

/// GitLab Deployment Hook, authenticated by `X-Gitlab-Token`.
#[utoipa::path(tag = "webhooks", request_body(content = Object, description = "GitLab's payload"),
    responses((status = 202, description = "Stored; applied shortly", body = Accepted),
              (status = 400, description = "Malformed payload"), (status = 401, description = "Bad or missing token"),
              (status = 413, description = "Too large"), (status = 422, description = "Valid JSON that is not a usable event")))]
#[post("/webhooks/gitlab")]
async fn gitlab(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    ingest(&state, Source::Gitlab, &req, &body).await
}

/// Argo CD notifications with the template in `crates/webhooks/ARGOCD.md`, bearer token.
#[utoipa::path(tag = "webhooks", request_body(content = Object, description = "The documented template's body"),
    responses((status = 202, description = "Stored; applied shortly", body = Accepted),
              (status = 400, description = "Malformed payload"), (status = 401, description = "Bad or missing token"),
              (status = 413, description = "Too large"), (status = 422, description = "Valid JSON that is not a usable event")))]
#[post("/webhooks/argocd")]
async fn argocd(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    ingest(&state, Source::Argocd, &req, &body).await
}

/// Flightdeck's own schema (`crates/webhooks/GENERIC.md`), signed with
/// `X-Flightdeck-Signature: t=…,v1=…` (5-minute tolerance).
#[utoipa::path(tag = "webhooks", request_body(content = Object, description = "The generic schema"),
    responses((status = 202, description = "Stored; applied shortly", body = Accepted),
              (status = 400, description = "Malformed payload"), (status = 401, description = "Bad, stale or missing signature"),
              (status = 413, description = "Too large"), (status = 422, description = "Valid JSON that is not a usable event")))]
#[post("/webhooks/generic")]
async fn generic(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    ingest(&state, Source::Generic, &req, &body).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeliveryQuery {
    /// `pending`, `applied`, `ignored`, `unmatched` or `failed`.
    state: Option<String>,
    /// `github`, `gitlab`, `argocd`, `generic`, `alertmanager` or `alerts`.
    source: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Stored deliveries, newest first — e.g. `?state=unmatched` for events that matched no service
/// or environment (they are kept, never dropped), or `?source=alertmanager&state=failed` for
/// alert notifications that could not be applied. Applied alert notifications are pruned after
/// the live-event retention.
#[utoipa::path(tag = "webhooks", params(DeliveryQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of deliveries", body = Page<Delivery>)))]
#[get("/webhooks/deliveries")]
async fn list_deliveries(
    _auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<DeliveryQuery>,
) -> ApiResult<web::Json<Page<Delivery>>> {
    let paging = Paging::from_params(query.limit, query.cursor.as_deref())?;
    let filter = match query.state.as_deref() {
        None => None,
        Some(s) => Some(
            InboxState::parse(s)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown state `{s}`")))?,
        ),
    };
    let rows = state
        .store
        .conn()
        .await?
        .list_inbox(
            filter,
            query.source.as_deref(),
            paging.after,
            paging.limit + 1,
        )
        .await?;
    let items = rows.into_iter().map(Delivery::from).collect();
    Ok(web::Json(paging.page(items, |d| d.id)))
}

/// One stored delivery by its id — e.g. the `delivery` an alert webhook answered with, to see
/// when it was applied and what it changed.
#[utoipa::path(tag = "webhooks", params(("id" = uuid::Uuid, Path, description = "The delivery's id")), security(("bearer" = [])),
    responses((status = 200, description = "The delivery", body = Delivery), (status = 404, description = "No such delivery (or pruned after it was applied)")))]
#[get("/webhooks/deliveries/{id}")]
async fn get_delivery(
    _auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<web::Json<Delivery>> {
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| ApiError::BadRequest(format!("`{id}` is not a delivery id")))?;
    let row = state.store.conn().await?.inbox_delivery(id).await?;
    row.map(|r| web::Json(r.into()))
        .ok_or_else(|| ApiError::NotFound(format!("no delivery {id}")))
}

/// Whether a source's secret is configured, and where (never the secret itself).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecretStatus {
    pub source: String,
    pub configured: bool,
    /// `api` (set here by an admin, wins) or `environment`.
    pub origin: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SetSecret {
    /// At least 16 characters; `null` removes the API-set secret (the environment's applies again).
    pub secret: Option<String>,
}

fn parse_source(s: &str) -> ApiResult<&'static str> {
    SECRET_SOURCES
        .into_iter()
        .find(|name| *name == s)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no webhook source `{s}` ({})",
                SECRET_SOURCES.join(", ")
            ))
        })
}

/// Whether a webhook source is enabled (admins).
#[utoipa::path(tag = "webhooks", params(("source" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The source's secret status", body = SecretStatus), (status = 404, description = "No such source")))]
#[get("/webhooks/{source}/secret")]
async fn secret_status(
    _auth: Auth<role::Admin>,
    state: web::Data<AppState>,
    source: web::Path<String>,
) -> ApiResult<web::Json<SecretStatus>> {
    let source = parse_source(&source)?;
    let (secret, origin) = secret_for(&state, source).await?;
    Ok(web::Json(SecretStatus {
        source: source.into(),
        configured: !secret.is_empty(),
        origin: origin.map(str::to_owned),
    }))
}

/// Set (or clear) a webhook source's secret (admins). Takes effect for the next delivery.
#[utoipa::path(tag = "webhooks", params(("source" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Saved", body = SecretStatus), (status = 404, description = "No such source")))]
#[put("/webhooks/{source}/secret")]
async fn set_secret(
    auth: Auth<role::Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    source: web::Path<String>,
    body: web::Json<SetSecret>,
) -> ApiResult<web::Json<SecretStatus>> {
    let source = parse_source(&source)?;
    if body
        .secret
        .as_deref()
        .is_some_and(|s| s.len() < 16 || s.len() > 512)
    {
        return Err(ApiError::validation(
            "secret",
            "must be 16 to 512 characters",
        ));
    }
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    tx.put_setting(&secret_key(source), body.secret.as_deref(), now)
        .await?;
    let audit = NewAudit {
        actor: auth.user.username.clone(),
        action: if body.secret.is_some() {
            "webhook.secret_set".into()
        } else {
            "webhook.secret_cleared".into()
        },
        target_type: "webhook_source".into(),
        target_id: source.into(),
        request_id: Some(meta.request_id),
        ..Default::default()
    };
    state.commit(tx, Some(&audit), vec![], now).await?;
    state.webhook_secrets.forget(source);
    let (secret, origin) = secret_for(&state, source).await?;
    Ok(web::Json(SecretStatus {
        source: source.into(),
        configured: !secret.is_empty(),
        origin: origin.map(str::to_owned),
    }))
}
