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
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use shared::api::{OperationCategory, OperationEntry, OperationLog, OperationLogQuery};
use std::sync::Mutex;

/// Who acts in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Owner,
    RamUser(String),
    /// The server itself, acting on what the payment gateway reported (a webhook): `system`,
    /// as a job is, with the address the report came from.
    System,
}

struct RequestContext {
    ip: String,
    actor: Mutex<Option<Actor>>,
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

/// Names who acts in this request (the session extractor calls it).
pub fn set_actor(actor: Actor) {
    let _ = REQUEST.try_with(|context| {
        *context.actor.lock().unwrap_or_else(|e| e.into_inner()) = Some(actor);
    });
}

/// What an entry records. The names are stable: the page and the export show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    /// The password of an account with two-step verification on: its code comes next.
    SignInPasswordAccepted,
    SignInFailed,
    PasswordReset,
    PasswordChanged,
    SessionSignedOut,
    TwoStepOn,
    TwoStepOff,
    RamUserCreated,
    RamUserDeleted,
    PaymentMethodAdded,
    PaymentMethodRemoved,
    DefaultPaymentMethodSet,
    BillingAddressSaved,
    Purchase,
    Renewal,
    Unsubscribe,
    Withdrawal,
    /// The card network returned a refund paid to a card; it was credited to the balance.
    RefundReturnedToBalance,
    /// The cardholder disputed a payment with their bank (a chargeback).
    PaymentDisputed,
    ClosureIdentityVerified,
    ClosureItemsRenounced,
    ClosureConfirmed,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::SignInPasswordAccepted => "sign_in_password_accepted",
            Action::SignInFailed => "sign_in_failed",
            Action::PasswordReset => "password_reset",
            Action::PasswordChanged => "password_changed",
            Action::SessionSignedOut => "session_signed_out",
            Action::TwoStepOn => "two_step_on",
            Action::TwoStepOff => "two_step_off",
            Action::RamUserCreated => "ram_user_created",
            Action::RamUserDeleted => "ram_user_deleted",
            Action::PaymentMethodAdded => "payment_method_added",
            Action::PaymentMethodRemoved => "payment_method_removed",
            Action::DefaultPaymentMethodSet => "default_payment_method_set",
            Action::BillingAddressSaved => "billing_address_saved",
            Action::Purchase => "purchase",
            Action::Renewal => "renewal",
            Action::Unsubscribe => "unsubscribe",
            Action::Withdrawal => "withdrawal",
            Action::RefundReturnedToBalance => "refund_returned_to_balance",
            Action::PaymentDisputed => "payment_disputed",
            Action::ClosureIdentityVerified => "closure_identity_verified",
            Action::ClosureItemsRenounced => "closure_items_renounced",
            Action::ClosureConfirmed => "closure_confirmed",
        }
    }

    pub fn category(self) -> OperationCategory {
        use Action::*;
        match self {
            SignIn
            | SignInPasswordAccepted
            | SignInFailed
            | PasswordReset
            | PasswordChanged
            | SessionSignedOut
            | TwoStepOn
            | TwoStepOff
            | RamUserCreated
            | RamUserDeleted => OperationCategory::Security,
            PaymentMethodAdded
            | PaymentMethodRemoved
            | DefaultPaymentMethodSet
            | BillingAddressSaved
            | Purchase
            | Renewal
            | Unsubscribe
            | Withdrawal
            | RefundReturnedToBalance
            | PaymentDisputed => OperationCategory::Money,
            ClosureIdentityVerified | ClosureItemsRenounced | ClosureConfirmed => {
                OperationCategory::Closure
            }
        }
    }
}

/// Writes an entry for `account_id` in `tx`, the action's own transaction. `detail` says what
/// the action was about (an instance, a payment method's last four, an amount), never a
/// secret, an email or a phone number.
pub async fn record(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    action: Action,
    detail: &str,
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
    let actor = match actor {
        Some(Actor::Owner) => "owner".to_owned(),
        Some(Actor::RamUser(name)) => format!("ram:{name}"),
        Some(Actor::System) => "system".to_owned(),
        // A request without a session (sign-in, a reset) acts for the owner; a job is the
        // system's.
        None if ip.is_some() => "owner".to_owned(),
        None => "system".to_owned(),
    };
    sqlx::query(
        "INSERT INTO operation_log (id, account_id, actor, action, category, detail, ip, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(account_id)
    .bind(actor)
    .bind(action.as_str())
    .bind(action.category().as_str())
    .bind(detail)
    .bind(ip)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records an entry in a transaction of its own: for what has no transaction of its own to
/// join (a refused sign-in).
pub async fn record_alone(
    state: &AppState,
    account_id: &str,
    action: Action,
    detail: &str,
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
    action: String,
    category: String,
    detail: String,
    ip: Option<String>,
    created_at: Millis,
}

impl Row {
    fn entry(self) -> OperationEntry {
        OperationEntry {
            at: rfc3339(self.created_at),
            actor: self.actor,
            action: self.action,
            // Written from `Action::category` only; a value not of it is a corrupt row.
            category: OperationCategory::parse(&self.category)
                .unwrap_or(OperationCategory::Security),
            detail: self.detail,
            ip: self.ip,
        }
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
        entries: rows.into_iter().map(Row::entry).collect(),
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
    Ok(rows.into_iter().map(Row::entry).collect())
}
