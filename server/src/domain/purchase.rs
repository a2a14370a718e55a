//! Buying (SPEC §4): subscriptions paid up front with the default payment method, the account
//! balance or the free credit; pay-as-you-go instances billed later by the usage job. Renewals
//! add a paid period after the current one.

use crate::clock::{Millis, rfc3339};
use crate::db::{Stored, Tx};
use crate::domain::account::{self, Writer};
use crate::domain::billing;
use crate::domain::expiry::Expire;
use crate::domain::intent::{self, Charged};
use crate::domain::ledger::{Bucket, LedgerKind};
use crate::domain::usage::{self, BillUsage};
use crate::error::ApiError;
use crate::ids::InstanceId;
use crate::oplog::{self, Operation};
use crate::queue;
use crate::state::AppState;
use crate::tables::bills;
use crate::tables::coupons;
use crate::tables::instances::{self, Instance, NewInstance};
use crate::tables::ledger_entries::{self, Entry};
pub use crate::tables::orders::OrderKind;
use crate::tables::orders::{self, NewOrder};
use crate::tables::payment_methods;
use crate::tables::real_name_registrations;
use chrono::{Months, TimeZone, Utc};
use shared::api::PaymentMethodKind;
use shared::api::{InstanceView, Purchased};
use shared::catalog::{Billing, PayWith, Product, Purchase};
use shared::money::{Currency, Money};
use shared::refund::{PaidWith, ResourceKind};

/// `at` plus whole calendar months (a month from 31 January is the last day of February).
pub fn add_months(at: Millis, months: u32) -> Millis {
    Utc.timestamp_millis_opt(at.0)
        .single()
        .and_then(|t| t.checked_add_months(Months::new(months)))
        .map_or(at, |t| Millis(t.timestamp_millis()))
}

/// A payment made, or to be recorded in the order's transaction.
#[derive(Clone)]
struct Payment {
    paid_with: PaidWith,
    cash: Money,
    credit: Money,
    method_id: Option<String>,
    /// The gateway's charge, for a payment by card, PayPal or Paytm.
    charged: Option<Charged>,
}

impl Payment {
    fn reference(&self) -> Option<&str> {
        self.charged.as_ref().map(|c| c.reference.as_str())
    }
}

/// The account's default method: its id, kind and gateway token.
async fn default_method<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_id: &str,
) -> Result<(String, PaymentMethodKind, String), ApiError> {
    match payment_methods::default_to_charge(db, account_id).await? {
        Some(payment_methods::ChargeMethod {
            id,
            kind,
            gateway_token: Some(token),
        }) => Ok((id, kind.0, token)),
        _ => Err(ApiError::PaymentMethodRequired),
    }
}

/// Charges the default method before the order's transaction, as an intent for `purpose`
/// (see [`intent`]); balance and credit are debited inside it (see [`record_payment`]).
async fn pay(
    state: &AppState,
    account_id: &str,
    writer: Writer,
    pay_with: PayWith,
    amount: Money,
    purpose: &str,
) -> Result<Payment, ApiError> {
    let zero = Money::zero(amount.currency);
    match pay_with {
        PayWith::Credit => Ok(Payment {
            paid_with: PaidWith::Credit,
            cash: zero,
            credit: amount,
            method_id: None,
            charged: None,
        }),
        PayWith::Balance => Ok(Payment {
            paid_with: PaidWith::Balance,
            cash: amount,
            credit: zero,
            method_id: None,
            charged: None,
        }),
        PayWith::DefaultMethod => {
            let (id, kind, token) = default_method(&state.db, account_id).await?;
            let method = intent::Method {
                id: &id,
                token: &token,
            };
            let charged =
                intent::charge(state, account_id, writer, method, amount, purpose).await?;
            Ok(Payment {
                paid_with: kind.into(),
                cash: amount,
                credit: zero,
                method_id: Some(id),
                charged: Some(charged),
            })
        }
    }
}

