//! GitLab: deployment events (`X-Gitlab-Event: Deployment Hook`, `object_kind: "deployment"`).
//!
//! Authentication: GitLab sends the webhook's secret token verbatim in `X-Gitlab-Token`; it is
//! compared with the configured secret in constant time.
//!
//! Status mapping (`status`):
//!
//! | GitLab | Flightdeck |
//! | --- | --- |
//! | `created` | `queued` |
//! | `running` | `in_progress` |
//! | `success` | `succeeded` |
//! | `failed` | `failed` |
//! | `canceled` | `cancelled` |
//! | `blocked`, `approved`, `rejected`, anything else | Unknown |
//!
//! Fields: `version` is `ref` when the payload has one, else `short_sha` (the deployment hook
//! carries no ref, only the commit); `commit_sha` is the full SHA at the end of `commit_url`;
//! `external_id` is `gitlab:deployment:<deployment_id>`; `occurred_at` is `status_changed_at`,
//! which GitLab writes as `2021-04-28 21:50:00 +0200` (also accepted: `… UTC` and RFC 3339).

use chrono::{DateTime, NaiveDateTime, Utc};
use flightdeck_model::DeploymentStatus;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::headers::non_empty;
use crate::report::util::{first_line, is_full_sha, present, push_unique, rfc3339};
use crate::signature::{sha256_hex, token_matches};
use crate::{
    DeployReport, Headers, Inbound, InboundEvent, MAX_DELIVERY_ID_LEN, ParseError, ReportedStatus,
    Source, VerifyError,
};

const TOKEN_HEADER: &str = "X-Gitlab-Token";
const EVENT_HEADER: &str = "X-Gitlab-Event";
const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
const DEPLOYMENT_HOOK: &str = "Deployment Hook";

