//! `paypal_approvals`: a PayPal binding started, waiting for the customer to approve it on
//! PayPal's page and come back with its token.

use crate::clock::Millis;
use crate::db::{Db, HeldTx};

/// Starts the approval `token` for the account, open until `expires_at`.
pub async fn insert(
    db: &Db,
    token: &str,
    account_id: &str,
    created_at: Millis,
    expires_at: Millis,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO paypal_approvals (token, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token)
        .bind(account_id)
        .bind(created_at)
        .bind(expires_at)
        .execute(db.writer())
        .await
        .map(drop)
}

/// The account's approval `token`: when it expires, and when it was completed, if it was.
pub async fn find(
    db: &Db,
    token: &str,
    account_id: &str,
) -> sqlx::Result<Option<(Millis, Option<Millis>)>> {
    sqlx::query_as(
        "SELECT expires_at, completed_at FROM paypal_approvals WHERE token = $1 AND account_id = $2",
    )
    .bind(token)
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// Marks the approval `token` completed at `now`.
pub async fn complete(tx: &mut HeldTx<'_>, token: &str, now: Millis) -> sqlx::Result<()> {
    sqlx::query("UPDATE paypal_approvals SET completed_at = $1 WHERE token = $2")
        .bind(now)
        .bind(token)
        .execute(&mut **tx)
        .await
        .map(drop)
}
