//! The two ways a delivery is refused: it cannot be authenticated (401), or it is not a payload
//! we can read (400/422).

/// The delivery could not be authenticated. Every variant is a 401 at the edge; the detail is for
/// logs and for the sender's delivery log, never a hint about the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No secret is configured for this source (or it is empty): refuse everything.
    #[error("no secret is configured for this webhook source")]
    SecretNotConfigured,
    /// The header carrying the signature or token is absent.
    #[error("missing {header} header")]
    MissingSignature { header: &'static str },
    /// The header is present but not in the documented form (prefix, hex, `t=`/`v1=` parts…).
    #[error("malformed {header} header: {reason}")]
    MalformedSignature {
        header: &'static str,
        reason: &'static str,
    },
    /// Well-formed but wrong: tampered body, wrong secret, wrong token.
    #[error("signature does not match")]
    BadSignature,
    /// The signed timestamp is too far from `now` (replay protection).
    #[error(
        "signature timestamp {timestamp} is more than {tolerance_secs} s away from now ({now})"
    )]
    Stale {
        timestamp: i64,
        now: i64,
        tolerance_secs: i64,
    },
}

impl VerifyError {
    /// Always 401 Unauthorized.
    pub fn http_status(&self) -> u16 {
        401
    }
}

/// The delivery is authentic but cannot be read. Malformed bytes are a 400, a well-formed body
/// missing what a deployment needs is a 422 (see [`ParseError::http_status`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON at all (syntax error, truncated, not UTF-8).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// JSON, but a required field is missing or has the wrong type.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// A header the source always sends is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A required field is present but empty.
    #[error("missing required field `{0}`")]
    MissingField(&'static str),
    /// A field is present but its value cannot be used.
    #[error("invalid `{field}`: {reason}")]
    InvalidField { field: &'static str, reason: String },
}

impl ParseError {
    /// 400 for bytes that are not a well-formed request, 422 for a well-formed body that lacks
    /// what a deployment report needs.
    pub fn http_status(&self) -> u16 {
        match self {
            ParseError::MalformedJson(_) | ParseError::MissingHeader(_) => 400,
            ParseError::InvalidPayload(_)
            | ParseError::MissingField(_)
            | ParseError::InvalidField { .. } => 422,
        }
    }
}

impl From<serde_json::Error> for ParseError {
    fn from(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => ParseError::InvalidPayload(e.to_string()),
            _ => ParseError::MalformedJson(e.to_string()),
        }
    }
}