/// Checks `X-Gitlab-Token` against the configured secret, in constant time.
pub fn verify_gitlab(headers: &dyn Headers, secret: &[u8]) -> Result<(), VerifyError> {
    if secret.is_empty() {
        return Err(VerifyError::SecretNotConfigured);
    }
    let token = headers.get(TOKEN_HEADER).filter(|t| !t.is_empty()).ok_or(
        VerifyError::MissingSignature {
            header: TOKEN_HEADER,
        },
    )?;
    if token_matches(token.as_bytes(), secret) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

/// `Idempotency-Key` (GitLab 17.4+; the same value on every retry of one event). Without it —
/// older GitLab, or a key longer than we store — `sha256:<hex of the body>`: a retry resends the
/// same bytes, while two different events never share a body (each has its own
/// `status_changed_at`/`deployment_id`).
pub(crate) fn delivery_id(headers: &dyn Headers, body: &[u8]) -> String {
    match non_empty(headers, IDEMPOTENCY_HEADER) {
        Some(key) if key.len() <= MAX_DELIVERY_ID_LEN => key,
        _ => format!("sha256:{}", sha256_hex(body)),
    }
}

/// Parses a GitLab delivery. Events other than deployment events are `Ignored`.
pub fn parse_gitlab(headers: &dyn Headers, body: &[u8]) -> Result<Inbound, ParseError> {
    let delivery_id = delivery_id(headers, body);
    let event = match non_empty(headers, EVENT_HEADER) {
        Some(e) if e != DEPLOYMENT_HOOK => {
            serde_json::from_slice::<IgnoredAny>(body)?;
            InboundEvent::Ignored {
                reason: format!("GitLab `{e}` events are not about deployments"),
            }
        }
        // Present and right, or absent (then the body's `object_kind` decides).
        _ => {
            let kind: ObjectKind = serde_json::from_slice(body)?;
            match kind.object_kind.as_deref() {
                Some("deployment") => {
                    InboundEvent::Deploy(deployment(serde_json::from_slice(body)?)?)
                }
                other => InboundEvent::Ignored {
                    reason: format!(
                        "GitLab `{}` events are not about deployments",
                        other.unwrap_or("unknown")
                    ),
                },
            }
        }
    };
    Ok(Inbound {
        source: Source::Gitlab,
        delivery_id,
        event,
    })
}

#[derive(Deserialize)]
struct ObjectKind {
    object_kind: Option<String>,
}

#[derive(Deserialize)]
struct Project {
    path_with_namespace: Option<String>,
    web_url: Option<String>,
    git_http_url: Option<String>,
    git_ssh_url: Option<String>,
    http_url: Option<String>,
    ssh_url: Option<String>,
}

#[derive(Deserialize)]
struct User {
    username: Option<String>,
}

#[derive(Deserialize)]
struct DeploymentHook {
    status: String,
    status_changed_at: Option<String>,
    deployment_id: u64,
    deployable_url: Option<String>,
    environment: String,
    project: Project,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    short_sha: Option<String>,
    user: Option<User>,
    commit_url: Option<String>,
    commit_title: Option<String>,
}

fn status(s: &str) -> ReportedStatus {
    use DeploymentStatus::*;
    match s {
        "created" => ReportedStatus::Known(Queued),
        "running" => ReportedStatus::Known(InProgress),
        "success" => ReportedStatus::Known(Succeeded),
        "failed" => ReportedStatus::Known(Failed),
        "canceled" => ReportedStatus::Known(Cancelled),
        // `blocked` (waiting for approval or a manual job) and the approval outcomes are
        // recorded, not mapped: none of them is a run state of the deployment.
        other => ReportedStatus::Unknown(other.to_owned()),
    }
}

fn deployment(h: DeploymentHook) -> Result<DeployReport, ParseError> {
    let mut repositories = Vec::new();
    let p = &h.project;
    for form in [
        &p.path_with_namespace,
        &p.web_url,
        &p.git_http_url,
        &p.git_ssh_url,
        &p.http_url,
        &p.ssh_url,
    ] {
        push_unique(&mut repositories, form.as_deref());
    }
    let state = present(Some(&h.status)).ok_or(ParseError::MissingField("status"))?;
    let commit_sha = present(h.commit_url.as_deref())
        .and_then(|u| u.rsplit('/').next().map(str::to_owned))
        .filter(|s| is_full_sha(s));
    let version = present(h.git_ref.as_deref())
        .or_else(|| present(h.short_sha.as_deref()))
        .or_else(|| commit_sha.clone())
        .ok_or(ParseError::MissingField("short_sha"))?;
    Ok(DeployReport {
        repositories,
        service_hint: None,
        environment: present(Some(&h.environment))
            .ok_or(ParseError::MissingField("environment"))?,
        version,
        commit_sha,
        status: status(&state),
        raw_status: state,
        external_id: format!("gitlab:deployment:{}", h.deployment_id),
        url: present(h.deployable_url.as_deref()),
        commit_url: present(h.commit_url.as_deref()),
        description: first_line(h.commit_title.as_deref()),
        actor: present(h.user.as_ref().and_then(|u| u.username.as_deref())),
        occurred_at: gitlab_time(h.status_changed_at.as_deref()),
        committed_at: None,
    })
}

/// GitLab's webhook timestamps: `2021-04-28 21:50:00 +0200`, `2025-01-15 12:20:00 UTC`, or
/// RFC 3339. Anything else reads as unknown rather than refusing the delivery.
pub(crate) fn gitlab_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    let s = present(s)?;
    if let Ok(t) = DateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S %z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Some(naive) = s.strip_suffix(" UTC")
        && let Ok(t) = NaiveDateTime::parse_from_str(naive, "%Y-%m-%d %H:%M:%S")
    {
        return Some(t.and_utc());
    }
    rfc3339(Some(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn gitlab_timestamps_with_an_offset_or_utc_suffix_parse() {
        assert_eq!(
            gitlab_time(Some("2021-04-28 21:50:00 +0200")),
            Some(Utc.with_ymd_and_hms(2021, 4, 28, 19, 50, 0).unwrap())
        );
        assert_eq!(
            gitlab_time(Some("2025-01-15 12:20:00 UTC")),
            Some(Utc.with_ymd_and_hms(2025, 1, 15, 12, 20, 0).unwrap())
        );
        assert_eq!(
            gitlab_time(Some("2021-04-28T19:50:00Z")),
            Some(Utc.with_ymd_and_hms(2021, 4, 28, 19, 50, 0).unwrap())
        );
        assert_eq!(gitlab_time(Some("yesterday")), None);
    }
}
