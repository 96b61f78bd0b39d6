//! Checks a channel's configuration as given in a request; errors name the field
//! (`config.url`, `config.to[1]`…).

use flightdeck_model::{ChannelConfig, FieldError, MASK};
use lettre::message::Mailbox;

fn err(errors: &mut Vec<FieldError>, field: &str, message: &str) {
    errors.push(FieldError {
        field: field.into(),
        message: message.into(),
    });
}

fn check_url(errors: &mut Vec<FieldError>, field: &str, value: &str) {
    match reqwest::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
        _ => err(errors, field, "must be an http(s) URL"),
    }
}

/// Every problem with `config`; `new` refuses secrets given as the mask (there is nothing
/// stored to keep).
pub fn validate_config(config: &ChannelConfig) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match config {
        ChannelConfig::Slack { webhook_url } => {
            if webhook_url == MASK {
                err(
                    &mut errors,
                    "config.webhook_url",
                    "must be the webhook URL, not the mask",
                );
            } else {
                check_url(&mut errors, "config.webhook_url", webhook_url);
            }
        }
        ChannelConfig::Webhook { url, headers } => {
            check_url(&mut errors, "config.url", url);
            for (i, h) in headers.iter().enumerate() {
                if reqwest::header::HeaderName::from_bytes(h.name.as_bytes()).is_err() {
                    err(
                        &mut errors,
                        &format!("config.headers[{i}].name"),
                        "is not a valid HTTP header name",
                    );
                }
                if h.value == MASK {
                    err(
                        &mut errors,
                        &format!("config.headers[{i}].value"),
                        "must be the value, not the mask",
                    );
                } else if reqwest::header::HeaderValue::from_str(&h.value).is_err() {
                    err(
                        &mut errors,
                        &format!("config.headers[{i}].value"),
                        "is not a valid HTTP header value",
                    );
                }
            }
        }
        ChannelConfig::Email {
            host,
            port,
            from,
            to,
            username,
            password,
            ..
        } => {
            if host.trim().is_empty() || host.contains(char::is_whitespace) {
                err(&mut errors, "config.host", "must be a host name or address");
            }
            if *port == 0 {
                err(&mut errors, "config.port", "must be between 1 and 65535");
            }
            if from.parse::<Mailbox>().is_err() {
                err(&mut errors, "config.from", "must be an email address");
            }
            if to.is_empty() {
                err(&mut errors, "config.to", "needs at least one address");
            }
            for (i, address) in to.iter().enumerate() {
                if address.parse::<Mailbox>().is_err() {
                    err(
                        &mut errors,
                        &format!("config.to[{i}]"),
                        "must be an email address",
                    );
                }
            }
            if password.is_some() && username.is_none() {
                err(&mut errors, "config.username", "is needed with a password");
            }
            if password.as_deref() == Some(MASK) {
                err(
                    &mut errors,
                    "config.password",
                    "must be the password, not the mask",
                );
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightdeck_model::{SmtpTls, WebhookHeader};

    fn fields(config: &ChannelConfig) -> Vec<String> {
        validate_config(config)
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn good_configurations_pass() {
        assert!(
            fields(&ChannelConfig::Slack {
                webhook_url: "https://hooks.slack.com/services/T0/B0/x".into()
            })
            .is_empty()
        );
        assert!(
            fields(&ChannelConfig::Email {
                host: "smtp.example.com".into(),
                port: 587,
                from: "Flightdeck <flightdeck@example.com>".into(),
                to: vec!["oncall@example.com".into()],
                tls: SmtpTls::Starttls,
                username: Some("u".into()),
                password: Some("p".into()),
            })
            .is_empty()
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(
            fields(&ChannelConfig::Webhook {
                url: "ftp://x".into(),
                headers: vec![WebhookHeader {
                    name: "bad header".into(),
                    value: MASK.into(),
                    secret: true
                }]
            }),
            [
                "config.url",
                "config.headers[0].name",
                "config.headers[0].value"
            ]
        );
        assert_eq!(
            fields(&ChannelConfig::Email {
                host: "".into(),
                port: 0,
                from: "nope".into(),
                to: vec![],
                tls: SmtpTls::None,
                username: None,
                password: Some("p".into()),
            }),
            [
                "config.host",
                "config.port",
                "config.from",
                "config.to",
                "config.username"
            ]
        );
    }
}
