//! Idempotency keys for requests that move money (SPEC §5): the first answer to a key is kept
//! for at least 24 h and replayed for a retry with the same key and body; the same key with a
//! different body is refused; a retry while the first is still running is told to wait.

use crate::auth::CurrentSession;
use crate::clock::{DurationMs, Millis};
use crate::domain::account;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const HEADER: &str = "idempotency-key";
/// Kept for a day, then forgotten (a retry after that runs again).
pub const KEEP: DurationMs = DurationMs::hours(24);
/// A first request still unanswered after this died with its server: a retry may run again.
/// Nothing it did is lost by that: money moves in transactions that either committed (and
/// their state checks refuse a second time) or never happened.
pub const ABANDONED_AFTER: DurationMs = DurationMs::minutes(5);
/// The longest key [`key_from`] takes, in bytes once trimmed.
pub const KEY_MAX_BYTES: usize = 128;

/// The key as [`key_from`] takes it, for the OpenAPI document: what a header value can carry
/// (printable ASCII and tabs), 1 to [`KEY_MAX_BYTES`] characters once trimmed. The
/// limit is of the trimmed key, so the pattern states it rather than a `maxLength`.
pub fn key_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let inner = KEY_MAX_BYTES - 2;
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(format!(
            r"^[ \t]*[!-~](?:[\t -~]{{0,{inner}}}[!-~])?[ \t]*$"
        )))
        .build()
}

pub fn key_from(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if key.is_empty() || key.len() > KEY_MAX_BYTES {
        return Err(ApiError::IdempotencyKeyMissing);
    }
    Ok(key.to_owned())
}

/// A write that takes money back out of what was paid (unsubscribing, withdrawing): a member
/// with full billing access who signed in within the hour (SPEC §1), and `work` run at most
/// once per Idempotency-Key ([`once`]), answering `status`.
pub async fn money_out<T, F>(
    state: &AppState,
    member: &crate::auth::MemberSession,
    headers: &HeaderMap,
    request: &impl Serialize,
    status: StatusCode,
    work: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: Future<Output = Result<T, ApiError>>,
{
    member.require(shared::api::Permission::BillingFullAccess)?;
    let session = &member.0;
    session.require_recent_sign_in(state.clock.now())?;
    once(state, session, headers, request, async {
        Ok((status, work.await?))
    })
    .await
}

/// Runs `work` once per (account, key): a retry gets the stored answer. Answers to bad input
/// and refusals are kept too; a server error or gateway failure frees the key for a retry.
/// `request` is what makes two requests the same: the route's form, or, for a form holding
/// card data, a stand-in without it (`payment::card_attempt`). Only its keyed hash is kept.
pub async fn once<T, F>(
    state: &AppState,
    session: &CurrentSession,
    headers: &HeaderMap,
    request: &impl Serialize,
    work: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: Future<Output = Result<(StatusCode, T), ApiError>>,
{
    let key = key_from(headers)?;
    let body = serde_json::to_vec(request).map_err(|e| ApiError::Internal(e.into()))?;
    let hash = state.secrets.request_hash(&body);
    let now = state.clock.now();

    // The key is read, then written: one request of the account at a time gets here.
    let mut tx = account::begin_locked(&state.db, &session.account_id).await?;
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2 AND created_at < $3",
    )
    .bind(&session.account_id)
    .bind(&key)
    .bind(now - KEEP)
    .execute(&mut *tx)
    .await?;
    let stored: Option<(String, Option<i64>, Option<String>, Millis)> = sqlx::query_as(
        "SELECT request_hash, status_code, response_body, created_at FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2",
    )
    .bind(&session.account_id)
    .bind(&key)
    .fetch_optional(&mut *tx)
    .await?;
    match stored {
        Some((stored_hash, ..)) if stored_hash != hash => {
            return Err(ApiError::IdempotencyKeyReused);
        }
        Some((_, Some(status), Some(body), _)) => return Ok(replay(status, body)),
        Some((.., created_at)) if now - created_at < ABANDONED_AFTER => {
            return Err(ApiError::IdempotencyInProgress);
        }
        Some(_) => {
            sqlx::query("DELETE FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2")
                .bind(&session.account_id)
                .bind(&key)
                .execute(&mut *tx)
                .await?;
        }
        None => {}
    }
    sqlx::query("INSERT INTO idempotency_keys (account_id, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&session.account_id)
        .bind(&key)
        .bind(&hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    let outcome = work.await;
    let kept = match &outcome {
        Ok((status, value)) => Some((
            *status,
            serde_json::to_string(value).map_err(|e| ApiError::Internal(e.into()))?,
        )),
        Err(e) if keeps_answer(e) => Some((
            e.status(),
            serde_json::to_string(&e.body()).map_err(|e| ApiError::Internal(e.into()))?,
        )),
        Err(_) => None,
    };
    match kept {
        Some((status, body)) => {
            sqlx::query("UPDATE idempotency_keys SET status_code = $1, response_body = $2 WHERE account_id = $3 AND idem_key = $4")
                .bind(i64::from(status.as_u16()))
                .bind(&body)
                .bind(&session.account_id)
                .bind(&key)
                .execute(state.db.writer())
                .await?;
        }
        None => {
            sqlx::query("DELETE FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2")
                .bind(&session.account_id)
                .bind(&key)
                .execute(state.db.writer())
                .await?;
        }
    }
    outcome.map(|(status, value)| (status, axum::Json(value)).into_response())
}

/// Whether a failed request's answer is final for its key. Failures of the gateway or of the
/// server are not: nothing was done, and a retry should really try again.
fn keeps_answer(e: &ApiError) -> bool {
    !matches!(
        e,
        ApiError::Internal(_)
            | ApiError::GatewayError
            | ApiError::GatewayTimeout
            | ApiError::ServerBusy { .. }
            | ApiError::ReauthRequired
            | ApiError::IdempotencyInProgress
    )
}

fn replay(status: i64, body: String) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
