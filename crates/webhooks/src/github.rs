//! GitHub: `deployment`, `deployment_status`, `workflow_run` and `ping` events.
//!
//! Authentication (GitHub "Validating webhook deliveries"): `X-Hub-Signature-256:
//! sha256=<hex HMAC-SHA256(secret, raw body)>`, over the exact bytes received.
//!
//! Status mapping:
//!
//! | event | GitHub value | Flightdeck |
//! | --- | --- | --- |
//! | `deployment` (action `created`) | — | `queued` |
//! | `deployment_status.state` | `pending`, `queued` | `queued` |
//! | | `in_progress` | `in_progress` |
//! | | `success` | `succeeded` |
//! | | `failure`, `error` | `failed` |
//! | | `inactive` (superseded by a newer deployment — not a failure) and anything else | Unknown |
//! | `workflow_run.status` | `requested`, `queued`, `waiting`, `pending` | `queued` |
//! | | `in_progress` | `in_progress` |
//! | | `completed` + conclusion `success` | `succeeded` |
//! | | `completed` + `failure`, `startup_failure` | `failed` |
//! | | `completed` + `cancelled` | `cancelled` |
//! | | `completed` + `timed_out` | `timed_out` |
//! | | `completed` + `neutral`, `skipped`, `stale`, `action_required`…, and anything else | Unknown |
//!
//! Correlation (`external_id`): `github:deployment:<deployment.id>` for both `deployment` and
//! `deployment_status` (they share the deployment); `github:run:<workflow_run.id>` for workflow
//! runs, with `:<run_attempt>` appended from the second attempt on, so a re-run after a failure is
//! a new deployment rather than a late event for a finished one.
//!
//! Which workflow runs are deployments: GitHub's payload does not say, so only runs whose
//! workflow name or file path contains `deploy` (any case) count. Their environment is not in
//! the payload either; it is read from the workflow's name — `Deploy to production`,
//! `Deploy checkout-api to staging`, `deploy-production`, `deploy: staging` — or else from the
//! file name (`.github/workflows/deploy-production.yml`). A deploy workflow that names no
//! environment is `Ignored`, with the reason telling how to name it.

use flightdeck_model::DeploymentStatus;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::headers::non_empty;
use crate::report::util::{first_line, present, push_unique, rfc3339};
use crate::signature::verify_hmac_hex;
use crate::{
    DeployReport, Headers, Inbound, InboundEvent, MAX_DELIVERY_ID_LEN, ParseError, ReportedStatus,
    Source, VerifyError,
};

const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";
const EVENT_HEADER: &str = "X-GitHub-Event";
const DELIVERY_HEADER: &str = "X-GitHub-Delivery";

/// Checks `X-Hub-Signature-256` against HMAC-SHA256 of the raw body, in constant time.
pub fn verify_github(headers: &dyn Headers, body: &[u8], secret: &[u8]) -> Result<(), VerifyError> {
    if secret.is_empty() {
        return Err(VerifyError::SecretNotConfigured);
    }
    let header = non_empty(headers, SIGNATURE_HEADER).ok_or(VerifyError::MissingSignature {
        header: SIGNATURE_HEADER,
    })?;
    let hex = header
        .strip_prefix("sha256=")
        .ok_or(VerifyError::MalformedSignature {
            header: SIGNATURE_HEADER,
            reason: "expected `sha256=<hex>`",
        })?;
    verify_hmac_hex(secret, &[body], hex, SIGNATURE_HEADER)
}

/// `X-GitHub-Delivery`: a GUID per event, kept by GitHub when a delivery is redelivered.
pub(crate) fn delivery_id(headers: &dyn Headers) -> Result<String, ParseError> {
    let id =
        non_empty(headers, DELIVERY_HEADER).ok_or(ParseError::MissingHeader(DELIVERY_HEADER))?;
    if id.len() > MAX_DELIVERY_ID_LEN {
        return Err(ParseError::InvalidField {
            field: DELIVERY_HEADER,
            reason: format!("longer than {MAX_DELIVERY_ID_LEN} characters"),
        });
    }
    Ok(id)
}

