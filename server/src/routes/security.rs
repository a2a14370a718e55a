use crate::auth::{self, ClientIp, CurrentSession};
use crate::domain::{security, two_step};
use crate::error::{ApiError, Json, Query};
use crate::ids::{ResetId, SessionListId};
use crate::oplog;
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::ErrorBody;
use shared::api::{
    ChangePasswordForm, CodeSent, OperationLog, OperationLogQuery, PasswordResetForm,
    PasswordResetStarted, ResetPasswordForm, SessionList, SignedOut, TwoStepCodeForm,
    TwoStepDisableForm, TwoStepEnabled, TwoStepSetup, TwoStepStatus,
};
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_reset))
        .routes(routes!(resend_reset_code))
        .routes(routes!(complete_reset))
        .routes(routes!(change_password))
        .routes(routes!(list_sessions))
        .routes(routes!(sign_out_session))
        .routes(routes!(sign_out_others))
        .routes(routes!(two_step_status))
        .routes(routes!(two_step_setup))
        .routes(routes!(two_step_enable))
        .routes(routes!(two_step_disable))
        .routes(routes!(operation_log))
}

/// The account's operation log: security and money actions with who, what, when and from
/// which address, newest first, 50 a page (owner only).
#[utoipa::path(get, path = "/api/operation-log", tag = "security", params(OperationLogQuery),
    responses((status = 200, body = OperationLog), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "owner_only"),
        (status = 422, body = ErrorBody, description = "bad_request: a page past the maximum")))]
async fn operation_log(
    State(state): State<AppState>,
    session: CurrentSession,
    Query(query): Query<OperationLogQuery>,
) -> Result<Json<OperationLog>, ApiError> {
    query.check()?;
    Ok(Json(
        oplog::page(&state, &session.account_id, &query).await?,
    ))
}

/// Whether two-step verification is on, and how many recovery codes are left (owner only).
#[utoipa::path(get, path = "/api/account/two-step", tag = "security",
    responses((status = 200, body = TwoStepStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "owner_only")))]
async fn two_step_status(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<TwoStepStatus>, ApiError> {
    Ok(Json(two_step::status(&state, &session.account_id).await?))
}

/// A new authenticator secret, its `otpauth://` address and QR code; two-step verification
/// turns on with its first code. Needs a sign-in within the last hour.
#[utoipa::path(post, path = "/api/account/two-step/setup", tag = "security",
    responses(
        (status = 200, body = TwoStepSetup),
        (status = 401, body = ErrorBody, description = "reauth_required"),
        (status = 403, body = ErrorBody, description = "owner_only"),
        (status = 409, body = ErrorBody, description = "two_step_already_on"),
    ))]
async fn two_step_setup(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<TwoStepSetup>, ApiError> {
    Ok(Json(two_step::setup(&state, &session).await?))
}

/// Turns two-step verification on with the authenticator's first code; answers the ten
/// recovery codes, shown this once.
#[utoipa::path(post, path = "/api/account/two-step/enable", tag = "security", request_body = TwoStepCodeForm,
    responses(
        (status = 200, body = TwoStepEnabled),
        (status = 403, body = ErrorBody, description = "owner_only"),
        (status = 409, body = ErrorBody, description = "two_step_not_set_up"),
        (status = 422, body = ErrorBody, description = "invalid_code, code_incorrect"),
    ))]
async fn two_step_enable(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<TwoStepCodeForm>,
) -> Result<Json<TwoStepEnabled>, ApiError> {
    Ok(Json(two_step::enable(&state, &session, &form).await?))
}

/// Turns two-step verification off: the password and a current code or a recovery code.
#[utoipa::path(post, path = "/api/account/two-step/disable", tag = "security", request_body = TwoStepDisableForm,
    responses(
        (status = 204, description = "Off"),
        (status = 401, body = ErrorBody, description = "invalid_credentials: the password is wrong"),
        (status = 403, body = ErrorBody, description = "owner_only"),
        (status = 409, body = ErrorBody, description = "two_step_not_set_up"),
        (status = 422, body = ErrorBody, description = "invalid_password, invalid_code, code_incorrect"),
        (status = 429, body = ErrorBody, description = "sign_in_throttled, server_busy"),
    ))]
