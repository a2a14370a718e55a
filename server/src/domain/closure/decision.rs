//! The closure's decision when the cool-down ends (SPEC §6.4): the closure fails and the account
//! is restored if new overdue payments appeared, otherwise every row of the account is deleted.
//! An account with money still moving waits until it has arrived. One function decides any
//! number of closures with a few statements, so a day with 100,000 cool-downs ending at once
//! settles in seconds; a single decision is a batch of one.

use crate::clock::{DurationMs, Millis};
use crate::db::{self, Backend, HeldTx};
use crate::domain::account::AccountStatus;
use crate::domain::bills::{self, ChargeBill};
use crate::domain::deletion;
use crate::error::ApiError;
use crate::notices::Notice;
use crate::notify::{Outbox, OwnerNotice};
use crate::queue::{Claimed, Job, JobError, Outcome, finish, finish_all, retry_later};
use crate::state::AppState;
use crate::tables::bills as bill_rows;
use crate::tables::{accounts, closures, service_linked_roles};
use shared::api::ClosureFailure;
use shared::money::Money;
use sqlx::Any;
use sqlx::pool::PoolConnection;
use std::collections::{HashMap, HashSet};

/// How long a decision waits before looking again at an account with money still moving.
const MONEY_WAIT: DurationMs = DurationMs::hours(1);

/// What became of one closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The account is deleted.
    Closed,
    /// New overdue payments: the account is restored.
    Failed,
    /// Money is still moving: decide again at this time.
    Wait(Millis),
    /// Not cooling down (decided before, or gone): nothing to do.
    Moot,
}

/// Decides a closure when its cool-down ends. The scheduler claims these in batches
/// ([`decide_batch`]); a lone one runs by itself.
pub struct DecideClosure;

impl Job for DecideClosure {
    const KIND: &'static str = "closure_decide";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        Ok(decide_one(state, job).await?)
    }
}

async fn decide_one(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    decide_jobs(&state.outbox, &mut tx, std::slice::from_ref(job), now).await?;
    crash_if_asked(state);
    tx.commit().await?;
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
    batch: &[Claimed],
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = db::begin_write_on(&state.db, conn).await?;
    if let Err(e) = decide_jobs(&state.outbox, &mut tx, batch, now).await {
        tracing::warn!(error = %e, "batched closure decisions failed; deciding them one by one");
        tx.rollback().await?;
        let mut tx = db::begin_write_on(&state.db, conn).await?;
        decide_one_by_one(&state.outbox, &mut tx, batch, now).await?;
        crash_if_asked(state);
        tx.commit().await?;
    } else {
        crash_if_asked(state);
        tx.commit().await?;
    }
    Ok(())
}

/// The decisions of `batch`, and each job's completion, inside `tx`: the jobs whose closure was
/// decided (or needs none) finish with one statement, those waiting for money run again later.
async fn decide_jobs(
    outbox: &Outbox,
    tx: &mut HeldTx<'_>,
    batch: &[Claimed],
    now: Millis,
) -> Result<(), ApiError> {
    let ids: Vec<&str> = batch.iter().map(|job| job.subject.as_str()).collect();
    let decisions = decide(outbox, tx, &ids, now).await?;
    let mut finished = Vec::with_capacity(batch.len());
    for job in batch {
        match decisions.get(&job.subject) {
            Some(Decision::Wait(until)) => finish(tx, job, Outcome::Again(*until), now).await?,
            _ => finished.push(job.id.as_str()),
        }
    }
    finish_all(tx, finished, now).await?;
    Ok(())
}

