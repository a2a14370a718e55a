//! An unsubscription's record (seed 002, Unsubscription Records): what was unsubscribed, the
//! refund, where it went and whether it has arrived.

use super::place;
use crate::clock::rfc3339;
use crate::db;
use crate::domain::refund::RefundStatus;
use crate::error::ApiError;
use crate::ids::UnsubscriptionId;
use crate::tables::refunds::{self, RecordRefund};
use crate::tables::unsubscriptions::{self, Unsubscription};
use shared::api::{OrderStatus, RecordRefundStatus, RefundPlace, UnsubscribeRecord};
use shared::catalog::Product;
use shared::money::Money;
use std::collections::HashMap;

/// One unsubscription of the account.
pub async fn record(
    db: &db::Db,
    account_id: &str,
    id: &UnsubscriptionId,
) -> Result<UnsubscribeRecord, ApiError> {
    let mut conn = db.readers().acquire().await?;
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
    let rows = unsubscriptions::of_account(conn, account_id, ids).await?;
    let refunds = refunds::of_unsubscriptions(conn, account_id, ids).await?;
    let mut refunds_of: HashMap<&str, Vec<&RecordRefund>> = HashMap::new();
    for refund in &refunds {
        refunds_of
            .entry(&refund.unsubscription_id)
            .or_default()
            .push(refund);
    }
    let mut by_id: HashMap<&str, &Unsubscription> =
        rows.iter().map(|r| (r.id.as_str(), r)).collect();
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

fn view(row: &Unsubscription, refunds: &[&RecordRefund]) -> UnsubscribeRecord {
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
