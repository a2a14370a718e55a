//! Sliding-window counters kept in the database, shared by every instance.

use crate::db::{Db, Tx};

/// How many `scope` events `subject` had since `since_ms`, and the oldest of them.
pub async fn window(
    tx: &mut Tx,
    scope: &str,
    subject: &str,
    since_ms: i64,
) -> sqlx::Result<(i64, Option<i64>, Option<i64>)> {
    sqlx::query_as("SELECT COUNT(*), MIN(at), MAX(at) FROM rate_events WHERE scope = $1 AND subject = $2 AND at >= $3")
        .bind(scope)
        .bind(subject)
        .bind(since_ms)
        .fetch_one(&mut **tx)
        .await
}

/// The event count and the newest event since `since_ms` of two `(scope, subject)` windows,
/// in one statement: for checks every request of a kind pays, such as the sign-in throttle.
pub async fn two_windows(
    db: &Db,
    first: (&str, &str),
    second: (&str, &str),
    since_ms: i64,
) -> sqlx::Result<[(i64, Option<i64>); 2]> {
    let (first_count, first_last, second_count, second_last) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM rate_events WHERE scope = $1 AND subject = $2 AND at >= $5),
                (SELECT MAX(at) FROM rate_events WHERE scope = $1 AND subject = $2 AND at >= $5),
                (SELECT COUNT(*) FROM rate_events WHERE scope = $3 AND subject = $4 AND at >= $5),
                (SELECT MAX(at) FROM rate_events WHERE scope = $3 AND subject = $4 AND at >= $5)",
    )
    .bind(first.0)
    .bind(first.1)
    .bind(second.0)
    .bind(second.1)
    .bind(since_ms)
    .fetch_one(db)
    .await?;
    Ok([(first_count, first_last), (second_count, second_last)])
}

/// Longer than any window a limit counts (the longest is an hour): older events count for
/// nothing and are deleted, here as a subject comes back and by the housekeeping job.
pub const KEEP_MS: i64 = 86_400_000;

pub async fn record(tx: &mut Tx, scope: &str, subject: &str, at_ms: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rate_events WHERE scope = $1 AND subject = $2 AND at < $3")
        .bind(scope)
        .bind(subject)
        .bind(at_ms - KEEP_MS)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO rate_events (scope, subject, at) VALUES ($1, $2, $3)")
        .bind(scope)
        .bind(subject)
        .bind(at_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn clear(tx: &mut Tx, scope: &str, subject: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rate_events WHERE scope = $1 AND subject = $2")
        .bind(scope)
        .bind(subject)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
