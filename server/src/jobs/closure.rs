//! The closure's jobs: the system check that reports progress, and the decision when the
//! cool-down ends — fail and restore the account if new overdue payments appeared, otherwise
//! delete every row of the account. The decision and the job's completion share one
//! transaction, so a crash or a second instance never decides twice.

use super::{Job, Outcome, finish, retry_later};
use crate::db::{self, Tx};
use crate::domain::closure::{check, notify_both};
use crate::error::ApiError;
use crate::state::AppState;
use shared::money::{Currency, Money};

pub const CHECK_KIND: &str = "closure_system_check";
pub const DECIDE_KIND: &str = "closure_decide";
/// The system check's steps: finances, resources, domains and filings, relationships.
const STEP: i64 = 25;
const STEP_MS: i64 = 1_000;

pub async fn run_system_check(state: &AppState, job: &Job) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT account_id, progress FROM closure_checks WHERE id = ? AND status = 'running'",
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
        "UPDATE closure_checks SET progress = ?, status = ?, result = ?, done_at = ? WHERE id = ?",
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
/// batch instead of one per account, which is what lets a day with 100,000 cool-downs ending
/// at once settle in seconds. Each decision runs inside its own savepoint, so one that fails is
/// rolled back alone and retried later (backoff as for any job) while the others commit; each
/// still finishes its job in the transaction that made its effect, so none is decided twice.
pub async fn decide_batch(state: &AppState, batch: &[Job]) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    for job in batch {
        sqlx::query("SAVEPOINT closure_decision")
            .execute(&mut *tx)
            .await?;
        match decide_in(&mut tx, job, now).await {
            Ok(()) => {
                sqlx::query("RELEASE closure_decision")
                    .execute(&mut *tx)
                    .await?;
            }
            Err(e) => {
                sqlx::query("ROLLBACK TO closure_decision")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("RELEASE closure_decision")
                    .execute(&mut *tx)
                    .await?;
                tracing::warn!(job = %job.id, error = %e, "closure decision failed; it will be retried");
                retry_later(&mut tx, job, &e, now).await?;
            }
        }
    }
    crash_if_asked(state);
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(())
}

fn crash_if_asked(state: &AppState) {
    if state.config.is_dev() && state.config.crash_at.as_deref() == Some("closure_decide") {
        tracing::warn!("crash test: aborting inside the closure decision, before its commit");
        std::process::abort();
    }
}

/// The decision of one claimed job, and the job's completion, inside `tx`.
async fn decide_in(tx: &mut Tx, job: &Job, now: i64) -> Result<(), ApiError> {
    let closure: Option<(String, String)> =
        sqlx::query_as("SELECT account_id, status FROM closures WHERE id = ?")
            .bind(&job.subject)
            .fetch_optional(&mut **tx)
            .await?;
    let Some((account_id, _)) = closure.filter(|(_, s)| s == "cooling_down") else {
        finish(tx, job, Outcome::Done, now).await?;
        return Ok(());
    };
    let (email, phone): (String, Option<String>) =
        sqlx::query_as("SELECT email, phone FROM accounts WHERE id = ?")
            .bind(&account_id)
            .fetch_one(&mut **tx)
            .await?;
    let overdue: Vec<(i64, String)> = sqlx::query_as(
        "SELECT amount_minor, currency FROM bills WHERE account_id = ? AND status = 'unpaid' AND waived_at IS NULL AND due_at <= ?",
    )
    .bind(&account_id)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    if overdue.is_empty() {
        delete_account(tx, &account_id, &email).await?;
        let body = "Your Account Center account is closed. All its data, resources and payment information have been deleted for good. \
                    You can sign up again with the same email.";
        notify_both(
            tx,
            now,
            None,
            &email,
            phone.as_deref(),
            "Account closed",
            body,
        )
        .await?;
        tracing::info!(account = %account_id, "account closed and deleted");
    } else {
        let currency = Currency::parse(&overdue[0].1).unwrap_or(Currency::USD);
        let total = Money::from_minor(overdue.iter().map(|b| b.0).sum(), currency);
        let failure = format!(
            "The closure failed: new overdue payments of {total} appeared during the cool-down (delayed usage billing). \
             Your account is restored. Pay the overdue bills, then start the closure again."
        );
        sqlx::query(
            "UPDATE closures SET status = 'failed', decided_at = ?, failure = ? WHERE id = ?",
        )
        .bind(now)
        .bind(&failure)
        .bind(&job.subject)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE accounts SET status = 'active' WHERE id = ?")
            .bind(&account_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM service_linked_roles WHERE account_id = ?")
            .bind(&account_id)
            .execute(&mut **tx)
            .await?;
        notify_both(
            tx,
            now,
            Some(&account_id),
            &email,
            phone.as_deref(),
            "Account closure failed",
            &failure,
        )
        .await?;
        tracing::info!(account = %account_id, "account closure failed: overdue payments");
    }
    finish(tx, job, Outcome::Done, now).await?;
    Ok(())
}

/// Deletes every row of the account. Most go by cascade from `accounts`; these tables hold the
/// account by key or address without a foreign key.
async fn delete_account(tx: &mut Tx, account_id: &str, email: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE account_id = ?")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    // The account's codes have subjects `account:<id>:<purpose>`: a range of the subject index
    // (`;` follows `:`), where `LIKE 'account:<id>:%'` scanned the whole table for each account
    // (SQLite's LIKE uses an index only under a NOCASE collation or case_sensitive_like).
    sqlx::query(
        "DELETE FROM verification_codes WHERE (subject >= $1 AND subject < $2) OR address = $3",
    )
    .bind(format!("account:{account_id}:"))
    .bind(format!("account:{account_id};"))
    .bind(email)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM signups WHERE email = ?")
        .bind(email)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM rate_events WHERE subject = ?")
        .bind(email)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM outbox WHERE account_id = ?")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM accounts WHERE id = ?")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
