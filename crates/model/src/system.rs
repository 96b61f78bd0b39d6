use serde::{Deserialize, Serialize};

/// `GET /readyz`: whether this replica can serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub ready: bool,
    /// `ok` or the reason it is not.
    pub database: String,
    /// `ok`, `not configured`, or the reason it is not. A configured Redis that is down makes
    /// the replica unready (its live fan-out is degraded); data is never at risk.
    pub redis: String,
}

/// `GET /api/v1/info`: what this server is, for the SPA's footer and for scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerInfo {
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Whether live events cross replicas through Redis.
    pub redis: bool,
}
