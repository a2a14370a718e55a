//! Unsubscribing resources (seed 002): each is released for good and every paid order still in
//! force (the active one and the pending renewals) refunded by its refund type, one
//! transaction through the account's write gate. A batch holds at most 50 Partial Refund
//! resources. The helpers here write what any unsubscription writes; [`super::renewals`] uses
//! them too.

use super::record::record;
use super::{ORDER_COLUMNS, OrderRow};
use crate::clock::Millis;
use crate::db::{self, Tx};
use crate::domain::account::{self, Writer};
use crate::domain::instances::{self, Instance};
use crate::domain::refund::{self as refund_job, SettleRefund};
use crate::error::ApiError;
use crate::ids::UnsubscriptionId;
use crate::notices::Notice;
use crate::notify::{Outbox, OwnerNotice};
use crate::oplog::{self, Operation};
use crate::queue;
use crate::state::AppState;
use crate::tables::payment_methods;
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
    orders: &[OrderRow],
    refund_type: RefundType,
    quota_milli: i64,
) -> Result<Money, ApiError> {
    let mut total = Money::zero(orders.first().map_or(Currency::USD, OrderRow::currency));
    for order in orders {
        let updated = sqlx::query(
            "UPDATE orders SET status = 'unsubscribed' WHERE id = $1 AND status = 'paid'",
        )
        .bind(&order.id)
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() != 1 {
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
        let inserted = sqlx::query(
            "INSERT INTO refunds (id, account_id, unsubscription_id, order_id, amount_minor, currency, destination, payment_method_id, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'processing', $9)",
        )
        .bind(&refund_id)
        .bind(account_id)
        .bind(unsubscription_id)
        .bind(&order.id)
        .bind(amount.to_minor()?)
        .bind(amount.currency.code())
        .bind(destination.as_str())
        .bind(if destination == RefundDestination::Balance { None } else { order.payment_method_id.as_deref() })
        .bind(now)
        .execute(&mut **tx)
        .await;
        match inserted {
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
    sqlx::query(
        "INSERT INTO unsubscriptions (id, account_id, scope, instance_id, product, refund_type, refund_minor, currency, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, 'USD', $7)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(scope.as_str())
    .bind(&instance.id)
    .bind(&instance.product)
    .bind(refund_type.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

pub(super) async fn set_total(tx: &mut Tx, id: &str, total: Money) -> Result<(), ApiError> {
    sqlx::query("UPDATE unsubscriptions SET refund_minor = $1, currency = $2 WHERE id = $3")
        .bind(total.to_minor()?)
        .bind(total.currency.code())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) async fn load_instance(
    tx: &mut Tx,
    account_id: &str,
    id: &str,
) -> Result<Instance, ApiError> {
    let row = instances::owned(&mut **tx, account_id, id).await?;
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
    let email: String = sqlx::query_scalar("SELECT email FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await?;
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
        set_total(&mut tx, &id, refunded).await?;
        total = Some(match total {
            Some(sum) => sum.checked_add(refunded)?,
            None => refunded,
        });
        // Released for good: the data is deleted and nothing brings it back.
        sqlx::query("UPDATE instances SET status = 'released', released_at = $1, expires_at = $2, auto_renew = 0 WHERE id = $3")
            .bind(now)
            .bind(now)
            .bind(&instance.id)
            .execute(&mut *tx)
            .await?;
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
) -> Result<BTreeMap<String, Vec<OrderRow>>, ApiError> {
    let mut by_instance: BTreeMap<String, Vec<OrderRow>> = BTreeMap::new();
    for id in ids {
        let orders: Vec<OrderRow> =
            sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE status = 'paid' AND instance_id = $1 ORDER BY starts_at"))
                .bind(id)
                .fetch_all(&mut **tx)
                .await?;
        by_instance.insert(id.clone(), orders);
    }
    Ok(by_instance)
}
