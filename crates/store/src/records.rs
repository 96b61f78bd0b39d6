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
