//! The HTTP layer: routes, extractors, error mapping. Routes are registered through
//! utoipa-actix-web, so a route and its OpenAPI description cannot drift apart.

pub mod alertmanager;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod components;
pub mod deployments;
pub mod dora;
pub mod drilldown;
pub mod error;
pub mod executors;
pub mod extract;
pub mod idempotency;
pub mod middleware;
pub mod notifications;
pub mod openapi;
pub mod slos;
pub mod stream;
pub mod system;
pub mod tokens;
pub mod users;
pub mod webhooks;

use actix_web::{
    HttpRequest,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    web,
};
use utoipa_actix_web::{scope, service_config::ServiceConfig};

use self::error::ApiError;

/// Every documented route: the probes at the root and the API under `/api/v1`.
pub fn register(cfg: &mut ServiceConfig) {
    system::configure_root(cfg);
    cfg.service(
        scope::scope("/api/v1")
            .configure(auth::configure)
            .configure(tokens::configure)
            .configure(users::configure)
            .configure(audit::configure)
            .configure(catalog::configure)
            .configure(deployments::configure)
            .configure(dora::configure)
            .configure(executors::configure)
            .configure(system::configure_v1)
            .configure(stream::configure)
            .configure(webhooks::configure)
            .configure(components::configure)
            .configure(drilldown::configure)
            .configure(slos::configure)
            .configure(alerts::configure)
            .configure(alertmanager::configure)
            .configure(notifications::configure),
    );
}

/// Body, query and path parsing errors as problems: malformed JSON is 400, JSON of the wrong
/// shape 422, a wrong content type 415, too large a body 413.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req: &HttpRequest| {
            let api = match &err {
                JsonPayloadError::ContentType => {
                    ApiError::UnsupportedMediaType("expected Content-Type: application/json".into())
                }
                JsonPayloadError::Overflow { limit }
                | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                    ApiError::PayloadTooLarge(format!("the body exceeds {limit} bytes"))
                }
                JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::Unprocessable(
                    format!("the JSON does not match the expected shape: {e}"),
                ),
                JsonPayloadError::Deserialize(e) => {
                    ApiError::BadRequest(format!("malformed JSON: {e}"))
                }
                other => ApiError::BadRequest(format!("unreadable body: {other}")),
            };
            api.into()
        })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req: &HttpRequest| {
        ApiError::BadRequest(format!("invalid query string: {err}")).into()
    })
}

pub fn path_config() -> web::PathConfig {
    // A path segment that cannot be an id names nothing that exists.
    web::PathConfig::default().error_handler(|err: PathError, _req: &HttpRequest| {
        ApiError::NotFound(format!("no such resource ({err})")).into()
    })
}
