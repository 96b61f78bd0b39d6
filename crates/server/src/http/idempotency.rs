//! `Idempotency-Key` on creating POSTs: a retried request with the same key gets the first
//! answer again instead of creating a second deployment.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode};
use chrono::{DateTime, Utc};
use flightdeck_domain::credentials::secret_digest;
use flightdeck_store::{IdempotencyKey, StoreError, StoredResponse, Tx};
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use crate::state::AppState;

const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 200;

pub struct Idempotency {
    key: Option<IdempotencyKey>,
    request_digest: String,
}

impl Idempotency {
    /// Reads the header; `body` is the parsed request, digested to recognise a reused key.
    pub fn from_request(
        req: &HttpRequest,
        actor: &str,
        endpoint: &str,
        body: &impl Serialize,
    ) -> ApiResult<Self> {
        let key = match req.headers().get(HEADER) {
            None => None,
            Some(value) => {
                let key = value
                    .to_str()
                    .ok()
                    .map(str::trim)
                    .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
                    .ok_or_else(|| {
                        ApiError::BadRequest(
                            "Idempotency-Key must be 1 to 200 visible characters".into(),
                        )
                    })?;
                Some(IdempotencyKey {
                    actor: actor.into(),
                    endpoint: endpoint.into(),
                    key: key.into(),
                })
            }
        };
        let json = serde_json::to_string(body).expect("requests serialise");
        Ok(Idempotency {
            key,
            request_digest: secret_digest(&json),
        })
    }

    /// The stored answer when this key was used before with the same request.
    pub async fn replay(&self, state: &AppState) -> ApiResult<Option<HttpResponse>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let Some(stored) = state.store.conn().await?.idempotent_response(key).await? else {
            return Ok(None);
        };
        if stored.request_digest != self.request_digest {
            return Err(ApiError::Unprocessable(
                "this Idempotency-Key was already used with a different request".into(),
            ));
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        Ok(Some(
            HttpResponse::build(status)
                .content_type("application/json")
                .insert_header(("Idempotent-Replayed", "true"))
                .body(stored.body),
        ))
    }

    /// Keeps the answer in the same transaction as the change it describes.
    pub async fn save(
        &self,
        tx: &mut dyn Tx,
        status: u16,
        body: &impl Serialize,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let Some(key) = &self.key else { return Ok(()) };
        let response = StoredResponse {
            request_digest: self.request_digest.clone(),
            status,
            body: serde_json::to_string(body).expect("responses serialise"),
        };
        tx.save_idempotent_response(key, &response, now)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => ApiError::Conflict(
                    "a request with this Idempotency-Key is being processed; retry shortly".into(),
                ),
                e => e.into(),
            })
    }
}
