//! Pay-as-you-go usage billing: each running pay-as-you-go instance has one recurring job that
//! bills the next hour of use once that hour is over plus the configured delay (usage reaches
//! billing hours late, SPEC §4). The bill is then charged to the default payment method; a bill
//! that cannot be charged stays unpaid, which is an overdue payment.

use super::{Job, Outcome, finish};
use crate::db;
use crate::domain::account::Writer;
use crate::domain::purchase::charge_bill;
use crate::error::ApiError;
use crate::state::AppState;
use shared::catalog::Product;

pub const KIND: &str = "payg_usage";
pub const HOUR_MS: i64 = 3_600_000;

/// When the hour starting at `billed_until` can be billed.
pub fn due_at(state: &AppState, billed_until: i64) -> i64 {
    billed_until + HOUR_MS + state.config.usage_billing_delay_hours * HOUR_MS
}

#[derive(sqlx::FromRow)]
struct Instance {
    account_id: String,
    product: String,
    billed_until: Option<i64>,
    released_at: Option<i64>,
}

pub async fn bill(state: &AppState, job: &Job) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let instance: Option<Instance> = sqlx::query_as(
        "SELECT account_id, product, billed_until, released_at FROM instances WHERE id = $1",
    )
    .bind(&job.subject)
    .fetch_optional(&state.db)
    .await?;
    let mut tx = db::begin_write(&state.db).await?;
    let Some(instance) = instance else {
        finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        return Ok(());
    };
    let from = instance.billed_until.unwrap_or(now);
    let until = (from + HOUR_MS).min(instance.released_at.unwrap_or(i64::MAX));
    let mut bill_id = None;
    if until > from {
        let product = Product::find(&instance.product)
            .ok_or_else(|| anyhow::anyhow!("product {}", instance.product))?;
        let charge = product
            .usage_charge(until - from)
            .ok_or_else(|| anyhow::anyhow!("{} is not metered", product.code))?;
        let id = format!("bill-{}", uuid::Uuid::new_v4().simple());
        sqlx::query(
            "INSERT INTO bills (id, account_id, instance_id, description, period_start, period_end, amount_minor, currency, status, due_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'unpaid', $9, $10)",
        )
        .bind(&id)
        .bind(&instance.account_id)
        .bind(&job.subject)
        .bind(format!("{} pay-as-you-go usage", product.name))
        .bind(from)
        .bind(until)
        .bind(charge.to_minor().map_err(|e| anyhow::anyhow!("{e}"))?)
        .bind(charge.currency.code())
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE instances SET billed_until = $1 WHERE id = $2")
            .bind(until)
            .bind(&job.subject)
            .execute(&mut *tx)
            .await?;
        bill_id = Some(id);
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
        // Outside the job's transaction: a failed charge leaves the bill unpaid, not the job undone.
        charge_bill(state, &instance.account_id, Writer::System, &id).await?;
    }
    Ok(())
}
