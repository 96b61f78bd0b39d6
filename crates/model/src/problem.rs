use serde::{Deserialize, Serialize};

/// An RFC 9457 problem details body (`application/problem+json`). `type` is stable and safe to
/// match on; `detail` is for humans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `https://flightdeck.dev/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request id, also sent as the `X-Request-Id` header and logged with every line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Per-field validation messages, when the problem is about the request body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The offending field, as a JSON pointer-ish dotted path (`password`, `role`).
    pub field: String,
    pub message: String,
}

/// The problem `type` URIs Flightdeck uses. Clients match on these, never on `detail`.
pub mod problem_type {
    pub const BASE: &str = "https://flightdeck.dev/problems/";
    pub const BAD_REQUEST: &str = "https://flightdeck.dev/problems/bad-request";
    pub const VALIDATION: &str = "https://flightdeck.dev/problems/validation";
    pub const UNAUTHORIZED: &str = "https://flightdeck.dev/problems/unauthorized";
    pub const FORBIDDEN: &str = "https://flightdeck.dev/problems/forbidden";
    pub const NOT_FOUND: &str = "https://flightdeck.dev/problems/not-found";
    pub const METHOD_NOT_ALLOWED: &str = "https://flightdeck.dev/problems/method-not-allowed";
    pub const CONFLICT: &str = "https://flightdeck.dev/problems/conflict";
    pub const PAYLOAD_TOO_LARGE: &str = "https://flightdeck.dev/problems/payload-too-large";
    pub const UNSUPPORTED_MEDIA_TYPE: &str =
        "https://flightdeck.dev/problems/unsupported-media-type";
    pub const RATE_LIMITED: &str = "https://flightdeck.dev/problems/rate-limited";
    /// 401 on refresh: this refresh token was exchanged moments ago (another tab, most likely);
    /// the session lives on — pick up the new tokens instead of signing out.
    pub const REFRESH_RACED: &str = "https://flightdeck.dev/problems/refresh-token-just-rotated";
    pub const INTERNAL: &str = "https://flightdeck.dev/problems/internal";
    pub const UNAVAILABLE: &str = "https://flightdeck.dev/problems/unavailable";
    /// 503: the integration a request needs (Prometheus, the log store) is not configured.
    pub const NOT_CONFIGURED: &str = "https://flightdeck.dev/problems/not-configured";
    /// 502: the integration answered with an error; `detail` carries its message.
    pub const UPSTREAM: &str = "https://flightdeck.dev/problems/upstream";
}

impl Problem {
    pub fn new(kind: &str, title: &str, status: u16, detail: impl Into<String>) -> Self {
        Problem {
            kind: kind.to_owned(),
            title: title.to_owned(),
            status,
            detail: Some(detail.into()),
            instance: None,
            request_id: None,
            errors: Vec::new(),
        }
    }

    /// The human message to show: the detail when there is one, else the title.
    pub fn message(&self) -> &str {
        self.detail.as_deref().unwrap_or(&self.title)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message(), self.status)
    }
}

impl std::error::Error for Problem {}
