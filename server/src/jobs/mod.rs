//! Timed jobs (STYLE 7): rows with a due time, claimed atomically with a lease, finished in the
//! same transaction as their effect, so each runs exactly once even across crashes and
//! several instances. The scheduler catches up on start: whatever fell due while the server
//! was down runs at once. A failed job is retried with a capped backoff until it succeeds
//! ([`retry_at`]); one that keeps failing is logged at error level and listed by [`stuck`].

pub mod bill;
pub mod closure;
pub mod expiry;
pub mod housekeeping;
pub mod refund;
mod stuck;
pub mod usage;

pub use stuck::{StuckJob, stuck, stuck_table};

use crate::db::{self, Backend, HeldTx, Tx};
use crate::domain::{intent, withdrawal};
use crate::error::ApiError;
use crate::state::AppState;
use sqlx::pool::PoolConnection;
use sqlx::{Acquire, Any};
use std::time::Duration;

/// How long a claimed job is ours; a crash mid-job frees it after this.
const LEASE_MS: i64 = 60_000;
/// The wait before a failed job's first retry; each later wait is twice the one before, up to
/// [`MAX_RETRY_WAIT_MS`].
const FIRST_RETRY_WAIT_MS: i64 = 5_000;
/// The longest wait between two tries: however long an outage lasts, a job runs again within
/// the hour after it ends.
const MAX_RETRY_WAIT_MS: i64 = 3_600_000;
/// A job that has failed this many times in a row is stuck: each further failure is logged at
/// error level, and `account-center stuck-jobs` lists it. The tenth failure in a row comes
/// some 43 minutes after the first.
pub const STUCK_AFTER_ATTEMPTS: i64 = 10;
/// A job claimable for this long and still not taken is stuck too: no scheduler is running.
pub const STUCK_OVERDUE_MS: i64 = 15 * 60_000;
/// Closure decisions claimed and decided together, in one transaction (see
/// [`closure::decide_batch`]). Each commit of a batch this size writes and syncs some
/// thousands of pages (and, on SQLite, checkpoints the WAL): at 500 the commits were a third
/// of the time of 100,000 decisions; at 2,000 a batch still takes well under a second, far
/// inside the lease.
const CLOSURE_BATCH: i64 = 2_000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub attempts: i64,
}

/// What a finished job leaves behind.
pub enum Outcome {
    Done,
    /// Run again at this time (a recurring job).
    Again(i64),
}

