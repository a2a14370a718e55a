//! Resource plans as a quota (SPEC §5): pay-as-you-go usage of a product draws on an active
//! plan of the same product on the same account before it is billed. Each paid period (order)
//! of a plan holds the product's quota; what was drawn of it is kept on the order
//! (`orders.drawn_milli`) and decides the plan's refund (`shared::refund`).

use crate::clock::Millis;
use crate::db::Tx;
use crate::error::ApiError;
use crate::tables::{instances, orders};
use shared::catalog::Product;

/// What one stretch of usage drew on plans.
#[derive(Debug, Default)]
pub struct Drawn {
    /// Thousandths of the quota's unit, over all the plans drawn on.
    pub milli: i64,
    /// The plans drawn on, in the order they were drawn.
    pub plans: Vec<String>,
}

/// Draws up to `metered_milli` of `product`'s usage, metered at `used_at`, on the account's
/// plans of that product, inside the caller's transaction (the usage bill's, opened through
/// the write gate). A plan draws only while it is activated, running (not unsubscribed nor
/// released) and has a paid order in force at `used_at` with quota left; the order ending
/// first is drawn on first, then the next. Returns what was drawn; the rest is billed.
pub async fn draw(
    tx: &mut Tx,
    account_id: &str,
    product: &Product,
    used_at: Millis,
    metered_milli: i64,
) -> Result<Drawn, ApiError> {
    let quota = product.quota_milli();
    let mut drawn = Drawn::default();
    if quota <= 0 || metered_milli <= 0 {
        return Ok(drawn);
    }
    let periods =
        orders::plan_periods_to_draw(&mut **tx, account_id, product.code, used_at, quota).await?;
    for (order_id, plan_id, already) in periods {
        let take = (metered_milli - drawn.milli).min(quota - already);
        if take <= 0 {
            break;
        }
        // The quota is checked again in the statement: an exhausted order draws nothing more.
        if !orders::draw(&mut **tx, &order_id, take, quota - take).await? {
            continue;
        }
        instances::mark_used(&mut **tx, &plan_id).await?;
        drawn.milli += take;
        drawn.plans.push(plan_id);
    }
    Ok(drawn)
}