/// Records `payment` inside the order's transaction: captures its gateway charge, or debits
/// balance or credit, refusing when the bucket does not cover it.
async fn record_payment(
    tx: &mut Tx,
    now: Millis,
    account_id: &str,
    payment: &Payment,
    memo: &str,
) -> Result<(), ApiError> {
    if let Some(charged) = &payment.charged {
        return intent::capture(tx, account_id, charged, now).await;
    }
    let (bucket, amount, what) = match payment.paid_with {
        PaidWith::Credit => (Bucket::Credit, payment.credit, "free credit"),
        PaidWith::Balance => (Bucket::Cash, payment.cash, "account balance"),
        PaidWith::Card | PaidWith::Paypal | PaidWith::Paytm => return Ok(()),
    };
    if amount.amount.is_zero() {
        return Ok(());
    }
    let held = ledger_entries::sum(&mut **tx, account_id, bucket, amount.currency).await?;
    if held.to_minor()? < amount.to_minor()? {
        return Err(ApiError::InsufficientBalance(what));
    }
    let debit = Money::new(-amount.amount, amount.currency);
    ledger_entries::insert(
        tx,
        now,
        Entry {
            account_id,
            kind: LedgerKind::Payment,
            bucket,
            amount: debit,
            payment_method_id: None,
            reference: None,
            memo,
        },
    )
    .await?;
    Ok(())
}

/// Gives back a gateway charge whose order could not be written (see [`intent::abandon`]).
async fn undo_charge(state: &AppState, account_id: &str, payment: &Payment) {
    if let Some(charged) = &payment.charged
        && let Err(e) = intent::abandon(state, account_id, charged).await
    {
        // The intent is still pending: its job finds the charge and returns it.
        tracing::error!(intent = %charged.intent_id, error = %e, "charge of a failed order not returned yet");
    }
}

pub async fn purchase(
    state: &AppState,
    account_id: &str,
    p: Purchase,
) -> Result<Purchased, ApiError> {
    billing::require_address(&state.db, account_id).await?;
    if p.region.mainland_china && !real_name_registrations::exists(&state.db, account_id).await? {
        return Err(ApiError::RealNameRequired);
    }
    let now = state.clock.now();
    let instance_id = format!("i-{}", &uuid::Uuid::new_v4().simple().to_string()[..20]);
    // Pay-as-you-go use of a plan's product is not a plan: it draws on one (SPEC §5).
    let plan = p.product.kind == ResourceKind::ResourcePlan && p.billing == Billing::Subscription;
    let kind = if plan {
        ResourceKind::ResourcePlan
    } else {
        ResourceKind::RegularCloudResource
    };
    let new_instance = NewInstance {
        id: &instance_id,
        account_id,
        product: p.product.code,
        region: p.region.code,
        kind,
        started_at: now,
    };

    if p.billing == Billing::Payg {
        // Usage is charged to the default method later; it must exist now.
        let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
        // Inside the write: removing the last method waits for it, or is seen here.
        default_method(&mut *tx, account_id).await?;
        instances::insert_payg(&mut *tx, &new_instance).await?;
        queue::schedule::<BillUsage>(&mut tx, &instance_id, usage::due_at(state, now), now).await?;
        let purchased = Operation::PayAsYouGoPurchased {
            instance: instance_id.clone(),
            product: p.product.code.to_owned(),
        };
        oplog::record(&mut tx, account_id, purchased, now).await?;
        tx.commit().await?;
        return Ok(Purchased {
            instance: instance(state, account_id, &instance_id).await?,
            order_id: None,
            charged: Money::zero(Currency::USD),
        });
    }

    let price = p.product.price(p.period_months);
    // A coupon takes its part off first; the rest is paid the chosen way.
    let coupon = match &p.coupon_id {
        Some(id) => Some(usable_coupon(state, account_id, id, now, price).await?),
        None => None,
    };
    let coupon_part = coupon.as_ref().map_or(Money::zero(price.currency), |c| c.1);
    let due = price.checked_sub(coupon_part)?;
    let order_id = format!("ord-{}", uuid::Uuid::new_v4().simple());
    let payment = if due.amount.is_zero() {
        Payment {
            paid_with: PaidWith::Credit,
            cash: due,
            credit: due,
            method_id: None,
            charged: None,
        }
    } else {
        let purpose = format!("order:{order_id}");
        pay(state, account_id, Writer::Member, p.pay_with, due, &purpose).await?
    };
    // The order records the coupon's part as non-cash: it is never refunded as cash.
    let paid = Payment {
        credit: payment.credit.checked_add(coupon_part)?,
        ..payment.clone()
    };
    let ends_at = add_months(now, p.period_months);
    let written = async {
        let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
        if let Some((coupon_id, part)) = &coupon
            && !coupons::take(&mut *tx, account_id, coupon_id, part.to_minor()?).await?
        {
            return Err(ApiError::CouponNotUsable);
        }
        record_payment(
            &mut tx,
            now,
            account_id,
            &payment,
            &format!("Payment for order {order_id}"),
        )
        .await?;
        instances::insert_subscription(&mut *tx, &new_instance, !plan, p.auto_renew, ends_at)
            .await?;
        insert_order(
            &mut tx,
            account_id,
            &instance_id,
            &order_id,
            OrderKind::New,
            p.period_months,
            now,
            ends_at,
            price,
            &paid,
            now,
        )
        .await?;
        queue::schedule::<Expire>(&mut tx, &instance_id, ends_at, now).await?;
        let purchased = Operation::SubscriptionPurchased {
            instance: instance_id.clone(),
            product: p.product.code.to_owned(),
            months: p.period_months,
            price,
        };
        oplog::record(&mut tx, account_id, purchased, now).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    }
    .await;
    if let Err(e) = written {
        undo_charge(state, account_id, &payment).await;
        return Err(e);
    }
    tracing::info!(account = %account_id, instance = %instance_id, order = %order_id, "subscription bought");
    Ok(Purchased {
        instance: instance(state, account_id, &instance_id).await?,
        order_id: Some(order_id),
        charged: due,
    })
}