/// Parses a GitHub delivery; the event type comes from `X-GitHub-Event`.
pub fn parse_github(headers: &dyn Headers, body: &[u8]) -> Result<Inbound, ParseError> {
    let delivery_id = delivery_id(headers)?;
    let event = non_empty(headers, EVENT_HEADER).ok_or(ParseError::MissingHeader(EVENT_HEADER))?;
    let event = match event.as_str() {
        "ping" => {
            serde_json::from_slice::<IgnoredAny>(body)?;
            InboundEvent::Ping
        }
        "deployment" => InboundEvent::Deploy(deployment(serde_json::from_slice(body)?)?),
        "deployment_status" => {
            InboundEvent::Deploy(deployment_status(serde_json::from_slice(body)?)?)
        }
        "workflow_run" => workflow_run(serde_json::from_slice(body)?)?,
        other => {
            // Still must be JSON: garbage is refused, never stored.
            serde_json::from_slice::<IgnoredAny>(body)?;
            InboundEvent::Ignored {
                reason: format!("GitHub `{other}` events are not about deployments"),
            }
        }
    };
    Ok(Inbound {
        source: Source::Github,
        delivery_id,
        event,
    })
}

#[derive(Deserialize)]
struct Account {
    login: Option<String>,
}

#[derive(Deserialize)]
struct Repository {
    full_name: Option<String>,
    html_url: Option<String>,
    clone_url: Option<String>,
    ssh_url: Option<String>,
    git_url: Option<String>,
}

impl Repository {
    fn forms(&self) -> Vec<String> {
        let mut out = Vec::new();
        for form in [
            &self.full_name,
            &self.html_url,
            &self.clone_url,
            &self.ssh_url,
            &self.git_url,
        ] {
            push_unique(&mut out, form.as_deref());
        }
        out
    }

    fn commit_url(&self, sha: Option<&str>) -> Option<String> {
        let base = present(self.html_url.as_deref())?;
        let sha = present(sha)?;
        Some(format!("{}/commit/{sha}", base.trim_end_matches('/')))
    }
}

#[derive(Deserialize)]
struct Deployment {
    id: u64,
    sha: Option<String>,
    #[serde(rename = "ref")]
    git_ref: String,
    environment: String,
    description: Option<String>,
    creator: Option<Account>,
    created_at: Option<String>,
}

#[derive(Deserialize)]
struct DeploymentEvent {
    deployment: Deployment,
    repository: Repository,
    sender: Option<Account>,
}

