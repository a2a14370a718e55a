//! The operation log (SPEC §1 "Account security"; what ActionTrail is to Alibaba Cloud):
//! every security and money action of an account, with who did it (the owner, which RAM user,
//! or the system's own jobs), what, when and from which address.
//!
//! An entry is written in the transaction of the action it records, so an action and its entry
//! exist together or not at all. Who and from where come from the request: a middleware
//! ([`with_request_context`]) opens a context around each request, the session extractor
//! names its actor in it, and [`record`] reads both; outside a request (jobs) the actor is the
//! system and there is no address.

use crate::auth::ClientIp;
use crate::clock::{Millis, rfc3339};
use crate::db::{self, HeldTx};
use crate::db::{Stored, StoredJson};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use shared::api::{
    OperationActor, OperationCategory, OperationDetail, OperationEntry, OperationLog,
    OperationLogQuery,
};
use std::sync::Mutex;

pub use shared::api::OperationAction as Action;

struct RequestContext {
    ip: String,
    actor: Mutex<Option<OperationActor>>,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Opens the request's context: its client address now, its actor once a session names it.
pub async fn with_request_context(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(ClientIp(ip)) = ClientIp::from_request_parts(&mut parts, &state).await;
    let context = RequestContext {
        ip,
        actor: Mutex::new(None),
    };
    REQUEST
        .scope(context, next.run(Request::from_parts(parts, body)))
        .await
}

/// Names who acts in this request (the session extractor calls it; a webhook names the
/// system).
pub fn set_actor(actor: OperationActor) {
    let _ = REQUEST.try_with(|context| {
        *context.actor.lock().unwrap_or_else(|e| e.into_inner()) = Some(actor);
    });
}

/// Writes an entry for `account_id` in `tx`, the action's own transaction. `detail` is the
/// action's facts (an instance, a payment method's last four, an amount), never a secret, an
/// email or a phone number; it is kept as its JSON.
pub async fn record(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    action: Action,
    detail: &OperationDetail,
    now: Millis,
) -> Result<(), ApiError> {
    let (actor, ip) = REQUEST
        .try_with(|context| {
            let actor = context
                .actor
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            (actor, Some(context.ip.clone()))
        })
        .unwrap_or((None, None));
    let actor = actor.unwrap_or(match ip {
        // A request without a session (sign-in, a reset) acts for the owner; a job is the
        // system's.
        Some(_) => OperationActor::Owner,
        None => OperationActor::System,
    });
    let detail = serde_json::to_string(detail).map_err(|e| ApiError::Internal(e.into()))?;
    sqlx::query(
        "INSERT INTO operation_log (id, account_id, actor, action, category, detail, ip, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(account_id)
    .bind(stored_actor(&actor))
    .bind(action.as_str())
    .bind(action.category().as_str())
    .bind(detail)
    .bind(ip)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How the `actor` column keeps who acted: `owner`, `ram:<user name>` or `system` (user names
/// hold no colon).
fn stored_actor(actor: &OperationActor) -> String {
    match actor {
        OperationActor::Owner => "owner".to_owned(),
        OperationActor::RamUser { name } => format!("ram:{name}"),
        OperationActor::System => "system".to_owned(),
    }
}

/// The actor a column holds; anything [`stored_actor`] does not write is a corrupt row.
fn actor_of(stored: &str) -> Result<OperationActor, ApiError> {
    match stored {
        "owner" => Ok(OperationActor::Owner),
        "system" => Ok(OperationActor::System),
        other => match other.strip_prefix("ram:") {
            Some(name) if !name.is_empty() => Ok(OperationActor::RamUser {
                name: name.to_owned(),
            }),
            _ => Err(ApiError::Internal(anyhow::anyhow!(
                "unknown operation log actor {stored:?} in the database"
            ))),
        },
    }
}

/// Records an entry in a transaction of its own: for what has no transaction of its own to
/// join (a refused sign-in).
pub async fn record_alone(
    state: &AppState,
    account_id: &str,
    action: Action,
    detail: &OperationDetail,
) -> Result<(), ApiError> {
    let mut tx = db::begin_write(&state.db).await?;
    record(&mut tx, account_id, action, detail, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}

pub const PAGE_SIZE: u32 = 50;

#[derive(sqlx::FromRow)]
struct Row {
    actor: String,
    action: Stored<Action>,
    category: Stored<OperationCategory>,
    detail: StoredJson<OperationDetail>,
    ip: Option<String>,
    created_at: Millis,
}

impl Row {
    fn entry(self) -> Result<OperationEntry, ApiError> {
        let action = self.action.0;
        // Written from `Action::category` only: another category is a corrupt row.
        if self.category.0 != action.category() {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "operation log entry {} in category {}",
                action.as_str(),
                self.category.0.as_str()
            )));
        }
        Ok(OperationEntry {
            at: rfc3339(self.created_at),
            actor: actor_of(&self.actor)?,
            action,
            category: self.category.0,
            detail: self.detail.0,
            ip: self.ip,
        })
    }
}

/// One page of the account's log, newest first, of one category or all.
pub async fn page(
    state: &AppState,
    account_id: &str,
    query: &OperationLogQuery,
) -> Result<OperationLog, ApiError> {
    let page = query.page.unwrap_or(1).max(1);
    // Every category is a category `<>` none of them: one statement for both cases, with
    // every parameter typed (a NULL parameter has no type on PostgreSQL).
    let (operator, category) = match query.category {
        Some(c) => ("=", c.as_str()),
        None => ("<>", ""),
    };
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM operation_log WHERE account_id = $1 AND category {operator} $2"
    ))
    .bind(account_id)
    .bind(category)
    .fetch_one(&state.db)
    .await?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT actor, action, category, detail, ip, created_at FROM operation_log
         WHERE account_id = $1 AND category {operator} $2
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(account_id)
    .bind(category)
    .bind(i64::from(PAGE_SIZE))
    // In i64: a page number near u32::MAX times 50 does not fit a u32.
    .bind((i64::from(page) - 1) * i64::from(PAGE_SIZE))
    .fetch_all(&state.db)
    .await?;
    Ok(OperationLog {
        entries: rows.into_iter().map(Row::entry).collect::<Result<_, _>>()?,
        total: total as u64,
        page,
        page_size: PAGE_SIZE,
    })
}

/// The whole log, oldest first, for the closure's export.
pub async fn all(state: &AppState, account_id: &str) -> Result<Vec<OperationEntry>, ApiError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT actor, action, category, detail, ip, created_at FROM operation_log
         WHERE account_id = $1 ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(&state.db)
    .await?;
    rows.into_iter().map(Row::entry).collect()
}
