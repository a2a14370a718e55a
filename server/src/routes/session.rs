use crate::auth::{self, ClientIp, MemberSession, NewSession, Origin, SessionAndAccount};
use crate::clock::{Millis, rfc3339};
use crate::domain::session::SignedIn;
use crate::domain::{account, ram, session, two_step};
use crate::error::{ApiError, Json};
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::ErrorBody;
use shared::api::{
    AccountView, RamSignInForm, ReauthForm, SessionInfo, SignInForm, TwoStepCodeForm,
};
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in, current, sign_out))
        .routes(routes!(sign_in_ram_user))
        .routes(routes!(sign_in_two_step))
        .routes(routes!(reauthenticate))
}

async fn info(
    state: &AppState,
    account_id: &str,
    ram_user_id: Option<&str>,
    csrf_token: String,
    expires_at: Millis,
) -> Result<SessionInfo, ApiError> {
    let account = account::view(&state.db, account_id).await?;
    info_with(state, account, ram_user_id, csrf_token, expires_at).await
}

async fn info_with(
    state: &AppState,
    account: AccountView,
    ram_user_id: Option<&str>,
    csrf_token: String,
    expires_at: Millis,
) -> Result<SessionInfo, ApiError> {
    let ram_user = match ram_user_id {
        Some(id) => Some(ram::view(state, &account.id, id).await?),
        None => None,
    };
    Ok(SessionInfo {
        account,
        csrf_token,
        expires_at: rfc3339(expires_at),
        ram_user,
    })
}

/// The answer to a successful sign-in or verification: the session cookie and `SessionInfo`.
pub async fn signed_in(
    state: &AppState,
    account_id: &str,
    ram_user_id: Option<&str>,
    session: NewSession,
) -> Result<Response, ApiError> {
    let info = info(
        state,
        account_id,
        ram_user_id,
        session.csrf_token,
        session.expires_at,
    )
    .await?;
    let cookie = auth::cookie(&session.token, !state.config.is_dev());
    Ok(([(header::SET_COOKIE, cookie)], Json(info)).into_response())
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/session", tag = "session", request_body = SignInForm,
    responses(
        (status = 200, body = SessionInfo, description = "Signed in; sets the HttpOnly session cookie"),
        (status = 401, body = ErrorBody, description = "invalid_credentials (never says whether the email exists); two_step_required: the password was right, and `POST /api/session/two-step` finishes with the authenticator's code (the HttpOnly `ac_two_step` cookie names the sign-in)"),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody, description = "sign_in_throttled, server_busy"),
    ))]
async fn sign_in(
    State(state): State<AppState>,
    origin: Origin,
    Json(form): Json<SignInForm>,
) -> Result<Response, ApiError> {
    match session::sign_in(&state, form.parse()?, &origin).await? {
        SignedIn::Session(account_id, new_session) => {
            signed_in(&state, &account_id, None, new_session).await
        }
        SignedIn::TwoStep(token) => {
            let cookie = auth::challenge_cookie(
                &token,
                two_step::CHALLENGE_TTL.as_secs(),
                !state.config.is_dev(),
            );
            let mut response = ApiError::TwoStepRequired.into_response();
            response.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(response)
        }
    }
}

/// Finishes a sign-in that asked for two-step verification: the authenticator's code (or a
/// recovery code) for the sign-in the `ac_two_step` cookie names.
#[utoipa::path(post, path = "/api/session/two-step", tag = "session", request_body = TwoStepCodeForm,
    responses(
        (status = 200, body = SessionInfo, description = "Signed in; sets the HttpOnly session cookie"),
        (status = 401, body = ErrorBody, description = "two_step_expired: sign in with the password again"),
        (status = 422, body = ErrorBody, description = "invalid_code, code_incorrect"),
        (status = 429, body = ErrorBody, description = "sign_in_throttled"),
    ))]
async fn sign_in_two_step(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    Json(form): Json<TwoStepCodeForm>,
) -> Result<Response, ApiError> {
    let token = auth::cookie_value(&headers, auth::CHALLENGE_COOKIE);
    let (account_id, new_session) =
        two_step::complete_sign_in(&state, token.as_deref(), &form, &origin).await?;
    let mut response = signed_in(&state, &account_id, None, new_session).await?;
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::challenge_cookie("", 0, !state.config.is_dev()),
    );
    Ok(response)
}

/// Signs a RAM user in under the owner's account alias (its account ID).
#[utoipa::path(post, path = "/api/session/ram", tag = "session", request_body = RamSignInForm,
    responses(
        (status = 200, body = SessionInfo, description = "Signed in; sets the HttpOnly session cookie"),
        (status = 401, body = ErrorBody, description = "invalid_credentials (never says which part was wrong)"),
        (status = 422, body = ErrorBody, description = "field_required"),
        (status = 429, body = ErrorBody, description = "sign_in_throttled, server_busy"),
    ))]
async fn sign_in_ram_user(
    State(state): State<AppState>,
    origin: Origin,
    Json(form): Json<RamSignInForm>,
) -> Result<Response, ApiError> {
    let (account_id, ram_user_id, new_session) =
        ram::sign_in(&state, form.parse()?, &origin).await?;
    signed_in(&state, &account_id, Some(&ram_user_id), new_session).await
}

/// The signed-in account, who is signed in, and the CSRF token for its writes.
#[utoipa::path(get, path = "/api/session", tag = "session",
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody)))]
async fn current(
    State(state): State<AppState>,
    SessionAndAccount(session, account): SessionAndAccount,
) -> Result<Json<SessionInfo>, ApiError> {
    let ram_user_id = session.ram_user.as_ref().map(|u| u.id.as_str());
    Ok(Json(
        info_with(
            &state,
            account,
            ram_user_id,
            session.csrf_token,
            session.expires_at,
        )
        .await?,
    ))
}

/// Signs out: the session ends on the server and the cookie is cleared.
#[utoipa::path(delete, path = "/api/session", tag = "session",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn sign_out(
    State(state): State<AppState>,
    MemberSession(session): MemberSession,
) -> Result<Response, ApiError> {
    session::sign_out(&state, &session).await?;
    let cookie = auth::clearing_cookie(!state.config.is_dev());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// Enters the password again for a sensitive step (payment methods, unsubscribing, closure),
/// which need a sign-in within the last hour.
#[utoipa::path(post, path = "/api/session/reauth", tag = "session", request_body = ReauthForm,
    responses(
        (status = 200, body = SessionInfo),
        (status = 401, body = ErrorBody, description = "invalid_credentials (never says which part was wrong)"),
        (status = 422, body = ErrorBody, description = "invalid_password (none entered)"),
        (status = 429, body = ErrorBody, description = "sign_in_throttled, server_busy"),
    ))]
async fn reauthenticate(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    MemberSession(session): MemberSession,
    Json(form): Json<ReauthForm>,
) -> Result<Json<SessionInfo>, ApiError> {
    session::reauthenticate(&state, &session, form.parse()?, &client).await?;
    let ram_user_id = session.ram_user.as_ref().map(|u| u.id.as_str());
    Ok(Json(
        info(
            &state,
            &session.account_id,
            ram_user_id,
            session.csrf_token.clone(),
            session.expires_at,
        )
        .await?,
    ))
}
