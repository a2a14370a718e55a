//! CSRF defence for requests made before a session exists (sign-up, sign-in): a browser
//! sending a cross-site request says so in `Sec-Fetch-Site` or `Origin`; such writes are
//! refused. The API only takes `application/json` bodies, which a cross-site form cannot send
//! without a CORS preflight we never grant. Signed-in writes also need the session's token
//! (see `auth::CurrentSession`).

use crate::auth::is_safe;
use crate::error::ApiError;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn refuse_cross_site_writes(request: Request, next: Next) -> Response {
    if !is_safe(request.method()) && is_cross_site(&request) {
        return ApiError::CsrfFailed.into_response();
    }
    next.run(request).await
}

fn is_cross_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // No browser signal at all: not a browser, so no ambient cookies to abuse.
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    origin_host != host
}
