//! `POST /api/v1/webhooks/alertmanager`: Alertmanager's `webhook_config` payload (version 4),
//! authenticated by a bearer token.
//!
//! Each notification is the group's whole current state, so applying one is idempotent: every
//! alert is upserted as an episode (source, fingerprint, startsAt) through the domain's `ingest`,
//! which turns resends and HA duplicates into no-ops. The payload is small and the work is a few
//! rows, so it is applied directly, in one transaction with its live events and the status
//! rollup of the components it touched, before answering — durable once answered.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{HttpRequest, post, web};
use chrono::{DateTime, Utc};
use flightdeck_domain::health::{
    alerts::{self as dalerts, Ingest, SourceAlert, SourceStatus},
    matchers,
};
use flightdeck_model::{Alert, AlertEvent, AlertsIngested, TriageState};
use flightdeck_store::{StoreError, Tx};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    alerts::ALERT_UPDATED,
    components::{convert, episode, recompute, routing, to_json},
    error::{ApiError, ApiResult},
    extract::bearer_token,
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(alertmanager);
}

pub const SOURCE: &str = "alertmanager";
/// Alertmanager groups are small; a payload this big is a mistake or an attack.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// Concurrent notifications for the same new episode (an HA pair) can race to insert it; the
/// loser retries and finds it stored.
const ATTEMPTS: usize = 3;

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
}

fn token_matches(presented: &[u8], secret: &[u8]) -> bool {
    // Hash both sides so neither the secret's length nor a shared prefix shows in the timing.
    Sha256::digest(presented)
        .ct_eq(&Sha256::digest(secret))
        .into()
}

/// The payload's alerts and its `truncatedAlerts`.
fn read(body: &[u8]) -> ApiResult<(Vec<SourceAlert>, u32)> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    let payload: Payload = serde_json::from_value(value).map_err(|e| {
        ApiError::Unprocessable(format!("not an Alertmanager webhook payload: {e}"))
    })?;
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
        });
    }
    Ok((alerts, payload.truncated_alerts))
}

/// Alertmanager's webhook receiver (`webhook_configs` with `http_config.authorization`).
#[utoipa::path(tag = "webhooks", request_body(content = Object, description = "Alertmanager's webhook payload, version 4"),
    responses((status = 200, description = "Applied", body = AlertsIngested),
              (status = 400, description = "Malformed JSON"), (status = 401, description = "Bad or missing token, or no secret configured"),
              (status = 413, description = "Too large"), (status = 422, description = "Not a version 4 payload")))]
#[post("/webhooks/alertmanager")]
async fn alertmanager(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<web::Json<AlertsIngested>> {
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "Alertmanager notifications are limited to {MAX_PAYLOAD_BYTES} bytes"
        )));
    }
    let Some(secret) = state.settings.webhook_secrets.get(SOURCE) else {
        return Err(ApiError::Unauthorized(
            "alertmanager webhooks are not enabled: no secret is configured".into(),
        ));
    };
    let token = bearer_token(&req)?;
    if !token_matches(token.as_bytes(), secret.expose().as_bytes()) {
        return Err(ApiError::Unauthorized("bad token".into()));
    }
    let (alerts, truncated_alerts) = read(&body)?;
    let mut attempt = 0;
    let changed = loop {
        attempt += 1;
        match apply(&state, &alerts).await {
            Err(ApiError::Conflict(_)) if attempt < ATTEMPTS => continue,
            other => break other?,
        }
    };
    Ok(web::Json(AlertsIngested {
        received: u32::try_from(alerts.len()).unwrap_or(u32::MAX),
        changed,
        truncated_alerts,
    }))
}

/// Applies a notification in one transaction; the number of episodes opened or changed.
async fn apply(state: &AppState, alerts: &[SourceAlert]) -> ApiResult<u32> {
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let routes = routing(&tx.list_components().await?);
    let mut touched = BTreeSet::new();
    let mut events = Vec::new();
    let mut changed = 0;
    for incoming in alerts {
        let existing = tx
            .alert_episode(SOURCE, &incoming.fingerprint, incoming.starts_at)
            .await?;
        let outcome = dalerts::ingest(existing.as_ref().map(episode).as_ref(), incoming);
        let saved = match (&outcome, existing) {
            (Ingest::New(ep), _) => {
                let component = matchers::route(&ep.labels, &routes).map(|r| r.component);
                let alert = Alert {
                    id: uuid::Uuid::now_v7(),
                    source: SOURCE.into(),
                    fingerprint: ep.fingerprint.clone(),
                    name: ep.name.clone(),
                    severity: convert(ep.severity),
                    source_status: convert(ep.source_status),
                    state: convert(ep.state),
                    escalation_level: ep.escalation_level,
                    component,
                    labels: ep.labels.clone(),
                    annotations: ep.annotations.clone(),
                    starts_at: ep.starts_at,
                    ends_at: ep.ends_at,
                    acknowledged_by: None,
                    acknowledged_at: None,
                    last_note: None,
                    received_at: now,
                    updated_at: now,
                };
                let saved = insert(&mut *tx, &alert).await?;
                let action = match saved.state {
                    TriageState::Resolved => "resolve",
                    _ => "fire",
                };
                record(&mut *tx, &saved, None, action, now).await?;
                saved
            }
            (Ingest::Updated(ep) | Ingest::Resolved { episode: ep, .. }, Some(old)) => {
                let alert = Alert {
                    source_status: convert(ep.source_status),
                    state: convert(ep.state),
                    ends_at: ep.ends_at,
                    annotations: ep.annotations.clone(),
                    updated_at: now,
                    ..old.clone()
                };
                let saved = tx.update_alert(&alert).await?;
                if let Ingest::Resolved { from, .. } = &outcome {
                    record(&mut *tx, &saved, Some(convert(*from)), "resolve", now).await?;
                }
                saved
            }
            _ => continue,
        };
        changed += 1;
        if let Some(c) = &saved.component {
            touched.insert(c.clone());
        }
        events.push((ALERT_UPDATED, to_json(&saved)));
    }
    events.extend(recompute(&mut *tx, &touched, now).await?);
    state.commit(tx, None, events, now).await?;
    Ok(changed)
}

async fn insert(tx: &mut dyn Tx, alert: &Alert) -> ApiResult<Alert> {
    match tx.insert_alert(alert).await {
        // Another notification stored this episode meanwhile: let the caller start over.
        Err(StoreError::Conflict { .. }) => Err(ApiError::Conflict(
            "the episode was stored concurrently".into(),
        )),
        other => Ok(other?),
    }
}

/// The source's part of an alert's history: it fired, or it resolved.
async fn record(
    tx: &mut dyn Tx,
    alert: &Alert,
    from: Option<TriageState>,
    action: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    tx.insert_alert_event(&AlertEvent {
        id: uuid::Uuid::now_v7(),
        alert_id: alert.id,
        at: now,
        actor: SOURCE.into(),
        action: action.into(),
        from_state: from,
        to_state: alert.state,
        escalation_level: alert.escalation_level,
        target: None,
        note: None,
    })
    .await?;
    Ok(())
}
