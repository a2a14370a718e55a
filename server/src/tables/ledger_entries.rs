//! `ledger_entries`: every movement of cash or credit and every card hold, as signed minor
//! units in a bucket. A bucket's balance is the sum of its entries, always.
//!
//! The account's row also keeps its credit balance and whether the free credit was granted,
//! for the account's view only (triggers of migration `0022_account_summary` keep them with
//! every write here). Whatever moves money reads [`sum`], in its transaction.
//!
//! The free credit comes once per account: the partial unique index
//! `ledger_entries_one_free_credit` (`WHERE kind = 'free_credit'`) says so, and the reads of it
//! below spell the kind as the index does, so the index answers them.

use crate::clock::Millis;
use crate::db::{Db, Flag, HeldTx, Stored};
use shared::api::{Bucket, LedgerKind};
use shared::money::{Currency, Money};

/// Credit and cash are kept in US dollars.
pub const ACCOUNT_CURRENCY: Currency = Currency::USD;

/// A new entry.
pub struct Entry<'a> {
    pub account_id: &'a str,
    pub kind: LedgerKind,
    pub bucket: Bucket,
    pub amount: Money,
    pub payment_method_id: Option<&'a str>,
    pub reference: Option<&'a str>,
    pub memo: &'a str,
}

/// Records the entry; an amount finer than its currency's minor unit is refused unwritten.
pub async fn insert(tx: &mut HeldTx<'_>, now: Millis, entry: Entry<'_>) -> sqlx::Result<()> {
    let minor = entry
        .amount
        .to_minor()
        .map_err(|e| sqlx::Error::Encode(format!("ledger amount: {e}").into()))?;
    sqlx::query(
        "INSERT INTO ledger_entries (id, account_id, kind, bucket, amount_minor, currency, payment_method_id, reference, memo, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(entry.account_id)
    .bind(entry.kind.as_str())
    .bind(entry.bucket.as_str())
    .bind(minor)
    .bind(entry.amount.currency.code())
    .bind(entry.payment_method_id)
    .bind(entry.reference)
    .bind(entry.memo)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The sum of the account's entries in `bucket` and `currency`.
pub async fn sum<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_id: &str,
    bucket: Bucket,
    currency: Currency,
) -> sqlx::Result<Money> {
    let minor: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE account_id = $1 AND bucket = $2 AND currency = $3",
    )
    .bind(account_id)
    .bind(bucket.as_str())
    .bind(currency.code())
    .fetch_one(db)
    .await?;
    Ok(Money::from_minor(minor, currency))
}

/// An entry as the account's ledger shows it.
#[derive(sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub kind: Stored<LedgerKind>,
    pub bucket: Stored<Bucket>,
    pub amount_minor: i64,
    pub currency: Stored<Currency>,
    pub memo: String,
    pub created_at: Millis,
}

/// The account's latest 500 entries, newest first.
pub async fn latest(db: &Db, account_id: &str) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as(
        "SELECT id, kind, bucket, amount_minor, currency, memo, created_at FROM ledger_entries
         WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT 500",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// Whether the account was granted the free credit.
pub async fn free_credit_granted(db: &Db, account_id: &str) -> sqlx::Result<bool> {
    // `'free_credit'` spelled as `ledger_entries_one_free_credit` is: that index answers it.
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE account_id = $1 AND kind = 'free_credit')",
    )
    .bind(account_id)
    .fetch_one(db)
    .await
    .map(bool::from)
}

/// Whether the free credit was granted to the account, or to a method of this identity
/// (`free_credit_identities`, on any account).
pub async fn free_credit_taken(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    fingerprint: &str,
) -> sqlx::Result<bool> {
    // `'free_credit'` spelled as `ledger_entries_one_free_credit` is: that index answers it.
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE account_id = $1 AND kind = 'free_credit')
             OR EXISTS (SELECT 1 FROM free_credit_identities WHERE fingerprint = $2)",
    )
    .bind(account_id)
    .bind(fingerprint)
    .fetch_one(&mut **tx)
    .await
    .map(bool::from)
}
