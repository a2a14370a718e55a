//! `two_step`: an account's authenticator secret (sealed), set up and waiting for its first
//! code (`enabled_at` NULL) or on, with the last time step whose code was taken.

use crate::clock::Millis;
use crate::db::HeldTx;
use sqlx::{Any, Executor};

#[derive(sqlx::FromRow)]
pub struct TwoStepRow {
    pub secret_sealed: String,
    pub enabled_at: Option<Millis>,
    pub last_step: i64,
}

pub async fn find(tx: &mut HeldTx<'_>, account_id: &str) -> sqlx::Result<Option<TwoStepRow>> {
    sqlx::query_as(
        "SELECT secret_sealed, enabled_at, last_step FROM two_step WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await
}

/// When two-step verification was turned on, if it is on.
pub async fn enabled_at(
    ex: impl Executor<'_, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Option<Millis>> {
    sqlx::query_scalar(
        "SELECT enabled_at FROM two_step WHERE account_id = $1 AND enabled_at IS NOT NULL",
    )
    .bind(account_id)
    .fetch_optional(ex)
    .await
}

/// Inserts a set-up waiting for its first code.
pub async fn insert_pending(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    secret_sealed: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO two_step (account_id, secret_sealed, created_at, last_step) VALUES ($1, $2, $3, 0)",
    )
    .bind(account_id)
    .bind(secret_sealed)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Turns it on at `now`, the code of `step` taken.
pub async fn enable(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    now: Millis,
    step: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE two_step SET enabled_at = $1, last_step = $2 WHERE account_id = $3")
        .bind(now)
        .bind(step)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The code of `step` was taken: none of it or an older step is taken again.
pub async fn set_last_step(tx: &mut HeldTx<'_>, account_id: &str, step: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE two_step SET last_step = $1 WHERE account_id = $2")
        .bind(step)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn delete(tx: &mut HeldTx<'_>, account_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM two_step WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
