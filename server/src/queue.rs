//! The job queue (STYLE 7): rows with a due time, claimed atomically with a lease, finished in
//! the same transaction as their effect, so each runs exactly once even across crashes and
//! several instances. A failed job is retried with a capped backoff until it succeeds
//! ([`retry_at`]); one that keeps failing is logged at error level and listed by
//! `account-center stuck-jobs`. Each kind of job is a type implementing [`Job`], declared next
//! to the rule it runs in `domain/`; `jobs/` dispatches claimed rows to them.

use crate::clock::{DurationMs, Millis};
use crate::db::{self, Backend, Db, HeldTx, Stored, Tx};
use crate::state::AppState;
use sqlx::pool::PoolConnection;
use sqlx::{Acquire, Any};
use std::future::Future;
use strum::{IntoStaticStr, VariantArray};

/// How long a claimed job is ours; a crash mid-job frees it after this.
pub const LEASE: DurationMs = DurationMs::minutes(1);
/// The wait before a failed job's first retry; each later wait is twice the one before, up to
/// [`MAX_RETRY_WAIT`].
const FIRST_RETRY_WAIT: DurationMs = DurationMs::seconds(5);
/// The longest wait between two tries: however long an outage lasts, a job runs again within
/// the hour after it ends.
const MAX_RETRY_WAIT: DurationMs = DurationMs::hours(1);
/// A job that has failed this many times in a row is stuck: each further failure is logged at
/// error level, and `account-center stuck-jobs` lists it. The tenth failure in a row comes
/// some 43 minutes after the first.
pub const STUCK_AFTER_ATTEMPTS: i64 = 10;
/// A job claimable for this long and still not taken is stuck too: no scheduler is running.
pub const STUCK_OVERDUE: DurationMs = DurationMs::minutes(15);

