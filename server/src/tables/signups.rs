//! `signups`: a sign-up waiting for its code. Once verified it names its account and forgets
//! its password hash; housekeeping deletes those never verified.

use crate::clock::Millis;
use crate::db::{HeldTx, Stored};
use shared::country::Country;

/// A sign-up as the form made it.
#[derive(sqlx::FromRow)]
pub struct Pending {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub country: Stored<Country>,
    pub expires_at: Millis,
    /// Set once verified: the account it made.
    pub account_id: Option<String>,
}

/// Inserts `pending`, made at `now`.
pub async fn insert(tx: &mut HeldTx<'_>, pending: &Pending, now: Millis) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO signups (id, email, password_hash, country, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&pending.id)
    .bind(&pending.email)
    .bind(&pending.password_hash)
    .bind(pending.country.0.code())
    .bind(now)
    .bind(pending.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn find(tx: &mut HeldTx<'_>, id: &str) -> sqlx::Result<Option<Pending>> {
    sqlx::query_as(
        "SELECT id, email, password_hash, country, expires_at, account_id FROM signups WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// The sign-up made `account_id`: its password hash is no longer kept.
pub async fn mark_verified(tx: &mut HeldTx<'_>, id: &str, account_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE signups SET account_id = $1, password_hash = '' WHERE id = $2")
        .bind(account_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
