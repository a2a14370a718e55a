//! The operation log (SPEC §1 "Account security"; what ActionTrail is to Alibaba Cloud):
//! every security and money action of an account, with who did it (the owner, which RAM user,
//! or the system's own jobs), what, when and from which address.
//!
//! An entry is written in the transaction of the action it records, so an action and its entry
//! exist together or not at all. Who and from where come from the request: a middleware
//! ([`with_request_context`]) opens a context around each request, the session extractor
//! names its actor in it, and [`record`] reads both; outside a request (jobs) the actor is the
//! system and there is no address.
//!
//! What is written is an [`Operation`]: one variant per action and shape of detail, so an
//! action cannot be written with another action's detail. [`Operation`] lives here rather than
//! in `shared` because only the server writes entries; `shared` keeps what the log reads back,
//! [`OperationEntry`], which takes any stored pair (the 0021 migration's `Legacy` details too).

use crate::auth::ClientIp;
use crate::clock::{Millis, rfc3339};
use crate::db::{self, HeldTx};
use crate::db::{Stored, StoredJson};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use shared::account::Channel;
use shared::api::{
    IdentityMethod, LoggedPaymentMethod, OperationAction as Action, OperationActor,
    OperationCategory, OperationDetail, OperationEntry, OperationLog, OperationLogQuery,
    Permission, RenewalRefund, SignInRefusal,
};
use shared::closure::BlockingKind;
use shared::money::Money;
use std::sync::Mutex;

/// What an entry records: an action with the facts of its own shape (an instance, a payment
/// method's last four, an amount), never a secret, an email or a phone number.
#[derive(Debug, Clone)]
#[cfg_attr(
    test,
    derive(strum::EnumDiscriminants),
    strum_discriminants(name(OperationKind), derive(strum::VariantArray))
)]
pub enum Operation {
    /// A session started: from which browser (its user agent, as the session keeps it), and
    /// whether a two-step code completed it.
    SignIn {
        user_agent: Option<String>,
        two_step: bool,
    },
    /// The password of an account with two-step verification on: its code comes next.
    SignInPasswordAccepted,
    SignInFailed {
        reason: SignInRefusal,
    },
    /// By a code sent to the email or the phone; every session signed out.
    PasswordReset {
        channel: Channel,
    },
    /// The other sessions signed out with it.
    PasswordChanged,
    /// One session signed out, named by its browser.
    SessionSignedOut {
        user_agent: Option<String>,
    },
    /// Every other session signed out at once.
    OtherSessionsSignedOut {
        count: u32,
    },
    /// By an authenticator app.
    TwoStepOn,
    TwoStepOff,
    RamUserCreated {
        name: String,
        permissions: Vec<Permission>,
    },
    RamUserDeleted {
        name: String,
    },
    PaymentMethodAdded(LoggedPaymentMethod),
    PaymentMethodRemoved(LoggedPaymentMethod),
    DefaultPaymentMethodSet(LoggedPaymentMethod),
    /// The address's country, an ISO 3166-1 alpha-2 code.
    BillingAddressSaved {
        country: String,
    },
    /// `product` is the catalog's product code.
    SubscriptionPurchased {
        instance: String,
        product: String,
        months: u32,
        price: Money,
    },
    /// Nothing charged now, usage billed later.
    PayAsYouGoPurchased {
        instance: String,
        product: String,
    },
    SubscriptionRenewed {
        instance: String,
        months: u32,
        price: Money,
    },
    /// Resources unsubscribed, and the refund of them all.
    ResourcesUnsubscribed {
        instances: Vec<String>,
        refund: Money,
    },
    /// Renewals not yet in effect cancelled, each with its refund.
    RenewalsCancelled {
        renewals: Vec<RenewalRefund>,
    },
    BalanceWithdrawn {
        amount: Money,
        to: LoggedPaymentMethod,
    },
    /// The card network returned a refund paid to a card; `amount` was credited to the balance.
    RefundReturnedToBalance {
        amount: Money,
    },
    /// A chargeback: `amount` is none when the card network's currency is not one this
    /// service charges in; `reason` is the network's code when it gave one; `dispute` the
    /// payment gateway's id of it.
    PaymentDisputed {
        amount: Option<Money>,
        reason: Option<String>,
        dispute: String,
    },
    ClosureIdentityVerified {
        method: IdentityMethod,
    },
    ClosureItemsRenounced {
        items: Vec<BlockingKind>,
    },
    /// The closure's cool-down runs until `cool_down_until` (RFC 3339).
    ClosureConfirmed {
        cool_down_until: String,
    },
}

