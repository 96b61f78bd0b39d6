//! Errors as the UI shows them.

use flightdeck_client::ClientError;
use flightdeck_model::FieldError;

/// An error as the UI shows it: the problem's `detail` when the server sent one.
#[derive(Debug, Clone, PartialEq)]
pub struct AppError {
    pub status: Option<u16>,
    pub message: String,
    pub request_id: Option<String>,
    /// Per-field messages of a validation problem (422), so forms can point at the field.
    pub fields: Vec<FieldError>,
}

impl AppError {
    pub fn new(message: impl Into<String>) -> Self {
        AppError {
            status: None,
            message: message.into(),
            request_id: None,
            fields: Vec::new(),
        }
    }

    pub(crate) fn signed_out() -> Self {
        AppError {
            status: Some(401),
            message: "You are signed out.".into(),
            request_id: None,
            fields: Vec::new(),
        }
    }
}

impl AppError {
    /// The message about `field`, when the server named it.
    pub fn field(&self, field: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.clone())
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl From<ClientError> for AppError {
    fn from(err: ClientError) -> Self {
        let status = err.status();
        match err {
            ClientError::Api(p) => AppError {
                status,
                message: p.message().to_owned(),
                request_id: p.request_id.clone(),
                fields: p.errors.clone(),
            },
            ClientError::Http { status, .. } => AppError {
                status: Some(status),
                message: format!("The server answered HTTP {status}."),
                request_id: None,
                fields: Vec::new(),
            },
            // fetch() rejects with an opaque TypeError; say what it practically means.
            ClientError::Transport(_) => AppError {
                status,
                message: "Cannot reach the Flightdeck server. Check your connection.".into(),
                request_id: None,
                fields: Vec::new(),
            },
            ClientError::Url(e) => AppError::new(e.to_string()),
        }
    }
}
