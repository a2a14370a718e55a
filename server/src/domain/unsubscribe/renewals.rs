//! Cancelling pending renewals (seed 002, Renewal tab): the renewals of an instance from the
//! chosen one on are refunded in full, and the instance, still running, now expires when that
//! renewal would have begun. One instance at a time, or several in one batch ("Batch
//! Refund/Renew", at most 50): either way one transaction, each instance by
//! [`cancel_renewals_of`].

use super::PaidOrder;
use super::record::record;
use super::resources::{
    insert_unsubscription, load_instance, notify_unsubscribed, orders_of_tx, refund_orders,
};
use crate::clock::Millis;
use crate::db::Tx;
use crate::domain::account::{self, Writer};
use crate::domain::expiry::Expire;
use crate::error::ApiError;
use crate::ids::UnsubscriptionId;
use crate::oplog::{self, Operation};
use crate::queue;
use crate::state::AppState;
use crate::tables::{instances, unsubscriptions};
use shared::api::RenewalRefund;
use shared::api::{
    RenewalChoice, UnsubscribeRenewalBatchForm, UnsubscribeRenewalForm, UnsubscribeScope,
    Unsubscribed,
};
use shared::money::Money;

/// Cancels the pending renewals of an instance from `order_id` on; the instance keeps running
/// and now expires when that renewal would have begun.
pub async fn unsubscribe_renewals(
    state: &AppState,
    account_id: &str,
    form: &UnsubscribeRenewalForm,
) -> Result<Unsubscribed, ApiError> {
    form.check()?;
    let choice = RenewalChoice {
        instance_id: form.instance_id.clone(),
        order_id: form.order_id.clone(),
    };
    cancel(state, account_id, &[choice], Items::One).await
}

/// Cancels the pending renewals of each chosen instance from its chosen order on, all or none:
/// an item that cannot be cancelled refuses the batch with its own error, naming it.
pub async fn unsubscribe_renewals_batch(
    state: &AppState,
    account_id: &str,
    form: &UnsubscribeRenewalBatchForm,
) -> Result<Unsubscribed, ApiError> {
    form.check()?;
    cancel(state, account_id, &form.renewals, Items::Batch).await
}

/// Whether an item's refusal names the item: a batch's does, a single one's is about its form.
#[derive(Clone, Copy, PartialEq)]
enum Items {
    One,
    Batch,
}

/// The one write of both paths: each choice by [`cancel_renewals_of`] inside one transaction
/// through the account's write gate, then one notice and one log line for them all.
async fn cancel(
    state: &AppState,
    account_id: &str,
    choices: &[RenewalChoice],
    items: Items,
) -> Result<Unsubscribed, ApiError> {
    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let mut cancelled = Vec::with_capacity(choices.len());
    let mut total: Option<Money> = None;
    for choice in choices {
        let (id, refunded) = cancel_renewals_of(&mut tx, now, account_id, choice)
            .await
            .map_err(|e| match items {
                Items::One => e,
                Items::Batch => e.in_batch(&choice.instance_id),
            })?;
        total = Some(match total {
            None => refunded,
            Some(sum) => sum
                .checked_add(refunded)
                .map_err(|e| ApiError::from(e).in_batch(&choice.instance_id))?,
        });
        cancelled.push((
            UnsubscriptionId::from(id),
            choice.instance_id.as_str(),
            refunded,
        ));
    }
    let total = total.ok_or_else(|| anyhow::anyhow!("no renewals to cancel: the form has one"))?;
    notify_unsubscribed(
        &state.outbox,
        &mut tx,
        now,
        account_id,
        cancelled.len(),
        total,
    )
    .await?;
    let cancelled_renewals = Operation::RenewalsCancelled {
        renewals: cancelled
            .iter()
            .map(|(_, instance, refund)| RenewalRefund {
                instance: (*instance).to_owned(),
                refund: *refund,
            })
            .collect(),
    };
    oplog::record(&mut tx, account_id, cancelled_renewals, now).await?;
    tx.commit().await?;
    let mut records = Vec::with_capacity(cancelled.len());
    for (id, _, _) in &cancelled {
        records.push(record(&state.db, account_id, id).await?);
    }
    Ok(Unsubscribed {
        records,
        total_refund: total,
    })
}

/// Inside `tx`: cancels the pending renewals of one instance from the chosen order on, refunds
/// them in full, records the unsubscription, and moves the instance's expiry (and its expiry
/// job) to when the chosen renewal would have begun. Returns the record's ID and the refund.
async fn cancel_renewals_of(
    tx: &mut Tx,
    now: Millis,
    account_id: &str,
    choice: &RenewalChoice,
) -> Result<(String, Money), ApiError> {
    let instance = load_instance(tx, account_id, &choice.instance_id).await?;
    let orders = orders_of_tx(tx, std::slice::from_ref(&instance.id))
        .await?
        .remove(&instance.id)
        .unwrap_or_default();
    let Some(target) = orders
        .iter()
        .find(|o| o.id == choice.order_id && o.starts_at > now)
    else {
        return Err(ApiError::NotUnsubscribable("That renewal has started or is not pending: choose a renewal that has not taken effect.".into()));
    };
    let new_expiry = target.starts_at;
    let cancelled: Vec<PaidOrder> = orders
        .iter()
        .filter(|o| o.starts_at >= new_expiry)
        .cloned()
        .collect();
    let refund_type = instance.refund_type();
    let id = insert_unsubscription(
        tx,
        now,
        account_id,
        UnsubscribeScope::Renewal,
        &instance,
        refund_type,
    )
    .await?;
    let total = refund_orders(
        tx,
        now,
        account_id,
        &id,
        &cancelled,
        refund_type,
        instance.quota_milli(),
    )
    .await?;
    unsubscriptions::set_total(&mut **tx, &id, total.to_minor()?, total.currency).await?;
    instances::set_expiry(&mut **tx, &instance.id, new_expiry).await?;
    // The expiry job may already wait for the end of the renewals just cancelled.
    queue::move_to::<Expire>(tx, &instance.id, new_expiry).await?;
    Ok((id, total))
}
