//! Unsubscribing resources (seed 002): each is released for good and every paid order still in
//! force (the active one and the pending renewals) refunded by its refund type, one
//! transaction through the account's write gate. A batch holds at most 50 Partial Refund
//! resources. The helpers here write what any unsubscription writes; [`super::renewals`] uses
//! them too.

use super::record::record;
use crate::clock::Millis;
use crate::db::{self, Tx};
use crate::domain::account::{self, Writer};
use crate::domain::refund::{self as refund_job, SettleRefund};
use crate::error::ApiError;
use crate::ids::UnsubscriptionId;
use crate::notices::Notice;
use crate::notify::{Outbox, OwnerNotice};
use crate::oplog::{self, Operation};
use crate::queue;
use crate::state::AppState;
use crate::tables::accounts;
use crate::tables::instances::{self, Instance};
use crate::tables::orders::{self, PaidOrder};
use crate::tables::payment_methods;
use crate::tables::refunds::{self, NewRefund};
use crate::tables::unsubscriptions::{self, NewUnsubscription};
use shared::api::{UnsubscribeForm, UnsubscribeScope, Unsubscribed};
use shared::money::{Currency, Money};
use shared::refund::{RefundDestination, RefundType};
use std::collections::BTreeMap;

/// Writes the refunds of `orders` for one unsubscription, marks the orders unsubscribed and
/// schedules each refund's settlement. Returns the total refunded.
pub(super) async fn refund_orders(
    tx: &mut Tx,
    now: Millis,
    account_id: &str,
    unsubscription_id: &str,
    orders: &[PaidOrder],
    refund_type: RefundType,
    quota_milli: i64,
) -> Result<Money, ApiError> {
    let mut total = Money::zero(orders.first().map_or(Currency::USD, PaidOrder::currency));
    for order in orders {
        if !orders::mark_unsubscribed(&mut **tx, &order.id).await? {
            return Err(ApiError::AlreadyReleased);
        }
        let amount = order.refund(refund_type, quota_milli, now);
        if amount.amount.is_zero() {
            continue;
        }
        total = total.checked_add(amount)?;
        let method_exists: bool = match &order.payment_method_id {
            Some(id) => payment_methods::exists(tx, id, account_id).await?,
            None => false,
        };
        let destination = order.refund_destination(method_exists, now);
        let refund_id = format!("rf-{}", uuid::Uuid::new_v4().simple());
        let refund = NewRefund {
            id: &refund_id,
            account_id,
            unsubscription_id,
            order_id: &order.id,
            amount_minor: amount.to_minor()?,
            currency: amount.currency,
            destination,
            payment_method_id: if destination == RefundDestination::Balance {
                None
            } else {
                order.payment_method_id.as_deref()
            },
            created_at: now,
        };
        match refunds::insert_processing(&mut **tx, &refund).await {
            Err(e) if db::is_unique_violation(&e) => return Err(ApiError::AlreadyReleased),
            other => other?,
        };
        queue::schedule::<SettleRefund>(
            tx,
            &refund_id,
            now + refund_job::settle_after(destination),
            now,
        )
        .await?;
    }
    Ok(total)
}

pub(super) async fn insert_unsubscription(
    tx: &mut Tx,
    now: Millis,
    account_id: &str,
    scope: UnsubscribeScope,
    instance: &Instance,
    refund_type: RefundType,
) -> Result<String, ApiError> {
    let id = format!("us-{}", uuid::Uuid::new_v4().simple());
    let new = NewUnsubscription {
        id: &id,
        account_id,
        scope,
        instance_id: &instance.id,
        product: &instance.product,
        refund_type,
        created_at: now,
    };
    unsubscriptions::insert(&mut **tx, &new).await?;
    Ok(id)
}

