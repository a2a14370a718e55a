//! The scheduler: claims due jobs from the [`queue`](crate::queue) and hands each to its kind's
//! [`Job::run`], declared in `domain/` next to the rule it applies, the way `routes/` hands
//! requests to the domain. It catches up on start: whatever fell due while the server was down
//! runs at once. Closure decisions are claimed and decided in batches.

mod stuck;

pub use stuck::stuck_table;

use crate::db;
use crate::domain::bills::ChargeBill;
use crate::domain::closure::decision::{self, DecideClosure};
use crate::domain::closure::system_check::AdvanceSystemCheck;
use crate::domain::expiry::Expire;
use crate::domain::housekeeping::{self, Housekeeping};
use crate::domain::intent::Reconcile;
use crate::domain::refund::SettleRefund;
use crate::domain::usage::BillUsage;
use crate::domain::withdrawal::PayOut;
use crate::notify::Deliver;
use crate::queue::{self, Claimed, Job, JobError, retry_later};
use crate::state::AppState;
use sqlx::Any;
use sqlx::pool::PoolConnection;
use std::time::Duration;

/// Closure decisions claimed and decided together, in one transaction (see
/// [`decision::decide_batch`]). Each commit of a batch this size writes and syncs some
/// thousands of pages (and, on SQLite, checkpoints the WAL): at 500 the commits were a third
/// of the time of 100,000 decisions; at 2,000 a batch still takes well under a second, far
/// inside the lease.
const CLOSURE_BATCH: i64 = 2_000;

/// Every kind of job, for [`run`] and for the tests that check each kind is known.
macro_rules! each_kind {
    ($then:ident) => {
        $then!(
            SettleRefund,
            ChargeBill,
            BillUsage,
            Expire,
            Housekeeping,
            AdvanceSystemCheck,
            DecideClosure,
            Reconcile,
            PayOut,
            Deliver
        )
    };
}

/// Runs a claimed job by its kind.
async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
    macro_rules! dispatch {
        ($($kind:ty),*) => {
            match job.kind.as_str() {
                $(<$kind as Job>::KIND => <$kind as Job>::run(state, job).await,)*
                other => Err(anyhow::anyhow!("unknown job kind {other}").into()),
            }
        };
    }
    each_kind!(dispatch)
}

/// The name of every kind of job.
pub fn kinds() -> Vec<&'static str> {
    macro_rules! names {
        ($($kind:ty),*) => { vec![$(<$kind as Job>::KIND),*] };
    }
    each_kind!(names)
}

/// Claims and decides closure decisions in batches until none is due; returns how many.
async fn decide_closures(
    state: &AppState,
    conn: &mut PoolConnection<Any>,
) -> Result<usize, JobError> {
    let mut ran = 0;
    loop {
        let batch = queue::claim_batch::<DecideClosure>(state, conn, CLOSURE_BATCH).await?;
        if batch.is_empty() {
            return Ok(ran);
        }
        ran += batch.len();
        if let Err(e) = decision::decide_batch(state, conn, &batch).await {
            // Nothing of the batch was committed: each job is retried later, like any job.
            tracing::warn!(error = %e, jobs = batch.len(), "a batch of closure decisions failed");
            let now = state.clock.now();
            let mut tx = db::begin_write_on(&state.db, conn).await?;
            for job in &batch {
                retry_later(&mut tx, job, &e, now).await?;
            }
            tx.commit().await?;
        }
    }
}

/// Runs every job that is due now; returns how many ran. One pass at a time in a process: a
/// pass that starts while another is under way (dev mode's `run-jobs` beside the scheduler's
/// own pass) waits for it, so when it returns, every job due when it was called has run or
/// failed, none is still in the other pass's hands (a charge in flight that a closure decision
/// would wait an hour for). Other instances' passes are kept off by the jobs' leases.
pub async fn run_due(state: &AppState) -> Result<usize, JobError> {
    let _one_pass = state.job_pass.lock().await;
    // One connection for every batch's claim and decision, see `db::begin_write_on`.
    let mut conn = state.db.readers().acquire().await?;
    let decided = decide_closures(state, &mut conn).await;
    drop(conn);
    let mut ran = decided?;
    while let Some(job) = queue::claim(state).await? {
        ran += 1;
        if let Err(e) = run(state, &job).await {
            let mut tx = db::begin_write(&state.db).await?;
            retry_later(&mut tx, &job, &e, state.clock.now()).await?;
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
    let now = state.clock.now();
    if let Err(e) = state.outbox.schedule_waiting(&state.db, now).await {
        tracing::warn!(error = %e, "could not schedule waiting messages; the next start will");
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
    use super::kinds;
    use std::collections::HashSet;

    #[test]
    fn every_kind_has_its_own_name() {
        let names = kinds();
        assert_eq!(
            names.iter().collect::<HashSet<_>>().len(),
            names.len(),
            "{names:?}"
        );
    }
}
