//! Silences (operators), notification channels (admins) and the delivery log (operators).
//! Sending is the notifier worker's (`workers::notifier`); the channel test sends here, once.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::Utc;
use flightdeck_domain::health::matchers::validate_matchers;
use flightdeck_integrations::notify::{SendOutcome, Sender, validate_config};
use flightdeck_model::{
    ChannelRequest, ChannelTestResult, Delivery, DeliveryQuery, DeliveryStatus, FieldError, Id,
    NotificationChannel, NotificationMessage, NotifyEvent, Page, Silence, SilenceState,
    SilenceView,
};
use flightdeck_store::{DeliveryFilter, NewAudit, NotifyQueries, StoreError};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    components::to_json,
    error::{ApiError, ApiResult},
    extract::{
        Auth, Paging, RequestMeta,
        role::{Admin, Operator},
    },
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_silences)
        .service(create_silence)
        .service(expire_silence)
        .service(list_channels)
        .service(create_channel)
        .service(get_channel)
        .service(replace_channel)
        .service(delete_channel)
        .service(test_channel)
        .service(list_deliveries);
}

pub const SILENCE_UPDATED: &str = "silence.updated";

const MAX_COMMENT: usize = 1000;

fn field(f: &str, m: &str) -> FieldError {
    FieldError {
        field: f.into(),
        message: m.into(),
    }
}

fn view(silence: Silence, now: chrono::DateTime<Utc>) -> SilenceView {
    SilenceView {
        state: silence.state_at(now),
        silence,
    }
}

/// `?state=` for the silence list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SilenceListQuery {
    /// `pending`, `active` or `expired`; absent: all, newest first.
    pub state: Option<String>,
}

/// Silences, newest first, each with its state now.
#[utoipa::path(tag = "notifications", params(SilenceListQuery), security(("bearer" = [])),
    responses((status = 200, description = "Silences", body = Page<SilenceView>),
              (status = 400, description = "Unknown state")))]
#[get("/silences")]
async fn list_silences(
    _auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<SilenceListQuery>,
) -> ApiResult<web::Json<Page<SilenceView>>> {
    let wanted: Option<SilenceState> = query
        .state
        .as_deref()
        .map(|s| {
            serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
                ApiError::BadRequest(format!(
                    "unknown silence state `{s}`; expected pending, active or expired"
                ))
            })
        })
        .transpose()?;
    let now = Utc::now();
    let items = state
        .store
        .conn()
        .await?
        .list_silences(None)
        .await?
        .into_iter()
        .map(|s| view(s, now))
        .filter(|v| wanted.is_none_or(|w| v.state == w))
        .collect();
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Silence notifications for alerts matching every matcher, from `starts_at` (default now) to
/// `ends_at` (operators). Matching alerts are still recorded; their deliveries are logged as
/// `suppressed`.
#[utoipa::path(tag = "notifications", security(("bearer" = [])),
    request_body = flightdeck_model::CreateSilence,
    responses((status = 201, description = "Created", body = SilenceView),
              (status = 422, description = "Invalid matchers, times or comment")))]
#[post("/silences")]
async fn create_silence(
    auth: Auth<Operator>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<flightdeck_model::CreateSilence>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let now = Utc::now();
    let starts_at = body.starts_at.unwrap_or(now);
    let mut errors = Vec::new();
    if body.matchers.is_empty() {
        errors.push(field("matchers", "needs at least one matcher"));
    }
    match validate_matchers(&body.matchers) {
        Ok(parsed) if !parsed.is_empty() && !parsed.iter().any(|m| m.selects()) => {
            // As Alertmanager: a silence must select on at least one label, or it could
            // silence everything.
            errors.push(field(
                "matchers",
                "at least one matcher must require a label value (not match the empty string)",
            ));
        }
        Ok(_) => {}
        Err(errs) => errors.extend(errs),
    }
    if body.ends_at <= starts_at {
        errors.push(field("ends_at", "must be after starts_at"));
    } else if body.ends_at <= now {
        errors.push(field("ends_at", "must be in the future"));
    }
    if body.comment.trim().is_empty() || body.comment.len() > MAX_COMMENT {
        errors.push(field("comment", "must be 1 to 1000 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let silence = Silence {
        id: uuid::Uuid::now_v7(),
        matchers: body.matchers,
        starts_at,
        ends_at: body.ends_at,
        comment: body.comment,
        created_by: auth.user.username.clone(),
        created_at: now,
        expired_by: None,
    };
    let mut tx = state.store.begin().await?;
    tx.insert_silence(&silence).await?;
    let out = view(silence, now);
    let entry = NewAudit {
        after: Some(to_json(&out.silence)),
        reason: Some(out.silence.comment.clone()),
        ..meta.audit(
            &auth.user.username,
            "silence.create",
            "silence",
            out.silence.id.to_string(),
        )
    };
    state
        .commit(
            tx,
            Some(&entry),
            vec![(SILENCE_UPDATED, to_json(&out))],
            now,
        )
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// Expire a silence now (operators). Expiring an expired one is a conflict.
#[utoipa::path(tag = "notifications", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Expired", body = SilenceView),
              (status = 404, description = "No such silence"),
              (status = 409, description = "Already expired")))]