pub(super) async fn load_instance(
    tx: &mut Tx,
    account_id: &str,
    id: &str,
) -> Result<Instance, ApiError> {
    let row = instances::owned(&mut **tx, account_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !row.is_running() {
        return Err(ApiError::AlreadyReleased);
    }
    if !row.is_subscription() {
        return Err(ApiError::NotUnsubscribable(
            "Pay-as-you-go resources need no unsubscription: back up the data and release them."
                .into(),
        ));
    }
    Ok(row)
}

pub(super) async fn notify_unsubscribed(
    outbox: &Outbox,
    tx: &mut Tx,
    now: Millis,
    account_id: &str,
    count: usize,
    total: Money,
) -> Result<(), ApiError> {
    let email = accounts::email(&mut **tx, account_id).await?;
    outbox
        .tell_owner(
            tx,
            now,
            OwnerNotice {
                account_id: Some(account_id),
                email: Some(&email),
                phone: None,
                notice: Notice::Unsubscribed {
                    count,
                    total: total.to_string(),
                },
            },
        )
        .await?;
    Ok(())
}

/// Unsubscribes one instance, or a batch of at most 50 Partial Refund ones: each is released
/// for good, its active order and pending renewals refunded.
pub async fn unsubscribe(
    state: &AppState,
    account_id: &str,
    form: &UnsubscribeForm,
) -> Result<Unsubscribed, ApiError> {
    form.check()?;
    let mut ids = form.instance_ids.clone();
    ids.sort();
    ids.dedup();
    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    // In a batch, a refused resource is named, as Batch Refund/Renew names a renewal.
    let batch = ids.len() > 1;
    let mut instances = Vec::with_capacity(ids.len());
    for id in &ids {
        let instance = load_instance(&mut tx, account_id, id)
            .await
            .map_err(|e| if batch { e.in_batch(id) } else { e })?;
        instances.push(instance);
    }
    if instances.len() > 1
        && instances
            .iter()
            .any(|i| i.refund_type() != RefundType::PartialRefund)
    {
        return Err(ApiError::BatchMixedRefundTypes);
    }
    let orders = orders_of_tx(&mut tx, &ids).await?;
    let mut unsubscriptions = Vec::with_capacity(instances.len());
    let mut total: Option<Money> = None;
    for instance in &instances {
        let refund_type = instance.refund_type();
        let id = insert_unsubscription(
            &mut tx,
            now,
            account_id,
            UnsubscribeScope::Resource,
            instance,
            refund_type,
        )
        .await?;
        let its_orders = orders.get(&instance.id).map_or(&[][..], Vec::as_slice);
        let refunded = refund_orders(
            &mut tx,
            now,
            account_id,
            &id,
            its_orders,
            refund_type,
            instance.quota_milli(),
        )
        .await?;
        unsubscriptions::set_total(&mut *tx, &id, refunded.to_minor()?, refunded.currency).await?;
        total = Some(match total {
            Some(sum) => sum.checked_add(refunded)?,
            None => refunded,
        });
        // Released for good: the data is deleted and nothing brings it back.
        instances::release_unsubscribed(&mut *tx, &instance.id, now).await?;
        unsubscriptions.push(UnsubscriptionId::from(id));
    }
    // Nothing to unsubscribe is refused by the form; a batch of resources without orders
    // refunds zero in the catalog's currency.
    let total = total.unwrap_or_else(|| Money::zero(Currency::USD));
    notify_unsubscribed(
        &state.outbox,
        &mut tx,
        now,
        account_id,
        instances.len(),
        total,
    )
    .await?;
    let unsubscribed = Operation::ResourcesUnsubscribed {
        instances: instances.iter().map(|i| i.id.clone()).collect(),
        refund: total,
    };
    oplog::record(&mut tx, account_id, unsubscribed, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, count = instances.len(), total = %total, "unsubscribed");
    let mut records = Vec::with_capacity(unsubscriptions.len());
    for id in &unsubscriptions {
        records.push(record(&state.db, account_id, id).await?);
    }
    Ok(Unsubscribed {
        records,
        total_refund: total,
    })
}

pub(super) async fn orders_of_tx(
    tx: &mut Tx,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<PaidOrder>>, ApiError> {
    let mut by_instance: BTreeMap<String, Vec<PaidOrder>> = BTreeMap::new();
    for id in ids {
        by_instance.insert(id.clone(), orders::paid_of_instance(&mut **tx, id).await?);
    }
    Ok(by_instance)
}
