//! `icp_filings`: the account's ICP filings (seed 001); an active one blocks closing until it
//! is cancelled. No partial index reads their status, so it is bound by its stored name.

use crate::clock::Millis;
use sqlx::{Any, Executor};
use strum::IntoStaticStr;

/// Where a filing stands: `icp_filings.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum FilingStatus {
    Active,
    Cancelled,
}

impl FilingStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An active filing as the closure's resolve page shows it.
#[derive(sqlx::FromRow)]
pub struct IcpFiling {
    pub id: String,
    pub number: String,
    pub website: String,
}

/// The account's active filings.
pub async fn active<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<IcpFiling>> {
    sqlx::query_as(
        "SELECT id, number, website FROM icp_filings WHERE account_id = $1 AND status = $2",
    )
    .bind(account_id)
    .bind(FilingStatus::Active.as_str())
    .fetch_all(db)
    .await
}

/// The ids of the account's active filings.
pub async fn active_ids<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT id FROM icp_filings WHERE account_id = $1 AND status = $2")
        .bind(account_id)
        .bind(FilingStatus::Active.as_str())
        .fetch_all(db)
        .await
}

/// Cancels the account's active filing `id`; false when there is none.
pub async fn cancel<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE icp_filings SET status = $3 WHERE id = $1 AND account_id = $2 AND status = $4",
    )
    .bind(id)
    .bind(account_id)
    .bind(FilingStatus::Cancelled.as_str())
    .bind(FilingStatus::Active.as_str())
    .execute(db)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Writes an active filing.
pub async fn insert_active<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    account_id: &str,
    number: &str,
    website: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO icp_filings (id, account_id, number, website, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(account_id)
        .bind(number)
        .bind(website)
        .bind(FilingStatus::Active.as_str())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
