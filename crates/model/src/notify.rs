//! Notifications: silences, channels (Slack, generic webhook, email) and the delivery log.
//!
//! Secrets in a channel's configuration (a Slack webhook URL, secret header values, the SMTP
//! password) are never sent back: responses carry [`MASK`] in their place, and a request that
//! sends [`MASK`] back for one of them keeps the stored value, so a channel can be edited without
//! re-typing its secrets.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AlertSeverity;

/// What stands in for a secret in every response.
pub const MASK: &str = "********";

/// A silence: while it lasts, alerts whose labels match every matcher are recorded as usual but
/// not notified about (their deliveries are logged as `suppressed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Silence {
    pub id: Uuid,
    /// Prometheus-style matchers, e.g. `service="checkout-api"`, `severity=~"warning|info"`.
    pub matchers: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub comment: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Set when expired by hand (`ends_at` is then moved to that instant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_by: Option<String>,
}

/// Where a silence stands at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SilenceState {
    Pending,
    Active,
    Expired,
}

impl Silence {
    pub fn state_at(&self, now: DateTime<Utc>) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now < self.ends_at {
            SilenceState::Active
        } else {
            SilenceState::Expired
        }
    }
}

/// A silence with its state when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilenceView {
    #[serde(flatten)]
    pub silence: Silence,
    pub state: SilenceState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSilence {
    /// At least one matcher.
    pub matchers: Vec<String>,
    /// Default: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
    pub comment: String,
}

/// What a channel can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NotifyEvent {
    /// A new firing episode.
    #[serde(rename = "alert.firing")]
    AlertFiring,
    /// An alert escalated (by hand or on the timer); once per level.
    #[serde(rename = "alert.escalated")]
    AlertEscalated,
    #[serde(rename = "alert.resolved")]
    AlertResolved,
    /// A deployment failed or timed out.
    #[serde(rename = "deployment.failed")]
    DeploymentFailed,
}

impl NotifyEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::AlertFiring => "alert.firing",
            NotifyEvent::AlertEscalated => "alert.escalated",
            NotifyEvent::AlertResolved => "alert.resolved",
            NotifyEvent::DeploymentFailed => "deployment.failed",
        }
    }
}

fn default_events() -> Vec<NotifyEvent> {
    vec![
        NotifyEvent::AlertFiring,
        NotifyEvent::AlertEscalated,
        NotifyEvent::DeploymentFailed,
    ]
}

fn default_min_severity() -> AlertSeverity {
    AlertSeverity::Warning
}

/// Which events a channel receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelFilters {
    /// Default: firing, escalated and failed deployments (resolutions are opt-in).
    #[serde(default = "default_events")]
    pub events: Vec<NotifyEvent>,
    /// Alerts below this severity are not sent. Default `warning`.
    #[serde(default = "default_min_severity")]
    pub min_severity: AlertSeverity,
    /// Only alerts routed to these components; empty: all.
    #[serde(default)]
    pub components: Vec<String>,
    /// Only deployments to these environments; empty: all.
    #[serde(default)]
    pub environments: Vec<String>,
}

impl Default for ChannelFilters {
    fn default() -> Self {
        ChannelFilters {
            events: default_events(),
            min_severity: default_min_severity(),
            components: Vec::new(),
            environments: Vec::new(),
        }
    }
}

/// How an email channel secures its SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain SMTP (a relay on localhost or a trusted network).
    None,
    /// Plain connection upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// One HTTP header sent by a webhook channel; a `secret` one's value is masked in responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookHeader {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub secret: bool,
}

/// A channel's kind and where it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    /// A Slack incoming webhook. Its URL is a secret (masked in responses).
    Slack { webhook_url: String },
    /// A JSON POST to any URL, with optional headers.
    Webhook {
        url: String,
        #[serde(default)]
        headers: Vec<WebhookHeader>,
    },
    /// Email over SMTP.
    Email {
        host: String,
        port: u16,
        from: String,
        to: Vec<String>,
        #[serde(default)]
        tls: SmtpTls,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        /// Masked in responses.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
    },
}

