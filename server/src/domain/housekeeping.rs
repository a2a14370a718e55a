//! Hourly housekeeping: rows that have served their purpose are deleted, so that tables read
//! on every request do not grow with every visitor for ever, and nothing sensitive (a pending
//! sign-up's password hash, a session) outlives its use. One recurring job, scheduled when the
//! scheduler starts; like every job it is claimed with a lease, so one instance runs each pass.

use crate::clock::{DurationMs, Millis};
use crate::db::{self, Backend};
use crate::error::ApiError;
use crate::idempotency;
use crate::queue::{Claimed, Job, JobError, Outcome, finish, schedule};
use crate::rate_limit;
use crate::state::AppState;

/// Deletes the rows that have served their purpose, every hour.
pub struct Housekeeping;

impl Job for Housekeeping {
    const KIND: &'static str = "housekeeping";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        Ok(run(state, job).await?)
    }
}
const SUBJECT: &str = "expired_rows";
pub const EVERY: DurationMs = DurationMs::hours(1);
const DAY: DurationMs = DurationMs::days(1);
/// How long a Stripe event's id is kept after it was acted on.
pub const STRIPE_EVENTS_KEEP: DurationMs = DurationMs::days(7);

/// What a pass deletes at `now`: `(table, condition on $1, $1)`.
fn sweeps(now: Millis) -> [(&'static str, &'static str, Millis); 12] {
    [
        // Past the day their answer is kept for: a retry after that runs again anyway.
        (
            "idempotency_keys",
            "created_at < $1",
            now - idempotency::KEEP,
        ),
        // Older than any window that counts them. Per subject they are also dropped when the
        // subject comes back; this reaches those that never do.
        ("rate_events", "at < $1", now - rate_limit::KEEP),
        // No request can use them any more.
        ("sessions", "expires_at < $1", now),
        // Never verified, a day after they expired: the page then says "not found" instead
        // of "expired", and the password hash is gone.
        (
            "signups",
            "account_id IS NULL AND expires_at < $1",
            now - DAY,
        ),
        // Completed, or abandoned (whoever cancels on PayPal's page never brings the token back).
        ("paypal_approvals", "expires_at < $1", now),
        // Messages a day old, whatever their status: an email is sent or has failed its last
        // try within hours, and one still pending has no way to go (SMS, or email without an
        // SMTP URL: the dev inbox) and the codes in it expired long ago. After a closure the
        // notice to the freed address is the last row to name it (SPEC §6.4).
        ("outbox", "created_at < $1", now - DAY),
        // Codes a day past their expiry, spent or not: the per-address limit counts the last
        // hour, and a day on a code is "not found" rather than "expired".
        ("verification_codes", "expires_at < $1", now - DAY),
        // Password resets a day past their hour, used or not, with the address typed.
        ("password_resets", "expires_at < $1", now - DAY),
        // Sign-ins that never got their second step.
        ("sign_in_challenges", "expires_at < $1", now),
        // Finished jobs a day on. A pending or running one is never swept: no job is abandoned.
        ("jobs", "status = 'done' AND done_at < $1", now - DAY),
        // A provider's report on a message no row named, a day on: the outbox keeps its
        // messages that long, so none of ours can still come for it.
        ("early_provider_reports", "received_at < $1", now - DAY),
        // Stripe's events a week on: Stripe redelivers an event for up to three days, each time
        // freshly signed, and only those need its id to be acted on once; an older delivery's
        // signature is refused for its age (`gateway::stripe_webhook`).
        (
            "stripe_events",
            "received_at < $1",
            now - STRIPE_EVENTS_KEEP,
        ),
    ]
}

/// Schedules the recurring pass, due now, unless it is already scheduled (it always is after
/// the first start: the job reschedules itself).
pub async fn ensure_scheduled(state: &AppState) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    schedule::<Housekeeping>(&mut tx, SUBJECT, now, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Rows one transaction of a pass deletes at most. Writers wait behind a transaction that
/// writes (on SQLite one at a time, `db::Db`), and a pass after a long outage or a large
/// batch of closures can find hundreds of thousands of rows: in chunks, a request's write
/// waits for one chunk, not for the whole pass.
pub const CHUNK: i64 = 5_000;

/// One pass: each sweep in chunks of [`CHUNK`] rows, each chunk its own transaction, then
/// the next pass's schedule. A pass cut short deletes the rest when its job runs again.
pub async fn run(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    let now = state.clock.now();
    let row = match db::backend(&state.db) {
        Backend::Sqlite => "rowid",
        Backend::Postgres => "ctid",
    };
    let mut deleted = Vec::new();
    for (table, condition, cutoff) in sweeps(now) {
        let sql = format!(
            "DELETE FROM {table} WHERE {row} IN (SELECT {row} FROM {table} WHERE {condition} LIMIT $2)"
        );
        let mut rows = 0;
        loop {
            let mut tx = db::begin_write(&state.db).await?;
            let done = sqlx::query(&sql)
                .bind(cutoff)
                .bind(CHUNK)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            rows += done;
            if done < CHUNK.unsigned_abs() {
                break;
            }
        }
        deleted.push((table, rows));
    }
    let mut tx = db::begin_write(&state.db).await?;
    finish(&mut tx, job, Outcome::Again(now + EVERY), now).await?;
    tx.commit().await?;
    tracing::info!(?deleted, "housekeeping pass");
    Ok(())
}
