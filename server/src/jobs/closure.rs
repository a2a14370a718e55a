//! The closure's jobs: the system check that reports progress, and the decision when the
//! cool-down ends — fail and restore the account if new overdue payments appeared, otherwise
//! delete every row of the account. The decision and the job's completion share one
//! transaction, so a crash or a second instance never decides twice.

use super::{Job, Outcome, finish, retry_later};
use crate::db::{self, Backend, HeldTx};
use crate::domain::closure::{check, notify_both, sms_text};
use crate::domain::deletion;
use crate::error::ApiError;
use crate::notify::{self, Medium, Outgoing};
use crate::state::AppState;
use shared::money::{Currency, Money};
use sqlx::Any;
use sqlx::pool::PoolConnection;
use std::collections::{HashMap, HashSet};

pub const CHECK_KIND: &str = "closure_system_check";
pub const DECIDE_KIND: &str = "closure_decide";
/// How long a decision waits before looking again at an account with money still moving.
const MONEY_WAIT_MS: i64 = 3_600_000;
/// The system check's steps: finances, resources, domains and filings, relationships.
const STEP: i64 = 25;
const STEP_MS: i64 = 1_000;

pub async fn run_system_check(state: &AppState, job: &Job) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT account_id, progress FROM closure_checks WHERE id = $1 AND status = 'running'",
    )
    .bind(&job.subject)
    .fetch_optional(&state.db)
    .await?;
    let Some((account_id, progress)) = row else {
        let mut tx = db::begin_write(&state.db).await?;
        finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        return Ok(());
    };
    let next = (progress + STEP).min(100);
    let result = if next >= 100 {
        Some(
            serde_json::to_string(&check(state, &account_id).await?)
                .map_err(|e| ApiError::Internal(e.into()))?,
        )
    } else {
        None
    };
    let mut tx = db::begin_write(&state.db).await?;
    sqlx::query(
        "UPDATE closure_checks SET progress = $1, status = $2, result = $3, done_at = $4 WHERE id = $5",
    )
    .bind(next)
    .bind(if result.is_some() { "done" } else { "running" })
    .bind(&result)
    .bind(result.as_ref().map(|_| now))
    .bind(&job.subject)
    .execute(&mut *tx)
    .await?;
    let outcome = if result.is_some() {
        Outcome::Done
    } else {
        Outcome::Again(now + STEP_MS)
    };
    finish(&mut tx, job, outcome, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn decide(state: &AppState, job: &Job) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    decide_in(&mut tx, job, now).await?;
    crash_if_asked(state);
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(())
}