impl ChannelConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelConfig::Slack { .. } => "slack",
            ChannelConfig::Webhook { .. } => "webhook",
            ChannelConfig::Email { .. } => "email",
        }
    }

    /// The same configuration with every secret replaced by [`MASK`].
    pub fn masked(&self) -> ChannelConfig {
        let mut c = self.clone();
        match &mut c {
            ChannelConfig::Slack { webhook_url } => *webhook_url = MASK.into(),
            ChannelConfig::Webhook { headers, .. } => {
                for h in headers.iter_mut().filter(|h| h.secret) {
                    h.value = MASK.into();
                }
            }
            ChannelConfig::Email { password, .. } => {
                if password.is_some() {
                    *password = Some(MASK.into());
                }
            }
        }
        c
    }

    /// `self` (from a request) with every secret sent back as [`MASK`] replaced by the stored
    /// value from `stored`, when it has one.
    pub fn unmasked_from(mut self, stored: &ChannelConfig) -> ChannelConfig {
        match (&mut self, stored) {
            (
                ChannelConfig::Slack { webhook_url },
                ChannelConfig::Slack {
                    webhook_url: old_url,
                },
            ) if webhook_url == MASK => *webhook_url = old_url.clone(),
            (
                ChannelConfig::Webhook { headers, .. },
                ChannelConfig::Webhook {
                    headers: old_headers,
                    ..
                },
            ) => {
                for h in headers.iter_mut().filter(|h| h.value == MASK) {
                    if let Some(old) = old_headers.iter().find(|o| o.name == h.name) {
                        h.value = old.value.clone();
                    }
                }
            }
            (
                ChannelConfig::Email { password, .. },
                ChannelConfig::Email {
                    password: old_password,
                    ..
                },
            ) if password.as_deref() == Some(MASK) => *password = old_password.clone(),
            _ => {}
        }
        self
    }
}

/// A notification channel. Responses mask its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationChannel {
    pub id: Uuid,
    pub name: String,
    pub config: ChannelConfig,
    pub filters: ChannelFilters,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl NotificationChannel {
    pub fn masked(&self) -> NotificationChannel {
        NotificationChannel {
            config: self.config.masked(),
            ..self.clone()
        }
    }
}

fn yes() -> bool {
    true
}

/// Create or replace a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelRequest {
    pub name: String,
    pub config: ChannelConfig,
    #[serde(default)]
    pub filters: ChannelFilters,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// The answer to `POST /notification-channels/{id}/test`: one attempt, no retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelTestResult {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Sent,
    /// Gave up: a permanent error, or every attempt failed.
    Failed,
    /// Not sent because of a silence or a maintenance window (`reason` says which).
    Suppressed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Suppressed => "suppressed",
        }
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "sent" => Ok(DeliveryStatus::Sent),
            "failed" => Ok(DeliveryStatus::Failed),
            "suppressed" => Ok(DeliveryStatus::Suppressed),
            other => Err(format!(
                "unknown delivery status `{other}`; expected pending, sent, failed or suppressed"
            )),
        }
    }
}

/// The message a delivery carries, whatever the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationMessage {
    pub event: NotifyEvent,
    /// One line, e.g. `[FIRING] HighErrorRate (critical) on checkout`.
    pub title: String,
    /// Details, one per line.
    pub text: String,
    /// `<public_url>/alerts/<id>` or `/deployments/<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Extra fields for webhook receivers (alert or deployment id, severity, component…).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// One (event, channel) in the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub channel_name: String,
    pub channel_kind: String,
    /// The live event it came from.
    pub event_seq: i64,
    /// What it is about, e.g. `alert:<id>:firing`; unique per channel, so an event read twice
    /// is delivered once.
    pub dedupe_key: String,
    pub message: NotificationMessage,
    pub status: DeliveryStatus,
    /// Why it was suppressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /notifications/deliveries` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DeliveryQuery {
    /// A channel id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Uuid>,
    /// `pending`, `sent`, `failed` or `suppressed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}
