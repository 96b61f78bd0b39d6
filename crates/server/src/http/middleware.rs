//! The one middleware every request passes: request id, tracing span, metrics, security
//! headers, and problem+json for every error response — actix's own (unknown route, wrong
//! method, oversized body) as well as ours.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage, HttpRequest, HttpResponse,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    middleware::Next,
    web,
};
use flightdeck_model::{Problem, problem_type as pt};
use tracing::Instrument;

use super::error::{ApiError, PROBLEM_JSON};
use crate::state::AppState;

/// The request's id: the caller's `X-Request-Id` when it is sane, else a fresh UUIDv7.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Content-Security-Policy for everything but the docs UI, built once at start-up (it names
/// the hash of the SPA's inline bootstrap script).
#[derive(Debug, Clone)]
pub struct SecurityPolicy(pub HeaderValue);

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.path(),
        request_id = %request_id,
    );
    let started = Instant::now();

    let mut res = match next.call(req).instrument(span.clone()).await {
        Ok(res) if needs_problem_body(&res) => problem_response(res, &request_id),
        Ok(res) => res.map_into_boxed_body(),
        // Only inner middleware (CORS) can fail here, and it renders its own errors; the request
        // cannot be cloned before routing, so there is nothing to build a response from.
        Err(err) => return Err(err),
    };

    let headers = res.headers_mut();
    headers.insert(
        REQUEST_ID,
        HeaderValue::from_str(&request_id).expect("sane id"),
    );
    set_security_headers(&mut res);

    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    if let Some(state) = res.request().app_data::<web::Data<AppState>>() {
        state
            .metrics
            .observe(res.request().method().as_str(), &route, status, elapsed);
    }
    span.in_scope(|| {
        tracing::info!(status, route = %route, elapsed_ms = elapsed.as_secs_f64() * 1e3, "handled");
    });
    Ok(res)
}

/// Error responses become problem+json, except those a handler deliberately answered with a
/// JSON body of its own (the readiness probe's 503 explains itself).
fn needs_problem_body<B>(res: &ServiceResponse<B>) -> bool {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    res.status().as_u16() >= 400 && (res.response().error().is_some() || !is_json)
}

fn is_sane_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn set_security_headers<B>(res: &mut ServiceResponse<B>) {
    let csp = (!res.request().path().starts_with("/api/docs"))
        .then(|| {
            res.request()
                .app_data::<SecurityPolicy>()
                .map(|p| p.0.clone())
        })
        .flatten();
    let headers = res.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Some(csp) = csp {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
}

/// Rewrites an error response's body as problem+json, keeping its status and headers.
fn problem_response<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    request_id: &str,
) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let mut problem = match res.response().error() {
        Some(err) => match err.as_error::<ApiError>() {
            Some(api) => api.problem(),
            None => generic_problem(status, Some(err.to_string())),
        },
        None => generic_problem(status, None),
    };
    problem.instance = Some(res.request().path().to_owned());
    problem.request_id = Some(request_id.to_owned());
    let body = serde_json::to_string(&problem).expect("problems serialise");
    let (req, resp) = res.into_parts();
    let mut resp = resp.set_body(body).map_into_boxed_body();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    ServiceResponse::new(req, resp)
}

/// A problem for an error that is not ours. Client errors keep actix's message (it describes
/// the request); server errors never say more than their title.
fn generic_problem(status: StatusCode, message: Option<String>) -> Problem {
    let kind = match status.as_u16() {
        400 => pt::BAD_REQUEST,
        401 => pt::UNAUTHORIZED,
        403 => pt::FORBIDDEN,
        404 => pt::NOT_FOUND,
        405 => pt::METHOD_NOT_ALLOWED,
        409 => pt::CONFLICT,
        413 => pt::PAYLOAD_TOO_LARGE,
        415 => pt::UNSUPPORTED_MEDIA_TYPE,
        422 => pt::VALIDATION,
        429 => pt::RATE_LIMITED,
        503 => pt::UNAVAILABLE,
        s if s >= 500 => pt::INTERNAL,
        _ => pt::BAD_REQUEST,
    };
    let title = status.canonical_reason().unwrap_or("Error");
    let detail = match (status.is_client_error(), message) {
        (true, Some(m)) if !m.is_empty() => m,
        (true, _) if status == StatusCode::NOT_FOUND => "no such route".to_owned(),
        _ => title.to_owned(),
    };
    Problem::new(kind, title, status.as_u16(), detail)
}

/// The fallback for unknown routes under `/api`.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}
