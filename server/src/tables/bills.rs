//! `bills`: pay-as-you-go usage billed by the hour. `status` holds `unpaid` or `paid`; a bill
//! renounced with a closure (seed 001) is an unpaid one with `waived_at`.

use crate::clock::Millis;
use crate::db::{self, Backend, Db, Flag, HeldTx, Stored};
use shared::api::BillStatus;
use shared::money::{Currency, Money};

/// The SQL condition of a payable bill: unpaid and not waived. Spelled out rather than bound,
/// as it goes into statements whose parameters are numbered differently.
const PAYABLE: &str = "status = 'unpaid' AND waived_at IS NULL";

/// The SQL condition of an overdue bill (payable, and its due time has come), with the time now
/// as the query's first parameter.
fn overdue_condition() -> String {
    format!("{PAYABLE} AND due_at <= $1")
}

/// A column that says whether the bill is overdue (1) or not (0), with the time now as the
/// query's first parameter.
fn overdue_column() -> String {
    format!("CASE WHEN {} THEN 1 ELSE 0 END", overdue_condition())
}

/// A new bill, unpaid.
pub struct New<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub instance_id: Option<&'a str>,
    pub description: &'a str,
    pub period: Option<(Millis, Millis)>,
    pub amount_minor: i64,
    pub currency: Currency,
    pub due_at: Millis,
    pub created_at: Millis,
}

pub async fn insert(tx: &mut HeldTx<'_>, new: New<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bills (id, account_id, instance_id, description, period_start, period_end, amount_minor, currency, status, due_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new.id)
    .bind(new.account_id)
    .bind(new.instance_id)
    .bind(new.description)
    .bind(new.period.map(|p| p.0))
    .bind(new.period.map(|p| p.1))
    .bind(new.amount_minor)
    .bind(new.currency.code())
    .bind(BillStatus::Unpaid.as_str())
    .bind(new.due_at)
    .bind(new.created_at)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// An overdue bill of an account.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub id: String,
    pub account_id: String,
    pub amount: Money,
}

/// The overdue bills of `accounts` at `now`, oldest first.
pub async fn overdue<'a>(
    conn: &mut sqlx::AnyConnection,
    accounts: impl IntoIterator<Item = &'a str>,
    now: Millis,
) -> sqlx::Result<Vec<Overdue>> {
    let rows: Vec<(String, String, i64, Stored<Currency>)> = sqlx::query_as(&format!(
        "SELECT id, account_id, amount_minor, currency FROM bills
         WHERE {} AND account_id IN {} ORDER BY due_at, id",
        overdue_condition(),
        db::in_json(Backend::of(conn), 2)
    ))
    .bind(now)
    .bind(db::json_texts(accounts))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, account_id, minor, Stored(currency))| Overdue {
            id,
            account_id,
            amount: Money::from_minor(minor, currency),
        })
        .collect())
}

/// The columns every listing of bills shows.
#[derive(sqlx::FromRow)]
pub struct Bill {
    pub id: String,
    pub description: String,
    pub amount_minor: i64,
    pub currency: Stored<Currency>,
    pub status: Stored<BillStatus>,
    pub due_at: Millis,
}

impl Bill {
    pub fn amount(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency.0)
    }
}

/// A bill as the closure's list of the account's ties shows it.
#[derive(sqlx::FromRow)]
pub struct Tie {
    #[sqlx(flatten)]
    pub bill: Bill,
    pub waived_at: Option<Millis>,
    pub overdue: Flag,
}

/// The account's latest 200 bills, newest first, each saying whether it is overdue at `now`.
pub async fn latest_with_overdue(db: &Db, account_id: &str, now: Millis) -> sqlx::Result<Vec<Tie>> {
    sqlx::query_as(&format!(
        "SELECT id, description, amount_minor, currency, status, due_at, waived_at, {} AS overdue
         FROM bills WHERE account_id = $2 ORDER BY created_at DESC, id LIMIT 200",
        overdue_column()
    ))
    .bind(now)
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// A bill as the spending history shows it.
#[derive(sqlx::FromRow)]
pub struct Spent {
    #[sqlx(flatten)]
    pub bill: Bill,
    pub paid_at: Option<Millis>,
}

/// All the account's bills, in no order.
pub async fn of_account(db: &Db, account_id: &str) -> sqlx::Result<Vec<Spent>> {
    sqlx::query_as(
        "SELECT id, description, amount_minor, currency, status, due_at, paid_at FROM bills WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// Whether the account has this bill, unpaid (waived or not).
pub async fn is_unpaid(db: &Db, id: &str, account_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM bills WHERE id = $1 AND account_id = $2 AND status = $3)",
    )
    .bind(id)
    .bind(account_id)
    .bind(BillStatus::Unpaid.as_str())
    .fetch_one(db)
    .await
    .map(bool::from)
}

/// The account whose bill this is.
pub async fn account_of(db: &Db, id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT account_id FROM bills WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// What the account's bill asks for while it is payable.
pub async fn payable_amount(db: &Db, id: &str, account_id: &str) -> sqlx::Result<Option<Money>> {
    let bill: Option<(i64, Stored<Currency>)> = sqlx::query_as(&format!(
        "SELECT amount_minor, currency FROM bills WHERE id = $1 AND account_id = $2 AND {PAYABLE}"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await?;
    Ok(bill.map(|(minor, Stored(currency))| Money::from_minor(minor, currency)))
}

/// Marks the bill paid if it is still payable; false when it is not (paid or waived meanwhile).
pub async fn mark_paid(tx: &mut HeldTx<'_>, id: &str, now: Millis) -> sqlx::Result<bool> {
    let updated = sqlx::query(&format!(
        "UPDATE bills SET status = $3, paid_at = $1 WHERE id = $2 AND {PAYABLE}"
    ))
    .bind(now)
    .bind(id)
    .bind(BillStatus::Paid.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Waives the account's bill if it is unpaid: renounced with the account's closure.
pub async fn waive(
    tx: &mut HeldTx<'_>,
    id: &str,
    account_id: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE bills SET waived_at = $1 WHERE id = $2 AND account_id = $3 AND status = $4")
        .bind(now)
        .bind(id)
        .bind(account_id)
        .bind(BillStatus::Unpaid.as_str())
        .execute(&mut **tx)
        .await
        .map(drop)
}
