//! The generic source: Flightdeck's own schema, for any pipeline that can send an HTTP request.
//! The full contract, with a curl example, is in `crates/webhooks/GENERIC.md`.
//!
//! ```json
//! {
//!   "id": "build-4711-deploy-production",
//!   "service": "checkout-api",
//!   "repository": "acme/checkout-api",
//!   "environment": "production",
//!   "version": "v1.4.2",
//!   "status": "succeeded",
//!   "commit_sha": "8d2f0c1e4b7a9c3d5e6f708192a3b4c5d6e7f809",
//!   "url": "https://ci.example.com/builds/4711",
//!   "description": "Release 1.4.2",
//!   "occurred_at": "2026-11-25T21:41:17Z",
//!   "external_id": "build-4711",
//!   "actor": "alice"
//! }
//! ```
//!
//! Required: `id` (unique per delivery, the dedupe key; at most 256 characters), `environment`,
//! `version`, `status`, and `service` or `repository`. `status` is one of Flightdeck's deployment
//! statuses (`queued`, `in_progress`, `succeeded`, `failed`, `cancelled`, `timed_out`); any other
//! value is recorded as Unknown. `occurred_at` is RFC 3339. `external_id` ties the reports of
//! one deployment together; without it they are tied by
//! `generic:<service or repository>:<environment>:<version>`.
//!
//! Authentication: `X-Flightdeck-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
//! "<t>.<raw body>")>` (see [`crate::sign_generic`]). Several `v1=` entries may be sent (e.g.
//! while rotating secrets); one must match. Deliveries whose `t` is more than
//! [`GENERIC_TOLERANCE_SECS`] from now are refused as replays.

use chrono::{DateTime, Utc};
use flightdeck_model::DeploymentStatus;
use serde::Deserialize;

use crate::report::util::{first_line, present, push_unique};
use crate::signature::verify_hmac_hex;
use crate::{
    DeployReport, Headers, Inbound, InboundEvent, MAX_DELIVERY_ID_LEN, ParseError, ReportedStatus,
    Source, VerifyError,
};

/// The generic source's signature header.
pub const GENERIC_SIGNATURE_HEADER: &str = "X-Flightdeck-Signature";
/// How far the signed timestamp may be from the receiver's clock, either way.
pub const GENERIC_TOLERANCE_SECS: i64 = 300;

/// Checks `X-Flightdeck-Signature` (timestamp within [`GENERIC_TOLERANCE_SECS`] of `now`, then
/// the HMAC, in constant time).
pub fn verify_generic(
    headers: &dyn Headers,
    body: &[u8],
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<(), VerifyError> {
    const H: &str = GENERIC_SIGNATURE_HEADER;
    if secret.is_empty() {
        return Err(VerifyError::SecretNotConfigured);
    }
    let header = headers
        .get(H)
        .filter(|v| !v.trim().is_empty())
        .ok_or(VerifyError::MissingSignature { header: H })?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => {
                let t = t
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| VerifyError::MalformedSignature {
                        header: H,
                        reason: "`t` is not a unix timestamp",
                    })?;
                timestamp = Some(t);
            }
            Some(("v1", sig)) => signatures.push(sig.trim()),
            // Unknown schemes are skipped so a future `v2=` can be sent alongside `v1=`.
            _ => {}
        }
    }
    let t = timestamp.ok_or(VerifyError::MalformedSignature {
        header: H,
        reason: "expected `t=<unix seconds>,v1=<hex>`",
    })?;
    if signatures.is_empty() {
        return Err(VerifyError::MalformedSignature {
            header: H,
            reason: "expected `t=<unix seconds>,v1=<hex>`",
        });
    }
    let now = now.timestamp();
    if now.abs_diff(t) > GENERIC_TOLERANCE_SECS.unsigned_abs() {
        return Err(VerifyError::Stale {
            timestamp: t,
            now,
            tolerance_secs: GENERIC_TOLERANCE_SECS,
        });
    }
    let t_text = t.to_string();
    let mut last = VerifyError::BadSignature;
    for sig in signatures {
        match verify_hmac_hex(secret, &[t_text.as_bytes(), b".", body], sig, H) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[derive(Deserialize)]
struct Body {
    id: String,
    service: Option<String>,
    repository: Option<String>,
    environment: String,
    version: String,
    status: String,
    commit_sha: Option<String>,
    commit_url: Option<String>,
    url: Option<String>,
    description: Option<String>,
    occurred_at: Option<String>,
    committed_at: Option<String>,
    external_id: Option<String>,
    actor: Option<String>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

fn checked_id(id: &str) -> Result<String, ParseError> {
    let id = present(Some(id)).ok_or(ParseError::MissingField("id"))?;
    if id.len() > MAX_DELIVERY_ID_LEN {
        return Err(ParseError::InvalidField {
            field: "id",
            reason: format!("longer than {MAX_DELIVERY_ID_LEN} characters"),
        });
    }
    Ok(id)
}

pub(crate) fn delivery_id(body: &[u8]) -> Result<String, ParseError> {
    let b: IdOnly = serde_json::from_slice(body)?;
    checked_id(&b.id)
}

fn strict_time(
    value: Option<&str>,
    field: &'static str,
) -> Result<Option<DateTime<Utc>>, ParseError> {
    present(value)
        .map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| ParseError::InvalidField {
                    field,
                    reason: format!("not an RFC 3339 timestamp: {e}"),
                })
        })
        .transpose()
}

/// Parses a delivery in Flightdeck's generic schema.
pub fn parse_generic(_headers: &dyn Headers, body: &[u8]) -> Result<Inbound, ParseError> {
    let b: Body = serde_json::from_slice(body)?;
    let delivery_id = checked_id(&b.id)?;
    let service_hint = present(b.service.as_deref());
    let mut repositories = Vec::new();
    push_unique(&mut repositories, b.repository.as_deref());
    let subject = service_hint
        .clone()
        .or_else(|| repositories.first().cloned())
        .ok_or(ParseError::MissingField("service"))?;
    let environment =
        present(Some(&b.environment)).ok_or(ParseError::MissingField("environment"))?;
    let version = present(Some(&b.version)).ok_or(ParseError::MissingField("version"))?;
    let raw_status = present(Some(&b.status)).ok_or(ParseError::MissingField("status"))?;
    let status = match raw_status.parse::<DeploymentStatus>() {
        Ok(s) => ReportedStatus::Known(s),
        Err(_) => ReportedStatus::Unknown(raw_status.clone()),
    };
    let external_id = present(b.external_id.as_deref())
        .unwrap_or_else(|| format!("generic:{subject}:{environment}:{version}"));
    Ok(Inbound {
        source: Source::Generic,
        delivery_id,
        event: InboundEvent::Deploy(DeployReport {
            repositories,
            service_hint,
            environment,
            version,
            commit_sha: present(b.commit_sha.as_deref()),
            status,
            raw_status,
            external_id,
            url: present(b.url.as_deref()),
            commit_url: present(b.commit_url.as_deref()),
            description: first_line(b.description.as_deref()),
            actor: present(b.actor.as_deref()),
            occurred_at: strict_time(b.occurred_at.as_deref(), "occurred_at")?,
            committed_at: strict_time(b.committed_at.as_deref(), "committed_at")?,
        }),
    })
}
