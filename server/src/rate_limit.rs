//! Sliding-window counters kept in the database, shared by every instance.

use crate::db::Tx;

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

pub async fn record(tx: &mut Tx, scope: &str, subject: &str, at_ms: i64) -> sqlx::Result<()> {
    // Events older than a day count for nothing; drop them as we go.
    sqlx::query("DELETE FROM rate_events WHERE scope = $1 AND subject = $2 AND at < $3")
        .bind(scope)
        .bind(subject)
        .bind(at_ms - 86_400_000)
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
