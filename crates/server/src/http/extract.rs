//! Extractors: who is calling (with the role a route needs in the type), the request id, the
//! caller's address, and pagination.

use std::{future::Future, marker::PhantomData, pin::Pin};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use chrono::Utc;
use flightdeck_model::{Id, PageParams, Role};

use super::{error::ApiError, middleware::RequestId};
use crate::{
    auth::{Principal, authenticate},
    state::AppState,
};

/// The least role a route needs, as a type: `Auth<role::Admin>`.
pub trait Requirement {
    const ROLE: Role;
}

pub mod role {
    use super::{Requirement, Role};

    pub struct Viewer;
    pub struct Operator;
    pub struct Deployer;
    pub struct Admin;

    impl Requirement for Viewer {
        const ROLE: Role = Role::Viewer;
    }
    impl Requirement for Operator {
        const ROLE: Role = Role::Operator;
    }
    impl Requirement for Deployer {
        const ROLE: Role = Role::Deployer;
    }
    impl Requirement for Admin {
        const ROLE: Role = Role::Admin;
    }
}

/// An authenticated caller holding at least `R`'s role. A missing, malformed, expired, forged
/// or revoked credential is a 401 before the handler runs; too small a role is a 403.
pub struct Auth<R: Requirement = role::Viewer> {
    pub principal: Principal,
    _role: PhantomData<R>,
}

impl<R: Requirement> std::ops::Deref for Auth<R> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

/// The bearer token of `Authorization`, if well formed.
pub fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer header".into()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::Unauthorized(
            "expected Authorization: Bearer <token>".into(),
        )),
    }
}

impl<R: Requirement + 'static> FromRequest for Auth<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("app state missing")))?;
            let principal = authenticate(&state, &token?, Utc::now()).await?;
            if !principal.role.allows(R::ROLE) {
                return Err(ApiError::Forbidden(format!(
                    "this needs the {} role; the caller has {}",
                    R::ROLE,
                    principal.role
                )));
            }
            Ok(Auth {
                principal,
                _role: PhantomData,
            })
        })
    }
}

/// Who and where a request comes from, for audit entries and rate limits.
pub struct RequestMeta {
    pub request_id: String,
    /// The TCP peer. `X-Forwarded-For` is not trusted: anyone can send it.
    pub ip: String,
}

impl RequestMeta {
    /// An audit entry for this request: who did `action` to which target. Callers add the
    /// before/after copies and the reason with struct update syntax.
    pub fn audit(
        self,
        actor: &str,
        action: &str,
        target_type: &str,
        target_id: impl Into<String>,
    ) -> flightdeck_store::NewAudit {
        flightdeck_store::NewAudit {
            actor: actor.to_owned(),
            action: action.into(),
            target_type: target_type.into(),
            target_id: target_id.into(),
            request_id: Some(self.request_id),
            ..Default::default()
        }
    }
}

impl FromRequest for RequestMeta {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let ip = req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        std::future::ready(Ok(RequestMeta { request_id, ip }))
    }
}

/// Validated `?limit=&cursor=`: the cursor is the last id of the previous page.
pub struct Paging {
    pub limit: u32,
    pub after: Option<Id>,
}

impl Paging {
    pub fn from_params(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(PageParams::DEFAULT_LIMIT);
        if !(1..=PageParams::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::BadRequest(format!(
                "limit must be between 1 and {}",
                PageParams::MAX_LIMIT
            )));
        }
        let after = cursor.map(decode_cursor).transpose()?;
        Ok(Paging { limit, after })
    }

    /// Cuts a fetch of `limit + 1` rows to a page and its cursor.
    pub fn page<T>(&self, mut items: Vec<T>, id: impl Fn(&T) -> Id) -> flightdeck_model::Page<T> {
        let next_cursor = if items.len() > self.limit as usize {
            items.truncate(self.limit as usize);
            items.last().map(|last| encode_cursor(id(last)))
        } else {
            None
        };
        flightdeck_model::Page { items, next_cursor }
    }
}

pub fn encode_cursor(id: Id) -> String {
    B64.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<Id, ApiError> {
    B64.decode(cursor)
        .ok()
        .and_then(|bytes| Id::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::BadRequest("invalid cursor".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_bad_request() {
        let id = Id::now_v7();
        let p = Paging::from_params(Some(10), Some(&encode_cursor(id))).unwrap();
        assert_eq!(p.after, Some(id));
        assert!(Paging::from_params(None, Some("not a cursor")).is_err());
        assert!(Paging::from_params(Some(0), None).is_err());
        assert!(Paging::from_params(Some(501), None).is_err());
    }

    #[test]
    fn a_full_fetch_yields_a_cursor_and_a_short_one_does_not() {
        let p = Paging {
            limit: 2,
            after: None,
        };
        let ids: Vec<Id> = (0..3).map(|_| Id::now_v7()).collect();
        let page = p.page(ids.clone(), |i| *i);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_cursor, Some(encode_cursor(ids[1])));
        assert_eq!(p.page(ids[..2].to_vec(), |i| *i).next_cursor, None);
    }
}
