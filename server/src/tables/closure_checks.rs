//! `closure_checks`: the system check an account runs before confirming its closure, `running`
//! a step at a time until `done` with its result.

use crate::clock::Millis;
use crate::db::{Db, HeldTx, Stored};
use crate::ids::SystemCheckId;
use shared::api::SystemCheckStatus;

/// A new check, `running` from no progress.
pub async fn insert(
    tx: &mut HeldTx<'_>,
    id: &SystemCheckId,
    account_id: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO closure_checks (id, account_id, progress, status, created_at) VALUES ($1, $2, 0, $3, $4)")
        .bind(id)
        .bind(account_id)
        .bind(SystemCheckStatus::Running.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// The account's check: its progress, status and result (the closure check's JSON).
pub async fn get(
    db: &Db,
    id: &SystemCheckId,
    account_id: &str,
) -> sqlx::Result<Option<(i64, SystemCheckStatus, Option<String>)>> {
    let found: Option<(i64, Stored<SystemCheckStatus>, Option<String>)> = sqlx::query_as(
        "SELECT progress, status, result FROM closure_checks WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await?;
    Ok(found.map(|(progress, Stored(status), result)| (progress, status, result)))
}

/// When the account's check was done; `None` when it is not done, or not the account's.
pub async fn done_at(db: &Db, id: &str, account_id: &str) -> sqlx::Result<Option<Millis>> {
    let done: Option<Option<Millis>> = sqlx::query_scalar(
        "SELECT done_at FROM closure_checks WHERE id = $1 AND account_id = $2 AND status = $3",
    )
    .bind(id)
    .bind(account_id)
    .bind(SystemCheckStatus::Done.as_str())
    .fetch_optional(db)
    .await?;
    Ok(done.flatten())
}

pub async fn account_of(tx: &mut HeldTx<'_>, id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT account_id FROM closure_checks WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// The progress of a check still running.
pub async fn running_progress(tx: &mut HeldTx<'_>, id: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT progress FROM closure_checks WHERE id = $1 AND status = $2")
        .bind(id)
        .bind(SystemCheckStatus::Running.as_str())
        .fetch_optional(&mut **tx)
        .await
}

/// Moves the check to `progress`; with a `result` it is done at `now`.
pub async fn advance(
    tx: &mut HeldTx<'_>,
    id: &str,
    progress: i64,
    result: Option<&str>,
    now: Millis,
) -> sqlx::Result<()> {
    let status = match result {
        Some(_) => SystemCheckStatus::Done,
        None => SystemCheckStatus::Running,
    };
    sqlx::query(
        "UPDATE closure_checks SET progress = $1, status = $2, result = $3, done_at = $4 WHERE id = $5",
    )
    .bind(progress)
    .bind(status.as_str())
    .bind(result)
    .bind(result.map(|_| now))
    .bind(id)
    .execute(&mut **tx)
    .await
    .map(drop)
}