/// A kind of job: its name in the `jobs` table, and what running one does. `run` ends the job
/// with [`finish`] in the transaction that made its effect; an error leaves it to be retried.
pub trait Job {
    const KIND: &'static str;
    fn run(state: &AppState, job: &Claimed) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// Why a job's run failed; the job is retried ([`retry_later`]).
#[derive(Debug)]
pub struct JobError(anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for JobError {
    fn from(e: E) -> Self {
        JobError(e.into())
    }
}

impl JobError {
    pub fn into_inner(self) -> anyhow::Error {
        self.0
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

/// Where a job stands: `jobs.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for its due time, or for a retry.
    Pending,
    /// Claimed under a lease.
    Running,
    Done,
    /// Abandoned by an older version, before the migration that gives those back to the
    /// scheduler.
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    /// A [`Job::KIND`], matched by the scheduler's one dispatch. Kept as the stored text, not
    /// decoded into an enum here: during a rolling upgrade an instance may claim a kind only a
    /// newer version knows, and that must fail as that one job's try (retried, and listed by
    /// `stuck-jobs` if it keeps failing), not as every claim of every instance.
    pub kind: String,
    pub subject: String,
    pub attempts: i64,
}

/// What a finished job leaves behind.
pub enum Outcome {
    Done,
    /// Run again at this time (a recurring job).
    Again(Millis),
}

/// Schedules a job of kind `J` for `subject` at `due_at`. A job of the same kind and subject
/// that is already scheduled keeps its row: scheduling twice is harmless.
pub async fn schedule<J: Job>(
    tx: &mut Tx,
    subject: &str,
    due_at: Millis,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, subject, due_at, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind, subject) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(J::KIND)
    .bind(subject)
    .bind(due_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// [`schedule`] for many subjects with one statement: what a batch (a closure decision's
/// notices, say) uses instead of a statement per job. The rows travel as one JSON parameter.
pub async fn schedule_many<J: Job>(
    tx: &mut HeldTx<'_>,
    subjects: &[&str],
    due_at: Millis,
    now: Millis,
) -> sqlx::Result<()> {
    if subjects.is_empty() {
        return Ok(());
    }
    let rows: Vec<[String; 2]> = subjects
        .iter()
        .map(|s| [uuid::Uuid::new_v4().to_string(), (*s).to_owned()])
        .collect();
    let rows = serde_json::to_string(&rows).map_err(|e| sqlx::Error::Encode(e.into()))?;
    // `WHERE true`: without it SQLite reads `ON CONFLICT` as a join's `ON`.
    let sql = format!(
        "INSERT INTO jobs (id, kind, subject, due_at, created_at)
         SELECT j.value ->> 0, $1, j.value ->> 1, $2, $3 FROM {} WHERE true
         ON CONFLICT (kind, subject) DO NOTHING",
        db::json_table(Backend::of(tx), 4, "j", db::JsonList::Rows)
    );
    sqlx::query(&sql)
        .bind(J::KIND)
        .bind(due_at)
        .bind(now)
        .bind(rows)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Marks `job` finished inside the transaction that made its effect.
pub async fn finish(
    tx: &mut HeldTx<'_>,
    job: &Claimed,
    outcome: Outcome,
    now: Millis,
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
            // A time already past is stored as now: the job is due either way, but `claim`
            // takes the oldest due time first, so a job catching up (an hour of usage billed
            // per run after the scheduler was down for days) would otherwise be taken again
            // and again ahead of every job already waiting (a code's delivery, a refund), and
            // be listed as stuck while it runs.
            sqlx::query("UPDATE jobs SET status = 'pending', due_at = $1, attempts = 0, lease_until = NULL WHERE id = $2")
                .bind(due_at.max(now))
                .bind(&job.id)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Marks the jobs `ids` finished, in one statement, inside the transaction that made their
/// effects.
pub async fn finish_all<'a>(
    tx: &mut HeldTx<'_>,
    ids: impl IntoIterator<Item = &'a str>,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "UPDATE jobs SET status = 'done', done_at = $1, lease_until = NULL WHERE id IN {}",
        db::in_json(Backend::of(tx), 2)
    ))
    .bind(now)
    .bind(db::json_texts(ids))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks the job of kind `J` for `subject` done, inside the transaction that made it needless.
pub async fn done<J: Job>(tx: &mut HeldTx<'_>, subject: &str, now: Millis) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'done', done_at = $1, lease_until = NULL WHERE kind = $2 AND subject = $3 AND status IN ('pending', 'running')",
    )
    .bind(now)
    .bind(J::KIND)
    .bind(subject)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves the pending job of kind `J` for `subject` to `due_at`, earlier or later: for when what
/// it waits for moved (an expiry brought forward by a cancelled renewal, a charge to return
/// now). A running job reads its subject afresh anyway.
pub async fn move_to<J: Job>(
    tx: &mut HeldTx<'_>,
    subject: &str,
    due_at: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET due_at = $1 WHERE kind = $2 AND subject = $3 AND status = 'pending'",
    )
    .bind(due_at)
    .bind(J::KIND)
    .bind(subject)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Claims the oldest due job: pending and due, or running with an expired lease. The claim is
/// its own short transaction; the lease keeps other instances off the job until it expires.
pub(crate) async fn claim(state: &AppState) -> sqlx::Result<Option<Claimed>> {
    let now = state.clock.now();
    let job: Option<Claimed> = match db::backend(&state.db) {
        // The write lock of BEGIN IMMEDIATE makes the pick and the update one step.
        Backend::Sqlite => {
            let mut tx = db::begin_write(&state.db).await?;
            let job = sqlx::query_as(&claim_sql(""))
                .bind(now + LEASE)
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
                .bind(now + LEASE)
                .bind(now)
                .fetch_optional(state.db.writer())
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
pub(crate) async fn claim_batch<J: Job>(
    state: &AppState,
    conn: &mut PoolConnection<Any>,
    limit: i64,
) -> sqlx::Result<Vec<Claimed>> {
    let now = state.clock.now();
    // As in `claim`: SQLite's write lock, or PostgreSQL's skipping of rows another instance
    // is claiming.
    let (mut tx, lock) = match db::backend(&state.db) {
        Backend::Sqlite => (db::begin_write_on(&state.db, conn).await?, ""),
        Backend::Postgres => (conn.begin().await?, "FOR UPDATE SKIP LOCKED"),
    };
    let mut jobs: Vec<Claimed> = Vec::new();
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
        let claimed: Vec<Claimed> = sqlx::query_as(&sql)
            .bind(now + LEASE)
            .bind(J::KIND)
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
pub fn retry_at(attempts: i64, now: Millis) -> Millis {
    // 5 s doubled 20 times is far past the cap; the bound only keeps the shift in range.
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    now + (FIRST_RETRY_WAIT * (1 << doublings)).min(MAX_RETRY_WAIT)
}

/// Records a failed attempt of `job` inside `tx`: pending again at [`retry_at`], with the
/// error kept for `stuck-jobs`. Only the claim that failed is touched: a job that finished
/// before the error (its effect committed, a later step failed) or that another instance took
/// after our lease ran out keeps its row. Every path that runs jobs ends a failure here.
pub async fn retry_later(
    tx: &mut HeldTx<'_>,
    job: &Claimed,
    error: &(dyn std::fmt::Display + Sync),
    now: Millis,
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
fn log_failure(job: &Claimed, error: &(dyn std::fmt::Display + Sync), wait: DurationMs) {
    let retry_in_s = wait.as_secs();
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

/// A job an operator should look at (`jobs::stuck_table` lists them).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StuckJob {
    pub id: String,
    pub kind: String,
    pub subject: String,
    /// Pending, running, or failed (a row an older version abandoned).
    pub status: Stored<JobStatus>,
    /// Failed tries in a row, counting a try under way.
    pub attempts: i64,
    /// When the scheduler may take it next: its due time, or the end of a running try's lease.
    pub due_at: Millis,
    pub last_error: Option<String>,
}

/// The stuck jobs at `now`, those that failed most often first: [`STUCK_AFTER_ATTEMPTS`]
/// failures in a row or more, or claimable for [`STUCK_OVERDUE`] and still not taken.
pub async fn stuck(db: &Db, now: Millis) -> sqlx::Result<Vec<StuckJob>> {
    sqlx::query_as(
        "SELECT id, kind, subject, status, attempts, COALESCE(lease_until, due_at) AS due_at, last_error
         FROM jobs
         WHERE status IN ('pending', 'running', 'failed')
           AND (attempts >= $1 OR COALESCE(lease_until, due_at) <= $2)
         ORDER BY attempts DESC, due_at, id",
    )
    .bind(STUCK_AFTER_ATTEMPTS)
    .bind(now - STUCK_OVERDUE)
    .fetch_all(db)
    .await
}

/// The jobs claimable at `now`, by kind: how many, and since when the oldest has been.
/// `jobs_due` (status, due_at) finds both halves; a claimable job's due time is as [`stuck`]
/// reads it: a running job whose lease ran out is due since its lease's end.
pub async fn claimable_by_kind(db: &Db, now: Millis) -> sqlx::Result<Vec<(String, i64, Millis)>> {
    sqlx::query_as(
        "SELECT kind, COUNT(*), MIN(COALESCE(lease_until, due_at)) FROM jobs
         WHERE (status = 'pending' AND due_at <= $1) OR (status = 'running' AND lease_until <= $1)
         GROUP BY kind",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The waits, in seconds, after each of `failures` failures in a row.
    fn waits(failures: i64) -> Vec<i64> {
        let now = Millis(1_700_000_000_000);
        (1..=failures)
            .map(|attempts| (retry_at(attempts, now) - now).as_secs())
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
            assert_eq!(
                retry_at(attempts, Millis(0)) - Millis(0),
                MAX_RETRY_WAIT,
                "{attempts}"
            );
        }
    }
}
