//! Alert ingest: `POST /api/v1/webhooks/alertmanager` (Alertmanager's `webhook_config` payload,
//! version 4) and `POST /api/v1/webhooks/alerts` (any other source, Flightdeck's own shape), both
//! authenticated by a bearer token.
//!
//! Ingestion is durability first (DESIGN.md "Ingestion"): a notification is checked (token,
//! size, shape) and stored in the inbox with group commit, and only then answered 202; anything
//! refused is never stored. The alert applier (`workers::alert_inbox`) then applies stored
//! notifications in arrival order through [`apply`]: each notification is the group's whole
//! current state, so applying one is idempotent — every alert is upserted as an episode (source,
//! fingerprint, startsAt) through the domain's `ingest`, which turns resends and HA duplicates
//! into no-ops.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, DurationRound, Utc};
use flightdeck_domain::health::{
    alerts::{self as dalerts, Ingest, SourceAlert, SourceStatus},
    matchers,
};
use flightdeck_model::{Alert, AlertEvent, AlertsAccepted, TriageState};
use flightdeck_store::{NewInbox, Tx};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    alerts::ALERT_UPDATED,
    components::{CatalogCopy, episode, recompute, routing, to_json},
    error::{ApiError, ApiResult},
    extract::bearer_token,
    webhooks::secret_for,
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(alertmanager).service(generic_alerts);
}

/// Alertmanager's name: its secret, its inbox source and its episodes' source.
pub const SOURCE: &str = flightdeck_store::ALERTMANAGER_SOURCE;
/// Alertmanager groups are small; a payload this big is a mistake or an attack.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    version: String,
    #[serde(default)]
    group_key: String,
    #[serde(default)]
    truncated_alerts: u32,
    #[serde(default)]
    receiver: String,
    alerts: Vec<PayloadAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayloadAlert {
    status: SourceStatus,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: DateTime<Utc>,
    #[serde(default)]
    ends_at: Option<DateTime<Utc>>,
    fingerprint: String,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
}

fn token_matches(presented: &[u8], secret: &[u8]) -> bool {
    // Hash both sides so neither the secret's length nor a shared prefix shows in the timing.
    Sha256::digest(presented)
        .ct_eq(&Sha256::digest(secret))
        .into()
}

/// One pass over the body: a syntax error (or a truncated body) is 400, valid JSON of the wrong
/// shape 422.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::Unprocessable(format!("not {what}: {e}")),
        _ => ApiError::BadRequest(format!("malformed JSON: {e}")),
    })
}

/// PostgreSQL's text cannot hold NUL, so an alert carrying one could be stored but never
/// applied; it is refused on either database so both accept the same input.
fn check_text(alerts: &[SourceAlert]) -> ApiResult<()> {
    for (i, a) in alerts.iter().enumerate() {
        let nul = a.fingerprint.contains('\0')
            || a.generator_url.as_ref().is_some_and(|u| u.contains('\0'))
            || a.labels
                .iter()
                .chain(&a.annotations)
                .any(|(k, v)| k.contains('\0') || v.contains('\0'));
        if nul {
            return Err(ApiError::validation(
                &format!("alerts[{i}]"),
                "labels, annotations, the fingerprint and the generator URL must not contain NUL characters",
            ));
        }
    }
    Ok(())
}

/// A source link as stored: Prometheus sends an empty `generatorURL` when it has none.
fn link(url: Option<String>) -> Option<String> {
    url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty())
}

