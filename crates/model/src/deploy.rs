//! The Deployment & Rollback Manager's wire types: the catalog (services, environments,
//! targets) and deployments with their timeline and output.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A deployable thing, e.g. `checkout-api`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    pub id: Uuid,
    /// URL-safe identifier: lowercase letters, digits and `-`.
    pub slug: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Repository URLs or `owner/name` paths; CI/CD webhooks are matched to the service by these.
    #[serde(default)]
    pub repositories: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateService {
    pub slug: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default)]
    pub repositories: Vec<String>,
}

/// Only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateService {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `""` removes the team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repositories: Option<Vec<String>>,
}

/// Where services run: `development`, `staging`, `production`…, ordered by `rank`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Environment {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// Lower ranks come first (development 10, staging 20, production 30).
    pub rank: i32,
    /// Deploying needs the `deployer` role and the slug typed as confirmation.
    pub protected: bool,
    /// Other names CI systems use for it (`prod`, `live`); webhooks match on these too.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Set while deploys are refused (rollbacks are still allowed, with a reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<EnvironmentLock>,
    /// Recurring or one-off periods during which deploys are refused.
    #[serde(default)]
    pub freeze_windows: Vec<FreezeWindow>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvironmentLock {
    pub reason: String,
    pub locked_by: String,
    pub locked_at: DateTime<Utc>,
    /// The lock lifts by itself then; absent: until unlocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A deploy freeze: either one-off (`starts_at`..`ends_at`) or weekly (`weekdays` with
/// `from`..`to` as `HH:MM`, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FreezeWindow {
    Once {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
    Weekly {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// 1 = Monday … 7 = Sunday.
        weekdays: Vec<u8>,
        /// `HH:MM`, UTC, inclusive.
        from: String,
        /// `HH:MM`, UTC, exclusive; earlier than `from` means it runs past midnight.
        to: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateEnvironment {
    pub slug: String,
    pub name: String,
    pub rank: i32,
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub freeze_windows: Vec<FreezeWindow>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateEnvironment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_windows: Option<Vec<FreezeWindow>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockEnvironment {
    pub reason: String,
    /// Minutes until the lock lifts by itself; absent: until unlocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentKind {
    Deploy,
    Rollback,
}

/// `queued` → `in_progress` → `succeeded` | `failed` | `cancelled` | `timed_out`. Terminal states
/// are final; late or out-of-order reports never move a deployment backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Queued,
    InProgress,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
}

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 6] = [
        DeploymentStatus::Queued,
        DeploymentStatus::InProgress,
        DeploymentStatus::Succeeded,
        DeploymentStatus::Failed,
        DeploymentStatus::Cancelled,
        DeploymentStatus::TimedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Queued => "queued",
            DeploymentStatus::InProgress => "in_progress",
            DeploymentStatus::Succeeded => "succeeded",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::Cancelled => "cancelled",
            DeploymentStatus::TimedOut => "timed_out",
        }
    }

    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            DeploymentStatus::Queued | DeploymentStatus::InProgress
        )
    }

    pub fn is_active(self) -> bool {
        !self.is_terminal()
    }
}

impl std::str::FromStr for DeploymentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeploymentStatus::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown deployment status `{s}`"))
    }
}