/// Decides a batch of claimed decisions in one transaction: one commit (one fsync) for the
/// batch instead of one per account, and the accounts that close deleted and notified by a few
/// statements for the whole batch instead of a dozen per account — what lets a day with
/// 100,000 cool-downs ending at once settle in seconds. Each job still finishes in the
/// transaction that made its effect, so none is decided twice. Should anything in the batch
/// fail, it is decided again one job at a time, each in its own savepoint, so only the job at
/// fault waits for a retry (with the usual backoff).
pub async fn decide_batch(
    state: &AppState,
    conn: &mut PoolConnection<Any>,
    batch: &[Job],
) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let mut tx = db::begin_write_on(&state.db, conn).await?;
    if let Err(e) = decide_together(&mut tx, batch, now).await {
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

const CLOSED_SUBJECT: &str = "Account closed";
const CLOSED_BODY: &str = "Your Account Center account is closed. All its data, resources and payment information have been deleted for good. \
                           You can sign up again with the same email.";

const FAILED_SUBJECT: &str = "Account closure failed";

fn failure_text(overdue: &[(i64, String)]) -> String {
    let currency = Currency::parse(&overdue[0].1).unwrap_or(Currency::USD);
    let total = Money::from_minor(overdue.iter().map(|b| b.0).sum(), currency);
    format!(
        "The closure failed: new overdue payments of {total} appeared during the cool-down (delayed usage billing). \
         Your account is restored. Pay the overdue bills, then start the closure again."
    )
}

/// The batch's decisions, a few statements for the whole batch: the accounts that close are
/// deleted and notified together, those with new overdue bills restored and notified together.
/// Lists of ids travel as one JSON parameter each (see [`db::json_table`]). A job whose
/// closure is no longer cooling down only finishes, through [`decide_in`].
async fn decide_together(tx: &mut HeldTx<'_>, batch: &[Job], now: i64) -> Result<(), ApiError> {
    let backend = Backend::of(tx);
    let subjects = db::json_texts(batch.iter().map(|job| job.subject.as_str()));
    let cooling: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT c.id, c.account_id, a.email, a.phone FROM closures c JOIN accounts a ON a.id = c.account_id
         WHERE c.status = 'cooling_down' AND c.id IN {}",
        db::in_json(backend, 1)
    ))
    .bind(subjects)
    .fetch_all(&mut **tx)
    .await?;
    // Accounts with money still moving are left to `decide_in`, which postpones them.
    let waiting = with_money_in_flight(tx, cooling.iter().map(|c| c.1.as_str())).await?;
    let cooling: Vec<_> = cooling
        .into_iter()
        .filter(|c| !waiting.contains(&c.1))
        .collect();
    let accounts = db::json_texts(cooling.iter().map(|c| c.1.as_str()));
    let mut overdue: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    let bills: Vec<(String, i64, String)> = sqlx::query_as(&format!(
        "SELECT account_id, amount_minor, currency FROM bills
         WHERE status = 'unpaid' AND waived_at IS NULL AND due_at <= $1 AND account_id IN {}",
        db::in_json(backend, 2)
    ))
    .bind(now)
    .bind(accounts)
    .fetch_all(&mut **tx)
    .await?;
    for (account_id, amount, currency) in bills {
        overdue
            .entry(account_id)
            .or_default()
            .push((amount, currency));
    }
    let decided_ids: HashSet<&str> = cooling.iter().map(|c| c.0.as_str()).collect();
    let (failing, closing): (Vec<_>, Vec<_>) = cooling
        .iter()
        .partition(|(_, account_id, _, _)| overdue.contains_key(account_id));

    if !closing.is_empty() {
        let accounts: Vec<&str> = closing.iter().map(|c| c.1.as_str()).collect();
        deletion::delete_accounts(tx, &accounts).await?;
        let sms = sms_text(CLOSED_SUBJECT, CLOSED_BODY);
        let mut messages = Vec::with_capacity(closing.len() * 2);
        for (_, account_id, email, phone) in &closing {
            messages.push(Outgoing {
                account_id: None,
                medium: Medium::Email,
                recipient: email,
                subject: CLOSED_SUBJECT,
                body: CLOSED_BODY.to_owned(),
            });
            if let Some(phone) = phone {
                messages.push(Outgoing {
                    account_id: None,
                    medium: Medium::Sms,
                    recipient: phone,
                    subject: CLOSED_SUBJECT,
                    body: sms.clone(),
                });
            }
            tracing::info!(account = %account_id, "account closed and deleted");
        }
        notify::enqueue_many(tx, now, &messages).await?;
    }

    if !failing.is_empty() {
        // One statement per distinct failure text: the text names the overdue total, which
        // accounts often share.
        let failures: Vec<String> = failing
            .iter()
            .map(|c| failure_text(&overdue[&c.1]))
            .collect();
        let mut by_failure: HashMap<&str, Vec<&str>> = HashMap::new();
        for (c, failure) in failing.iter().zip(&failures) {
            by_failure.entry(failure).or_default().push(&c.0);
        }
        for (failure, closures) in by_failure {
            sqlx::query(&format!(
                "UPDATE closures SET status = 'failed', decided_at = $1, failure = $2 WHERE id IN {}",
                db::in_json(backend, 3)
            ))
            .bind(now)
            .bind(failure)
            .bind(db::json_texts(closures))
            .execute(&mut **tx)
            .await?;
        }
        let accounts = db::json_texts(failing.iter().map(|c| c.1.as_str()));
        for sql in [
            "UPDATE accounts SET status = 'active' WHERE id IN",
            "DELETE FROM service_linked_roles WHERE account_id IN",
        ] {
            sqlx::query(&format!("{sql} {}", db::in_json(backend, 1)))
                .bind(&accounts)
                .execute(&mut **tx)
                .await?;
        }
        let mut messages = Vec::with_capacity(failing.len() * 2);
        for ((_, account_id, email, phone), failure) in failing.iter().zip(&failures) {
            messages.push(Outgoing {
                account_id: Some(account_id),
                medium: Medium::Email,
                recipient: email,
                subject: FAILED_SUBJECT,
                body: failure.clone(),
            });
            if let Some(phone) = phone {
                messages.push(Outgoing {
                    account_id: Some(account_id),
                    medium: Medium::Sms,
                    recipient: phone,
                    subject: FAILED_SUBJECT,
                    body: sms_text(FAILED_SUBJECT, failure),
                });
            }
            tracing::info!(account = %account_id, "account closure failed: overdue payments");
        }
        notify::enqueue_many(tx, now, &messages).await?;
    }

    let (closed, others): (Vec<&Job>, Vec<&Job>) = batch
        .iter()
        .partition(|job| decided_ids.contains(job.subject.as_str()));
    sqlx::query(&format!(
        "UPDATE jobs SET status = 'done', done_at = $1, lease_until = NULL WHERE id IN {}",
        db::in_json(backend, 2)
    ))
    .bind(now)
    .bind(db::json_texts(closed.iter().map(|job| job.id.as_str())))
    .execute(&mut **tx)
    .await?;
    for job in others {
        decide_in(tx, job, now).await?;
    }
    Ok(())
}