/// The payload's alerts and its `truncatedAlerts`.
fn read(body: &[u8]) -> ApiResult<(Vec<SourceAlert>, u32)> {
    let payload: Payload = parse(body, "an Alertmanager webhook payload")?;
    if payload.version != "4" {
        return Err(ApiError::Unprocessable(format!(
            "payload version {} is not supported (expected 4)",
            payload.version
        )));
    }
    if payload.truncated_alerts > 0 {
        tracing::warn!(
            group_key = %payload.group_key,
            receiver = %payload.receiver,
            truncated = payload.truncated_alerts,
            "Alertmanager left alerts out of the notification (max_alerts)"
        );
    }
    let mut alerts = Vec::with_capacity(payload.alerts.len());
    for (i, a) in payload.alerts.into_iter().enumerate() {
        if a.fingerprint.trim().is_empty() {
            return Err(ApiError::validation(
                &format!("alerts[{i}].fingerprint"),
                "must not be empty",
            ));
        }
        alerts.push(SourceAlert {
            fingerprint: a.fingerprint,
            status: a.status,
            starts_at: a.starts_at,
            // Firing alerts carry a zero or moving endsAt; only a resolution's is meaningful.
            ends_at: a.ends_at.filter(|_| a.status == SourceStatus::Resolved),
            labels: a.labels,
            annotations: a.annotations,
            generator_url: link(a.generator_url),
        });
    }
    check_text(&alerts)?;
    Ok((alerts, payload.truncated_alerts))
}

/// Alertmanager's webhook receiver (`webhook_configs` with `http_config.authorization`).
#[utoipa::path(tag = "webhooks", request_body(content = Object, description = "Alertmanager's webhook payload, version 4"),
    responses((status = 202, description = "Stored durably; applied in arrival order moments later", body = AlertsAccepted),
              (status = 400, description = "Malformed JSON"), (status = 401, description = "Bad or missing token, or no secret configured"),
              (status = 413, description = "Too large"), (status = 422, description = "Not a version 4 payload")))]
#[post("/webhooks/alertmanager")]
async fn alertmanager(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "Alertmanager notifications are limited to {MAX_PAYLOAD_BYTES} bytes"
        )));
    }
    authenticate(&state, &req, SOURCE).await?;
    let (alerts, truncated_alerts) = read(&body)?;
    store(&state, SOURCE, &body, alerts.len(), truncated_alerts).await
}

/// Stores a checked notification in the inbox, wakes the applier and answers 202.
async fn store(
    state: &AppState,
    source: &str,
    body: &[u8],
    received: usize,
    truncated_alerts: u32,
) -> ApiResult<HttpResponse> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
    let id = uuid::Uuid::now_v7();
    state
        .inbox_writer
        .insert(NewInbox {
            id,
            source: source.into(),
            // Alert sources send no delivery id; each notification is its own.
            delivery_id: id.to_string(),
            event_type: None,
            body: text.to_owned(),
            now: Utc::now(),
        })
        .await
        .map_err(ApiError::internal)?;
    state.alerts_ready.notify_one();
    Ok(HttpResponse::Accepted().json(AlertsAccepted {
        delivery: id,
        received: u32::try_from(received).unwrap_or(u32::MAX),
        truncated_alerts,
    }))
}