impl std::fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One deployment of a version of a service to an environment (or a rollback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deployment {
    pub id: Uuid,
    /// Service slug.
    pub service: String,
    /// Environment slug.
    pub environment: String,
    pub version: String,
    pub kind: DeploymentKind,
    pub status: DeploymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who started it: a username, or the CI system that reported it (`github`, `gitlab`…).
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The version that was current on the target when this started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// For rollbacks: the deployment whose version is being restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<Uuid>,
    /// Why (required for rollbacks and deploys into a locked environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Marked bad: never chosen as a rollback target.
    pub marked_bad: bool,
    /// `api`, `github`, `gitlab`, `argocd` or `generic`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_url: Option<String>,
    /// The CI run or pipeline page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_url: Option<String>,
    /// When the change was committed, when known (for lead time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_at: Option<DateTime<Utc>>,
    /// The executor that carries it out: `record`, `webhook` or `command`.
    pub executor: String,
    /// Only in the answer that created it, like an API token's secret: where and how a
    /// pipeline reports progress (`POST callback.url` with `Authorization: Bearer callback.token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<DeploymentCallback>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentCallback {
    pub url: String,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateDeployment {
    /// Service slug.
    pub service: String,
    /// Environment slug.
    pub environment: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Required to deploy to a protected environment: its slug, typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateRollback {
    pub service: String,
    pub environment: String,
    /// An earlier succeeded deployment whose version to restore; absent: the most recent
    /// succeeded version other than the current one and not marked bad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_deployment: Option<Uuid>,
    pub reason: String,
    /// Required on protected environments: the environment slug, typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<String>,
}

/// What a rollback would do, without doing it (`GET /api/v1/rollbacks/preview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RollbackPreview {
    pub service: String,
    pub environment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_version: Option<String>,
    pub to_version: String,
    pub to_deployment: Uuid,
    pub protected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkBad {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelDeployment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A progress report from an external pipeline, authenticated by the deployment's callback
/// token (`Authorization: Bearer fdc_…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusReport {
    pub status: DeploymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The pipeline's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Output lines to append to the deployment log.
    #[serde(default)]
    pub log: Vec<String>,
}

/// One entry of a deployment's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentEvent {
    pub id: Uuid,
    pub deployment_id: Uuid,
    pub at: DateTime<Utc>,
    /// The status after this event, when it changed or was reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DeploymentStatus>,
    /// Who or what reported it: a username, `executor`, `github`…
    pub actor: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    Stdout,
    Stderr,
    System,
}

/// One line of a deployment's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogLine {
    pub deployment_id: Uuid,
    /// Position in the deployment's output, from 1.
    pub n: i64,
    pub at: DateTime<Utc>,
    pub stream: LogStream,
    pub line: String,
}

/// A service in an environment, with what runs there now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Target {
    pub service: String,
    pub environment: String,
    /// The version of the latest succeeded deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_deployment: Option<Deployment>,
    /// The latest deployment of any status (it may be the current one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_deployment: Option<Deployment>,
}

/// `GET /api/v1/environments/{env}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvironmentStatus {
    pub environment: Environment,
    pub targets: Vec<Target>,
}

/// DORA figures for a service in an environment over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoraMetrics {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Finished deployments (any outcome) in the period.
    pub deployments: u32,
    pub succeeded: u32,
    pub failed: u32,
    /// Succeeded deployments per day.
    pub deployment_frequency_per_day: f64,
    /// Failed (or rolled back) deployments as a share of finished ones, 0..1; absent with none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_failure_rate: Option<f64>,
    /// Median time from a failed deployment to the next succeeded one on the same target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_time_median_secs: Option<f64>,
    /// Median time from commit to succeeded deployment, where the commit time is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_time_median_secs: Option<f64>,
}

/// How deployments to an environment (or one target) are carried out. Configured by admins;
/// never taken from a deploy request.
///
/// Templates (webhook body strings, command arguments and environment values) may use
/// `{service}`, `{environment}`, `{version}`, `{deployment_id}`, `{callback_url}` and
/// `{callback_token}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExecutorConfig {
    /// Nothing runs here: CI reports progress through webhooks or the callback URL.
    Record,
    /// Calls a URL (GitHub `workflow_dispatch`, a GitLab pipeline trigger, an Argo CD sync…);
    /// status then arrives by webhook or callback.
    Webhook(WebhookExecutor),
    /// Runs a program (no shell) and streams its output; the exit code decides the status.
    Command(CommandExecutor),
}

impl ExecutorConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            ExecutorConfig::Record => "record",
            ExecutorConfig::Webhook(_) => "webhook",
            ExecutorConfig::Command(_) => "command",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookExecutor {
    pub url: String,
    /// `POST` unless set.
    #[serde(default = "default_method")]
    pub method: String,
    /// Sent with every call. Values are secrets: stored, never shown again (`[redacted]`).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The JSON body; string values are templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub body: Option<serde_json::Value>,
    /// Attempts after the first, with exponential backoff, on network errors and 5xx.
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default = "default_webhook_timeout")]
    pub timeout_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandExecutor {
    /// The program to run (a path or a name on PATH); never through a shell.
    pub program: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// The deployment times out (and the process group is killed) after this long.
    #[serde(default = "default_command_timeout")]
    pub timeout_secs: u32,
}

fn default_method() -> String {
    "POST".into()
}
fn default_retries() -> u32 {
    3
}
fn default_webhook_timeout() -> u32 {
    10
}
fn default_command_timeout() -> u32 {
    1800
}
