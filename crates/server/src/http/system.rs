//! Probes, metrics and server information.

use actix_web::{HttpResponse, get, web};
use chrono::Utc;
use flightdeck_model::{Readiness, ServerInfo};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{metrics::InboxBacklog, state::AppState};

const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub fn configure_root(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

pub fn configure_v1(cfg: &mut ServiceConfig) {
    cfg.service(info);
}

/// Liveness: the process answers.
#[utoipa::path(tag = "system", responses((status = 200, description = "Alive")))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers, and Redis too when it is configured.
#[utoipa::path(
    tag = "system",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready; the body says why", body = Readiness),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // A probe must answer promptly even when the pool would wait for its acquire timeout.
    let database = match tokio::time::timeout(PROBE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => format!("unreachable: {e}"),
        Err(_) => "no answer within 2 s".to_owned(),
    };
    let redis = match &state.redis {
        None => "not configured".to_owned(),
        Some(pool) => match tokio::time::timeout(PROBE_TIMEOUT, redis_ping(pool)).await {
            Ok(Ok(())) => "ok".to_owned(),
            Ok(Err(e)) => format!("unreachable: {e}"),
            Err(_) => "no answer within 2 s".to_owned(),
        },
    };
    let ready = database == "ok" && (redis == "ok" || state.redis.is_none());
    let body = Readiness {
        ready,
        database,
        redis,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn redis_ping(pool: &deadpool_redis::Pool) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    let _: String = deadpool_redis::redis::cmd("PING")
        .query_async(&mut conn)
        .await?;
    Ok(())
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    tag = "system",
    responses((status = 200, description = "Metrics", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let inbox = async {
        let mut db = state.store.conn().await?;
        let depth = db.inbox_depth().await?;
        let oldest = db.inbox_oldest_pending().await?;
        let oldest_wait = oldest
            .and_then(|t| (Utc::now() - t).to_std().ok())
            .unwrap_or_default();
        Ok::<_, flightdeck_store::StoreError>(InboxBacklog { depth, oldest_wait })
    }
    .await
    .ok();
    let text = state
        .metrics
        .render(state.store.pool_stats(), state.hub.client_count(), inbox);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}

/// What this server is: version, database kind, whether Redis fan-out is on.
#[utoipa::path(tag = "system", responses((status = 200, description = "Server information", body = ServerInfo)))]
#[get("/info")]
async fn info(state: web::Data<AppState>) -> web::Json<ServerInfo> {
    web::Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        database: state.store.backend().as_str().into(),
        redis: state.redis.is_some(),
    })
}