async fn decide_one_by_one(
    outbox: &Outbox,
    tx: &mut HeldTx<'_>,
    batch: &[Claimed],
    now: Millis,
) -> Result<(), ApiError> {
    for job in batch {
        sqlx::query("SAVEPOINT closure_decision")
            .execute(&mut **tx)
            .await?;
        match decide_jobs(outbox, tx, std::slice::from_ref(job), now).await {
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

/// Decides the closures `ids` in `tx`; answers each one's decision.
pub async fn decide(
    outbox: &Outbox,
    tx: &mut HeldTx<'_>,
    ids: &[&str],
    now: Millis,
) -> Result<HashMap<String, Decision>, ApiError> {
    let backend = Backend::of(tx);
    let mut decisions: HashMap<String, Decision> = ids
        .iter()
        .map(|id| ((*id).to_owned(), Decision::Moot))
        .collect();
    // The closures' accounts are locked (PostgreSQL; see `account::lock`) before anything of
    // them is read, in one order (their ids), so that two batches, or a batch and a member's
    // write, cannot wait on each other in a circle. Those locked by a member's write meanwhile
    // are waited for, then read as it left them.
    accounts::lock_of_closures(tx, ids).await?;
    let cooling = closures::cooling_down_among(tx, ids).await?;
    let waiting = with_money_in_flight(tx, cooling.iter().map(|c| c.1.as_str())).await?;
    let (waits, cooling): (Vec<_>, Vec<_>) =
        cooling.into_iter().partition(|c| waiting.contains(&c.1));
    for (closure, account_id, _, _) in waits {
        tracing::info!(account = %account_id, "closure decision waits for money still moving");
        decisions.insert(closure, Decision::Wait(now + MONEY_WAIT));
    }

    let overdue = bill_rows::overdue(tx, cooling.iter().map(|c| c.1.as_str()), now).await?;
    let mut overdue_of: HashMap<&str, Vec<&bill_rows::Overdue>> = HashMap::new();
    for bill in &overdue {
        overdue_of.entry(&bill.account_id).or_default().push(bill);
    }
    let (failing, closing): (Vec<_>, Vec<_>) = cooling
        .iter()
        .partition(|(_, account_id, _, _)| overdue_of.contains_key(account_id.as_str()));

    if !closing.is_empty() {
        let accounts: Vec<&str> = closing.iter().map(|c| c.1.as_str()).collect();
        deletion::delete_accounts(tx, &accounts).await?;
        let mut messages = Vec::with_capacity(closing.len() * 2);
        for (closure, account_id, email, phone) in &closing {
            messages.extend(
                OwnerNotice {
                    account_id: None,
                    email: Some(email),
                    phone: phone.as_deref(),
                    notice: Notice::AccountClosed,
                }
                .messages(),
            );
            decisions.insert(closure.clone(), Decision::Closed);
            tracing::info!(account = %account_id, "account closed and deleted");
        }
        outbox.enqueue_many(tx, now, &messages).await?;
    }

    if !failing.is_empty() {
        // Why each failed, as facts (its overdue totals), kept as the JSON of `ClosureFailure`:
        // a record of what the owner is told, never summed, and one statement per distinct
        // failure, which accounts often share.
        let totals: Vec<Vec<Money>> = failing
            .iter()
            .map(|c| bills::totals(overdue_of[c.1.as_str()].iter().copied()))
            .collect();
        let mut by_failure: HashMap<String, Vec<&str>> = HashMap::new();
        for (c, overdue) in failing.iter().zip(&totals) {
            let failure = serde_json::to_string(&ClosureFailure {
                overdue: overdue.clone(),
            })
            .map_err(|e| ApiError::Internal(e.into()))?;
            by_failure.entry(failure).or_default().push(&c.0);
        }
        for (failure, failed) in by_failure {
            closures::mark_failed(tx, failed, &failure, now).await?;
        }
        let failed = failing.iter().map(|c| c.1.as_str());
        accounts::set_status_of(tx, failed.clone(), AccountStatus::Active).await?;
        let failed_ids = db::json_texts(failed);
        service_linked_roles::remove_of_accounts(&mut **tx, backend, &failed_ids).await?;
        let mut messages = Vec::with_capacity(failing.len() * 2);
        for ((closure, account_id, email, phone), overdue) in failing.iter().zip(&totals) {
            messages.extend(
                OwnerNotice {
                    account_id: Some(account_id),
                    email: Some(email),
                    phone: phone.as_deref(),
                    notice: Notice::ClosureFailed {
                        overdue: bills::worded(overdue),
                    },
                }
                .messages(),
            );
            decisions.insert(closure.clone(), Decision::Failed);
            tracing::info!(account = %account_id, "account closure failed: overdue payments");
        }
        outbox.enqueue_many(tx, now, &messages).await?;
    }
    Ok(decisions)
}

/// The accounts among `accounts` with money still moving: a refund or a withdrawal not yet
/// paid, or a charge not yet settled at the gateway (pending, or being returned), or a bill
/// whose charge is still being tried. Their closure is decided only once it has arrived
/// (SPEC §6.4): deleting the account first would lose the money with it.
async fn with_money_in_flight<'a>(
    tx: &mut HeldTx<'_>,
    accounts: impl IntoIterator<Item = &'a str>,
) -> Result<HashSet<String>, ApiError> {
    let list = db::in_json(Backend::of(tx), 1);
    let waiting: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT account_id FROM refunds WHERE status = 'processing' AND account_id IN {list}
         UNION SELECT account_id FROM gateway_intents WHERE status IN ('pending', 'reversing') AND account_id IN {list}
         UNION SELECT account_id FROM withdrawals WHERE status = 'processing' AND account_id IN {list}
         UNION SELECT b.account_id FROM bills b JOIN jobs j ON j.kind = '{bill}' AND j.subject = b.id
          WHERE j.status IN ('pending', 'running') AND b.status = 'unpaid' AND b.account_id IN {list}",
        bill = ChargeBill::KIND
    ))
    .bind(db::json_texts(accounts))
    .fetch_all(&mut **tx)
    .await?;
    Ok(waiting.into_iter().collect())
}
