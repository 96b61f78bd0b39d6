//! Argo CD, through its notifications controller's webhook service and **our** template.
//!
//! Argo CD has no fixed webhook payload: the body is whatever the notification template renders.
//! Flightdeck documents one (also in `crates/webhooks/ARGOCD.md`, ready to paste into
//! `argocd-notifications-cm`); this parser reads exactly that shape:
//!
//! ```json
//! {
//!   "app": "checkout-api-production",
//!   "appNamespace": "argocd",
//!   "project": "default",
//!   "revision": "8d2f0c1e4b7a9c3d5e6f708192a3b4c5d6e7f809",
//!   "phase": "Succeeded",
//!   "startedAt": "2026-11-25T21:40:02Z",
//!   "finishedAt": "2026-11-25T21:41:17Z",
//!   "message": "successfully synced (all tasks run)",
//!   "repoURL": "https://github.com/acme/checkout-api.git",
//!   "destination": { "server": "https://kubernetes.default.svc", "name": "", "namespace": "checkout" },
//!   "environment": "production",
//!   "service": "checkout-api",
//!   "initiatedBy": "alice",
//!   "url": "https://argocd.example.com/applications/checkout-api-production"
//! }
//! ```
//!
//! `app`, `revision` and `phase` are required. `environment` comes from the Application's
//! `flightdeck.dev/environment` label (or annotation); an app without one is `Ignored` with a
//! reason, since there is nothing to attach the sync to. `service` (label
//! `flightdeck.dev/service`) is optional and names the service directly. Go's text/template
//! prints `<no value>` for a missing key; such values read as absent.
//!
//! Authentication: `Authorization: Bearer <secret>` (a header of the webhook service, the value
//! taken from `argocd-notifications-secret`), compared in constant time.
//!
//! Status mapping (`operationState.phase`): `Running` → `in_progress`, `Succeeded` →
//! `succeeded`, `Failed`/`Error` → `failed`; `Terminating` and anything else → Unknown.
//!
//! Correlation: `external_id` is `argocd:<app>:<revision>:<startedAt>` — the Running and the
//! final notification of one sync operation share its `startedAt`, and a re-sync of the same
//! revision after a failure is a new deployment. Without `startedAt` it is `argocd:<app>:<revision>`.
//! The delivery id (Argo CD sends none) is
//! `argocd:<app>:<revision>:<phase>:<startedAt>:<finishedAt>`.

use flightdeck_model::DeploymentStatus;
use serde::Deserialize;

use crate::report::util::{is_full_sha, present, push_unique, rfc3339};
use crate::signature::token_matches;
use crate::{
    DeployReport, Headers, Inbound, InboundEvent, ParseError, ReportedStatus, Source, VerifyError,
};

const AUTHORIZATION: &str = "Authorization";

/// Checks `Authorization: Bearer <secret>`, in constant time.
pub fn verify_argocd(headers: &dyn Headers, secret: &[u8]) -> Result<(), VerifyError> {
    if secret.is_empty() {
        return Err(VerifyError::SecretNotConfigured);
    }
    let value = headers
        .get(AUTHORIZATION)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or(VerifyError::MissingSignature {
            header: AUTHORIZATION,
        })?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(VerifyError::MalformedSignature {
                header: AUTHORIZATION,
                reason: "expected `Bearer <token>`",
            });
        }
    };
    if token_matches(token.as_bytes(), secret) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Destination {
    server: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    app: String,
    revision: String,
    phase: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    message: Option<String>,
    #[serde(rename = "repoURL")]
    repo_url: Option<String>,
    /// Multi-source applications: add `"repoURLs": [...]` to the template to list them all.
    #[serde(rename = "repoURLs", default)]
    repo_urls: Vec<String>,
    destination: Option<Destination>,
    environment: Option<String>,
    service: Option<String>,
    initiated_by: Option<String>,
    url: Option<String>,
}

struct Required {
    app: String,
    revision: String,
    phase: String,
}

impl Notification {
    fn required(&self) -> Result<Required, ParseError> {
        Ok(Required {
            app: present(Some(&self.app)).ok_or(ParseError::MissingField("app"))?,
            revision: present(Some(&self.revision)).ok_or(ParseError::MissingField("revision"))?,
            phase: present(Some(&self.phase)).ok_or(ParseError::MissingField("phase"))?,
        })
    }
}

pub(crate) fn delivery_id(body: &[u8]) -> Result<String, ParseError> {
    let n: Notification = serde_json::from_slice(body)?;
    let r = n.required()?;
    Ok(delivery_id_of(&n, &r))
}

fn delivery_id_of(n: &Notification, r: &Required) -> String {
    format!(
        "argocd:{}:{}:{}:{}:{}",
        r.app,
        r.revision,
        r.phase,
        present(n.started_at.as_deref()).unwrap_or_default(),
        present(n.finished_at.as_deref()).unwrap_or_default(),
    )
}

fn phase(p: &str) -> ReportedStatus {
    use DeploymentStatus::*;
    match p {
        "Running" => ReportedStatus::Known(InProgress),
        "Succeeded" => ReportedStatus::Known(Succeeded),
        "Failed" | "Error" => ReportedStatus::Known(Failed),
        // `Terminating`: a cancel was requested; the final phase follows in its own notification.
        other => ReportedStatus::Unknown(other.to_owned()),
    }
}

/// Parses a notification rendered from Flightdeck's Argo CD template.
pub fn parse_argocd(_headers: &dyn Headers, body: &[u8]) -> Result<Inbound, ParseError> {
    let n: Notification = serde_json::from_slice(body)?;
    let r = n.required()?;
    let delivery_id = delivery_id_of(&n, &r);
    let Some(environment) = present(n.environment.as_deref()) else {
        return Ok(Inbound {
            source: Source::Argocd,
            delivery_id,
            event: InboundEvent::Ignored {
                reason: format!(
                    "Argo CD application `{}` has no flightdeck.dev/environment label",
                    r.app
                ),
            },
        });
    };
    let mut repositories = Vec::new();
    push_unique(&mut repositories, n.repo_url.as_deref());
    for url in &n.repo_urls {
        push_unique(&mut repositories, Some(url));
    }
    let started_at = present(n.started_at.as_deref());
    let external_id = match &started_at {
        Some(t) => format!("argocd:{}:{}:{t}", r.app, r.revision),
        None => format!("argocd:{}:{}", r.app, r.revision),
    };
    let destination = n.destination.as_ref().and_then(|d| {
        let target = present(d.name.as_deref()).or_else(|| present(d.server.as_deref()))?;
        Some(match present(d.namespace.as_deref()) {
            Some(ns) => format!("{target}/{ns}"),
            None => target,
        })
    });
    let description = match (present(n.message.as_deref()), destination) {
        (Some(m), Some(d)) => Some(format!("{m} ({d})")),
        (m, d) => m.or(d),
    };
    let url = present(n.url.as_deref()).filter(|u| !u.contains("<no value>"));
    Ok(Inbound {
        source: Source::Argocd,
        delivery_id,
        event: InboundEvent::Deploy(DeployReport {
            repositories,
            service_hint: present(n.service.as_deref()),
            environment,
            commit_sha: is_full_sha(&r.revision).then(|| r.revision.clone()),
            version: r.revision,
            status: phase(&r.phase),
            raw_status: r.phase,
            external_id,
            url,
            commit_url: None,
            description,
            actor: present(n.initiated_by.as_deref()),
            occurred_at: rfc3339(n.finished_at.as_deref())
                .or_else(|| rfc3339(started_at.as_deref())),
            committed_at: None,
        }),
    })
}