/// Schedules `kind` for `subject` at `due_at`. A job of the same kind and subject that is
/// already scheduled keeps its row: scheduling twice is harmless.
pub async fn schedule(
    tx: &mut Tx,
    kind: &str,
    subject: &str,
    due_at: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, subject, due_at, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind, subject) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(kind)
    .bind(subject)
    .bind(due_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks `job` finished inside the transaction that made its effect.
pub async fn finish(
    tx: &mut HeldTx<'_>,
    job: &Job,
    outcome: Outcome,
    now: i64,
) -> sqlx::Result<()> {
    match outcome {
        Outcome::Done => {
            sqlx::query(
                "UPDATE jobs SET status = 'done', done_at = $1, lease_until = NULL WHERE id = $2",
            )
            .bind(now)
            .bind(&job.id)
            .execute(&mut **tx)
            .await?;
        }
        Outcome::Again(due_at) => {
            sqlx::query("UPDATE jobs SET status = 'pending', due_at = $1, attempts = 0, lease_until = NULL WHERE id = $2")
                .bind(due_at)
                .bind(&job.id)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Marks the job of `kind` for `subject` done, inside the transaction that made it needless.
pub async fn done(tx: &mut HeldTx<'_>, kind: &str, subject: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'done', done_at = $1, lease_until = NULL WHERE kind = $2 AND subject = $3 AND status IN ('pending', 'running')",
    )
    .bind(now)
    .bind(kind)
    .bind(subject)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves the pending job of `kind` for `subject` to `due_at`, earlier or later: for when what
/// it waits for moved (an expiry brought forward by a cancelled renewal, a charge to return
/// now). A running job reads its subject afresh anyway.
pub async fn move_to(
    tx: &mut HeldTx<'_>,
    kind: &str,
    subject: &str,
    due_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET due_at = $1 WHERE kind = $2 AND subject = $3 AND status = 'pending'",
    )
    .bind(due_at)
    .bind(kind)
    .bind(subject)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Claims the oldest due job: pending and due, or running with an expired lease. The claim is
/// its own short transaction; the lease keeps other instances off the job until it expires.
async fn claim(state: &AppState) -> Result<Option<Job>, ApiError> {
    let now = state.clock.now_ms();
    let job: Option<Job> = match db::backend(&state.db) {
        // The write lock of BEGIN IMMEDIATE makes the pick and the update one step.
        Backend::Sqlite => {
            let mut tx = db::begin_write(&state.db).await?;
            let job = sqlx::query_as(&claim_sql(""))
                .bind(now + LEASE_MS)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            job
        }
        // Instances claiming at once each skip the rows another has locked, instead of
        // queueing behind it or taking the same job.
        Backend::Postgres => {
            sqlx::query_as(&claim_sql("FOR UPDATE SKIP LOCKED"))
                .bind(now + LEASE_MS)
                .bind(now)
                .fetch_optional(&state.db)
                .await?
        }
    };
    Ok(job)
}

fn claim_sql(lock: &str) -> String {
    format!(
        "UPDATE jobs SET status = 'running', lease_until = $1, attempts = attempts + 1
         WHERE id = (SELECT id FROM jobs
                     WHERE (status = 'pending' AND due_at <= $2) OR (status = 'running' AND lease_until <= $2)
                     ORDER BY due_at LIMIT 1 {lock})
         RETURNING id, kind, subject, attempts"
    )
}

/// Claims up to `limit` due jobs of `kind` at once, leased like [`claim`]'s: first those whose
/// lease ran out (a crashed run), then pending ones, oldest first. Two ordered range reads of
/// `jobs_kind_due` rather than one `OR`, which sorted every job of the kind at each claim.
async fn claim_batch(
    state: &AppState,
    conn: &mut PoolConnection<Any>,
    kind: &str,
    limit: i64,
) -> Result<Vec<Job>, ApiError> {
    let now = state.clock.now_ms();
    // As in `claim`: SQLite's write lock, or PostgreSQL's skipping of rows another instance
    // is claiming.
    let (mut tx, lock) = match db::backend(&state.db) {
        Backend::Sqlite => (db::begin_write_on(&state.db, conn).await?, ""),
        Backend::Postgres => (conn.begin().await?, "FOR UPDATE SKIP LOCKED"),
    };
    let mut jobs: Vec<Job> = Vec::new();
    for due in [
        "status = 'running' AND lease_until <= $3 ORDER BY lease_until",
        "status = 'pending' AND due_at <= $3 ORDER BY due_at",
    ] {
        let left = limit - jobs.len() as i64;
        if left <= 0 {
            break;
        }
        let sql = format!(
            "UPDATE jobs SET status = 'running', lease_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM jobs WHERE kind = $2 AND {due} LIMIT $4 {lock})
             RETURNING id, kind, subject, attempts"
        );
        let claimed: Vec<Job> = sqlx::query_as(&sql)
            .bind(now + LEASE_MS)
            .bind(kind)
            .bind(now)
            .bind(left)
            .fetch_all(&mut *tx)
            .await?;
        jobs.extend(claimed);
    }
    tx.commit().await?;
    Ok(jobs)
}

/// When a job that has just failed its `attempts`-th try in a row runs again: 5 s after the
/// first failure, then twice as long after each one, never more than an hour later. There is
/// no last try: a job that moves money or decides a closure must end done (SPEC §9), and so
/// must the others (a recurring job abandoned once never runs again).
pub fn retry_at(attempts: i64, now: i64) -> i64 {
    // 5 s doubled 20 times is far past the cap; the bound only keeps the shift in range.
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    now + (FIRST_RETRY_WAIT_MS << doublings).min(MAX_RETRY_WAIT_MS)
}

/// Records a failed attempt of `job` inside `tx`: pending again at [`retry_at`], with the
/// error kept for `stuck-jobs`. Only the claim that failed is touched: a job that finished
/// before the error (its effect committed, a later step failed) or that another instance took
/// after our lease ran out keeps its row. Every path that runs jobs ends a failure here.
pub async fn retry_later(
    tx: &mut HeldTx<'_>,
    job: &Job,
    error: &ApiError,
    now: i64,
) -> sqlx::Result<()> {
    let retry_at = retry_at(job.attempts, now);
    log_failure(job, error, retry_at - now);
    sqlx::query(
        "UPDATE jobs SET status = 'pending', due_at = $1, lease_until = NULL, last_error = $2
         WHERE id = $3 AND status = 'running' AND attempts = $4",
    )
    .bind(retry_at)
    .bind(error.to_string())
    .bind(&job.id)
    .bind(job.attempts)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A failure is a warning until the job is stuck, then an error each time, for whoever
/// watches the logs: money or a closure is waiting on it.
fn log_failure(job: &Job, error: &ApiError, wait_ms: i64) {
    let retry_in_s = wait_ms / 1_000;
    if job.attempts >= STUCK_AFTER_ATTEMPTS {
        tracing::error!(
            job = %job.id, kind = %job.kind, subject = %job.subject, attempts = job.attempts,
            retry_in_s, error = %error,
            "job stuck: failed again; it will be retried (`account-center stuck-jobs` lists stuck jobs)"
        );
    } else {
        tracing::warn!(
            job = %job.id, kind = %job.kind, subject = %job.subject, attempts = job.attempts,
            retry_in_s, error = %error,
            "job failed; it will be retried"
        );
    }
}

async fn run(state: &AppState, job: &Job) -> Result<(), ApiError> {
    match job.kind.as_str() {
        refund::KIND => refund::settle(state, job).await,
        bill::KIND => bill::charge(state, job).await,
        usage::KIND => usage::bill(state, job).await,
        expiry::KIND => expiry::run(state, job).await,
        housekeeping::KIND => housekeeping::run(state, job).await,
        closure::CHECK_KIND => closure::run_system_check(state, job).await,
        closure::DECIDE_KIND => closure::decide(state, job).await,
        intent::KIND => intent::reconcile(state, job).await,
        withdrawal::KIND => withdrawal::pay_out(state, job).await,
        other => Err(ApiError::Internal(anyhow::anyhow!(
            "unknown job kind {other}"
        ))),
    }
}

/// Claims and decides closure decisions in batches until none is due; returns how many.
async fn decide_closures(
    state: &AppState,
    conn: &mut PoolConnection<Any>,
) -> Result<usize, ApiError> {
    let mut ran = 0;
    loop {
        let batch = claim_batch(state, conn, closure::DECIDE_KIND, CLOSURE_BATCH).await?;
        if batch.is_empty() {
            return Ok(ran);
        }
        ran += batch.len();
        if let Err(e) = closure::decide_batch(state, conn, &batch).await {
            // Nothing of the batch was committed: each job is retried later, like any job.
            tracing::warn!(error = %e, jobs = batch.len(), "a batch of closure decisions failed");
            let now = state.clock.now_ms();
            let mut tx = db::begin_write_on(&state.db, conn).await?;
            for job in &batch {
                retry_later(&mut tx, job, &e, now).await?;
            }
            tx.commit().await?;
        }
    }
}

/// Runs every job that is due now; returns how many ran.
pub async fn run_due(state: &AppState) -> Result<usize, ApiError> {
    // One connection for every batch's claim and decision, see `db::begin_write_on`.
    let mut conn = state.db.acquire().await?;
    let decided = decide_closures(state, &mut conn).await;
    drop(conn);
    let mut ran = decided?;
    while let Some(job) = claim(state).await? {
        ran += 1;
        if let Err(e) = run(state, &job).await {
            let mut tx = db::begin_write(&state.db).await?;
            retry_later(&mut tx, &job, &e, state.clock.now_ms()).await?;
            tx.commit().await?;
        }
    }
    Ok(ran)
}

/// Runs due jobs once a second until the process ends.
pub async fn run_scheduler(state: AppState) {
    if let Err(e) = housekeeping::ensure_scheduled(&state).await {
        tracing::warn!(error = %e, "could not schedule housekeeping; the next start will");
    }
    loop {
        if let Err(e) = run_due(&state).await {
            tracing::warn!(error = %e, "job scheduler pass failed");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The waits, in seconds, after each of `failures` failures in a row.
    fn waits(failures: i64) -> Vec<i64> {
        let now = 1_700_000_000_000;
        (1..=failures)
            .map(|attempts| (retry_at(attempts, now) - now) / 1_000)
            .collect()
    }

    #[test]
    fn a_retry_waits_5_seconds_then_twice_as_long_each_time_up_to_an_hour() {
        assert_eq!(
            waits(13),
            [
                5, 10, 20, 40, 80, 160, 320, 640, 1_280, 2_560, 3_600, 3_600, 3_600
            ]
        );
    }

    #[test]
    fn a_job_that_never_stops_failing_is_still_retried_every_hour() {
        for attempts in [11, 50, 64, 1_000, i64::from(i32::MAX), i64::MAX] {
            assert_eq!(retry_at(attempts, 0), MAX_RETRY_WAIT_MS, "{attempts}");
        }
    }
}
