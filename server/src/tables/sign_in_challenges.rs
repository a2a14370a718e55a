//! `sign_in_challenges`: a sign-in whose password was right, waiting for its second step,
//! keyed by the hash of the challenge cookie's token.

use crate::clock::Millis;
use crate::db::{Db, HeldTx};
use crate::tables::accounts::AccountStatus;

/// A challenge to insert.
pub struct NewChallenge<'a> {
    pub token_hash: &'a str,
    pub account_id: &'a str,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub ip: &'a str,
}

pub async fn insert(tx: &mut HeldTx<'_>, challenge: &NewChallenge<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sign_in_challenges (token_hash, account_id, created_at, expires_at, ip) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(challenge.token_hash)
    .bind(challenge.account_id)
    .bind(challenge.created_at)
    .bind(challenge.expires_at)
    .bind(challenge.ip)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The account of the challenge `token_hash`, if it is live at `now` and its account not
/// closed.
pub async fn live_account(db: &Db, token_hash: &str, now: Millis) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT c.account_id FROM sign_in_challenges c JOIN accounts a ON a.id = c.account_id
         WHERE c.token_hash = $1 AND c.expires_at > $2 AND a.status <> $3",
    )
    .bind(token_hash)
    .bind(now)
    .bind(AccountStatus::Closed.as_str())
    .fetch_optional(db)
    .await
}

/// Deletes the challenge `token_hash`; answers whether it was there.
pub async fn delete(tx: &mut HeldTx<'_>, token_hash: &str) -> sqlx::Result<bool> {
    let gone = sqlx::query("DELETE FROM sign_in_challenges WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(gone.rows_affected() == 1)
}
