//! Settles a refund: Processing until the payment channel has returned the money (SPEC §5: up
//! to 30 business days; the simulated channels take a few days), then Refunded. A refund to
//! the account balance is credited to the cash bucket of the ledger when it settles. A refund
//! paid to a card that the card network later returns (an expired or closed card) is not lost:
//! [`return_to_balance`] credits it to the balance instead.

use crate::clock::{DurationMs, Millis};
use crate::db::{self, Tx};
use crate::domain::account;
use crate::domain::intent;
use crate::domain::ledger::{Bucket, LedgerKind};
use crate::error::ApiError;
use crate::gateway::GatewayError;
use crate::notices::Notice;
use crate::notify::{Medium, Outgoing};
use crate::oplog::{self, Operation};
use crate::queue::{Claimed, Job, JobError, Outcome, finish};
use crate::state::AppState;
use crate::tables::ledger_entries::{self, Entry};
pub use crate::tables::refunds::RefundStatus;
use crate::tables::refunds::{self, Refund};
use shared::money::Money;
use shared::refund::RefundDestination;

/// Pays a processing refund out to where it goes, once its wait is over.
pub struct SettleRefund;

impl Job for SettleRefund {
    const KIND: &'static str = "refund_settle";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        Ok(settle(state, job).await?)
    }
}

/// How long each channel takes to return money.
pub fn settle_after(destination: RefundDestination) -> DurationMs {
    match destination {
        RefundDestination::Balance => DurationMs::ZERO,
        RefundDestination::Card | RefundDestination::Paypal | RefundDestination::Paytm => {
            DurationMs::days(3)
        }
    }
}

impl Refund {
    fn amount(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency.0)
    }
}

/// Credits refund `id` to its owner's balance, wherever it was meant to go: as cash, the
/// bucket that can be withdrawn, never as credit.
async fn credit_balance(
    tx: &mut Tx,
    now: Millis,
    refund: &Refund,
    id: &str,
    memo: &str,
) -> Result<(), ApiError> {
    let entry = Entry {
        account_id: &refund.account_id,
        kind: LedgerKind::Refund,
        bucket: Bucket::Cash,
        amount: refund.amount(),
        payment_method_id: None,
        reference: Some(id),
        memo,
    };
    Ok(ledger_entries::insert(tx, now, entry).await?)
}

pub async fn settle(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    let refund = refunds::find(&state.db, &job.subject).await?;
    let now = state.clock.now();
    let Some(refund) = refund.filter(|r| r.status.0 == RefundStatus::Processing) else {
        // Gone with its account, or settled already: nothing left to do.
        let mut tx = db::begin_write(&state.db).await?;
        finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        return Ok(());
    };
    let amount = refund.amount();
    let mut destination = refund.destination.0;
    if destination != RefundDestination::Balance {
        let gateway = state
            .gateway
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no gateway to refund through"))?;
        let reference = refund.gateway_reference.as_deref().unwrap_or_default();
        // The refund id keys it at the gateway: a rerun after a crash here is not a second refund.
        match intent::within(state, gateway.refund(reference, amount, &job.subject)).await {
            Ok(()) => {}
            // The gateway said no, and asking again changes nothing (a charge too old to
            // refund, a card network that refused): the money goes to the balance instead,
            // never nowhere. Only a definite no: an unknown outcome is asked again.
            Err(e @ (GatewayError::Declined | GatewayError::Unsupported(_))) => {
                tracing::warn!(refund = %job.subject, error = %e,
                    "the gateway refused the refund: it is credited to the balance");
                destination = RefundDestination::Balance;
            }
            Err(e) => return Err(anyhow::anyhow!("gateway refund: {e}").into()),
        }
    }
    let mut tx = account::begin_locked(&state.db, &refund.account_id).await?;
    if !refunds::mark_refunded(&mut *tx, &job.subject, destination, now).await? {
        // Another run settled it since we looked (a lease that ran out under a slow run):
        // its ledger entry and its message stand, this run adds neither.
        finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        return Ok(());
    }
    if destination == RefundDestination::Balance {
        let memo = "Refund of an unsubscribed order";
        credit_balance(&mut tx, now, &refund, &job.subject, memo).await?;
    }
    let message = Outgoing {
        account_id: Some(&refund.account_id),
        medium: Medium::Email,
        recipient: &refund.email,
        notice: Notice::RefundArrived {
            amount: amount.to_string(),
            destination,
        },
    };
    state.outbox.enqueue(&mut tx, now, message).await?;
    finish(&mut tx, job, Outcome::Done, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A refund the card network returned, as the gateway reports it: the charge it refunded and
/// its amount, which must be our refund's.
pub struct CardReturn<'a> {
    pub charge_reference: Option<&'a str>,
    pub amount_minor: i64,
    /// ISO 4217, in either case (Stripe writes `usd`).
    pub currency: &'a str,
}

/// What [`return_to_balance`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// Credited to the balance: this amount.
    Credited(Money),
    /// Not a refund of ours to a card that was paid (already moved to the balance, or never
    /// sent to a card): nothing to do.
    NotOnCard,
    /// The report names our refund but another charge or amount: nothing moved.
    Mismatch,
    /// No refund of ours has this id.
    Unknown,
}

/// A refund paid to a card came back (SPEC §9: money is never lost): in `tx`, which has
/// locked the refund's account first, it goes to the account's balance instead. The refund
/// then reads `balance` wherever it is shown (its record, the spending history, the export),
/// refunded now; the cash bucket gets its amount, the operation log says what happened, and the
/// owner is told by email. A refund already moved, or not paid to a card, is left as it is, so
/// a second report of the same return credits nothing. A refund still `processing` is being
/// settled right now (the gateway answered, the settlement has not committed):
/// [`ApiError::WebhookEventEarly`], to be reported again.
pub async fn return_to_balance(
    tx: &mut Tx,
    state: &AppState,
    refund_id: &str,
    returned: &CardReturn<'_>,
    now: Millis,
) -> Result<Returned, ApiError> {
    let refund = refunds::find(&mut **tx, refund_id).await?;
    let Some(refund) = refund else {
        return Ok(Returned::Unknown);
    };
    match (refund.status.0, refund.destination.0) {
        (RefundStatus::Refunded, RefundDestination::Card) => {}
        (RefundStatus::Processing, RefundDestination::Card) => {
            return Err(ApiError::WebhookEventEarly);
        }
        _ => return Ok(Returned::NotOnCard),
    }
    let currency = refund.currency.0;
    let same_charge = returned
        .charge_reference
        .is_none_or(|reference| refund.gateway_reference.as_deref() == Some(reference));
    if !same_charge
        || returned.amount_minor != refund.amount_minor
        || !returned.currency.eq_ignore_ascii_case(currency.code())
    {
        return Ok(Returned::Mismatch);
    }
    refunds::move_card_to_balance(&mut **tx, refund_id, now).await?;
    let memo = "Refund returned by the card network: credited to the balance";
    credit_balance(tx, now, &refund, refund_id, memo).await?;
    let amount = refund.amount();
    let returned = Operation::RefundReturnedToBalance { amount };
    oplog::record(tx, &refund.account_id, returned, now).await?;
    let message = Outgoing {
        account_id: Some(&refund.account_id),
        medium: Medium::Email,
        recipient: &refund.email,
        notice: Notice::RefundReturnedToBalance {
            amount: amount.to_string(),
        },
    };
    state.outbox.enqueue(tx, now, message).await?;
    Ok(Returned::Credited(amount))
}
