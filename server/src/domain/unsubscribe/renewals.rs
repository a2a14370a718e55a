//! Cancelling pending renewals (seed 002, Renewal tab): the renewals of an instance from the
//! chosen one on are refunded in full, and the instance, still running, now expires when that
//! renewal would have begun.

use super::OrderRow;
use super::record::record;
use super::resources::{
    insert_unsubscription, load_instance, notify_unsubscribed, orders_of_tx, refund_orders,
    set_total,
};
use crate::domain::account::{self, Writer};
use crate::domain::expiry::Expire;
use crate::error::ApiError;
use crate::oplog::{self, Action};
use crate::queue;
use crate::state::AppState;
use shared::api::{UnsubscribeRenewalForm, Unsubscribed};

/// Cancels the pending renewals of an instance from `order_id` on; the instance keeps running
/// and now expires when that renewal would have begun.
pub async fn unsubscribe_renewals(
    state: &AppState,
    account_id: &str,
    form: &UnsubscribeRenewalForm,
) -> Result<Unsubscribed, ApiError> {
    form.check()?;
    let now = state.clock.now_ms();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let instance = load_instance(&mut tx, account_id, &form.instance_id).await?;
    let orders = orders_of_tx(&mut tx, std::slice::from_ref(&instance.id))
        .await?
        .remove(&instance.id)
        .unwrap_or_default();
    let Some(target) = orders
        .iter()
        .find(|o| o.id == form.order_id && o.starts_at > now)
    else {
        return Err(ApiError::NotUnsubscribable("That renewal has started or is not pending: choose a renewal that has not taken effect.".into()));
    };
    let new_expiry = target.starts_at;
    let cancelled: Vec<OrderRow> = orders
        .iter()
        .filter(|o| o.starts_at >= new_expiry)
        .cloned()
        .collect();
    let refund_type = instance.refund_type();
    let id =
        insert_unsubscription(&mut tx, now, account_id, "renewal", &instance, refund_type).await?;
    let total = refund_orders(
        &mut tx,
        now,
        account_id,
        &id,
        &cancelled,
        refund_type,
        instance.quota_milli(),
    )
    .await?;
    set_total(&mut tx, &id, total).await?;
    sqlx::query("UPDATE instances SET expires_at = $1 WHERE id = $2")
        .bind(new_expiry)
        .bind(&instance.id)
        .execute(&mut *tx)
        .await?;
    // The expiry job may already wait for the end of the renewals just cancelled.
    queue::move_to::<Expire>(&mut tx, &instance.id, new_expiry).await?;
    notify_unsubscribed(&state.outbox, &mut tx, now, account_id, 1, total).await?;
    let detail = format!(
        "{}: renewals not yet in effect, refund {total}",
        instance.id
    );
    oplog::record(&mut tx, account_id, Action::Unsubscribe, &detail, now).await?;
    tx.commit().await?;
    Ok(Unsubscribed {
        records: vec![record(&state.db, account_id, &id).await?],
        total_refund: total,
    })
}
