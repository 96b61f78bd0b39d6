//! The OpenAPI document: collected from the registered routes, then finished here so every
//! error response is documented as problem+json.

use actix_web::App;
use flightdeck_model::Problem;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, OpenApi as Doc, RefOr, ResponseBuilder,
        path::Operation,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};
use utoipa_actix_web::AppExt;

use super::error::PROBLEM_JSON;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Flightdeck API",
        description = "Deployments, rollbacks and infrastructure health. Authenticate with \
            `Authorization: Bearer <access token or API token>`. Errors are RFC 9457 \
            `application/problem+json`; match on `type`, show `detail`. Lists are cursor-paginated \
            (`?limit=&cursor=`, `next_cursor` in the body)."
    ),
    components(schemas(Problem, flightdeck_model::LiveEvent, flightdeck_model::StreamHello)),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Sessions and the caller"),
        (name = "tokens", description = "API tokens for scripts and CI"),
        (name = "users", description = "Users and roles (admin)"),
        (name = "audit", description = "The append-only audit log"),
        (name = "live", description = "The WebSocket live feed"),
        (name = "system", description = "Probes, metrics and server information"),
    )
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document `GET /api/openapi.json` serves and `flightdeck openapi` prints.
pub fn document() -> Doc {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::register)
        .split_for_parts();
    finish(doc)
}

fn finish(mut doc: Doc) -> Doc {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_error_responses(op);
        }
    }
    doc
}

/// Adds the errors any operation can answer, and makes every 4xx/5xx response problem+json.
fn add_error_responses(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
    let mut defaults = vec![("500", "Internal error"), ("503", "Database unavailable")];
    if secured {
        defaults.push(("401", "Missing, invalid or expired credentials"));
        defaults.push(("403", "The caller's role does not allow this"));
    }
    if has_body {
        defaults.push(("400", "Malformed JSON"));
        defaults.push(("413", "Body too large"));
        defaults.push(("415", "Not application/json"));
        defaults.push(("422", "Well-formed JSON with invalid content"));
    }
    let responses = &mut op.responses.responses;
    for (code, description) in defaults {
        responses
            .entry(code.to_owned())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
    }
    for (code, response) in responses.iter_mut() {
        let is_error = code.starts_with('4') || code.starts_with('5');
        // A handler that declared its own error body (the readiness probe) keeps it.
        if let (true, RefOr::T(response)) = (is_error, response) {
            if !response.content.is_empty() {
                continue;
            }
            response.content.insert(
                PROBLEM_JSON.to_owned(),
                ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                    .build(),
            );
        }
    }
}
