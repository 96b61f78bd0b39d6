//! Email over SMTP with lettre (tokio, rustls): plain, STARTTLS or implicit TLS, optional
//! login. SMTP's own classes decide retries: 4xx replies and connection failures are
//! transient, 5xx replies and unusable addresses are permanent.

use std::time::Duration;

use flightdeck_model::{ChannelConfig, NotificationMessage, SmtpTls};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};

use super::SendOutcome;

fn body(message: &NotificationMessage) -> String {
    let mut out = message.text.clone();
    if let Some(link) = &message.link {
        out.push_str(&format!("\n\n{link}"));
    }
    out.push('\n');
    out
}

fn build(config: &ChannelConfig, message: &NotificationMessage) -> Result<Message, String> {
    let ChannelConfig::Email { from, to, .. } = config else {
        return Err("not an email channel".into());
    };
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("invalid from address: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(&message.title)
        .header(ContentType::TEXT_PLAIN);
    for address in to {
        let mailbox: Mailbox = address
            .parse()
            .map_err(|e| format!("invalid to address `{address}`: {e}"))?;
        builder = builder.to(mailbox);
    }
    builder
        .body(body(message))
        .map_err(|e| format!("cannot build the message: {e}"))
}

fn transport(
    config: &ChannelConfig,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let ChannelConfig::Email {
        host,
        port,
        tls,
        username,
        password,
        ..
    } = config
    else {
        return Err("not an email channel".into());
    };
    let builder = match tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str()),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| format!("invalid SMTP host: {e}"))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
            .map_err(|e| format!("invalid SMTP host: {e}"))?,
    };
    let mut builder = builder.port(*port).timeout(Some(timeout));
    if let Some(user) = username {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.clone().unwrap_or_default(),
        ));
    }
    Ok(builder.build())
}

pub(crate) async fn send(
    config: &ChannelConfig,
    message: &NotificationMessage,
    timeout: Duration,
) -> SendOutcome {
    let email = match build(config, message) {
        Ok(m) => m,
        Err(error) => return SendOutcome::Permanent { error },
    };
    let mailer = match transport(config, timeout) {
        Ok(t) => t,
        Err(error) => return SendOutcome::Permanent { error },
    };
    match mailer.send(email).await {
        Ok(_) => SendOutcome::Sent,
        Err(e) if e.is_permanent() => SendOutcome::Permanent {
            error: format!("SMTP refused the message: {e}"),
        },
        Err(e) => SendOutcome::Retry {
            error: format!("SMTP failed: {e}"),
            retry_after: None,
        },
    }
}
