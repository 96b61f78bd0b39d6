//! Sending notifications: Slack incoming webhooks, generic JSON webhooks and email over SMTP,
//! each answering one [`SendOutcome`] per attempt; the retry schedule ([`RetryPolicy`]); and
//! [`plan`], which decides from a live event what to tell which channel and whether a silence
//! or a maintenance window suppresses it.
//!
//! Nothing here reads the clock or the database: the server's notifier worker does both.

mod email;
pub mod plan;
mod slack;
mod validate;
mod webhook;

pub use validate::validate_config;

use std::time::Duration;

use flightdeck_model::{ChannelConfig, NotificationMessage};

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// Worth trying again (a 5xx, a timeout, a refused connection, Slack's 429);
    /// `retry_after` is the receiver's own wish (`Retry-After`), when it said one.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help (a 4xx such as Slack's `no_service`, an SMTP 5xx, a bad address).
    Permanent {
        error: String,
    },
}

/// When to try again: `base × 4^(attempt−1)` (1 s, 4 s, 16 s, 64 s… by default), capped; a
/// receiver's `Retry-After` wins when it asks for longer, up to `max_retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based), or `None` when that was the
    /// last one allowed.
    pub fn delay_after(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let factor = 4u32.saturating_pow(attempt.saturating_sub(1));
        let backoff = self.base.saturating_mul(factor).min(self.cap);
        Some(match retry_after {
            Some(wish) => wish.min(self.max_retry_after).max(backoff),
            None => backoff,
        })
    }
}

/// Sends messages to channels. Cheap to clone.
#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
    timeout: Duration,
}

impl Sender {
    /// `timeout` bounds each attempt (HTTP request or whole SMTP session).
    pub fn new(timeout: Duration) -> Result<Sender, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            // A notification endpoint that redirects is misconfigured; following it could leak
            // the body (and secret headers) elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Sender { http, timeout })
    }

    /// One attempt.
    pub async fn send(&self, config: &ChannelConfig, message: &NotificationMessage) -> SendOutcome {
        match config {
            ChannelConfig::Slack { webhook_url } => {
                slack::send(&self.http, webhook_url, message).await
            }
            ChannelConfig::Webhook { url, headers } => {
                webhook::send(&self.http, url, headers, message).await
            }
            ChannelConfig::Email { .. } => email::send(config, message, self.timeout).await,
        }
    }
}

/// Whether an HTTP status is worth retrying: server errors, 408 and 429.
pub(crate) fn retryable(status: reqwest::StatusCode) -> bool {
    status.is_server_error()
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

/// A transport failure (DNS, refused, timeout) is always worth retrying. The message names the
/// kind of failure, never the URL (a Slack URL is a secret).
pub(crate) fn transport_error(e: reqwest::Error) -> SendOutcome {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    SendOutcome::Retry {
        error: format!("{what}: {}", e.without_url()),
        retry_after: None,
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Slack or most receivers).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The first 200 characters of a response body, for the delivery log.
pub(crate) fn snippet(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &body[..i]),
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_fourfold_is_capped_and_stops_after_the_last_attempt() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        };
        let delays: Vec<_> = (1..=5).map(|a| p.delay_after(a, None)).collect();
        assert_eq!(
            delays,
            [
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(4)),
                Some(Duration::from_secs(16)),
                Some(Duration::from_secs(30)),
                None
            ]
        );
    }

    #[test]
    fn retry_after_wins_when_longer_but_is_bounded() {
        let p = RetryPolicy {
            max_retry_after: Duration::from_secs(60),
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.delay_after(1, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            p.delay_after(2, Some(Duration::from_secs(1))),
            Some(Duration::from_secs(4))
        );
        assert_eq!(
            p.delay_after(1, Some(Duration::from_secs(86_400))),
            Some(Duration::from_secs(60))
        );
    }
}
