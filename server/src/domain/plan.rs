//! Resource plans as a quota (SPEC §5): pay-as-you-go usage of a product draws on an active
//! plan of the same product on the same account before it is billed. Each paid period (order)
//! of a plan holds the product's quota; what was drawn of it is kept on the order
//! (`orders.drawn_milli`) and decides the plan's refund (`shared::refund`).

use crate::clock::Millis;
use crate::db::Tx;
use crate::error::ApiError;
use crate::tables::instances;
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
    let orders: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT o.id, i.id, o.drawn_milli FROM orders o JOIN instances i ON i.id = o.instance_id
         WHERE i.account_id = $1 AND i.product = $2 AND i.resource_kind = 'resource_plan'
           AND i.billing = 'subscription' AND i.status = 'running' AND i.activated = 1
           AND o.status = 'paid' AND o.starts_at <= $3 AND o.ends_at > $3 AND o.drawn_milli < $4
         ORDER BY o.ends_at, o.id",
    )
    .bind(account_id)
    .bind(product.code)
    .bind(used_at)
    .bind(quota)
    .fetch_all(&mut **tx)
    .await?;
    for (order_id, plan_id, already) in orders {
        let take = (metered_milli - drawn.milli).min(quota - already);
        if take <= 0 {
            break;
        }
        // The quota is checked again in the statement: an exhausted order draws nothing more.
        let updated = sqlx::query(
            "UPDATE orders SET drawn_milli = drawn_milli + $1 WHERE id = $2 AND drawn_milli <= $3",
        )
        .bind(take)
        .bind(&order_id)
        .bind(quota - take)
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() != 1 {
            continue;
        }
        instances::mark_used(&mut **tx, &plan_id).await?;
        drawn.milli += take;
        drawn.plans.push(plan_id);
    }
    Ok(drawn)
}