#[delete("/silences/{id}")]
async fn expire_silence(
    auth: Auth<Operator>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
) -> ApiResult<web::Json<SilenceView>> {
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let before = tx
        .silence_by_id(*id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no silence {id}")))?;
    if before.state_at(now) == SilenceState::Expired {
        return Err(ApiError::Conflict("the silence has already expired".into()));
    }
    let after = Silence {
        ends_at: now,
        // A pending silence expired before it started never starts.
        starts_at: before.starts_at.min(now),
        expired_by: Some(auth.user.username.clone()),
        ..before.clone()
    };
    tx.update_silence(&after).await?;
    let out = view(after, now);
    let entry = NewAudit {
        before: Some(to_json(&before)),
        after: Some(to_json(&out.silence)),
        ..meta.audit(
            &auth.user.username,
            "silence.expire",
            "silence",
            before.id.to_string(),
        )
    };
    state
        .commit(
            tx,
            Some(&entry),
            vec![(SILENCE_UPDATED, to_json(&out))],
            now,
        )
        .await?;
    Ok(web::Json(out))
}

fn check_channel(body: &ChannelRequest) -> ApiResult<()> {
    let mut errors = Vec::new();
    if body.name.trim().is_empty() || body.name.len() > 100 {
        errors.push(field("name", "must be 1 to 100 characters"));
    }
    errors.extend(validate_config(&body.config));
    if body.filters.events.is_empty() {
        errors.push(field("filters.events", "needs at least one event"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn name_taken(e: StoreError, name: &str) -> ApiError {
    match e {
        StoreError::Conflict { .. } => {
            ApiError::Conflict(format!("a notification channel named `{name}` exists"))
        }
        other => other.into(),
    }
}

/// The stored channel (secrets in clear), or 404.
async fn stored_channel(db: &mut dyn NotifyQueries, id: Id) -> ApiResult<NotificationChannel> {
    db.channel_by_id(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no notification channel {id}")))
}

/// Notification channels by name, secrets masked (admins).
#[utoipa::path(tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "Channels", body = Page<NotificationChannel>)))]
#[get("/notification-channels")]
async fn list_channels(
    _auth: Auth<Admin>,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Page<NotificationChannel>>> {
    let items = state
        .store
        .conn()
        .await?
        .list_channels()
        .await?
        .iter()
        .map(NotificationChannel::masked)
        .collect();
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Add a Slack, webhook or email channel with its filters (admins). The answer masks secrets.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), request_body = ChannelRequest,
    responses((status = 201, description = "Created", body = NotificationChannel),
              (status = 409, description = "Name taken"),
              (status = 422, description = "Invalid configuration")))]
#[post("/notification-channels")]
async fn create_channel(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<ChannelRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    check_channel(&body)?;
    let now = Utc::now();
    let channel = NotificationChannel {
        id: uuid::Uuid::now_v7(),
        name: body.name.trim().to_owned(),
        config: body.config,
        filters: body.filters,
        enabled: body.enabled,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.store.begin().await?;
    tx.insert_channel(&channel)
        .await
        .map_err(|e| name_taken(e, &channel.name))?;
    let masked = channel.masked();
    let entry = NewAudit {
        after: Some(to_json(&masked)),
        ..meta.audit(
            &auth.user.username,
            "notification_channel.create",
            "notification_channel",
            channel.id.to_string(),
        )
    };
    state.commit(tx, Some(&entry), Vec::new(), now).await?;
    Ok(HttpResponse::Created().json(masked))
}

/// One channel, secrets masked (admins).
#[utoipa::path(tag = "notifications", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The channel", body = NotificationChannel),
              (status = 404, description = "No such channel")))]
#[get("/notification-channels/{id}")]
async fn get_channel(
    _auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<NotificationChannel>> {
    let channel = stored_channel(&mut *state.store.conn().await?, *id).await?;
    Ok(web::Json(channel.masked()))
}

/// Replace a channel (admins). A secret sent back as the mask (`********`) keeps its stored
/// value, so a form can save without re-typing secrets.
#[utoipa::path(tag = "notifications", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    request_body = ChannelRequest,
    responses((status = 200, description = "Replaced", body = NotificationChannel),
              (status = 404, description = "No such channel"),
              (status = 409, description = "Name taken"),
              (status = 422, description = "Invalid configuration")))]
#[put("/notification-channels/{id}")]
async fn replace_channel(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
    body: web::Json<ChannelRequest>,
) -> ApiResult<web::Json<NotificationChannel>> {
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let before = stored_channel(&mut *tx, *id).await?;
    let mut body = body.into_inner();
    body.config = body.config.unmasked_from(&before.config);
    check_channel(&body)?;
    let after = NotificationChannel {
        name: body.name.trim().to_owned(),
        config: body.config,
        filters: body.filters,
        enabled: body.enabled,
        updated_at: now,
        ..before.clone()
    };
    tx.update_channel(&after)
        .await
        .map_err(|e| name_taken(e, &after.name))?;
    let masked = after.masked();
    let entry = NewAudit {
        before: Some(to_json(&before.masked())),
        after: Some(to_json(&masked)),
        ..meta.audit(
            &auth.user.username,
            "notification_channel.update",
            "notification_channel",
            after.id.to_string(),
        )
    };
    state.commit(tx, Some(&entry), Vec::new(), now).await?;
    Ok(web::Json(masked))
}

/// Delete a channel (admins). Its delivery log stays; its pending deliveries fail.
#[utoipa::path(tag = "notifications", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such channel")))]
#[delete("/notification-channels/{id}")]
async fn delete_channel(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
) -> ApiResult<HttpResponse> {
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let before = stored_channel(&mut *tx, *id).await?;
    tx.delete_channel(*id).await?;
    let entry = NewAudit {
        before: Some(to_json(&before.masked())),
        ..meta.audit(
            &auth.user.username,
            "notification_channel.delete",
            "notification_channel",
            id.to_string(),
        )
    };
    state.commit(tx, Some(&entry), Vec::new(), now).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send a test message through a channel now, once, without retries (admins). The answer says
/// whether it went through and, if not, the receiver's error.
#[utoipa::path(tag = "notifications", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The attempt's outcome", body = ChannelTestResult),
              (status = 404, description = "No such channel")))]
