//! `reseller_partnerships`: the reseller an account buys through, at most one (seed 001); it
//! blocks closing until the partnership ends.

use crate::clock::Millis;
use sqlx::{Any, Executor};

/// The name of the account's reseller partner, if it has one.
pub async fn partner_of<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT partner_name FROM reseller_partnerships WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(db)
        .await
}

/// Ends the account's partnership; false when it had none.
pub async fn end<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query("DELETE FROM reseller_partnerships WHERE account_id = $1")
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Writes the account's partnership with `partner_name`, unless it has one already.
pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    partner_name: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO reseller_partnerships (account_id, partner_name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(account_id)
        .bind(partner_name)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