/// Checks the bearer token against the source's secret (set by an admin through the API, else
/// from `FLIGHTDECK_WEBHOOK_SECRET_<SOURCE>`).
async fn authenticate(state: &AppState, req: &HttpRequest, name: &'static str) -> ApiResult<()> {
    let (secret, _) = secret_for(state, name).await?;
    if secret.is_empty() {
        return Err(ApiError::Unauthorized(format!(
            "{name} webhooks are not enabled: no secret is configured"
        )));
    }
    let token = bearer_token(req)?;
    if !token_matches(token.as_bytes(), &secret) {
        return Err(ApiError::Unauthorized("bad token".into()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Other sources: POST /api/v1/webhooks/alerts

/// The generic alert webhook's secret name (`FLIGHTDECK_WEBHOOK_SECRET_ALERTS`) and inbox source.
pub const GENERIC_SOURCE: &str = flightdeck_store::GENERIC_ALERTS_SOURCE;

/// `POST /api/v1/webhooks/alerts`: alerts from any monitoring system, in Flightdeck's shape.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenericAlerts {
    /// The sending system, e.g. `grafana` or `datadog` (lowercase letters, digits, `-`, `_`; at
    /// most 64). Episodes are keyed by (source, fingerprint, starts_at). `alertmanager` is taken.
    pub source: String,
    pub alerts: Vec<GenericAlert>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenericAlert {
    /// Identifies the alert across notifications; defaults to a hash of `labels`, `name` and
    /// `severity`.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Becomes the `alertname` label.
    pub name: String,
    /// Becomes the `severity` label.
    pub severity: GenericSeverity,
    pub status: GenericStatus,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When this episode started; a new `starts_at` is a new episode.
    pub starts_at: chrono::DateTime<Utc>,
    /// When it resolved (only read when `status` is `resolved`).
    #[serde(default)]
    pub ends_at: Option<chrono::DateTime<Utc>>,
    /// A link to what raised it (a rule, a dashboard panel), shown with the alert.
    #[serde(default)]
    pub generator_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GenericStatus {
    Firing,
    Resolved,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GenericSeverity {
    Critical,
    Warning,
    Info,
}

impl GenericSeverity {
    fn as_str(self) -> &'static str {
        match self {
            GenericSeverity::Critical => "critical",
            GenericSeverity::Warning => "warning",
            GenericSeverity::Info => "info",
        }
    }
}

/// The default fingerprint: SHA-256 of the sorted labels (`name=value` lines), 16 bytes in hex.
fn labels_fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut hash = Sha256::new();
    for (k, v) in labels {
        hash.update(k.as_bytes());
        hash.update([0]);
        hash.update(v.as_bytes());
        hash.update([0]);
    }
    hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_generic(body: &[u8]) -> ApiResult<(String, Vec<SourceAlert>)> {
    let payload: GenericAlerts = parse(body, "an alerts payload")?;
    let source = payload.source.trim();
    let valid_name = !source.is_empty()
        && source.len() <= 64
        && source
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid_name {
        return Err(ApiError::validation(
            "source",
            "1 to 64 lowercase letters, digits, `-` or `_`",
        ));
    }
    // Alertmanager's episodes are its own webhook's: another sender must not resolve them.
    if source == SOURCE {
        return Err(ApiError::validation(
            "source",
            "`alertmanager` is reserved for /api/v1/webhooks/alertmanager",
        ));
    }
    let mut alerts = Vec::with_capacity(payload.alerts.len());
    for (i, a) in payload.alerts.into_iter().enumerate() {
        if a.name.trim().is_empty() {
            return Err(ApiError::validation(
                &format!("alerts[{i}].name"),
                "must not be empty",
            ));
        }
        let mut labels = a.labels;
        // The explicit fields win: the domain reads the name and severity from these labels.
        labels.insert("alertname".into(), a.name);
        labels.insert("severity".into(), a.severity.as_str().into());
        let fingerprint = match a.fingerprint {
            Some(f) if f.trim().is_empty() => {
                return Err(ApiError::validation(
                    &format!("alerts[{i}].fingerprint"),
                    "must not be empty when given",
                ));
            }
            Some(f) => f,
            None => labels_fingerprint(&labels),
        };
        let status = match a.status {
            GenericStatus::Firing => SourceStatus::Firing,
            GenericStatus::Resolved => SourceStatus::Resolved,
        };
        alerts.push(SourceAlert {
            fingerprint,
            status,
            starts_at: a.starts_at,
            ends_at: a.ends_at.filter(|_| status == SourceStatus::Resolved),
            labels,
            annotations: a.annotations,
            generator_url: link(a.generator_url),
        });
    }
    check_text(&alerts)?;
    Ok((source.to_owned(), alerts))
}

/// Alerts from any other monitoring system. Same episodes, routing, rollup and triage as
/// Alertmanager's; bearer token `FLIGHTDECK_WEBHOOK_SECRET_ALERTS` (or set through the API).
#[utoipa::path(tag = "webhooks", request_body = GenericAlerts,
    responses((status = 202, description = "Stored durably; applied in arrival order moments later", body = AlertsAccepted),
              (status = 400, description = "Malformed JSON"), (status = 401, description = "Bad or missing token, or no secret configured"),
              (status = 413, description = "Too large"), (status = 422, description = "Not the documented shape")))]
#[post("/webhooks/alerts")]
async fn generic_alerts(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "alert notifications are limited to {MAX_PAYLOAD_BYTES} bytes"
        )));
    }
    authenticate(&state, &req, GENERIC_SOURCE).await?;
    let (_, alerts) = read_generic(&body)?;
    store(&state, GENERIC_SOURCE, &body, alerts.len(), 0).await
}