/// The accounts among `accounts` with money still moving: a refund or a withdrawal not yet
/// paid, or a charge not yet settled at the gateway (pending, or being returned). Their closure is decided only
/// once it has arrived (SPEC §6.4): deleting the account first would lose the money with it.
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
        bill = super::bill::KIND
    ))
    .bind(db::json_texts(accounts))
    .fetch_all(&mut **tx)
    .await?;
    Ok(waiting.into_iter().collect())
}

async fn decide_one_by_one(tx: &mut HeldTx<'_>, batch: &[Job], now: i64) -> Result<(), ApiError> {
    for job in batch {
        sqlx::query("SAVEPOINT closure_decision")
            .execute(&mut **tx)
            .await?;
        match decide_in(tx, job, now).await {
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

/// The decision of one claimed job, and the job's completion, inside `tx`.
async fn decide_in(tx: &mut HeldTx<'_>, job: &Job, now: i64) -> Result<(), ApiError> {
    let closure: Option<(String, String)> =
        sqlx::query_as("SELECT account_id, status FROM closures WHERE id = $1")
            .bind(&job.subject)
            .fetch_optional(&mut **tx)
            .await?;
    let Some((account_id, _)) = closure.filter(|(_, s)| s == "cooling_down") else {
        finish(tx, job, Outcome::Done, now).await?;
        return Ok(());
    };
    if !with_money_in_flight(tx, [account_id.as_str()])
        .await?
        .is_empty()
    {
        tracing::info!(account = %account_id, "closure decision waits for money still moving");
        finish(tx, job, Outcome::Again(now + MONEY_WAIT_MS), now).await?;
        return Ok(());
    }
    let (email, phone): (String, Option<String>) =
        sqlx::query_as("SELECT email, phone FROM accounts WHERE id = $1")
            .bind(&account_id)
            .fetch_one(&mut **tx)
            .await?;
    let overdue: Vec<(i64, String)> = sqlx::query_as(
        "SELECT amount_minor, currency FROM bills WHERE account_id = $1 AND status = 'unpaid' AND waived_at IS NULL AND due_at <= $2",
    )
    .bind(&account_id)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    if overdue.is_empty() {
        deletion::delete_accounts(tx, &[&account_id]).await?;
        notify_both(
            tx,
            now,
            None,
            &email,
            phone.as_deref(),
            CLOSED_SUBJECT,
            CLOSED_BODY,
        )
        .await?;
        tracing::info!(account = %account_id, "account closed and deleted");
    } else {
        let failure = failure_text(&overdue);
        sqlx::query(
            "UPDATE closures SET status = 'failed', decided_at = $1, failure = $2 WHERE id = $3",
        )
        .bind(now)
        .bind(&failure)
        .bind(&job.subject)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE accounts SET status = 'active' WHERE id = $1")
            .bind(&account_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM service_linked_roles WHERE account_id = $1")
            .bind(&account_id)
            .execute(&mut **tx)
            .await?;
        notify_both(
            tx,
            now,
            Some(&account_id),
            &email,
            phone.as_deref(),
            FAILED_SUBJECT,
            &failure,
        )
        .await?;
        tracing::info!(account = %account_id, "account closure failed: overdue payments");
    }
    finish(tx, job, Outcome::Done, now).await?;
    Ok(())
}
