//! `gateway_intents`: money moved at the payment gateway, each written before its call and
//! moved from status to status as the gateway answers (see `domain::intent` for the ways).

use crate::clock::Millis;
use crate::db::{Db, HeldTx, Stored};
use shared::money::{Currency, Money};
use strum::{IntoStaticStr, VariantArray};

/// Where an intent stands; see the module's comment for the ways between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Pending,
    Captured,
    Failed,
    Reversing,
    Reversed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What an intent moves at the gateway: `gateway_intents.operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Operation {
    /// A charge to a payment method.
    Charge,
    /// A card verification's hold.
    Hold,
    /// A withdrawal's payout.
    Payout,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A new intent, `pending`.
pub struct New<'a> {
    pub account_id: &'a str,
    pub operation: Operation,
    pub purpose: &'a str,
    /// The payment method's id and the gateway's token for it.
    pub method: Option<(&'a str, &'a str)>,
    pub amount: Money,
    pub now: Millis,
}

/// Writes the intent; returns its id, the idempotency key of its call. An amount finer than
/// its currency's minor unit is refused unwritten.
pub async fn insert(tx: &mut HeldTx<'_>, new: New<'_>) -> sqlx::Result<String> {
    let minor = new
        .amount
        .to_minor()
        .map_err(|e| sqlx::Error::Encode(format!("intent amount: {e}").into()))?;
    let intent_id = format!("gi-{}", uuid::Uuid::new_v4().simple());
    sqlx::query(
        "INSERT INTO gateway_intents (id, account_id, operation, purpose, payment_method_id, method_token, amount_minor, currency, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&intent_id)
    .bind(new.account_id)
    .bind(new.operation.as_str())
    .bind(new.purpose)
    .bind(new.method.map(|m| m.0))
    .bind(new.method.map(|m| m.1))
    .bind(minor)
    .bind(new.amount.currency.code())
    .bind(Status::Pending.as_str())
    .bind(new.now)
    .execute(&mut **tx)
    .await?;
    Ok(intent_id)
}

#[derive(sqlx::FromRow)]
pub struct Intent {
    pub account_id: String,
    pub operation: Stored<Operation>,
    pub method_token: Option<String>,
    pub amount_minor: i64,
    pub currency: Stored<Currency>,
    pub status: Stored<Status>,
    pub gateway_reference: Option<String>,
}

impl Intent {
    pub fn amount(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency.0)
    }
}

pub async fn get(db: &Db, intent_id: &str) -> sqlx::Result<Option<Intent>> {
    sqlx::query_as(
        "SELECT account_id, operation, method_token, amount_minor, currency, status, gateway_reference FROM gateway_intents WHERE id = $1",
    )
    .bind(intent_id)
    .fetch_optional(db)
    .await
}

/// Moves an intent from `from` to `to`, keeping the gateway's reference it is given; false
/// when it was not in `from` (someone else moved it).
pub async fn set_status(
    tx: &mut HeldTx<'_>,
    intent_id: &str,
    from: Status,
    to: Status,
    reference: Option<&str>,
    now: Millis,
) -> sqlx::Result<bool> {
    let moved = sqlx::query(
        "UPDATE gateway_intents SET status = $1, gateway_reference = COALESCE($2, gateway_reference), updated_at = $3
         WHERE id = $4 AND status = $5",
    )
    .bind(to.as_str())
    .bind(reference)
    .bind(now)
    .bind(intent_id)
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// The account of an intent the gateway knows by `reference`.
pub async fn account_by_reference(db: &Db, reference: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT account_id FROM gateway_intents WHERE gateway_reference = $1 LIMIT 1",
    )
    .bind(reference)
    .fetch_optional(db)
    .await
}
