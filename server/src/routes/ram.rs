use crate::auth::CurrentSession;
use crate::domain::ram;
use crate::error::{ApiError, Json};
use crate::ids::RamUserId;
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use shared::ErrorBody;
use shared::api::{RamUserForm, RamUserView};
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
}

/// The account's RAM users (owner only).
#[utoipa::path(get, path = "/api/ram-users", tag = "ram",
    responses((status = 200, body = Vec<RamUserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "owner_only")))]
async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<Vec<RamUserView>>, ApiError> {
    Ok(Json(ram::list(&state, &session.account_id).await?))
}

/// Creates a RAM user with permissions (owner only).
#[utoipa::path(post, path = "/api/ram-users", tag = "ram", request_body = RamUserForm,
    responses(
        (status = 201, body = RamUserView),
        (status = 403, body = ErrorBody, description = "owner_only"),
        (status = 409, body = ErrorBody, description = "username_taken"),
        (status = 422, body = ErrorBody, description = "invalid_username, invalid_password"),
        (status = 429, body = ErrorBody, description = "server_busy: too many passwords being hashed"),
    ))]
async fn create(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<RamUserForm>,
) -> Result<(StatusCode, Json<RamUserView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(ram::create(&state, &session.account_id, &form).await?),
    ))
}

/// Deletes a RAM user; its sessions end (owner only).
#[utoipa::path(delete, path = "/api/ram-users/{id}", tag = "ram",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<RamUserId>,
) -> Result<StatusCode, ApiError> {
    ram::delete(&state, &session.account_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