/// The coupon and the part of `price` it covers, if it is the account's, unexpired and not empty.
async fn usable_coupon(
    state: &AppState,
    account_id: &str,
    id: &str,
    now: Millis,
    price: Money,
) -> Result<(String, Money), ApiError> {
    let found = coupons::usable(&state.db, account_id, id, now).await?;
    let Some((remaining, Stored(currency))) = found.filter(|(_, c)| c.0 == price.currency) else {
        return Err(ApiError::CouponNotUsable);
    };
    let part = remaining.min(price.to_minor()?);
    Ok((id.to_owned(), Money::from_minor(part, currency)))
}

/// The account's coupons with something left, soonest to expire first.
pub async fn coupons(
    state: &AppState,
    account_id: &str,
) -> Result<Vec<shared::api::CouponView>, ApiError> {
    let rows = coupons::usable_of_account(&state.db, account_id, state.clock.now()).await?;
    Ok(rows
        .into_iter()
        .map(|c| shared::api::CouponView {
            id: c.id,
            description: c.description,
            amount: Money::from_minor(c.amount_minor, c.currency.0),
            remaining: Money::from_minor(c.remaining_minor, c.currency.0),
            expires_at: rfc3339(c.expires_at),
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn insert_order(
    tx: &mut Tx,
    account_id: &str,
    instance_id: &str,
    order_id: &str,
    kind: OrderKind,
    months: u32,
    starts_at: Millis,
    ends_at: Millis,
    price: Money,
    payment: &Payment,
    now: Millis,
) -> Result<(), ApiError> {
    let order = NewOrder {
        id: order_id,
        account_id,
        instance_id,
        kind,
        months,
        starts_at,
        ends_at,
        currency: price.currency,
        list_minor: price.to_minor()?,
        cash_minor: payment.cash.to_minor()?,
        credit_minor: payment.credit.to_minor()?,
        paid_with: payment.paid_with,
        payment_method_id: payment.method_id.as_deref(),
        gateway_reference: payment.reference(),
        paid_at: now,
    };
    orders::insert_paid(&mut **tx, &order).await?;
    Ok(())
}

/// Renews a running subscription: a new paid period after its current expiry, pending until then.
pub async fn renew(
    state: &AppState,
    account_id: &str,
    writer: Writer,
    instance_id: &InstanceId,
    months: u32,
    pay_with: PayWith,
) -> Result<Purchased, ApiError> {
    let instance_id = instance_id.as_str();
    let found = instances::owned(&state.db, account_id, instance_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !found.is_running() {
        return Err(ApiError::AlreadyReleased);
    }
    let product = Product::find(&found.product)
        .ok_or_else(|| anyhow::anyhow!("product {}", found.product))?;
    let expires_at = found.expires_at;
    if !found.is_subscription() {
        return Err(ApiError::NotUnsubscribable(
            "Pay-as-you-go resources are not renewed.".into(),
        ));
    }
    product.check_period(months)?;
    let now = state.clock.now();
    let price = product.price(months);
    let order_id = format!("ord-{}", uuid::Uuid::new_v4().simple());
    let purpose = format!("order:{order_id}");
    let payment = pay(state, account_id, writer, pay_with, price, &purpose).await?;
    let written = async {
        let mut tx = account::begin_write(&state.db, account_id, writer).await?;
        // Re-read inside the write lock: another renewal may have moved the expiry, and an
        // unsubscription, a transfer or the expiry job may have released the instance since
        // it was read above, and then this renewal has nothing to extend.
        let current = instances::running_expiry(&mut *tx, instance_id)
            .await?
            .ok_or(ApiError::AlreadyReleased)?;
        let starts_at = current.or(expires_at).unwrap_or(now).max(now);
        let ends_at = add_months(starts_at, months);
        record_payment(
            &mut tx,
            now,
            account_id,
            &payment,
            &format!("Payment for renewal {order_id}"),
        )
        .await?;
        insert_order(
            &mut tx,
            account_id,
            instance_id,
            &order_id,
            OrderKind::Renewal,
            months,
            starts_at,
            ends_at,
            price,
            &payment,
            now,
        )
        .await?;
        instances::set_expiry(&mut *tx, instance_id, ends_at).await?;
        let renewed = Operation::SubscriptionRenewed {
            instance: instance_id.to_owned(),
            months,
            price,
        };
        oplog::record(&mut tx, account_id, renewed, now).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    }
    .await;
    if let Err(e) = written {
        undo_charge(state, account_id, &payment).await;
        return Err(e);
    }
    Ok(Purchased {
        instance: instance(state, account_id, instance_id).await?,
        order_id: Some(order_id),
        charged: price,
    })
}

/// Activates a resource plan (from then on it is being used up).
pub async fn activate(
    state: &AppState,
    account_id: &str,
    instance_id: &InstanceId,
) -> Result<InstanceView, ApiError> {
    let instance_id = instance_id.as_str();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    if !instances::activate_plan(&mut *tx, account_id, instance_id).await? {
        return Err(ApiError::NotFound);
    }
    tx.commit().await?;
    instance(state, account_id, instance_id).await
}

pub async fn instance(
    state: &AppState,
    account_id: &str,
    id: &str,
) -> Result<InstanceView, ApiError> {
    Ok(instances::owned(&state.db, account_id, id)
        .await?
        .ok_or(ApiError::NotFound)?
        .view())
}

pub async fn instances(state: &AppState, account_id: &str) -> Result<Vec<InstanceView>, ApiError> {
    let rows = instances::newest_running(&state.db, account_id).await?;
    Ok(rows.into_iter().map(Instance::view).collect())
}

/// What charging a bill came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillCharge {
    Paid,
    /// Paid (or waived) by someone else meanwhile, e.g. the usage job and the owner at once.
    AlreadySettled,
    /// The default method refused or is missing: the bill stays unpaid, hence overdue. (A
    /// gateway that could not be reached is an error instead: see [`crate::domain::bills::ChargeBill`].)
    Refused,
}

/// Charges an unpaid bill to the default payment method. Two payers racing for one bill
/// charge once: the loser's charge is returned at once.
pub async fn charge_bill(
    state: &AppState,
    account_id: &str,
    writer: Writer,
    bill_id: &str,
) -> Result<BillCharge, ApiError> {
    let Some(amount) = bills::payable_amount(&state.db, bill_id, account_id).await? else {
        return Ok(BillCharge::AlreadySettled);
    };
    let purpose = format!("bill:{bill_id}");
    let payment = match pay(
        state,
        account_id,
        writer,
        PayWith::DefaultMethod,
        amount,
        &purpose,
    )
    .await
    {
        Ok(payment) => payment,
        // Not an answer: the gateway could not be reached. The bill's job charges it again.
        Err(e) if e.is_no_answer() => return Err(e),
        Err(refusal) => {
            tracing::info!(bill = %bill_id, reason = %refusal, "bill not paid: overdue");
            return Ok(BillCharge::Refused);
        }
    };
    let written = async {
        let now = state.clock.now();
        let mut tx = account::begin_write(&state.db, account_id, writer).await?;
        if !bills::mark_paid(&mut tx, bill_id, now).await? {
            return Ok(BillCharge::AlreadySettled);
        }
        record_payment(
            &mut tx,
            now,
            account_id,
            &payment,
            &format!("Payment of bill {bill_id}"),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, ApiError>(BillCharge::Paid)
    }
    .await;
    if !matches!(written, Ok(BillCharge::Paid)) {
        undo_charge(state, account_id, &payment).await;
    }
    written
}

/// Releases a pay-as-you-go instance: billing stops at this moment (the last partial hour is
/// still billed, with the usual delay).
pub async fn release(
    state: &AppState,
    account_id: &str,
    instance_id: &InstanceId,
) -> Result<InstanceView, ApiError> {
    let instance_id = instance_id.as_str();
    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    if !instances::release_payg(&mut *tx, account_id, instance_id, now).await? {
        return Err(ApiError::NotFound);
    }
    tx.commit().await?;
    instance(state, account_id, instance_id).await
}