impl Operation {
    /// The action and the detail the entry keeps: the one place that says which shape of
    /// detail goes with which action.
    pub fn into_parts(self) -> (Action, OperationDetail) {
        use OperationDetail as D;
        match self {
            Operation::SignIn {
                user_agent,
                two_step,
            } => (
                Action::SignIn,
                D::SignIn {
                    user_agent,
                    two_step,
                },
            ),
            Operation::SignInPasswordAccepted => (Action::SignInPasswordAccepted, D::None),
            Operation::SignInFailed { reason } => {
                (Action::SignInFailed, D::SignInRefused { reason })
            }
            Operation::PasswordReset { channel } => {
                (Action::PasswordReset, D::PasswordReset { channel })
            }
            Operation::PasswordChanged => (Action::PasswordChanged, D::None),
            Operation::SessionSignedOut { user_agent } => {
                (Action::SessionSignedOut, D::Session { user_agent })
            }
            Operation::OtherSessionsSignedOut { count } => {
                (Action::SessionSignedOut, D::OtherSessions { count })
            }
            Operation::TwoStepOn => (Action::TwoStepOn, D::None),
            Operation::TwoStepOff => (Action::TwoStepOff, D::None),
            Operation::RamUserCreated { name, permissions } => (
                Action::RamUserCreated,
                D::RamUserCreated { name, permissions },
            ),
            Operation::RamUserDeleted { name } => (Action::RamUserDeleted, D::RamUser { name }),
            Operation::PaymentMethodAdded(method) => {
                (Action::PaymentMethodAdded, D::PaymentMethod { method })
            }
            Operation::PaymentMethodRemoved(method) => {
                (Action::PaymentMethodRemoved, D::PaymentMethod { method })
            }
            Operation::DefaultPaymentMethodSet(method) => {
                (Action::DefaultPaymentMethodSet, D::PaymentMethod { method })
            }
            Operation::BillingAddressSaved { country } => {
                (Action::BillingAddressSaved, D::BillingAddress { country })
            }
            Operation::SubscriptionPurchased {
                instance,
                product,
                months,
                price,
            } => (
                Action::Purchase,
                D::Subscription {
                    instance,
                    product,
                    months,
                    price,
                },
            ),
            Operation::PayAsYouGoPurchased { instance, product } => {
                (Action::Purchase, D::PayAsYouGo { instance, product })
            }
            Operation::SubscriptionRenewed {
                instance,
                months,
                price,
            } => (
                Action::Renewal,
                D::Renewal {
                    instance,
                    months,
                    price,
                },
            ),
            Operation::ResourcesUnsubscribed { instances, refund } => {
                (Action::Unsubscribe, D::Unsubscribed { instances, refund })
            }
            Operation::RenewalsCancelled { renewals } => {
                (Action::Unsubscribe, D::RenewalsCancelled { renewals })
            }
            Operation::BalanceWithdrawn { amount, to } => {
                (Action::Withdrawal, D::Withdrawal { amount, to })
            }
            Operation::RefundReturnedToBalance { amount } => {
                (Action::RefundReturnedToBalance, D::Amount { amount })
            }
            Operation::PaymentDisputed {
                amount,
                reason,
                dispute,
            } => (
                Action::PaymentDisputed,
                D::Dispute {
                    amount,
                    reason,
                    dispute,
                },
            ),
            Operation::ClosureIdentityVerified { method } => {
                (Action::ClosureIdentityVerified, D::Identity { method })
            }
            Operation::ClosureItemsRenounced { items } => {
                (Action::ClosureItemsRenounced, D::ItemsRenounced { items })
            }
            Operation::ClosureConfirmed { cool_down_until } => (
                Action::ClosureConfirmed,
                D::CoolDown {
                    until: cool_down_until,
                },
            ),
        }
    }
}

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

