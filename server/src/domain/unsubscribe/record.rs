//! An unsubscription's record (seed 002, Unsubscription Records): what was unsubscribed, the
//! refund, where it went and whether it has arrived.

use super::place;
use crate::clock::{Millis, rfc3339};
use crate::db::{self, Backend, Stored};
use crate::domain::refund::RefundStatus;
use crate::error::ApiError;
use crate::ids::UnsubscriptionId;
use crate::tables::refunds::{self, RecordRefund};
use shared::api::{
    OrderStatus, RecordRefundStatus, RefundPlace, UnsubscribeRecord, UnsubscribeScope,
};
use shared::catalog::Product;
use shared::money::{Currency, Money};
use shared::refund::RefundType;
use std::collections::HashMap;

/// An unsubscription as its record reads it.
#[derive(sqlx::FromRow)]
struct RecordRow {
    id: String,
    instance_id: String,
    product: String,
    scope: Stored<UnsubscribeScope>,
    refund_type: Stored<RefundType>,
    refund_minor: i64,
    currency: Stored<Currency>,
    created_at: Millis,
}

/// One unsubscription of the account.
pub async fn record(
    db: &db::Db,
    account_id: &str,
    id: &UnsubscriptionId,
) -> Result<UnsubscribeRecord, ApiError> {
    let mut conn = db.acquire().await?;
    records(&mut conn, account_id, &[id.as_str()])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// The account's unsubscriptions among `ids`, in their order: two statements however many.
pub(super) async fn records(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    ids: &[&str],
) -> Result<Vec<UnsubscribeRecord>, ApiError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list = db::in_json(Backend::of(conn), 2);
    let rows: Vec<RecordRow> = sqlx::query_as(&format!(
        "SELECT id, instance_id, product, scope, refund_type, refund_minor, currency, created_at
         FROM unsubscriptions WHERE account_id = $1 AND id IN {list}"
    ))
    .bind(account_id)
    .bind(db::json_texts(ids.iter().copied()))
    .fetch_all(&mut *conn)
    .await?;
    let refunds = refunds::of_unsubscriptions(conn, account_id, ids).await?;
    let mut refunds_of: HashMap<&str, Vec<&RecordRefund>> = HashMap::new();
    for refund in &refunds {
        refunds_of
            .entry(&refund.unsubscription_id)
            .or_default()
            .push(refund);
    }
    let mut by_id: HashMap<&str, &RecordRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|row| {
            view(
                row,
                refunds_of.get(row.id.as_str()).map_or(&[], Vec::as_slice),
            )
        })
        .collect())
}

fn view(row: &RecordRow, refunds: &[&RecordRefund]) -> UnsubscribeRecord {
    let all_refunded =
        !refunds.is_empty() && refunds.iter().all(|r| r.status.0 == RefundStatus::Refunded);
    UnsubscribeRecord {
        id: row.id.clone(),
        instance_id: row.instance_id.clone(),
        product_name: Product::find(&row.product)
            .map_or_else(|| row.product.clone(), |p| p.name.to_owned()),
        scope: row.scope.0,
        refund_type: row.refund_type.0,
        order_status: OrderStatus::Unsubscribed,
        unsubscribe_to: RefundPlace::each_once(
            refunds
                .iter()
                .map(|r| place(r.destination.0, r.label.as_deref())),
        ),
        refunded_orders: refunds.iter().map(|r| r.order_id.clone()).collect(),
        refund_amount: Money::from_minor(row.refund_minor, row.currency.0),
        refund_status: if refunds.is_empty() {
            RecordRefundStatus::None
        } else if all_refunded {
            RecordRefundStatus::Refunded
        } else {
            RecordRefundStatus::Processing
        },
        refund_time: if all_refunded {
            refunds
                .iter()
                .filter_map(|r| r.refunded_at)
                .max()
                .map(rfc3339)
        } else {
            None
        },
        unsubscribed_at: rfc3339(row.created_at),
    }
}