// ---------------------------------------------------------------------------------------------
// Applying stored notifications (called by the alert applier, one at a time across replicas)

/// One stored notification, read back for applying.
pub(crate) struct Job {
    /// The episodes' source: `alertmanager`, or the generic payload's `source`.
    pub source: String,
    pub alerts: Vec<SourceAlert>,
}

impl Job {
    /// Reads a stored notification back; it was checked when it was stored, so an error here
    /// means the stored row is not what this version accepts.
    pub(crate) fn from_stored(inbox_source: &str, body: &str) -> ApiResult<Self> {
        match inbox_source {
            SOURCE => read(body.as_bytes()).map(|(alerts, _)| Job {
                source: SOURCE.into(),
                alerts,
            }),
            GENERIC_SOURCE => {
                read_generic(body.as_bytes()).map(|(source, alerts)| Job { source, alerts })
            }
            other => Err(ApiError::Unprocessable(format!(
                "`{other}` is not an alert source"
            ))),
        }
    }
}

/// The routing table, rebuilt only when the catalog changes (see [`CatalogCopy`]): reading and
/// parsing every component's matchers for each batch would cost more than the batch with 10,000
/// components.
pub(crate) type Routes = CatalogCopy<Vec<matchers::ComponentMatchers>>;

/// An episode as this batch knows it: stored before, or opened by an earlier alert in it.
struct Slot {
    alert: Alert,
    /// Opened in this batch: inserted, not updated.
    new: bool,
    /// Changed in this batch after it was stored.
    dirty: bool,
}

