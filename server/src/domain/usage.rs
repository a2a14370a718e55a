//! Pay-as-you-go usage billing: each running pay-as-you-go instance has one recurring job that
//! bills the next hour of use once that hour is over plus the configured delay (usage reaches
//! billing hours late, SPEC §4). The bill is then charged to the default payment method; a bill
//! the method refuses stays unpaid, which is an overdue payment, and one the gateway could not
//! be reached for is charged again by its job ([`ChargeBill`]). Usage of a product sold as
//! a resource plan draws on the account's active plan first and only the rest is billed
//! (SPEC §5, [`plan::draw`]).

use crate::clock::{DurationMs, Millis};
use crate::db;
use crate::domain::account::{self, Writer};
use crate::domain::bills::{self, ChargeBill};
use crate::domain::plan;
use crate::domain::purchase::charge_bill;
use crate::error::ApiError;
use crate::queue::{self, Claimed, Job, JobError, Outcome, finish};
use crate::state::AppState;
use crate::tables::bills as bill_rows;
use crate::tables::instances;
use shared::catalog::Product;

/// Bills a pay-as-you-go instance's next hour of use, then waits for the one after.
pub struct BillUsage;

impl Job for BillUsage {
    const KIND: &'static str = "payg_usage";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        Ok(bill(state, job).await?)
    }
}
pub const HOUR: DurationMs = DurationMs::hours(1);

/// When the hour starting at `billed_until` can be billed.
pub fn due_at(state: &AppState, billed_until: Millis) -> Millis {
    billed_until + HOUR + HOUR * state.config.usage_billing_delay_hours
}

pub async fn bill(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    let now = state.clock.now();
    // Whose write gate to open; everything else is read again inside it.
    let account_id = instances::account_of(&state.db, &job.subject).await?;
    let Some(account_id) = account_id else {
        return nothing_left(state, job, now).await;
    };
    let mut tx = match account::begin_write(&state.db, &account_id, Writer::System).await {
        Ok(tx) => tx,
        // The account is gone: there is nobody left to bill.
        Err(ApiError::Unauthenticated) => return nothing_left(state, job, now).await,
        Err(e) => return Err(e),
    };
    let instance = instances::find(&mut *tx, &job.subject).await?;
    let Some(instance) = instance else {
        finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        return Ok(());
    };
    let from = instance.billed_until.unwrap_or(now);
    let until = (from + HOUR).min(instance.released_at.unwrap_or(Millis::MAX));
    let mut bill_id = None;
    if until > from && due_at(state, from) > now {
        // Not due: this is a second run of the job (a lease that ran out under a slow first
        // run, or a retry after a commit) that finds the hour it was for already billed. It
        // only waits for the next one: an hour is never drawn on a plan nor billed twice, nor
        // early.
        finish(&mut tx, job, Outcome::Again(due_at(state, from)), now).await?;
        tx.commit().await?;
        return Ok(());
    }
    if until > from {
        // Read and moved in the write transaction; the condition holds it to the hour read.
        if !instances::claim_billed_hours(&mut *tx, &job.subject, from, until).await? {
            tx.rollback().await?;
            return Ok(());
        }
        let product = Product::find(&instance.product)
            .ok_or_else(|| anyhow::anyhow!("product {}", instance.product))?;
        let metered = product.metered_milli(until - from);
        // SPEC §5: usage draws on an active plan of the product first; the rest is billed.
        let drawn = plan::draw(&mut tx, &account_id, product, from, metered).await?;
        let charge = product
            .usage_charge_after_plan(until - from, drawn.milli)
            .ok_or_else(|| anyhow::anyhow!("{} is not metered", product.code))?;
        if !charge.amount.is_zero() {
            let id = format!("bill-{}", uuid::Uuid::new_v4().simple());
            let description = match (drawn.milli, product.quota) {
                (0, _) | (_, None) => format!("{} pay-as-you-go usage", product.name),
                (milli, Some(quota)) => format!(
                    "{} pay-as-you-go usage, after {} {} drawn on resource plan {}",
                    product.name,
                    shared::catalog::milli_units(milli),
                    quota.unit,
                    drawn.plans.join(", ")
                ),
            };
            let bill = bill_rows::New {
                id: &id,
                account_id: &account_id,
                instance_id: Some(&job.subject),
                description: &description,
                period: Some((from, until)),
                amount_minor: charge.to_minor()?,
                currency: charge.currency,
                due_at: now,
                created_at: now,
            };
            bill_rows::insert(&mut tx, bill).await?;
            // Charged below, after the commit; if the gateway cannot be reached then, this
            // job charges it later ([`ChargeBill`]).
            queue::schedule::<ChargeBill>(&mut tx, &id, bills::first_try_at(state, now), now)
                .await?;
            bill_id = Some(id);
        }
    }
    let still_running = instance.released_at.is_none_or(|released| released > until);
    let outcome = if still_running {
        Outcome::Again(due_at(state, until))
    } else {
        Outcome::Done
    };
    finish(&mut tx, job, outcome, now).await?;
    tx.commit().await?;
    if let Some(id) = bill_id {
        // Outside the job's transaction: a refused charge leaves the bill unpaid, not the job
        // undone; a gateway out of reach leaves it to the bill's own job.
        match charge_bill(state, &account_id, Writer::System, &id).await {
            Ok(_) => {
                let mut tx = db::begin_write(&state.db).await?;
                queue::done::<ChargeBill>(&mut tx, &id, now).await?;
                tx.commit().await?;
            }
            Err(e) => {
                tracing::warn!(bill = %id, error = %e, "bill not charged yet; its job will try again");
            }
        }
    }
    Ok(())
}

/// Finishes the job of an instance (or account) that is no more.
async fn nothing_left(state: &AppState, job: &Claimed, now: Millis) -> Result<(), ApiError> {
    let mut tx = db::begin_write(&state.db).await?;
    finish(&mut tx, job, Outcome::Done, now).await?;
    tx.commit().await?;
    Ok(())
}