#[post("/notification-channels/{id}/test")]
async fn test_channel(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<ChannelTestResult>> {
    let channel = stored_channel(&mut *state.store.conn().await?, *id).await?;
    let sender = Sender::new(std::time::Duration::from_secs(
        state.settings.notify.timeout_secs.max(1),
    ))
    .map_err(ApiError::internal)?;
    let message = NotificationMessage {
        event: NotifyEvent::AlertFiring,
        title: format!("[TEST] Flightdeck test notification for `{}`", channel.name),
        text: format!(
            "Sent by {} to check this channel. Nothing is wrong.",
            auth.user.username
        ),
        link: Some(format!("{}/settings/notifications", state.public_url)),
        fields: Default::default(),
    };
    let result = match sender.send(&channel.config, &message).await {
        SendOutcome::Sent => ChannelTestResult {
            ok: true,
            error: None,
        },
        SendOutcome::Retry { error, .. } | SendOutcome::Permanent { error } => ChannelTestResult {
            ok: false,
            error: Some(error),
        },
    };
    Ok(web::Json(result))
}

/// The delivery log, newest first: one row per (event, channel) with its status, attempts and
/// last error (operators).
#[utoipa::path(tag = "notifications", params(DeliveryQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of deliveries", body = Page<Delivery>),
              (status = 400, description = "Unknown status or bad cursor")))]
#[get("/notifications/deliveries")]
async fn list_deliveries(
    _auth: Auth<Operator>,
    state: web::Data<AppState>,
    query: web::Query<DeliveryQuery>,
) -> ApiResult<web::Json<Page<Delivery>>> {
    let paging = Paging::from_params(query.limit, query.cursor.as_deref())?;
    let filter = DeliveryFilter {
        channel: query.channel,
        status: query
            .status
            .as_deref()
            .map(str::parse::<DeliveryStatus>)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        before_id: paging.after,
    };
    let rows = state
        .store
        .conn()
        .await?
        .list_deliveries(&filter, paging.limit + 1)
        .await?;
    Ok(web::Json(paging.page(rows, |d| d.id)))
}
