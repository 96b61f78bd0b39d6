//! Inputs (`New*`) and stored shapes that carry more than the wire types show.

use chrono::{DateTime, Utc};
use flightdeck_model::{ApiToken, Id, Role, User};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Id,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub now: DateTime<Utc>,
}

/// A user with the fields the API never shows.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
}

/// A change to a user; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Id,
    pub user_id: Id,
    pub refresh_digest: String,
    pub previous_digest: Option<String>,
    pub created_at: DateTime<Utc>,
    pub refreshed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Id,
    pub user_id: Id,
    pub refresh_digest: String,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: Id,
    pub user_id: Id,
    pub name: String,
    pub prefix: String,
    pub digest: String,
    pub role: Role,
    pub now: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as stored, with its owner's id.
#[derive(Debug, Clone)]
pub struct ApiTokenRecord {
    pub token: ApiToken,
    pub user_id: Id,
}

#[derive(Debug, Clone, Default)]
pub struct NewAudit {
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
}

/// Audit filters as the store applies them (the HTTP layer parses cursors and formats).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Exact match, or a prefix when it ends with `.`.
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only entries older than this id (ids are time-ordered UUIDv7).
    pub before_id: Option<Uuid>,
}

// --- Deployment & Rollback Manager ---

#[derive(Debug, Clone)]
pub struct NewService {
    pub id: Id,
    pub slug: String,
    pub name: String,
    pub team: Option<String>,
    pub repositories: Vec<String>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct ServicePatch {
    pub name: Option<String>,
    /// `Some("")` removes the team.
    pub team: Option<String>,
    pub repositories: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct NewEnvironment {
    pub id: Id,
    pub slug: String,
    pub name: String,
    pub rank: i32,
    pub protected: bool,
    pub aliases: Vec<String>,
    pub freeze_windows: Vec<flightdeck_model::FreezeWindow>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct EnvironmentPatch {
    pub name: Option<String>,
    pub rank: Option<i32>,
    pub protected: Option<bool>,
    pub aliases: Option<Vec<String>>,
    pub freeze_windows: Option<Vec<flightdeck_model::FreezeWindow>>,
}

#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub id: Id,
    pub service_id: Id,
    pub environment_id: Id,
    pub version: String,
    pub kind: flightdeck_model::DeploymentKind,
    pub status: flightdeck_model::DeploymentStatus,
    pub description: Option<String>,
    pub created_by: String,
    pub now: DateTime<Utc>,
    pub previous_version: Option<String>,
    pub rollback_to: Option<Id>,
    pub reason: Option<String>,
    pub source: String,
    pub external_id: Option<String>,
    pub commit_sha: Option<String>,
    pub commit_url: Option<String>,
    pub ci_url: Option<String>,
    pub committed_at: Option<DateTime<Utc>>,
    pub executor: String,
    pub callback_digest: Option<String>,
}

/// A deployment with the keys the API does not show.
#[derive(Debug, Clone)]
pub struct DeploymentRecord {
    pub deployment: flightdeck_model::Deployment,
    pub service_id: Id,
    pub environment_id: Id,
    pub external_id: Option<String>,
}

/// A status change as the state machine decided it.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: flightdeck_model::DeploymentStatus,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Set when the reporter gave a pipeline URL.
    pub ci_url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DeploymentFilter {
    pub service: Option<String>,
    pub environment: Option<String>,
    pub status: Option<flightdeck_model::DeploymentStatus>,
    pub kind: Option<flightdeck_model::DeploymentKind>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before_id: Option<Uuid>,
}

/// What runs on a target now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRecord {
    pub service_id: Id,
    pub environment_id: Id,
    pub current_deployment_id: Option<Id>,
    pub current_version: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewDeploymentEvent {
    pub deployment_id: Id,
    pub at: DateTime<Utc>,
    pub status: Option<flightdeck_model::DeploymentStatus>,
    pub actor: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct NewInbox {
    pub id: Id,
    pub source: String,
    pub delivery_id: String,
    pub event_type: Option<String>,
    pub body: String,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxState {
    Pending,
    Applied,
    Ignored,
    Unmatched,
    Failed,
}

impl InboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            InboxState::Pending => "pending",
            InboxState::Applied => "applied",
            InboxState::Ignored => "ignored",
            InboxState::Unmatched => "unmatched",
            InboxState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Applied,
            Self::Ignored,
            Self::Unmatched,
            Self::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct InboxRecord {
    pub id: Id,
    pub source: String,
    pub delivery_id: String,
    pub received_at: DateTime<Utc>,
    pub event_type: Option<String>,
    pub body: String,
    pub state: InboxState,
    pub attempts: i32,
    pub note: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}
