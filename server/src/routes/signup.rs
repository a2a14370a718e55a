use crate::auth::{ClientIp, Origin};
use crate::domain::signup;
use crate::error::{ApiError, Json};
use crate::ids::SignupId;
use crate::routes::access::routes;
use crate::routes::session::signed_in;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use shared::ErrorBody;
use shared::api::{CodeSent, SendCodeForm, SessionInfo, SignupForm, SignupStarted, VerifyForm};
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(get))
        .routes(routes!(send_code))
        .routes(routes!(verify))
}

/// Starts a sign-up. Nothing is stored when a field is refused.
#[utoipa::path(post, path = "/api/signup", tag = "signup", request_body = SignupForm,
    responses(
        (status = 201, body = SignupStarted),
        (status = 409, body = ErrorBody, description = "email_taken"),
        (status = 422, body = ErrorBody, description = "A field was refused; `field` names it"),
        (status = 429, body = ErrorBody, description = "server_busy: too many passwords being hashed"),
    ))]
async fn start(
    State(state): State<AppState>,
    Json(form): Json<SignupForm>,
) -> Result<(StatusCode, Json<SignupStarted>), ApiError> {
    let started = signup::start(&state, form.parse()?).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

/// A pending sign-up, for the verification page.
#[utoipa::path(get, path = "/api/signup/{id}", tag = "signup",
    params(("id" = String, Path, description = "signup_id from the sign-up")),
    responses((status = 200, body = SignupStarted), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "code_used: already verified"), (status = 410, body = ErrorBody)))]
async fn get(
    State(state): State<AppState>,
    Path(id): Path<SignupId>,
) -> Result<Json<SignupStarted>, ApiError> {
    Ok(Json(signup::get(&state, &id).await?))
}

/// Sends a 6-digit code by email (default), SMS or voice call. Resend after 60 s; at most 5
/// codes an hour to one address.
#[utoipa::path(post, path = "/api/signup/{id}/code", tag = "signup", request_body = SendCodeForm,
    params(("id" = String, Path, description = "signup_id from the sign-up")),
    responses(
        (status = 200, body = CodeSent),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_phone"),
        (status = 429, body = ErrorBody, description = "resend_too_soon, too_many_codes, rate_limited"),
    ))]
async fn send_code(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(id): Path<SignupId>,
    Json(form): Json<SendCodeForm>,
) -> Result<Json<CodeSent>, ApiError> {
    Ok(Json(signup::send_code(&state, &id, &form, &client).await?))
}

/// Checks the code; on success the account exists and is signed in.
#[utoipa::path(post, path = "/api/signup/{id}/verify", tag = "signup", request_body = VerifyForm,
    params(("id" = String, Path, description = "signup_id from the sign-up")),
    responses(
        (status = 200, body = SessionInfo, description = "Account created; sets the HttpOnly session cookie"),
        (status = 400, body = ErrorBody, description = "no_code_sent"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "code_used, email_taken"),
        (status = 410, body = ErrorBody, description = "code_expired, signup_expired"),
        (status = 422, body = ErrorBody, description = "invalid_code, code_incorrect"),
        (status = 429, body = ErrorBody, description = "code_attempts_exceeded"),
    ))]
async fn verify(
    State(state): State<AppState>,
    origin: Origin,
    Path(id): Path<SignupId>,
    Json(form): Json<VerifyForm>,
) -> Result<Response, ApiError> {
    let (account_id, session) = signup::verify(&state, &id, &form.parse()?, &origin).await?;
    signed_in(&state, &account_id, None, session).await
}
