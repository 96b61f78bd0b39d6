//! Generic webhooks: `POST` the message as JSON with the channel's headers. Any 2xx is
//! delivered; 5xx, 408 and 429 are retried; any other status is permanent.

use flightdeck_model::{NotificationMessage, WebhookHeader};

use super::{SendOutcome, retry_after, retryable, snippet, transport_error};

pub(crate) async fn send(
    http: &reqwest::Client,
    url: &str,
    headers: &[WebhookHeader],
    message: &NotificationMessage,
) -> SendOutcome {
    let mut req = http.post(url).json(message);
    for h in headers {
        req = req.header(h.name.as_str(), h.value.as_str());
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return transport_error(e),
    };
    let status = resp.status();
    let wait = retry_after(resp.headers());
    let answer = resp.text().await.unwrap_or_default();
    if status.is_success() {
        return SendOutcome::Sent;
    }
    let error = format!(
        "the webhook answered {}: {}",
        status.as_u16(),
        snippet(&answer)
    );
    if retryable(status) {
        SendOutcome::Retry {
            error,
            retry_after: wait,
        }
    } else {
        SendOutcome::Permanent { error }
    }
}
