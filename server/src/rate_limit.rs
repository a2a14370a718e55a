//! Sliding-window counters kept in the database, shared by every instance.

use crate::clock::{DurationMs, Millis};
use crate::db::{self, Tx};

/// Serialises `tx` with every other transaction counting one of `windows` (`(scope,
/// subject)`), until it ends: taken before reading a window that the same transaction then
/// adds to, so that requests at the same moment, on any instance, count one after the other.
/// `also` are further keys of the same check ([`db::lock_keys`] takes all at once, in order).
pub async fn lock(tx: &mut Tx, windows: &[(&str, &str)], also: &[&str]) -> sqlx::Result<()> {
    let keys: Vec<String> = windows
        .iter()
        .map(|(scope, subject)| format!("rate:{scope}:{subject}"))
        .collect();
    let mut all: Vec<&str> = keys.iter().map(String::as_str).collect();
    all.extend_from_slice(also);
    db::lock_keys(tx, &all).await
}

/// How many `scope` events `subject` had since `since`, and the oldest of them.
pub async fn window(
    tx: &mut Tx,
    scope: &str,
    subject: &str,
    since: Millis,
) -> sqlx::Result<(i64, Option<Millis>, Option<Millis>)> {
    sqlx::query_as("SELECT COUNT(*), MIN(at), MAX(at) FROM rate_events WHERE scope = $1 AND subject = $2 AND at >= $3")
        .bind(scope)
        .bind(subject)
        .bind(since)
        .fetch_one(&mut **tx)
        .await
}

/// The event count and the newest event since `since` of two `(scope, subject)` windows,
/// in one statement: for checks every request of a kind pays, such as the sign-in throttle.
/// Read in the transaction that records the request, so that requests at the same moment
/// count one after the other.
pub async fn two_windows(
    tx: &mut Tx,
    first: (&str, &str),
    second: (&str, &str),
    since: Millis,
) -> sqlx::Result<[(i64, Option<Millis>); 2]> {
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
    .bind(since)
    .fetch_one(&mut **tx)
    .await?;
    Ok([(first_count, first_last), (second_count, second_last)])
}

/// Longer than any window a limit counts (the longest is an hour): older events count for
/// nothing and are deleted, here as a subject comes back and by the housekeeping job.
pub const KEEP: DurationMs = DurationMs::days(1);

pub async fn record(tx: &mut Tx, scope: &str, subject: &str, at: Millis) -> sqlx::Result<()> {
    record_for(tx, scope, subject, at, None).await
}

/// [`record`] for an attempt whose outcome is not known yet: it counts from now, and later
/// either [`take_back`] removes it or [`settle`] lets it stand.
pub async fn record_attempt(
    tx: &mut Tx,
    scope: &str,
    subject: &str,
    at: Millis,
    attempt: &str,
) -> sqlx::Result<()> {
    record_for(tx, scope, subject, at, Some(attempt)).await
}

async fn record_for(
    tx: &mut Tx,
    scope: &str,
    subject: &str,
    at: Millis,
    attempt: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rate_events WHERE scope = $1 AND subject = $2 AND at < $3")
        .bind(scope)
        .bind(subject)
        .bind(at - KEEP)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO rate_events (scope, subject, at, attempt) VALUES ($1, $2, $3, $4)")
        .bind(scope)
        .bind(subject)
        .bind(at)
        .bind(attempt)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Removes the event [`record_attempt`] made for `attempt`: it does not count after all.
pub async fn take_back(
    tx: &mut Tx,
    scope: &str,
    subject: &str,
    at: Millis,
    attempt: &str,
) -> sqlx::Result<()> {
    on_attempt_event(tx, "DELETE FROM rate_events", scope, subject, at, attempt).await
}

/// Lets the event [`record_attempt`] made for `attempt` stand as an event like any other, which
/// [`clear`] then forgets with the rest.
pub async fn settle(
    tx: &mut Tx,
    scope: &str,
    subject: &str,
    at: Millis,
    attempt: &str,
) -> sqlx::Result<()> {
    let statement = "UPDATE rate_events SET attempt = NULL";
    on_attempt_event(tx, statement, scope, subject, at, attempt).await
}

/// Runs `statement` on the one event [`record_attempt`] made for `attempt`.
async fn on_attempt_event(
    tx: &mut Tx,
    statement: &str,
    scope: &str,
    subject: &str,
    at: Millis,
    attempt: &str,
) -> sqlx::Result<()> {
    // `at` with the scope and subject keeps this on the lookup index.
    sqlx::query(&format!(
        "{statement} WHERE scope = $1 AND subject = $2 AND at = $3 AND attempt = $4"
    ))
    .bind(scope)
    .bind(subject)
    .bind(at)
    .bind(attempt)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets `subject`'s events in `scope`, but not those of attempts still under way: their
/// outcome is not known yet, and forgetting them would let a burst past the limit.
pub async fn clear(tx: &mut Tx, scope: &str, subject: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rate_events WHERE scope = $1 AND subject = $2 AND attempt IS NULL")
        .bind(scope)
        .bind(subject)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
