//! `withdrawals`: cash taken from the balance and paid out to a card or PayPal, `processing`
//! until the gateway confirms, then `paid`.

use crate::clock::Millis;
use crate::db::{HeldTx, Stored};
use shared::api::{PaymentMethodKind, WithdrawalStatus};
use shared::money::{Currency, Money};

/// A withdrawal as the account's record shows it.
#[derive(sqlx::FromRow)]
pub struct Withdrawal {
    pub id: String,
    pub destination_kind: Stored<PaymentMethodKind>,
    pub destination_label: String,
    pub amount_minor: i64,
    pub currency: Stored<Currency>,
    pub status: Stored<WithdrawalStatus>,
    pub created_at: Millis,
    pub paid_at: Option<Millis>,
}

const COLUMNS: &str =
    "id, destination_kind, destination_label, amount_minor, currency, status, created_at, paid_at";

/// The account's latest 500 withdrawals, newest first.
pub async fn latest<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_id: &str,
) -> sqlx::Result<Vec<Withdrawal>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM withdrawals WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT 500"
    ))
    .bind(account_id)
    .fetch_all(db)
    .await
}

pub async fn get(tx: &mut HeldTx<'_>, id: &str) -> sqlx::Result<Withdrawal> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM withdrawals WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut **tx)
        .await
}

/// A new withdrawal, `processing`.
pub struct New<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub intent_id: &'a str,
    pub payment_method_id: &'a str,
    pub destination_kind: PaymentMethodKind,
    pub destination_label: &'a str,
    pub amount_minor: i64,
    pub currency: Currency,
    pub created_at: Millis,
}

pub async fn insert(tx: &mut HeldTx<'_>, new: New<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO withdrawals (id, account_id, intent_id, payment_method_id, destination_kind, destination_label, amount_minor, currency, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new.id)
    .bind(new.account_id)
    .bind(new.intent_id)
    .bind(new.payment_method_id)
    .bind(new.destination_kind.as_str())
    .bind(new.destination_label)
    .bind(new.amount_minor)
    .bind(new.currency.code())
    .bind(WithdrawalStatus::Processing.as_str())
    .bind(new.created_at)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// What the payout job needs of a withdrawal: its intent's method token, and its owner's email
/// to tell.
#[derive(sqlx::FromRow)]
pub struct Payout {
    pub account_id: String,
    pub intent_id: String,
    pub method_token: Option<String>,
    pub amount_minor: i64,
    pub currency: Stored<Currency>,
    pub status: Stored<WithdrawalStatus>,
    pub destination_label: String,
    pub email: String,
}

impl Payout {
    pub fn amount(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency.0)
    }
}

pub async fn payout(db: &crate::db::Db, id: &str) -> sqlx::Result<Option<Payout>> {
    sqlx::query_as(
        "SELECT w.account_id, w.intent_id, i.method_token, w.amount_minor, w.currency, w.status, w.destination_label, a.email
         FROM withdrawals w JOIN gateway_intents i ON i.id = w.intent_id JOIN accounts a ON a.id = w.account_id
         WHERE w.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Marks a processing withdrawal paid; false when it was not processing (paid already).
pub async fn mark_paid(
    tx: &mut HeldTx<'_>,
    id: &str,
    reference: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let paid = sqlx::query(
        "UPDATE withdrawals SET status = $4, paid_at = $1, gateway_reference = $2 WHERE id = $3 AND status = $5",
    )
    .bind(now)
    .bind(reference)
    .bind(id)
    .bind(WithdrawalStatus::Paid.as_str())
    .bind(WithdrawalStatus::Processing.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(paid.rows_affected() == 1)
}