#[derive(Deserialize)]
struct DeploymentStatusBody {
    state: String,
    description: Option<String>,
    environment: Option<String>,
    target_url: Option<String>,
    log_url: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct DeploymentStatusEvent {
    deployment_status: DeploymentStatusBody,
    deployment: Deployment,
    repository: Repository,
    sender: Option<Account>,
}

fn required(value: &str, field: &'static str) -> Result<String, ParseError> {
    present(Some(value)).ok_or(ParseError::MissingField(field))
}

fn login(account: Option<&Account>) -> Option<String> {
    present(account.and_then(|a| a.login.as_deref()))
}

/// `deployment` (action `created`): a deployment was requested, so it is `queued`.
fn deployment(e: DeploymentEvent) -> Result<DeployReport, ParseError> {
    let d = e.deployment;
    Ok(DeployReport {
        repositories: e.repository.forms(),
        service_hint: None,
        environment: required(&d.environment, "deployment.environment")?,
        version: required(&d.git_ref, "deployment.ref")?,
        commit_url: e.repository.commit_url(d.sha.as_deref()),
        commit_sha: present(d.sha.as_deref()),
        status: ReportedStatus::Known(DeploymentStatus::Queued),
        raw_status: "created".into(),
        external_id: format!("github:deployment:{}", d.id),
        url: None,
        description: present(d.description.as_deref()),
        actor: login(d.creator.as_ref()).or_else(|| login(e.sender.as_ref())),
        occurred_at: rfc3339(d.created_at.as_deref()),
        committed_at: None,
    })
}

fn deployment_state(state: &str) -> ReportedStatus {
    use DeploymentStatus::*;
    match state {
        "pending" | "queued" => ReportedStatus::Known(Queued),
        "in_progress" => ReportedStatus::Known(InProgress),
        "success" => ReportedStatus::Known(Succeeded),
        "failure" | "error" => ReportedStatus::Known(Failed),
        // `inactive`: a newer deployment to the environment superseded this one. Not a failure,
        // and not a transition of this deployment's run, so it is only recorded.
        other => ReportedStatus::Unknown(other.to_owned()),
    }
}

/// `deployment_status`: a new state for an existing deployment. The environment is the
/// deployment's (a status may rename it, but the deployment is what `external_id` names).
fn deployment_status(e: DeploymentStatusEvent) -> Result<DeployReport, ParseError> {
    let s = e.deployment_status;
    let d = e.deployment;
    let state = required(&s.state, "deployment_status.state")?;
    let environment = present(Some(&d.environment))
        .or_else(|| present(s.environment.as_deref()))
        .ok_or(ParseError::MissingField("deployment.environment"))?;
    Ok(DeployReport {
        repositories: e.repository.forms(),
        service_hint: None,
        environment,
        version: required(&d.git_ref, "deployment.ref")?,
        commit_url: e.repository.commit_url(d.sha.as_deref()),
        commit_sha: present(d.sha.as_deref()),
        status: deployment_state(&state),
        raw_status: state,
        external_id: format!("github:deployment:{}", d.id),
        // `log_url` replaced `target_url`; GitHub still fills both, often with "".
        url: present(s.log_url.as_deref()).or_else(|| present(s.target_url.as_deref())),
        description: present(s.description.as_deref())
            .or_else(|| present(d.description.as_deref())),
        actor: login(d.creator.as_ref()).or_else(|| login(e.sender.as_ref())),
        occurred_at: rfc3339(s.updated_at.as_deref()).or_else(|| rfc3339(s.created_at.as_deref())),
        committed_at: None,
    })
}

#[derive(Deserialize)]
struct Workflow {
    name: Option<String>,
    path: Option<String>,
}

#[derive(Deserialize)]
struct HeadCommit {
    message: Option<String>,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
struct WorkflowRun {
    id: u64,
    name: Option<String>,
    path: Option<String>,
    display_title: Option<String>,
    head_branch: Option<String>,
    head_sha: String,
    status: Option<String>,
    conclusion: Option<String>,
    html_url: Option<String>,
    run_number: Option<u64>,
    run_attempt: Option<u64>,
    created_at: Option<String>,
    updated_at: Option<String>,
    head_commit: Option<HeadCommit>,
    actor: Option<Account>,
    triggering_actor: Option<Account>,
}

#[derive(Deserialize)]
struct WorkflowRunEvent {
    action: Option<String>,
    workflow: Option<Workflow>,
    workflow_run: WorkflowRun,
    repository: Repository,
    sender: Option<Account>,
}

fn workflow_run(e: WorkflowRunEvent) -> Result<InboundEvent, ParseError> {
    let run = e.workflow_run;
    let name = present(e.workflow.as_ref().and_then(|w| w.name.as_deref()))
        .or_else(|| present(run.name.as_deref()))
        .unwrap_or_default();
    let path = present(e.workflow.as_ref().and_then(|w| w.path.as_deref()))
        .or_else(|| present(run.path.as_deref()))
        .unwrap_or_default();
    if !contains_deploy(&name) && !contains_deploy(&path) {
        return Ok(InboundEvent::Ignored {
            reason: format!(
                "workflow `{}` is not a deployment (neither its name nor its path contains \"deploy\")",
                if name.is_empty() { &path } else { &name }
            ),
        });
    }
    let Some(environment) = environment_from_name(&name).or_else(|| environment_from_path(&path))
    else {
        return Ok(InboundEvent::Ignored {
            reason: format!(
                "deploy workflow `{name}` names no environment; call it \"Deploy to <environment>\" \
                 or deploy-<environment>.yml"
            ),
        });
    };
    let status_word = present(run.status.as_deref())
        .or_else(|| present(e.action.as_deref()))
        .ok_or(ParseError::MissingField("workflow_run.status"))?;
    let conclusion = present(run.conclusion.as_deref());
    let (status, raw_status) = run_status(&status_word, conclusion.as_deref());
    let head_sha = required(&run.head_sha, "workflow_run.head_sha")?;
    let external_id = match run.run_attempt {
        Some(attempt) if attempt > 1 => format!("github:run:{}:{attempt}", run.id),
        _ => format!("github:run:{}", run.id),
    };
    let title = present(run.display_title.as_deref())
        .or_else(|| first_line(run.head_commit.as_ref().and_then(|c| c.message.as_deref())));
    // "Deploy to production #163 on main: Bump checkout timeout"
    let mut description = name.clone();
    if let Some(n) = run.run_number {
        description.push_str(&format!(" #{n}"));
    }
    if let Some(branch) = present(run.head_branch.as_deref()) {
        description.push_str(&format!(" on {branch}"));
    }
    if let Some(title) = title {
        description.push_str(&format!(": {title}"));
    }
    Ok(InboundEvent::Deploy(DeployReport {
        repositories: e.repository.forms(),
        service_hint: None,
        environment,
        commit_url: e.repository.commit_url(Some(&head_sha)),
        // The head branch is often `main`, which names no version; the SHA always does.
        version: head_sha.clone(),
        commit_sha: Some(head_sha),
        status,
        raw_status,
        external_id,
        url: present(run.html_url.as_deref()),
        description: Some(description),
        actor: login(run.triggering_actor.as_ref())
            .or_else(|| login(run.actor.as_ref()))
            .or_else(|| login(e.sender.as_ref())),
        occurred_at: rfc3339(run.updated_at.as_deref())
            .or_else(|| rfc3339(run.created_at.as_deref())),
        committed_at: rfc3339(
            run.head_commit
                .as_ref()
                .and_then(|c| c.timestamp.as_deref()),
        ),
    }))
}

fn run_status(status: &str, conclusion: Option<&str>) -> (ReportedStatus, String) {
    use DeploymentStatus::*;
    let known = |s| (ReportedStatus::Known(s), status.to_owned());
    match status {
        "requested" | "queued" | "waiting" | "pending" => known(Queued),
        "in_progress" => known(InProgress),
        "completed" => {
            let raw = format!("completed/{}", conclusion.unwrap_or("none"));
            let mapped = match conclusion {
                Some("success") => ReportedStatus::Known(Succeeded),
                Some("failure" | "startup_failure") => ReportedStatus::Known(Failed),
                Some("cancelled") => ReportedStatus::Known(Cancelled),
                Some("timed_out") => ReportedStatus::Known(TimedOut),
                // neutral, skipped, stale, action_required, or none at all.
                _ => ReportedStatus::Unknown(raw.clone()),
            };
            (mapped, raw)
        }
        other => (ReportedStatus::Unknown(other.to_owned()), other.to_owned()),
    }
}

fn contains_deploy(s: &str) -> bool {
    s.to_ascii_lowercase().contains("deploy")
}

/// The environment named by a deploy workflow's name: the words after the last ` to ` following
/// "deploy" (`Deploy checkout-api to production`), or the rest after `deploy` and a separator
/// (`deploy-production`, `Deploy: staging`, `deploy_production`).
pub(crate) fn environment_from_name(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let at = lower.find("deploy")?;
    let rest_lower = &lower[at..];
    let rest = &name[at..];
    if let Some(to) = rest_lower.rfind(" to ") {
        return clean_env(&rest[to + 4..]);
    }
    // Skip the verb itself (`deploy`, `deploys`, `deployment`) then a separator.
    let verb_len = rest_lower
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest_lower.len());
    let after = &rest[verb_len..];
    let sep = after.chars().next()?;
    if matches!(sep, '-' | '_' | ':' | ' ' | '/') {
        return clean_env(&after[sep.len_utf8()..]);
    }
    None
}

/// The environment named by a workflow file: `.github/workflows/deploy-production.yml`.
pub(crate) fn environment_from_path(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    let stem = file
        .strip_suffix(".yml")
        .or_else(|| file.strip_suffix(".yaml"))
        .unwrap_or(file);
    environment_from_name(stem)
}

fn clean_env(s: &str) -> Option<String> {
    let s = s
        .trim()
        .trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | '"' | '\'' | ':' | '-' | '_'));
    present(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_is_read_from_common_deploy_workflow_names() {
        assert_eq!(
            environment_from_name("Deploy to production").as_deref(),
            Some("production")
        );
        assert_eq!(
            environment_from_name("Deploy checkout-api to staging").as_deref(),
            Some("staging")
        );
        assert_eq!(
            environment_from_name("deploy-production").as_deref(),
            Some("production")
        );
        assert_eq!(
            environment_from_name("Deploy: staging").as_deref(),
            Some("staging")
        );
        assert_eq!(
            environment_from_name("Build and deploy_prod").as_deref(),
            Some("prod")
        );
        assert_eq!(environment_from_name("Deploy"), None);
        assert_eq!(environment_from_name("CI"), None);
    }

    #[test]
    fn environment_is_read_from_the_workflow_file_name() {
        assert_eq!(
            environment_from_path(".github/workflows/deploy-production.yml").as_deref(),
            Some("production")
        );
        assert_eq!(environment_from_path(".github/workflows/deploy.yml"), None);
    }

    #[test]
    fn a_status_outside_the_documented_set_is_unknown() {
        assert_eq!(
            deployment_state("inactive"),
            ReportedStatus::Unknown("inactive".into())
        );
        assert_eq!(
            run_status("completed", Some("neutral")).0,
            ReportedStatus::Unknown("completed/neutral".into())
        );
    }
}