/// What applying a batch did: episodes opened or changed per notification, and the live events
/// to write with the commit.
pub(crate) struct Applied {
    pub changed: Vec<u32>,
    pub events: Vec<(&'static str, serde_json::Value)>,
}

/// Applies notifications, in order, inside `tx`. A fixed number of statements whatever the
/// number of alerts: read the episodes, insert the new ones and their history, update the
/// changed ones, roll up the touched components. `now` must be to the microsecond, as stored:
/// new rows are written without reading them back, so the copies in the live events must equal
/// the rows.
pub(crate) async fn apply(
    tx: &mut dyn Tx,
    routes: &mut Routes,
    jobs: &[Job],
    now: DateTime<Utc>,
) -> ApiResult<Applied> {
    let routes = routes.current(tx, |all| routing(&all)).await?;
    let keys: Vec<(&str, &str, DateTime<Utc>)> = jobs
        .iter()
        .flat_map(|j| {
            j.alerts
                .iter()
                .map(|a| (j.source.as_str(), a.fingerprint.as_str(), a.starts_at))
        })
        .collect();
    let key = |source: &str, fingerprint: &str, starts_at| {
        (
            source.to_owned(),
            dalerts::episode_key(fingerprint, starts_at),
        )
    };
    let mut slots: HashMap<(String, String), Slot> = tx
        .alert_episodes(&keys)
        .await?
        .into_iter()
        .map(|a| {
            (
                key(&a.source, &a.fingerprint, a.starts_at),
                Slot {
                    alert: a,
                    new: false,
                    dirty: false,
                },
            )
        })
        .collect();

    let mut history = Vec::new();
    // Episodes in the order they first changed, for the live events.
    let mut changed_keys = Vec::new();
    let mut seen = HashSet::new();
    let mut touched = BTreeSet::new();
    let mut changed = vec![0u32; jobs.len()];
    for (j, job) in jobs.iter().enumerate() {
        for incoming in &job.alerts {
            let k = key(&job.source, &incoming.fingerprint, incoming.starts_at);
            let slot = slots.get_mut(&k);
            let outcome =
                dalerts::ingest(slot.as_ref().map(|s| episode(&s.alert)).as_ref(), incoming);
            let (alert, from, action, opened) = match (outcome, slot) {
                (Ingest::New(ep), _) => {
                    let component = matchers::route(&ep.labels, routes).map(|r| r.component);
                    let alert = Alert {
                        id: uuid::Uuid::now_v7(),
                        source: job.source.clone(),
                        fingerprint: ep.fingerprint,
                        name: ep.name,
                        severity: ep.severity.into(),
                        source_status: ep.source_status.into(),
                        state: ep.state.into(),
                        escalation_level: ep.escalation_level,
                        component,
                        labels: ep.labels,
                        annotations: ep.annotations,
                        generator_url: incoming.generator_url.clone(),
                        starts_at: dalerts_start(ep.starts_at),
                        ends_at: ep.ends_at.map(micros),
                        acknowledged_by: None,
                        acknowledged_at: None,
                        last_note: None,
                        received_at: now,
                        updated_at: now,
                    };
                    let action = match alert.state {
                        TriageState::Resolved => "resolve",
                        _ => "fire",
                    };
                    (alert, None, Some(action), true)
                }
                (outcome @ (Ingest::Updated(_) | Ingest::Resolved { .. }), Some(slot)) => {
                    let (ep, from) = match outcome {
                        Ingest::Updated(ep) => (ep, None),
                        Ingest::Resolved { episode, from } => (episode, Some(from)),
                        _ => unreachable!("matched above"),
                    };
                    slot.alert = Alert {
                        source_status: ep.source_status.into(),
                        state: ep.state.into(),
                        ends_at: ep.ends_at.map(micros),
                        annotations: ep.annotations,
                        updated_at: now,
                        ..slot.alert.clone()
                    };
                    slot.dirty |= !slot.new;
                    let from: Option<TriageState> = from.map(Into::into);
                    (slot.alert.clone(), from, from.map(|_| "resolve"), false)
                }
                _ => continue,
            };
            if opened {
                slots.insert(
                    k.clone(),
                    Slot {
                        alert: alert.clone(),
                        new: true,
                        dirty: false,
                    },
                );
            }
            if let Some(action) = action {
                history.push(record(&alert, from, action, now));
            }
            changed[j] += 1;
            if let Some(c) = &alert.component {
                touched.insert(c.clone());
            }
            if seen.insert(k.clone()) {
                changed_keys.push(k);
            }
        }
    }

    let new: Vec<Alert> = slots
        .values()
        .filter(|s| s.new)
        .map(|s| s.alert.clone())
        .collect();
    tx.insert_alerts(&new).await?;
    let mut saved: HashMap<uuid::Uuid, Alert> = new.into_iter().map(|a| (a.id, a)).collect();
    for slot in slots.values().filter(|s| s.dirty) {
        let alert = tx.update_alert(&slot.alert).await?;
        saved.insert(alert.id, alert);
    }
    tx.insert_alert_events(&history).await?;
    let mut events: Vec<(&'static str, serde_json::Value)> = changed_keys
        .iter()
        .filter_map(|k| saved.get(&slots[k].alert.id))
        .map(|a| (ALERT_UPDATED, to_json(a)))
        .collect();
    events.extend(recompute(tx, &touched, now).await?);
    Ok(Applied { changed, events })
}

pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(chrono::TimeDelta::microseconds(1))
        .unwrap_or(t)
}

/// An episode's start as stored: to the millisecond (see `dalerts::episode_key`).
fn dalerts_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(chrono::TimeDelta::milliseconds(1))
        .unwrap_or(t)
}

/// The source's part of an alert's history: it fired, or it resolved.
fn record(
    alert: &Alert,
    from: Option<TriageState>,
    action: &str,
    now: DateTime<Utc>,
) -> AlertEvent {
    AlertEvent {
        id: uuid::Uuid::now_v7(),
        alert_id: alert.id,
        at: now,
        actor: alert.source.clone(),
        action: action.into(),
        from_state: from,
        to_state: alert.state,
        escalation_level: alert.escalation_level,
        target: None,
        note: None,
    }
}
