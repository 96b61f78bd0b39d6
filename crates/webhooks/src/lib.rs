//! Inbound CI/CD webhooks: authenticate a delivery, name it, and turn it into one normalized
//! [`Inbound`] shape. Pure functions — no I/O, no clock (the current time is a parameter).
//!
//! The server's handler works in three steps, and this crate keeps them apart:
//!
//! 1. **verify** ([`verify_github`], [`verify_gitlab`], [`verify_argocd`], [`verify_generic`]):
//!    authenticate from the headers, the raw body bytes and the source's secret, with
//!    constant-time comparisons. Every [`VerifyError`] is a 401.
//! 2. **name** ([`delivery_id`]): the dedupe key of the durable inbox row, `(source, delivery id)`,
//!    so a redelivery is a no-op.
//! 3. **parse** ([`parse_github`], [`parse_gitlab`], [`parse_argocd`], [`parse_generic`]): the body
//!    (and event header) into an [`Inbound`]. The handler parses once before answering 202 so
//!    garbage is never stored ([`ParseError`] is a 400 or 422); the worker parses the stored row
//!    again and applies it. Valid deliveries that are not about a deployment become
//!    [`InboundEvent::Ignored`], never an error.
//!
//! [`Source`] dispatches all three by source, for a single `/webhooks/{source}` handler.
//!
//! Status vocabulary and mappings are documented next to each source's parser; values a source
//! adds later are recorded as [`ReportedStatus::Unknown`], never rejected.

mod argocd;
mod error;
mod generic;
mod github;
mod gitlab;
mod headers;
mod report;
mod signature;

pub use argocd::{parse_argocd, verify_argocd};
pub use error::{ParseError, VerifyError};
pub use generic::{
    GENERIC_SIGNATURE_HEADER, GENERIC_TOLERANCE_SECS, parse_generic, verify_generic,
};
pub use github::{parse_github, verify_github};
pub use gitlab::{parse_gitlab, verify_gitlab};
pub use headers::Headers;
pub use report::{DeployReport, Inbound, InboundEvent, ReportedStatus, Source};
pub use signature::{sign_generic, sign_github};

use chrono::{DateTime, Utc};

/// Longest delivery id accepted from a sender (header or body); longer ones are a [`ParseError`].
pub const MAX_DELIVERY_ID_LEN: usize = 256;

/// The inbox dedupe key of a delivery, per source:
///
/// - GitHub: the `X-GitHub-Delivery` header (a GUID that GitHub keeps on redelivery).
/// - GitLab: the `Idempotency-Key` header (GitLab 17.4+, kept on retries). Older GitLab sends
///   none; then the key is `sha256:<hex of the body>`, so a byte-identical retry still dedupes.
/// - Argo CD: built from the body of our template: app, revision, phase, startedAt, finishedAt
///   (Argo CD sends no delivery id; one notification per phase change of one sync operation).
/// - Generic: the body's `id`.
pub fn delivery_id(
    source: Source,
    headers: &dyn Headers,
    body: &[u8],
) -> Result<String, ParseError> {
    match source {
        Source::Github => github::delivery_id(headers),
        Source::Gitlab => Ok(gitlab::delivery_id(headers, body)),
        Source::Argocd => argocd::delivery_id(body),
        Source::Generic => generic::delivery_id(body),
    }
}

impl Source {
    /// Authenticates a delivery for this source. `now` is only read by the generic source (its
    /// signature carries a timestamp); the others ignore it.
    pub fn verify(
        self,
        headers: &dyn Headers,
        body: &[u8],
        secret: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        match self {
            Source::Github => verify_github(headers, body, secret),
            Source::Gitlab => verify_gitlab(headers, secret),
            Source::Argocd => verify_argocd(headers, secret),
            Source::Generic => verify_generic(headers, body, secret, now),
        }
    }

    /// Parses a (verified) delivery for this source.
    pub fn parse(self, headers: &dyn Headers, body: &[u8]) -> Result<Inbound, ParseError> {
        match self {
            Source::Github => parse_github(headers, body),
            Source::Gitlab => parse_gitlab(headers, body),
            Source::Argocd => parse_argocd(headers, body),
            Source::Generic => parse_generic(headers, body),
        }
    }
}
