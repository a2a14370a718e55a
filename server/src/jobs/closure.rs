//! The closure's jobs: the system check that reports progress, and the decision when the
//! cool-down ends — fail and restore the account if new overdue payments appeared, otherwise
//! delete every row of the account. The decision and the job's completion share one
//! transaction, so a crash or a second instance never decides twice.

use super::{Job, Outcome, finish};
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
    let closure: Option<(String, String)> =
        sqlx::query_as("SELECT account_id, status FROM closures WHERE id = $1")
            .bind(&job.subject)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((account_id, _)) = closure.filter(|(_, s)| s == "cooling_down") else {
        finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        return Ok(());
    };
    let (email, phone): (String, Option<String>) =
        sqlx::query_as("SELECT email, phone FROM accounts WHERE id = $1")
            .bind(&account_id)
            .fetch_one(&mut *tx)
            .await?;
    let overdue: Vec<(i64, String)> = sqlx::query_as(
        "SELECT amount_minor, currency FROM bills WHERE account_id = $1 AND status = 'unpaid' AND waived_at IS NULL AND due_at <= $2",
    )
    .bind(&account_id)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    if overdue.is_empty() {
        delete_account(&mut tx, &account_id, &email).await?;
        let body = "Your Account Center account is closed. All its data, resources and payment information have been deleted for good. \
                    You can sign up again with the same email.";
        notify_both(
            &mut tx,
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
            "UPDATE closures SET status = 'failed', decided_at = $1, failure = $2 WHERE id = $3",
        )
        .bind(now)
        .bind(&failure)
        .bind(&job.subject)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE accounts SET status = 'active' WHERE id = $1")
            .bind(&account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM service_linked_roles WHERE account_id = $1")
            .bind(&account_id)
            .execute(&mut *tx)
            .await?;
        notify_both(
            &mut tx,
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
    finish(&mut tx, job, Outcome::Done, now).await?;
    if state.config.is_dev() && state.config.crash_at.as_deref() == Some("closure_decide") {
        tracing::warn!("crash test: aborting inside the closure decision, before its commit");
        std::process::abort();
    }
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(())
}

/// Deletes every row of the account. Most go by cascade from `accounts`; these tables hold the
/// account by key or address without a foreign key.
async fn delete_account(tx: &mut Tx, account_id: &str, email: &str) -> Result<(), ApiError> {
    let subject_prefix = format!("account:{account_id}:%");
    sqlx::query("DELETE FROM idempotency_keys WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM verification_codes WHERE subject LIKE $1 OR address = $2")
        .bind(&subject_prefix)
        .bind(email)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM signups WHERE email = $1")
        .bind(email)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM rate_events WHERE subject = $1")
        .bind(email)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM outbox WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM accounts WHERE id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
