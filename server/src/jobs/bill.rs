//! Charging a pay-as-you-go bill until the gateway answers. The usage job charges a new bill at
//! once; when the gateway could not be reached (the network failed, the answer was lost), this
//! job charges it again later by the jobs' retry policy, instead of leaving the bill overdue for
//! a fault that was not the customer's. A decline or a missing method is an answer: the bill
//! stays unpaid, which is an overdue payment. While the job is pending, a closing account's
//! decision waits for it (money in flight, SPEC §6.4).

use super::{Job, Outcome, finish};
use crate::db;
use crate::domain::account::Writer;
use crate::domain::intent;
use crate::domain::purchase::charge_bill;
use crate::error::ApiError;
use crate::state::AppState;

pub const KIND: &str = "bill_charge";

/// When the job first runs: once the usage job's own attempt has surely ended.
pub fn first_try_at(state: &AppState, now: i64) -> i64 {
    intent::reconcile_at(state, now)
}

/// Charges the bill `job.subject` unless it was paid, waived or deleted meanwhile; an error
/// reaching the gateway leaves the job to be retried.
pub async fn charge(state: &AppState, job: &Job) -> Result<(), ApiError> {
    let account: Option<String> = sqlx::query_scalar("SELECT account_id FROM bills WHERE id = $1")
        .bind(&job.subject)
        .fetch_optional(&state.db)
        .await?;
    if let Some(account_id) = account {
        charge_bill(state, &account_id, Writer::System, &job.subject).await?;
    }
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    finish(&mut tx, job, Outcome::Done, now).await?;
    tx.commit().await?;
    Ok(())
}
