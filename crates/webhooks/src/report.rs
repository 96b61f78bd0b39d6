//! The normalized shape every source is parsed into.

use chrono::{DateTime, Utc};
use flightdeck_model::DeploymentStatus;
use serde::{Deserialize, Serialize};

/// Where a delivery came from; also the first half of the inbox key `(source, delivery id)` and
/// the last path segment of `POST /api/v1/webhooks/{source}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Github,
    Gitlab,
    Argocd,
    Generic,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Github,
        Source::Gitlab,
        Source::Argocd,
        Source::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Github => "github",
            Source::Gitlab => "gitlab",
            Source::Argocd => "argocd",
            Source::Generic => "generic",
        }
    }
}

impl std::str::FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Source::ALL
            .into_iter()
            .find(|src| src.as_str() == s)
            .ok_or_else(|| format!("unknown webhook source `{s}`"))
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One parsed delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    pub source: Source,
    /// The inbox dedupe key (see [`crate::delivery_id`]).
    pub delivery_id: String,
    pub event: InboundEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[allow(
    clippy::large_enum_variant,
    reason = "one value per delivery, almost always a Deploy: boxing would only add an allocation"
)]
pub enum InboundEvent {
    /// A liveness check from the sender (GitHub `ping`): acknowledged, nothing to apply.
    Ping,
    /// A report about one deployment.
    Deploy(DeployReport),
    /// Valid and authentic but not about a deployment (another event type, a workflow that does
    /// not deploy, an Argo CD app without an environment label…). Kept and listed with the reason,
    /// never an error.
    Ignored { reason: String },
}

/// What a CI/CD system says about one deployment, before Flightdeck matches it to a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployReport {
    /// Every form of the repository seen in the payload (`acme/checkout-api`, its web URL, clone
    /// and SSH URLs, GitLab `path_with_namespace`, Argo CD `repoURL`…), deduplicated, in payload
    /// order. The server matches any of them against a service's repository.
    pub repositories: Vec<String>,
    /// A service slug named directly by the sender (generic `service`, Argo CD
    /// `flightdeck.dev/service` label); wins over repository matching.
    pub service_hint: Option<String>,
    /// The environment as the CI/CD system named it (not normalized).
    pub environment: String,
    /// The version being deployed: GitHub deployment `ref`, workflow run head SHA, GitLab short
    /// SHA, Argo CD revision, generic `version`.
    pub version: String,
    pub commit_sha: Option<String>,
    pub status: ReportedStatus,
    /// The status word(s) exactly as the source sent them, for the audit trail
    /// (`success`, `completed/timed_out`, `Succeeded`…).
    pub raw_status: String,
    /// Correlates the events of one deployment in the source (see each parser for its form).
    pub external_id: String,
    /// The CI/CD page for this deployment (job log, workflow run, Argo CD application).
    pub url: Option<String>,
    pub commit_url: Option<String>,
    pub description: Option<String>,
    /// Who caused it in the source system (a login or username).
    pub actor: Option<String>,
    /// When the source says this status took effect.
    pub occurred_at: Option<DateTime<Utc>>,
    /// When the deployed commit was made, when the payload says.
    pub committed_at: Option<DateTime<Utc>>,
}

/// A source's status mapped onto Flightdeck's deployment statuses. Values with no faithful
/// mapping are kept verbatim as `Unknown`, recorded on the timeline and never an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportedStatus {
    Known(DeploymentStatus),
    Unknown(String),
}

impl ReportedStatus {
    pub fn known(&self) -> Option<DeploymentStatus> {
        match self {
            ReportedStatus::Known(s) => Some(*s),
            ReportedStatus::Unknown(_) => None,
        }
    }
}

/// Small helpers the parsers share.
pub(crate) mod util {
    use chrono::{DateTime, Utc};

    /// `Some(trimmed)` unless absent, empty, or Go's `<no value>` (what a text/template prints
    /// for a missing map key).
    pub fn present(s: Option<&str>) -> Option<String> {
        s.map(str::trim)
            .filter(|s| !s.is_empty() && *s != "<no value>")
            .map(str::to_owned)
    }

    /// Pushes `value` onto `list` unless it is empty or already there.
    pub fn push_unique(list: &mut Vec<String>, value: Option<&str>) {
        if let Some(v) = present(value)
            && !list.contains(&v)
        {
            list.push(v);
        }
    }

    /// RFC 3339, as GitHub, Argo CD and our generic schema send.
    pub fn rfc3339(s: Option<&str>) -> Option<DateTime<Utc>> {
        present(s)
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc))
    }

    /// A full Git commit SHA (SHA-1 or SHA-256 object names), lowercase hex.
    pub fn is_full_sha(s: &str) -> bool {
        (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// The first line of a commit message or description, trimmed; `None` when empty.
    pub fn first_line(s: Option<&str>) -> Option<String> {
        present(s.and_then(|s| s.lines().next()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inbound_survives_a_json_round_trip() {
        let inbound = Inbound {
            source: Source::Gitlab,
            delivery_id: "k".into(),
            event: InboundEvent::Deploy(DeployReport {
                repositories: vec!["acme/api".into()],
                service_hint: None,
                environment: "production".into(),
                version: "v1".into(),
                commit_sha: None,
                status: ReportedStatus::Unknown("blocked".into()),
                raw_status: "blocked".into(),
                external_id: "gitlab:deployment:1".into(),
                url: None,
                commit_url: None,
                description: None,
                actor: None,
                occurred_at: None,
                committed_at: None,
            }),
        };
        let json = serde_json::to_string(&inbound).unwrap();
        assert_eq!(serde_json::from_str::<Inbound>(&json).unwrap(), inbound);
        let ignored = Inbound {
            event: InboundEvent::Ignored { reason: "r".into() },
            ..inbound
        };
        let json = serde_json::to_string(&ignored).unwrap();
        assert!(json.contains(r#""kind":"ignored""#), "{json}");
        assert_eq!(serde_json::from_str::<Inbound>(&json).unwrap(), ignored);
    }

    #[test]
    fn sources_parse_from_their_path_segment() {
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>(), Ok(s));
        }
        assert!("bitbucket".parse::<Source>().is_err());
    }
}
