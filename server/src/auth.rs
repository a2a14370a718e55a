//! Sessions: an opaque token in an HttpOnly cookie, its SHA-256 in the database, 24 h life.
//! Every state-changing request of a signed-in session must echo the session's CSRF token.

use crate::clock::{DurationMs, Millis};
use crate::db::Tx;
use crate::domain::account::{self, AccountStatus};
use crate::error::ApiError;
use crate::inline_reads::InlineRow;
use crate::state::AppState;
use crate::tables::sessions::{self, SessionAndAccountRow, SessionRow};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use shared::api::{AccountView, Permission};
use std::net::SocketAddr;

pub use crate::tables::sessions::SessionRead;

pub const COOKIE: &str = "ac_session";
/// A sign-in whose password was right, waiting for its authenticator code.
pub const CHALLENGE_COOKIE: &str = "ac_two_step";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const SESSION_TTL: DurationMs = DurationMs::hours(24);

/// A signed-in request's session, of the account owner only: RAM users are refused with
/// `owner_only` unless a handler takes [`MemberSession`] instead, so a new route is closed to
/// them by default.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub token_hash: String,
    pub account_id: String,
    pub csrf_token: String,
    pub expires_at: Millis,
    /// When the password was last entered in this session.
    pub authenticated_at: Millis,
    /// Set when a RAM user (not the owner) signed in.
    pub ram_user: Option<RamUser>,
    /// When this session proved the owner's identity for closure.
    pub identity_verified_at: Option<Millis>,
}

/// A session of the owner or of one of the account's RAM users.
#[derive(Debug, Clone)]
pub struct MemberSession(pub CurrentSession);

#[derive(Debug, Clone)]
pub struct RamUser {
    pub id: String,
    pub username: String,
    pub permissions: Vec<Permission>,
}

impl MemberSession {
    /// The owner may do everything; a RAM user needs `permission` (full access implies read).
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        let Some(user) = &self.0.ram_user else {
            return Ok(());
        };
        let granted = user.permissions.contains(&permission)
            || (permission == Permission::BillingReadOnlyAccess
                && user.permissions.contains(&Permission::BillingFullAccess));
        if granted {
            Ok(())
        } else {
            Err(ApiError::PermissionDenied(permission.as_str()))
        }
    }
}

/// Changing payment methods, unsubscribing and starting closure need the password entered
/// within the last hour (SPEC §1, "recent sign-in").
pub const RECENT_SIGN_IN: DurationMs = DurationMs::hours(1);

impl CurrentSession {
    pub fn require_recent_sign_in(&self, now: Millis) -> Result<(), ApiError> {
        if now - self.authenticated_at <= RECENT_SIGN_IN {
            Ok(())
        } else {
            Err(ApiError::ReauthRequired)
        }
    }
}

/// A new session's secret parts: the token goes into the cookie only.
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: Millis,
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What a session's list says of the session's client (SPEC §1 "Account security"): the
/// address it signed in from and its user agent, cut to a length worth showing.
#[derive(Debug, Clone)]
pub struct Origin {
    pub ip: String,
    pub user_agent: Option<String>,
}

/// The longest user agent kept: enough for any browser's, not a place to store a request.
const USER_AGENT_CHARS: usize = 256;

impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(USER_AGENT_CHARS).collect::<String>())
            .filter(|ua| !ua.trim().is_empty());
        Ok(Origin { ip, user_agent })
    }
}

/// A session's name in the account's list of sessions: the start of its token's hash, which
/// reveals nothing of the token and is unique among one account's sessions.
pub fn public_id(token_hash: &str) -> &str {
    &token_hash[..PUBLIC_ID_CHARS.min(token_hash.len())]
}

pub const PUBLIC_ID_CHARS: usize = 16;

/// How stale a session's `last_used_at` may get before a request moves it: a write every few
/// minutes per session rather than one per request.
pub const LAST_USED_STEP: DurationMs = DurationMs::minutes(5);

pub async fn create(
    tx: &mut Tx,
    account_id: &str,
    ram_user_id: Option<&str>,
    now: Millis,
    origin: &Origin,
) -> sqlx::Result<NewSession> {
    let session = NewSession {
        token: random_token(),
        csrf_token: random_token(),
        expires_at: now + SESSION_TTL,
    };
    let row = sessions::NewSession {
        token_hash: &hash_token(&session.token),
        account_id,
        csrf_token: &session.csrf_token,
        created_at: now,
        expires_at: session.expires_at,
        ram_user_id,
        user_agent: origin.user_agent.as_deref(),
        ip: &origin.ip,
    };
    sessions::insert(tx, &row).await?;
    Ok(session)
}

/// The `Set-Cookie` value for a session; `Secure` outside dev mode.
pub fn cookie(token: &str, secure: bool) -> HeaderValue {
    set_cookie(COOKIE, token, SESSION_TTL.as_secs(), secure)
}

pub fn clearing_cookie(secure: bool) -> HeaderValue {
    set_cookie(COOKIE, "", 0, secure)
}

/// The cookie of a sign-in waiting for its second step, or (`token` empty, `max_age_secs`
/// 0) the one that clears it.
pub fn challenge_cookie(token: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    set_cookie(CHALLENGE_COOKIE, token, max_age_secs, secure)
}

fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Max-Age={max_age_secs}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("a base64url token is a valid header")
}

