use crate::auth::{self, ClientIp, CurrentSession, NewSession};
use crate::clock::rfc3339;
use crate::domain::{account, session};
use crate::error::{ApiError, Json};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::ErrorBody;
use shared::api::{ReauthForm, SessionInfo, SignInForm};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in, current, sign_out))
        .routes(routes!(reauthenticate))
}

/// The answer to a successful sign-in or verification: the session cookie and `SessionInfo`.
pub async fn signed_in(
    state: &AppState,
    account_id: &str,
    session: NewSession,
) -> Result<Response, ApiError> {
    let info = SessionInfo {
        account: account::view(&state.db, account_id).await?,
        csrf_token: session.csrf_token,
        expires_at: rfc3339(session.expires_at),
    };
    let cookie = auth::cookie(&session.token, !state.config.is_dev());
    Ok(([(header::SET_COOKIE, cookie)], Json(info)).into_response())
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/session", tag = "session", request_body = SignInForm,
    responses(
        (status = 200, body = SessionInfo, description = "Signed in; sets the HttpOnly session cookie"),
        (status = 401, body = ErrorBody, description = "invalid_credentials (never says whether the email exists)"),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody, description = "sign_in_throttled, server_busy"),
    ))]
async fn sign_in(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Json(form): Json<SignInForm>,
) -> Result<Response, ApiError> {
    let (account_id, new_session) = session::sign_in(&state, form.parse()?, &client).await?;
    signed_in(&state, &account_id, new_session).await
}

/// The signed-in account and the CSRF token for its writes.
#[utoipa::path(get, path = "/api/session", tag = "session",
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody)))]
async fn current(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<SessionInfo>, ApiError> {
    Ok(Json(SessionInfo {
        account: account::view(&state.db, &session.account_id).await?,
        csrf_token: session.csrf_token,
        expires_at: rfc3339(session.expires_at),
    }))
}

/// Signs out: the session ends on the server and the cookie is cleared.
#[utoipa::path(delete, path = "/api/session", tag = "session",
    params(("X-CSRF-Token" = String, Header, description = "The session's CSRF token")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn sign_out(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Response, ApiError> {
    session::sign_out(&state, &session).await?;
    let cookie = auth::clearing_cookie(!state.config.is_dev());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// Enters the password again for a sensitive step (payment methods, unsubscribing, closure),
/// which need a sign-in within the last hour.
#[utoipa::path(post, path = "/api/session/reauth", tag = "session", request_body = ReauthForm,
    params(("X-CSRF-Token" = String, Header, description = "The session's CSRF token")),
    responses(
        (status = 200, body = SessionInfo),
        (status = 401, body = ErrorBody, description = "invalid_credentials"),
        (status = 429, body = ErrorBody, description = "sign_in_throttled"),
    ))]
async fn reauthenticate(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: CurrentSession,
    Json(form): Json<ReauthForm>,
) -> Result<Json<SessionInfo>, ApiError> {
    session::reauthenticate(&state, &session, form.password, &client).await?;
    Ok(Json(SessionInfo {
        account: account::view(&state.db, &session.account_id).await?,
        csrf_token: session.csrf_token,
        expires_at: rfc3339(session.expires_at),
    }))
}
