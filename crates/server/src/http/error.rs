//! The API's one error type. Every failure a handler or extractor can meet maps to an RFC 9457
//! problem+json body here; internal causes are logged with their chain, never sent.

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use flightdeck_model::{FieldError, Problem, problem_type as pt};
use flightdeck_store::StoreError;

use crate::telemetry::error_chain;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is invalid")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Unauthorized(String),
    /// A refresh token exchanged moments ago, presented again: not theft, a race.
    #[error("this refresh token was just exchanged; the session continues with the new tokens")]
    RefreshRaced,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u32 },
    /// 503: an integration this request needs is not configured.
    #[error("{0}")]
    NotConfigured(String),
    /// 502: an integration answered with an error; the message is its own.
    #[error("{0}")]
    Upstream(String),
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }

    pub fn validation(field: &str, message: &str) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            BadRequest(_) => (StatusCode::BAD_REQUEST, pt::BAD_REQUEST, "Bad request"),
            Validation(_) | Unprocessable(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                pt::VALIDATION,
                "Invalid request",
            ),
            Unauthorized(_) => (StatusCode::UNAUTHORIZED, pt::UNAUTHORIZED, "Unauthorized"),
            RefreshRaced => (
                StatusCode::UNAUTHORIZED,
                pt::REFRESH_RACED,
                "Refresh token already rotated",
            ),
            Forbidden(_) => (StatusCode::FORBIDDEN, pt::FORBIDDEN, "Forbidden"),
            NotFound(_) => (StatusCode::NOT_FOUND, pt::NOT_FOUND, "Not found"),
            Conflict(_) => (StatusCode::CONFLICT, pt::CONFLICT, "Conflict"),
            PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                pt::PAYLOAD_TOO_LARGE,
                "Payload too large",
            ),
            UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                pt::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
            ),
            RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                pt::RATE_LIMITED,
                "Too many requests",
            ),
            NotConfigured(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                pt::NOT_CONFIGURED,
                "Not configured",
            ),
            Upstream(_) => (StatusCode::BAD_GATEWAY, pt::UPSTREAM, "Upstream error"),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                pt::UNAVAILABLE,
                "Service unavailable",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                pt::INTERNAL,
                "Internal server error",
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, kind, title) = self.parts();
        let mut problem = Problem::new(kind, title, status.as_u16(), self.to_string());
        if let ApiError::Validation(errors) = self {
            problem.detail = Some(
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            problem.errors = errors.clone();
        }
        problem
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(e) | ApiError::Unavailable(e) => {
                tracing::error!(error = %error_chain(e.as_ref()), "request failed");
            }
            _ => {}
        }
        let mut resp = HttpResponse::build(self.status_code());
        resp.content_type(PROBLEM_JSON);
        match self {
            ApiError::Unauthorized(_) | ApiError::RefreshRaced => {
                resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"flightdeck\""));
            }
            ApiError::RateLimited { retry_after_secs } => {
                resp.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        resp.json(self.problem())
    }
}

/// Storage failures: a missing row is the caller's 404, a constraint is a 409, an unreachable
/// database a 503 — never a 400, and never the database's own words.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound("no such resource".into()),
            StoreError::Conflict { constraint } => {
                ApiError::Conflict(conflict_message(&constraint))
            }
            e if e.is_unavailable() => ApiError::Unavailable(e.into()),
            e => ApiError::Internal(e.into()),
        }
    }
}

/// The one place that turns constraint names into words.
fn conflict_message(constraint: &str) -> String {
    match constraint {
        "users_username_key" | "users.username" => {
            "a user with that username already exists".into()
        }
        _ => "the change conflicts with existing data".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_reveal_their_cause() {
        let err = ApiError::internal(anyhow::anyhow!("password authentication failed for user x"));
        let problem = err.problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.message().contains("password"));
    }

    #[test]
    fn store_errors_map_to_404_409_and_503() {
        assert_eq!(ApiError::from(StoreError::NotFound).status_code(), 404);
        let conflict = StoreError::Conflict {
            constraint: "users_username_key".into(),
        };
        let err = ApiError::from(conflict);
        assert_eq!(err.status_code(), 409);
        assert!(err.problem().message().contains("already exists"));
        let down = StoreError::Unavailable(sqlx_io_error());
        assert_eq!(ApiError::from(down).status_code(), 503);
    }

    fn sqlx_io_error() -> sqlx::Error {
        sqlx::Error::PoolTimedOut
    }
}
