//! The ledger: every movement of cash or credit and every card hold, as signed minor units in
//! a bucket (`tables::ledger_entries` writes and sums them). The account's balances are kept
//! in one currency.

use crate::clock::rfc3339;
use crate::db::Db;
use crate::error::ApiError;
use crate::tables::ledger_entries;
use shared::api::LedgerEntryView;
use shared::money::Money;

pub use crate::tables::ledger_entries::ACCOUNT_CURRENCY;
pub use shared::api::{Bucket, LedgerKind};

/// The account's balance in `bucket`, in [`ACCOUNT_CURRENCY`].
pub async fn balance<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_id: &str,
    bucket: Bucket,
) -> Result<Money, ApiError> {
    Ok(ledger_entries::sum(db, account_id, bucket, ACCOUNT_CURRENCY).await?)
}

pub async fn entries(db: &Db, account_id: &str) -> Result<Vec<LedgerEntryView>, ApiError> {
    let rows = ledger_entries::latest(db, account_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| LedgerEntryView {
            id: r.id,
            kind: r.kind.0,
            bucket: r.bucket.0,
            amount: Money::from_minor(r.amount_minor, r.currency.0),
            memo: r.memo,
            created_at: rfc3339(r.created_at),
        })
        .collect())
}
