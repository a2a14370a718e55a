//! The system check (seed 001, step 2.2): a job that walks through the account's finances,
//! resources, domains and filings, and relationships, reporting its progress, and ends with the
//! closure check's result. A confirmation needs a recent one.

use super::check::check_on;
use crate::clock::{DurationMs, Millis};
use crate::db::{self, HeldTx};
use crate::domain::account;
use crate::error::ApiError;
use crate::ids::SystemCheckId;
use crate::queue::{self, Claimed, Job, JobError, Outcome, finish};
use crate::state::AppState;
use crate::tables::closure_checks;
use shared::api::{SystemCheckPhase, SystemCheckStatus, SystemCheckView};
use strum::VariantArray;

/// A system check older than this must be run again before confirming.
pub(super) const SYSTEM_CHECK_VALID: DurationMs = DurationMs::minutes(30);
/// How far one step takes the check: one step for each [`SystemCheckPhase`].
const STEP: i64 = 100 / SystemCheckPhase::VARIANTS.len() as i64;
/// The time between two steps.
const STEP_EVERY: DurationMs = DurationMs::seconds(1);

/// Takes a system check one step on, a step a second.
pub struct AdvanceSystemCheck;

impl Job for AdvanceSystemCheck {
    const KIND: &'static str = "closure_system_check";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        let now = state.clock.now();
        let mut tx = db::begin_write(&state.db).await?;
        let outcome = match advance_system_check(state, &mut tx, &job.subject, now).await? {
            Some(next) => Outcome::Again(next),
            None => Outcome::Done,
        };
        finish(&mut tx, job, outcome, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Starts the system check, which runs as a job and reports its progress.
pub async fn start_system_check(
    state: &AppState,
    account_id: &str,
) -> Result<SystemCheckView, ApiError> {
    let now = state.clock.now();
    let id = SystemCheckId::from(format!("chk-{}", uuid::Uuid::new_v4().simple()));
    let mut tx = account::begin_locked(&state.db, account_id).await?;
    closure_checks::insert(&mut tx, &id, account_id, now).await?;
    queue::schedule::<AdvanceSystemCheck>(&mut tx, id.as_str(), now, now).await?;
    tx.commit().await?;
    system_check(state, account_id, &id).await
}

pub async fn system_check(
    state: &AppState,
    account_id: &str,
    id: &SystemCheckId,
) -> Result<SystemCheckView, ApiError> {
    let (progress, status, result) = closure_checks::get(&state.db, id, account_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let result = result
        .map(|r| serde_json::from_str(&r))
        .transpose()
        .map_err(|e| ApiError::Internal(e.into()))?;
    let progress = progress.clamp(0, 100) as u8;
    Ok(SystemCheckView {
        id: id.as_str().to_owned(),
        status,
        progress,
        phase: (status == SystemCheckStatus::Running).then(|| SystemCheckPhase::at(progress)),
        result,
    })
}

/// Takes the system check `id` one step on, in `tx`; answers when to take the next step, or
/// None once it is done (or was deleted with its account).
pub async fn advance_system_check(
    state: &AppState,
    tx: &mut HeldTx<'_>,
    id: &str,
    now: Millis,
) -> Result<Option<Millis>, ApiError> {
    let Some(account_id) = closure_checks::account_of(tx, id).await? else {
        return Ok(None);
    };
    // The check reads the account's blockers and moves its progress: under the account's lock,
    // and read again under it.
    account::lock(tx, &account_id).await?;
    let Some(progress) = closure_checks::running_progress(tx, id).await? else {
        return Ok(None);
    };
    let next = (progress + STEP).min(100);
    let result = if next >= 100 {
        let check = check_on(tx, state, &account_id).await?;
        Some(serde_json::to_string(&check).map_err(|e| ApiError::Internal(e.into()))?)
    } else {
        None
    };
    closure_checks::advance(tx, id, next, result.as_deref(), now).await?;
    Ok(result.is_none().then_some(now + STEP_EVERY))
}
