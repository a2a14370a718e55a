//! The ledger: every movement of cash or credit and every card hold, as signed minor units in
//! a bucket. A bucket's balance is the sum of its entries, always.

use crate::clock::{Millis, rfc3339};
use crate::db::{Db, Stored, Tx};
use crate::error::ApiError;
use anyhow::Context;
use shared::api::LedgerEntryView;
use shared::money::{Currency, Money};

pub use shared::api::{Bucket, LedgerKind};

/// Credit and cash are kept in US dollars.
pub const ACCOUNT_CURRENCY: Currency = Currency::USD;

pub struct Entry<'a> {
    pub account_id: &'a str,
    pub kind: LedgerKind,
    pub bucket: Bucket,
    pub amount: Money,
    pub payment_method_id: Option<&'a str>,
    pub reference: Option<&'a str>,
    pub memo: &'a str,
}

pub async fn record(tx: &mut Tx, now: Millis, entry: Entry<'_>) -> Result<(), ApiError> {
    let minor = entry.amount.to_minor().context("ledger amount")?;
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

pub async fn balance<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_id: &str,
    bucket: Bucket,
) -> Result<Money, ApiError> {
    let minor: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE account_id = $1 AND bucket = $2 AND currency = $3",
    )
    .bind(account_id)
    .bind(bucket.as_str())
    .bind(ACCOUNT_CURRENCY.code())
    .fetch_one(db)
    .await?;
    Ok(Money::from_minor(minor, ACCOUNT_CURRENCY))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    kind: Stored<LedgerKind>,
    bucket: Stored<Bucket>,
    amount_minor: i64,
    currency: Stored<Currency>,
    memo: String,
    created_at: Millis,
}

pub async fn entries(db: &Db, account_id: &str) -> Result<Vec<LedgerEntryView>, ApiError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, kind, bucket, amount_minor, currency, memo, created_at FROM ledger_entries
         WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT 500",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let currency = r.currency.0;
            Ok(LedgerEntryView {
                id: r.id,
                kind: r.kind.0,
                bucket: r.bucket.0,
                amount: Money::from_minor(r.amount_minor, currency),
                memo: r.memo,
                created_at: rfc3339(r.created_at),
            })
        })
        .collect()
}