fn token_from(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

/// The value of the cookie `name`, if the request sent a non-empty one.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .filter(|t| !t.is_empty())
}

/// What a session may still do while its account cools down before closure (SPEC §6.3): see
/// the remaining time, and sign out.
fn allowed_while_closing(method: &Method, path: &str) -> bool {
    matches!(
        (method.as_str(), path),
        ("GET", "/api/session") | ("DELETE", "/api/session") | ("GET", "/api/closure")
    )
}

/// The request's live session row, as `read` reads it: on SQLite on this thread (see
/// [`InlineReads`](crate::inline_reads::InlineReads)), on PostgreSQL in a statement shared with
/// the reads waiting with it ([`BatchedReads`](crate::batched_reads::BatchedReads)), and through the pool if either fails.
async fn fetch<R>(parts: &Parts, state: &AppState, read: SessionRead) -> Result<R, ApiError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + InlineRow
        + Send
        + Unpin,
{
    let token = token_from(&parts.headers).ok_or(ApiError::Unauthenticated)?;
    let (token_hash, now) = (hash_token(&token), state.clock.now());
    let sql = read.sql();
    if let Some(reads) = &state.inline_reads {
        match reads.row(sql, (&token_hash, now.0)) {
            Ok(row) => return row.ok_or(ApiError::Unauthenticated),
            Err(error) => tracing::debug!(%error, "session read through the pool instead"),
        }
    }
    if let Some(batcher) = &state.batched_reads[read as usize]
        && let Ok(row) = batcher.read(&token_hash, now).await
    {
        let row = row.ok_or(ApiError::Unauthenticated)?;
        return Ok(R::from_row(&row)?);
    }
    read.fetch(&state.db, &token_hash, now)
        .await?
        .ok_or(ApiError::Unauthenticated)
}

/// What every signed-in request checks of its session: the account not cooling down before
/// closure (bar a few reads), and the CSRF token on writes.
fn check(parts: &Parts, row: SessionRow) -> Result<CurrentSession, ApiError> {
    if row.account_status.0 == AccountStatus::Closing
        && !allowed_while_closing(&parts.method, parts.uri.path())
    {
        return Err(ApiError::AccountClosing);
    }
    if !is_safe(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), row.csrf_token.as_bytes()) {
            return Err(ApiError::CsrfFailed);
        }
    }
    let ram_user = row.ram_user_id.map(|id| RamUser {
        id,
        username: row.username.unwrap_or_default(),
        permissions: row
            .permissions
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(Permission::parse)
            .collect(),
    });
    crate::oplog::set_actor(match &ram_user {
        None => shared::api::OperationActor::Owner,
        Some(user) => shared::api::OperationActor::RamUser {
            name: user.username.clone(),
        },
    });
    Ok(CurrentSession {
        token_hash: row.token_hash,
        account_id: row.account_id,
        csrf_token: row.csrf_token,
        expires_at: row.expires_at,
        authenticated_at: row.authenticated_at,
        identity_verified_at: row.identity_verified_at,
        ram_user,
    })
}

async fn load(parts: &Parts, state: &AppState) -> Result<CurrentSession, ApiError> {
    let row: SessionRow = fetch(parts, state, SessionRead::Session).await?;
    touch(state, &row).await;
    check(parts, row)
}

/// Moves the session's `last_used_at` when it is more than [`LAST_USED_STEP`] old. A failure
/// is logged, not answered: the list of sessions is a little staler, nothing more.
async fn touch(state: &AppState, row: &SessionRow) {
    let now = state.clock.now();
    if row.last_used_at.is_some_and(|at| now - at < LAST_USED_STEP) {
        return;
    }
    if let Err(error) = sessions::set_last_used(&state.db, &row.token_hash, now).await {
        tracing::warn!(%error, "session's last use not recorded");
    }
}

/// A [`MemberSession`] and its account as the owner sees it, read in one statement: the app
/// asks `GET /api/session` on every page load.
pub struct SessionAndAccount(pub CurrentSession, pub AccountView);

impl FromRequestParts<AppState> for SessionAndAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let row: SessionAndAccountRow = fetch(parts, state, SessionRead::SessionAndAccount).await?;
        touch(state, &row.session).await;
        let session = check(parts, row.session)?;
        Ok(SessionAndAccount(session, account::view_of(row.account)?))
    }
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = load(parts, state).await?;
        if session.ram_user.is_some() {
            return Err(ApiError::OwnerOnly);
        }
        Ok(session)
    }
}

impl FromRequestParts<AppState> for MemberSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        load(parts, state).await.map(MemberSession)
    }
}

pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's address for per-client rate limits.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy {
            // The proxy appends the address it saw; earlier entries are the client's to forge.
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .rfind(|s| !s.is_empty());
            if let Some(ip) = forwarded {
                return Ok(ClientIp(ip.to_owned()));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(ClientIp(peer.unwrap_or_else(|| "unknown".to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; ac_session=abc123; x=y"),
        );
        assert_eq!(token_from(&headers).as_deref(), Some("abc123"));
        headers.insert(header::COOKIE, HeaderValue::from_static("ac_session="));
        assert_eq!(token_from(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_lives_a_day() {
        let value = cookie("tok", true);
        let text = value.to_str().unwrap();
        for part in [
            "ac_session=tok",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=86400",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }

    #[test]
    fn compares_tokens_fully() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
