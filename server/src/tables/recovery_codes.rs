//! `recovery_codes`: the ten one-time codes shown when two-step verification is turned on,
//! kept as keyed hashes, each marked when used.

use crate::clock::Millis;
use crate::db::{Db, HeldTx};

/// How many of the account's recovery codes are still unused.
pub async fn unused_count(db: &Db, account_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL",
    )
    .bind(account_id)
    .fetch_one(db)
    .await
}

pub async fn insert(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    code_hash: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES ($1, $2, $3)",
    )
    .bind(account_id)
    .bind(code_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks the account's unused code `code_hash` used; answers whether there was one.
pub async fn mark_used(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    code_hash: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let used = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(account_id)
    .bind(code_hash)
    .execute(&mut **tx)
    .await?;
    Ok(used.rows_affected() == 1)
}

pub async fn delete_of_account(tx: &mut HeldTx<'_>, account_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