/// Writes `operation`'s entry for `account_id` in `tx`, the action's own transaction; its
/// detail is kept as its JSON.
pub async fn record(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    operation: Operation,
    now: Millis,
) -> Result<(), ApiError> {
    let (action, detail) = operation.into_parts();
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
    let detail = serde_json::to_string(&detail).map_err(|e| ApiError::Internal(e.into()))?;
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
    operation: Operation,
) -> Result<(), ApiError> {
    let mut tx = db::begin_write(&state.db).await?;
    record(&mut tx, account_id, operation, state.clock.now()).await?;
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
    let page = shared::api::page_number(query.page);
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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::api::PaymentMethodKind;
    use shared::money::Currency;
    use shared::payment::CardBrand;
    use std::collections::HashSet;
    use strum::VariantArray;

    /// One operation of each kind, with the category its entry is filed under. The match has
    /// an arm per kind, so a new variant does not compile until it has an example here.
    fn example(kind: OperationKind) -> (OperationCategory, Operation) {
        use OperationCategory as C;
        use OperationKind as K;
        let usd = |cents| Money::from_minor(cents, Currency::USD);
        let visa = LoggedPaymentMethod {
            kind: PaymentMethodKind::Card,
            brand: Some(CardBrand::Visa),
            last4: Some("4242".to_owned()),
        };
        match kind {
            K::SignIn => (
                C::Security,
                Operation::SignIn {
                    user_agent: Some("Mozilla/5.0 Firefox/133.0".to_owned()),
                    two_step: true,
                },
            ),
            K::SignInPasswordAccepted => (C::Security, Operation::SignInPasswordAccepted),
            K::SignInFailed => (
                C::Security,
                Operation::SignInFailed {
                    reason: SignInRefusal::WrongTwoStepCode,
                },
            ),
            K::PasswordReset => (
                C::Security,
                Operation::PasswordReset {
                    channel: Channel::Phone,
                },
            ),
            K::PasswordChanged => (C::Security, Operation::PasswordChanged),
            K::SessionSignedOut => (
                C::Security,
                Operation::SessionSignedOut { user_agent: None },
            ),
            K::OtherSessionsSignedOut => {
                (C::Security, Operation::OtherSessionsSignedOut { count: 2 })
            }
            K::TwoStepOn => (C::Security, Operation::TwoStepOn),
            K::TwoStepOff => (C::Security, Operation::TwoStepOff),
            K::RamUserCreated => (
                C::Security,
                Operation::RamUserCreated {
                    name: "ops".to_owned(),
                    permissions: vec![Permission::BillingReadOnlyAccess],
                },
            ),
            K::RamUserDeleted => (
                C::Security,
                Operation::RamUserDeleted {
                    name: "ops".to_owned(),
                },
            ),
            K::PaymentMethodAdded => (C::Money, Operation::PaymentMethodAdded(visa)),
            K::PaymentMethodRemoved => (
                C::Money,
                Operation::PaymentMethodRemoved(LoggedPaymentMethod {
                    kind: PaymentMethodKind::Paypal,
                    brand: None,
                    last4: None,
                }),
            ),
            K::DefaultPaymentMethodSet => (C::Money, Operation::DefaultPaymentMethodSet(visa)),
            K::BillingAddressSaved => (
                C::Money,
                Operation::BillingAddressSaved {
                    country: "MY".to_owned(),
                },
            ),
            K::SubscriptionPurchased => (
                C::Money,
                Operation::SubscriptionPurchased {
                    instance: "i-1".to_owned(),
                    product: "ecs".to_owned(),
                    months: 12,
                    price: usd(12_000),
                },
            ),
            K::PayAsYouGoPurchased => (
                C::Money,
                Operation::PayAsYouGoPurchased {
                    instance: "i-2".to_owned(),
                    product: "oss".to_owned(),
                },
            ),
            K::SubscriptionRenewed => (
                C::Money,
                Operation::SubscriptionRenewed {
                    instance: "i-1".to_owned(),
                    months: 1,
                    price: usd(1_000),
                },
            ),
            K::ResourcesUnsubscribed => (
                C::Money,
                Operation::ResourcesUnsubscribed {
                    instances: vec!["i-1".to_owned(), "i-2".to_owned()],
                    refund: usd(450),
                },
            ),
            K::RenewalsCancelled => (
                C::Money,
                Operation::RenewalsCancelled {
                    renewals: vec![RenewalRefund {
                        instance: "i-1".to_owned(),
                        refund: usd(1_000),
                    }],
                },
            ),
            K::BalanceWithdrawn => (
                C::Money,
                Operation::BalanceWithdrawn {
                    amount: usd(500),
                    to: visa,
                },
            ),
            K::RefundReturnedToBalance => (
                C::Money,
                Operation::RefundReturnedToBalance { amount: usd(1) },
            ),
            K::PaymentDisputed => (
                C::Money,
                Operation::PaymentDisputed {
                    amount: Some(usd(2_000)),
                    reason: Some("fraudulent".to_owned()),
                    dispute: "dp_1".to_owned(),
                },
            ),
            K::ClosureIdentityVerified => (
                C::Closure,
                Operation::ClosureIdentityVerified {
                    method: IdentityMethod::Alipay,
                },
            ),
            K::ClosureItemsRenounced => (
                C::Closure,
                Operation::ClosureItemsRenounced {
                    items: vec![BlockingKind::CashBalance, BlockingKind::OverduePayments],
                },
            ),
            K::ClosureConfirmed => (
                C::Closure,
                Operation::ClosureConfirmed {
                    cool_down_until: "2026-01-31T00:00:00Z".to_owned(),
                },
            ),
        }
    }

    #[test]
    fn each_operation_is_an_action_of_its_category_with_a_detail_that_reads_back() {
        let mut written = HashSet::new();
        for &kind in OperationKind::VARIANTS {
            let (category, operation) = example(kind);
            assert_eq!(OperationKind::from(&operation), kind);
            let (action, detail) = operation.into_parts();
            assert_eq!(action.category(), category, "{kind:?} as {action:?}");
            assert!(
                !matches!(detail, OperationDetail::Legacy { .. }),
                "{kind:?} writes a legacy detail"
            );
            let json = serde_json::to_value(&detail).unwrap();
            assert_eq!(
                serde_json::from_value::<OperationDetail>(json.clone()).unwrap(),
                detail,
                "{kind:?}"
            );
            // One kind per pair of action and shape of detail: two kinds writing the same
            // pair would be one operation under two names.
            let shape = json["kind"].as_str().unwrap().to_owned();
            assert!(
                written.insert((action, shape)),
                "{kind:?} writes the same as another kind"
            );
        }
    }
}
