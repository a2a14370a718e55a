//! The one place that builds HTTP requests. Every call answers with the server's typed body or
//! an [`ApiError`] carrying the server's `ErrorBody`, so pages never look at status codes.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::api::{
    CodeSent, SendCodeForm, SessionInfo, SignInForm, SignupForm, SignupStarted, VerifyForm,
};
use shared::{ErrorBody, ErrorCode};
use std::fmt;

/// A refused or failed request, in the API's own words.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(pub ErrorBody);

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The browser never got an answer (offline, server down, blocked).
    fn unreachable() -> Self {
        Self::local(
            ErrorCode::Unknown,
            "We could not reach Account Center. Check your connection and try again.",
        )
    }

    /// An answer that is not the JSON we agreed on, e.g. a proxy's error page.
    fn unexpected(status: u16) -> Self {
        Self::local(
            ErrorCode::Internal,
            format!("Something went wrong on our side (HTTP {status}). Try again in a moment."),
        )
    }

    fn local(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(ErrorBody {
            code,
            message: message.into(),
            field: None,
            retry_after_seconds: None,
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

// Lets a resource's error travel through an `ErrorBoundary`.
impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

/// The token of the latest `SessionInfo`; state-changing calls made while signed in must echo it
/// in `X-CSRF-Token`. `None` before sign-in.
pub type Csrf<'a> = Option<&'a str>;

pub async fn start_signup(form: &SignupForm, csrf: Csrf<'_>) -> ApiResult<SignupStarted> {
    send_json(Request::post("/api/signup"), form, csrf).await
}

pub async fn get_signup(id: &str) -> ApiResult<SignupStarted> {
    receive(Request::get(&signup_path(id, "")).send().await).await
}

pub async fn send_code(id: &str, form: &SendCodeForm, csrf: Csrf<'_>) -> ApiResult<CodeSent> {
    send_json(Request::post(&signup_path(id, "/code")), form, csrf).await
}

pub async fn verify(id: &str, form: &VerifyForm, csrf: Csrf<'_>) -> ApiResult<SessionInfo> {
    send_json(Request::post(&signup_path(id, "/verify")), form, csrf).await
}

pub async fn sign_in(form: &SignInForm, csrf: Csrf<'_>) -> ApiResult<SessionInfo> {
    send_json(Request::post("/api/session"), form, csrf).await
}

/// The signed-in session, or an error with code `unauthenticated`.
pub async fn current_session() -> ApiResult<SessionInfo> {
    receive(Request::get("/api/session").send().await).await
}

pub async fn sign_out(csrf: Csrf<'_>) -> ApiResult<()> {
    let response = with_csrf(Request::delete("/api/session"), csrf)
        .send()
        .await
        .map_err(|_| ApiError::unreachable())?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(&response).await)
    }
}

/// The id comes from the address bar: keep it to one path segment.
fn signup_path(id: &str, rest: &str) -> String {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    format!("/api/signup/{id}{rest}")
}

fn with_csrf(request: RequestBuilder, csrf: Csrf<'_>) -> RequestBuilder {
    match csrf {
        Some(token) => request.header("X-CSRF-Token", token),
        None => request,
    }
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    request: RequestBuilder,
    body: &B,
    csrf: Csrf<'_>,
) -> ApiResult<T> {
    let request = with_csrf(request, csrf)
        .json(body)
        .map_err(|_| ApiError::local(ErrorCode::BadRequest, "This form could not be sent."))?;
    receive(request.send().await).await
}

async fn receive<T: DeserializeOwned>(response: Result<Response, gloo_net::Error>) -> ApiResult<T> {
    let response = response.map_err(|_| ApiError::unreachable())?;
    if response.ok() {
        response
            .json::<T>()
            .await
            .map_err(|_| ApiError::unexpected(response.status()))
    } else {
        Err(error_of(&response).await)
    }
}

async fn error_of(response: &Response) -> ApiError {
    match response.json::<ErrorBody>().await {
        Ok(body) => ApiError(body),
        Err(_) => ApiError::unexpected(response.status()),
    }
}
