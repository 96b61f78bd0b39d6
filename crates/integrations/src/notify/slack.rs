//! Slack incoming webhooks: `POST` `{"text": …}`; Slack answers `200 ok`, or a status with a
//! plain-text error code (`400 invalid_payload`, `403 action_prohibited`, `404 no_service`,
//! `410 channel_is_archived`, `429` with `Retry-After`, `500 rollup_error`).

use flightdeck_model::NotificationMessage;

use super::{SendOutcome, retry_after, retryable, snippet, transport_error};

/// Slack's `mrkdwn` text: the title in bold, the details, the link.
pub(crate) fn text(message: &NotificationMessage) -> String {
    let mut out = format!("*{}*", message.title);
    if !message.text.is_empty() {
        out.push('\n');
        out.push_str(&message.text);
    }
    if let Some(link) = &message.link {
        out.push_str(&format!("\n<{link}|Open in Flightdeck>"));
    }
    out
}

pub(crate) async fn send(
    http: &reqwest::Client,
    url: &str,
    message: &NotificationMessage,
) -> SendOutcome {
    let body = serde_json::json!({ "text": text(message) });
    let resp = match http.post(url).json(&body).send().await {
        Ok(r) => r,
        Err(e) => return transport_error(e),
    };
    let status = resp.status();
    let wait = retry_after(resp.headers());
    let answer = resp.text().await.unwrap_or_default();
    if status.is_success() {
        return SendOutcome::Sent;
    }
    let error = format!("Slack answered {}: {}", status.as_u16(), snippet(&answer));
    if retryable(status) {
        SendOutcome::Retry {
            error,
            retry_after: wait,
        }
    } else {
        SendOutcome::Permanent { error }
    }
}
