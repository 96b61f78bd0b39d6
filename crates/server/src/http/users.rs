//! Users and roles, for admins. Users are disabled, never deleted: the audit log names them.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::Utc;
use flightdeck_domain::credentials::{validate_password, validate_username};
use flightdeck_model::{CreateUser, Id, Page, PageParams, Role, UpdateUser, User};
use flightdeck_store::{NewAudit, NewUser, UserPatch};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    error::{ApiError, ApiResult},
    extract::{Auth, Paging, RequestMeta, role::Admin},
};
use crate::{auth::password, state::AppState};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(update_user);
}

/// List users, oldest first.
#[utoipa::path(
    tag = "users",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of users", body = Page<User>))
)]
#[get("/users")]
async fn list_users(
    _auth: Auth<Admin>,
    state: web::Data<AppState>,
    query: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<User>>> {
    let paging = Paging::from_params(query.limit, query.cursor.as_deref())?;
    let rows = state
        .store
        .conn()
        .await?
        .list_users(paging.after, paging.limit + 1)
        .await?;
    Ok(web::Json(paging.page(rows, |u| u.id)))
}

/// Create a user.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = User),
        (status = 409, description = "The username is taken"),
    )
)]
#[post("/users")]
async fn create_user(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<CreateUser>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let errors: Vec<_> = [
        validate_username(&body.username),
        validate_password(&body.password),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let hash = hash_password(body.password).await?;
    let now = Utc::now();
    let new = NewUser {
        id: Id::now_v7(),
        username: body.username,
        password_hash: hash,
        role: body.role,
        now,
    };
    let mut tx = state.store.begin().await?;
    let user = tx.insert_user(&new).await?;
    let audit = NewAudit {
        actor: auth.user.username.clone(),
        action: "user.create".into(),
        target_type: "user".into(),
        target_id: user.id.to_string(),
        after: Some(serde_json::to_value(&user).expect("users serialise")),
        request_id: Some(meta.request_id),
        ..Default::default()
    };
    state.commit(tx, Some(&audit), vec![], now).await?;
    Ok(HttpResponse::Created().json(user))
}

/// One user.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The user", body = User), (status = 404, description = "No such user"))
)]
#[get("/users/{id}")]
async fn get_user(
    _auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<User>> {
    let record = state
        .store
        .conn()
        .await?
        .user_by_id(id.into_inner())
        .await?;
    Ok(web::Json(
        record
            .ok_or_else(|| ApiError::NotFound("no such user".into()))?
            .user,
    ))
}

/// Change a user's role, disable or enable them, or set a new password. Disabling, demoting
/// or a new password ends the user's sessions. The last active admin cannot be demoted or
/// disabled.
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = User),
        (status = 404, description = "No such user"),
        (status = 409, description = "It would leave no active admin"),
    )
)]
#[patch("/users/{id}")]
async fn update_user(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<Id>,
    body: web::Json<UpdateUser>,
) -> ApiResult<web::Json<User>> {
    let id = id.into_inner();
    let body = body.into_inner();
    if let Some(Err(e)) = body.password.as_deref().map(validate_password) {
        return Err(ApiError::Validation(vec![e]));
    }
    let password_hash = match body.password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    let before = tx
        .user_by_id(id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?
        .user;
    let loses_admin = before.role == Role::Admin
        && !before.disabled
        && (body.role.is_some_and(|r| r != Role::Admin) || body.disabled == Some(true));
    if loses_admin && tx.count_active_admins().await? <= 1 {
        return Err(ApiError::Conflict("this is the last active admin".into()));
    }
    let patch = UserPatch {
        role: body.role,
        disabled: body.disabled,
        password_hash,
    };
    let ends_sessions = patch.password_hash.is_some()
        || body.disabled == Some(true)
        || body.role.is_some_and(|r| r < before.role);
    let user = tx.update_user(id, &patch, now).await?;
    if ends_sessions {
        tx.revoke_user_sessions(id, now).await?;
    }
    let mut after = serde_json::to_value(&user).expect("users serialise");
    if patch.password_hash.is_some() {
        after["password_changed"] = true.into();
    }
    let audit = NewAudit {
        actor: auth.user.username.clone(),
        action: "user.update".into(),
        target_type: "user".into(),
        target_id: id.to_string(),
        before: Some(serde_json::to_value(&before).expect("users serialise")),
        after: Some(after),
        request_id: Some(meta.request_id),
        ..Default::default()
    };
    state.commit(tx, Some(&audit), vec![], now).await?;
    Ok(web::Json(user))
}

/// Argon2 is deliberately slow; keep it off the async workers.
pub(crate) async fn hash_password(password: String) -> ApiResult<String> {
    web::block(move || password::hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}
