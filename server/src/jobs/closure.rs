//! The closure's jobs: the system check that reports progress, and the decision when the
//! cool-down ends ([`decision`]). A decision and its job's completion share one transaction,
//! so a crash or a second instance never decides twice.

use super::{Job, Outcome, finish, retry_later};
use crate::db::{self, Backend, HeldTx};
use crate::domain::closure::{self, decision, decision::Decision};
use crate::error::ApiError;
use crate::state::AppState;
use sqlx::Any;
use sqlx::pool::PoolConnection;

pub const CHECK_KIND: &str = "closure_system_check";
pub const DECIDE_KIND: &str = "closure_decide";

pub async fn run_system_check(state: &AppState, job: &Job) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    let outcome = match closure::advance_system_check(state, &mut tx, &job.subject, now).await? {
        Some(next) => Outcome::Again(next),
        None => Outcome::Done,
    };
    finish(&mut tx, job, outcome, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn decide(state: &AppState, job: &Job) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    decide_jobs(&mut tx, std::slice::from_ref(job), now).await?;
    crash_if_asked(state);
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(())
}

/// Decides a batch of claimed decisions in one transaction: one commit (one fsync) for the
/// batch instead of one per account. Each job still finishes in the transaction that made its
/// effect, so none is decided twice. Should anything in the batch fail, it is decided again
/// one job at a time, each in its own savepoint, so only the job at fault waits for a retry
/// (with the usual backoff).
pub async fn decide_batch(
    state: &AppState,
    conn: &mut PoolConnection<Any>,
    batch: &[Job],
) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let mut tx = db::begin_write_on(&state.db, conn).await?;
    if let Err(e) = decide_jobs(&mut tx, batch, now).await {
        tracing::warn!(error = %e, "batched closure decisions failed; deciding them one by one");
        tx.rollback().await?;
        let mut tx = db::begin_write_on(&state.db, conn).await?;
        decide_one_by_one(&mut tx, batch, now).await?;
        crash_if_asked(state);
        tx.commit().await?;
    } else {
        crash_if_asked(state);
        tx.commit().await?;
    }
    state.outbox_wake.notify_one();
    Ok(())
}

/// The decisions of `batch`, and each job's completion, inside `tx`: the jobs whose closure was
/// decided (or needs none) finish with one statement, those waiting for money run again later.
async fn decide_jobs(tx: &mut HeldTx<'_>, batch: &[Job], now: i64) -> Result<(), ApiError> {
    let ids: Vec<&str> = batch.iter().map(|job| job.subject.as_str()).collect();
    let decisions = decision::decide(tx, &ids, now).await?;
    let mut finished = Vec::with_capacity(batch.len());
    for job in batch {
        match decisions.get(&job.subject) {
            Some(Decision::Wait(until)) => finish(tx, job, Outcome::Again(*until), now).await?,
            _ => finished.push(job.id.as_str()),
        }
    }
    sqlx::query(&format!(
        "UPDATE jobs SET status = 'done', done_at = $1, lease_until = NULL WHERE id IN {}",
        db::in_json(Backend::of(tx), 2)
    ))
    .bind(now)
    .bind(db::json_texts(finished))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn decide_one_by_one(tx: &mut HeldTx<'_>, batch: &[Job], now: i64) -> Result<(), ApiError> {
    for job in batch {
        sqlx::query("SAVEPOINT closure_decision")
            .execute(&mut **tx)
            .await?;
        match decide_jobs(tx, std::slice::from_ref(job), now).await {
            Ok(()) => {
                sqlx::query("RELEASE closure_decision")
                    .execute(&mut **tx)
                    .await?;
            }
            Err(e) => {
                sqlx::query("ROLLBACK TO closure_decision")
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("RELEASE closure_decision")
                    .execute(&mut **tx)
                    .await?;
                retry_later(tx, job, &e, now).await?;
            }
        }
    }
    Ok(())
}

fn crash_if_asked(state: &AppState) {
    if state.config.is_dev() && state.config.crash_at.as_deref() == Some("closure_decide") {
        tracing::warn!("crash test: aborting inside the closure decision, before its commit");
        std::process::abort();
    }
}