async fn two_step_disable(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: CurrentSession,
    Json(form): Json<TwoStepDisableForm>,
) -> Result<StatusCode, ApiError> {
    two_step::disable(&state, &session, &form, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a forgotten password's reset: a code to the email, or to a phone number, that an
/// account verified. The answer is the same whether or not one did.
#[utoipa::path(post, path = "/api/password-reset", tag = "security", request_body = PasswordResetForm,
    responses(
        (status = 200, body = PasswordResetStarted),
        (status = 422, body = ErrorBody, description = "invalid_email, invalid_country, invalid_phone"),
        (status = 429, body = ErrorBody, description = "too_many_codes, rate_limited"),
    ))]
async fn start_reset(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Json(form): Json<PasswordResetForm>,
) -> Result<Json<PasswordResetStarted>, ApiError> {
    Ok(Json(security::start_reset(&state, &form, &client).await?))
}

/// Sends the reset's code again (after 60 s; at most 5 codes an hour to one address).
#[utoipa::path(post, path = "/api/password-reset/{id}/code", tag = "security",
    params(("id" = String, Path, description = "reset_id from the reset's start")),
    responses(
        (status = 200, body = CodeSent),
        (status = 404, body = ErrorBody, description = "reset_not_found"),
        (status = 410, body = ErrorBody, description = "reset_expired"),
        (status = 429, body = ErrorBody, description = "resend_too_soon, too_many_codes, rate_limited"),
    ))]
async fn resend_reset_code(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(id): Path<ResetId>,
) -> Result<Json<CodeSent>, ApiError> {
    Ok(Json(security::resend_code(&state, &id, &client).await?))
}

/// Sets a new password with the reset's code. Every session of the account ends; the
/// account's verified email and phone are told.
#[utoipa::path(post, path = "/api/password-reset/{id}", tag = "security", request_body = ResetPasswordForm,
    params(("id" = String, Path, description = "reset_id from the reset's start")),
    responses(
        (status = 204, description = "The password is changed; sign in with it"),
        (status = 400, body = ErrorBody, description = "no_code_sent"),
        (status = 404, body = ErrorBody, description = "reset_not_found"),
        (status = 409, body = ErrorBody, description = "code_used"),
        (status = 410, body = ErrorBody, description = "reset_expired, code_expired"),
        (status = 422, body = ErrorBody, description = "invalid_code, code_incorrect, invalid_password, password_mismatch"),
        (status = 429, body = ErrorBody, description = "code_attempts_exceeded, server_busy"),
    ))]
async fn complete_reset(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(id): Path<ResetId>,
    Json(form): Json<ResetPasswordForm>,
) -> Result<StatusCode, ApiError> {
    security::complete_reset(&state, &id, &form, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the owner's password. The owner's other sessions end; this one stays.
#[utoipa::path(put, path = "/api/account/password", tag = "security", request_body = ChangePasswordForm,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, body = ErrorBody, description = "invalid_credentials: the current password is wrong"),
        (status = 403, body = ErrorBody, description = "owner_only"),
        (status = 422, body = ErrorBody, description = "invalid_password, password_mismatch"),
        (status = 429, body = ErrorBody, description = "sign_in_throttled, server_busy"),
    ))]
async fn change_password(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: CurrentSession,
    Json(form): Json<ChangePasswordForm>,
) -> Result<StatusCode, ApiError> {
    security::change_password(&state, &session, &form, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account's signed-in sessions, its RAM users' among them (owner only).
#[utoipa::path(get, path = "/api/sessions", tag = "security",
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "owner_only")))]
async fn list_sessions(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<SessionList>, ApiError> {
    Ok(Json(security::list_sessions(&state, &session).await?))
}

/// Signs one session out. Signing out the asking session also clears its cookie.
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "security",
    params(("id" = String, Path, description = "A session's id from the list")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sign_out_session(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<SessionListId>,
) -> Result<Response, ApiError> {
    security::sign_out_session(&state, &session, &id).await?;
    if auth::public_id(&session.token_hash) == id.as_str().to_ascii_lowercase() {
        let cookie = auth::clearing_cookie(!state.config.is_dev());
        return Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Signs out every other session of the owner; RAM users' sessions stay.
#[utoipa::path(post, path = "/api/sessions/sign-out-others", tag = "security",
    responses((status = 200, body = SignedOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn sign_out_others(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<SignedOut>, ApiError> {
    Ok(Json(SignedOut {
        signed_out: security::sign_out_others(&state, &session).await?,
    }))
}
