//! Money moved at the payment gateway, as persisted intents (SPEC §9; the way Stripe's
//! PaymentIntents and Refunds work). A charge is written first, with its idempotency key, in a
//! transaction of its own; then the gateway is called under that key; then the outcome is
//! recorded in the transaction of what the money pays for ([`capture`]). Whatever happens in
//! between has one way out:
//! - the gateway refuses: the intent is `failed`, nothing moved;
//! - the answer is lost (a timeout, a crash): the intent stays `pending`, and its job asks the
//!   gateway again under the same key once the caller has surely given up ([`reconcile`]);
//! - the charge went through but what it pays for was refused (the account began closing,
//!   the coupon ran out): the intent is `reversing` and the charge is refunded, under a key of
//!   its own, now or by the job until the gateway confirms ([`abandon`]).
//!
//! The ledger's `gateway` bucket shows each charge and each reversal.
//!
//! A card verification's hold is an intent too ([`hold`]): placed, it is `reversing` until the
//! gateway confirms its release, and the ledger's `hold` bucket shows both, whether or not the
//! card is then bound.

use crate::clock::{DurationMs, Millis};
use crate::db::{self, Tx};
use crate::domain::account::{self, Writer};
use crate::domain::ledger::{Bucket, LedgerKind};
use crate::error::ApiError;
use crate::gateway::{Authorization, CardSource, GatewayError, PaymentGateway};
use crate::queue::{self, Claimed, Job, JobError, Outcome};
use crate::state::AppState;
use crate::tables::gateway_intents;
pub use crate::tables::gateway_intents::{Operation, Status};
use crate::tables::ledger_entries::{self, Entry};
use shared::money::Money;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The job that reconciles or reverses an intent.
/// Asks the gateway what became of an intent whose answer never arrived.
pub struct Reconcile;

impl Job for Reconcile {
    const KIND: &'static str = "gateway_intent";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        Ok(reconcile(state, job).await?)
    }
}

/// A gateway call bounded by the configured timeout.
pub async fn within<T>(
    state: &AppState,
    call: impl Future<Output = Result<T, GatewayError>>,
) -> Result<T, GatewayError> {
    tokio::time::timeout(Duration::from_millis(state.config.gateway_timeout_ms), call)
        .await
        .unwrap_or(Err(GatewayError::Timeout))
}

/// The API's word for a gateway error.
pub fn refusal(e: GatewayError) -> ApiError {
    match e {
        GatewayError::Declined => ApiError::PaymentDeclined,
        GatewayError::InsufficientFunds => ApiError::InsufficientFunds,
        GatewayError::Timeout => ApiError::GatewayTimeout,
        GatewayError::Network(why) => {
            tracing::warn!(%why, "gateway unreachable");
            ApiError::GatewayError
        }
        GatewayError::NotApproved => ApiError::PaypalNotApproved,
        GatewayError::KeyReused => ApiError::Internal(anyhow::anyhow!("{e}")),
        GatewayError::Unsupported(what) => ApiError::PaymentMethodNotAvailable(format!(
            "The payment gateway of this server does not support {what}."
        )),
    }
}

/// The configured gateway; without one nothing can be charged.
fn gateway(state: &AppState) -> Result<&Arc<dyn PaymentGateway>, ApiError> {
    state.gateway.as_ref().ok_or(ApiError::GatewayError)
}

/// When the job first looks at a pending intent: after the caller's own gateway call has
/// surely timed out, with a minute to spare for its write.
pub fn reconcile_at(state: &AppState, now: Millis) -> Millis {
    let timeout = DurationMs::from(Duration::from_millis(state.config.gateway_timeout_ms));
    now + timeout * 2 + DurationMs::minutes(1)
}

/// What a charge is taken from.
pub struct Method<'a> {
    pub id: &'a str,
    pub token: &'a str,
}

/// A charge the gateway made, not yet used by what it pays for.
#[derive(Debug, Clone)]
pub struct Charged {
    pub intent_id: String,
    pub reference: String,
    pub amount: Money,
}

/// Charges `amount` to `method` for `purpose` (`order:<id>`, `bill:<id>`): records the intent
/// through the account's write gate, then calls the gateway under the intent's key. The
/// caller then [`capture`]s it in the transaction that writes what it paid for, or
/// [`abandon`]s it when that write is refused.
pub async fn charge(
    state: &AppState,
    account_id: &str,
    writer: Writer,
    method: Method<'_>,
    amount: Money,
    purpose: &str,
) -> Result<Charged, ApiError> {
    let gateway = gateway(state)?;
    let intent_id = record(
        state,
        account_id,
        writer,
        Operation::Charge,
        purpose,
        Some(&method),
        amount,
    )
    .await?;

    match within(state, gateway.charge(method.token, amount, &intent_id)).await {
        Ok(charge) => Ok(Charged {
            intent_id,
            reference: charge.reference,
            amount,
        }),
        Err(e) if e.is_refusal() => {
            fail(state, &intent_id).await?;
            Err(refusal(e))
        }
        Err(e) => {
            // Charged or not, nobody knows yet: the job asks again under the key.
            tracing::warn!(intent = %intent_id, error = %e, "charge outcome unknown; it will be reconciled");
            Err(refusal(e))
        }
    }
}

/// Records inside `tx` (the write of what the charge paid for) that the charge is used.
/// Refused when the job took the intent over meanwhile (the caller was too slow): the write
/// must then roll back, and the job returns the money.
pub async fn capture(
    tx: &mut Tx,
    account_id: &str,
    charged: &Charged,
    now: Millis,
) -> Result<(), ApiError> {
    if !gateway_intents::set_status(
        tx,
        &charged.intent_id,
        Status::Pending,
        Status::Captured,
        Some(&charged.reference),
        now,
    )
    .await?
    {
        return Err(ApiError::GatewayTimeout);
    }
    queue::done::<Reconcile>(tx, &charged.intent_id, now).await?;
    record_charge(tx, account_id, charged, now).await
}

/// Gives back a charge whose purpose was refused: marks it `reversing` (the ledger shows the
/// charge), then refunds it at once; if that fails, its job refunds it later, until it succeeds.
pub async fn abandon(
    state: &AppState,
    account_id: &str,
    charged: &Charged,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = account::begin_locked(&state.db, account_id).await?;
    if gateway_intents::set_status(
        &mut tx,
        &charged.intent_id,
        Status::Pending,
        Status::Reversing,
        Some(&charged.reference),
        now,
    )
    .await?
    {
        record_charge(&mut tx, account_id, charged, now).await?;
        queue::move_to::<Reconcile>(&mut tx, &charged.intent_id, now).await?;
    }
    tx.commit().await?;
    if let Err(e) = reverse(state, &charged.intent_id).await {
        tracing::warn!(intent = %charged.intent_id, error = %e, "charge not returned yet; its job will retry");
    }
    Ok(())
}

/// Verifies a card with a hold of `amount` and releases it, as an intent: recorded before the
/// gateway is asked, the hold and its release each in the ledger once the gateway confirms
/// it, and a release that fails retried by the intent's job until it succeeds. Whether the
/// card is then bound or not, the ledger shows what happened at the gateway.
pub async fn hold(
    state: &AppState,
    account_id: &str,
    card: CardSource<'_>,
    amount: Money,
) -> Result<Authorization, ApiError> {
    let gateway = gateway(state)?;
    let purpose = "card_verification";
    let intent_id = record(
        state,
        account_id,
        Writer::Member,
        Operation::Hold,
        purpose,
        None,
        amount,
    )
    .await?;

    let authorization = match within(state, gateway.authorize(card, amount, &intent_id)).await {
        Ok(authorization) => authorization,
        Err(e) => {
            // Refused, or unknown: without the card's number and CVV nobody can ask again, and
            // an issuer drops a hold nobody released within days by itself.
            fail(state, &intent_id).await?;
            return Err(refusal(e));
        }
    };
    let now = state.clock.now();
    let mut tx = account::begin_locked(&state.db, account_id).await?;
    let reference = Some(authorization.reference.as_str());
    if !gateway_intents::set_status(
        &mut tx,
        &intent_id,
        Status::Pending,
        Status::Reversing,
        reference,
        now,
    )
    .await?
    {
        return Err(
            anyhow::anyhow!("hold intent {intent_id} moved while its hold was placed").into(),
        );
    }
    let entry = Entry {
        account_id,
        kind: LedgerKind::PreauthHold,
        bucket: Bucket::Hold,
        amount,
        payment_method_id: None,
        reference,
        memo: "Card verification: pre-authorization hold",
    };
    ledger_entries::insert(&mut tx, now, entry).await?;
    queue::move_to::<Reconcile>(&mut tx, &intent_id, now).await?;
    tx.commit().await?;
    if let Err(e) = reverse(state, &intent_id).await {
        tracing::warn!(intent = %intent_id, error = %e, "verification hold not released yet; its job will retry");
    }
    Ok(authorization)
}

/// Writes a new `pending` intent, through the account's write gate, with the job that settles
/// it should its caller never come back; returns its id, the idempotency key of its call.
async fn record(
    state: &AppState,
    account_id: &str,
    writer: Writer,
    operation: Operation,
    purpose: &str,
    method: Option<&Method<'_>>,
    amount: Money,
) -> Result<String, ApiError> {
    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, writer).await?;
    let new = gateway_intents::New {
        account_id,
        operation,
        purpose,
        method: method.map(|m| (m.id, m.token)),
        amount,
        now,
    };
    let intent_id = gateway_intents::insert(&mut tx, new).await?;
    queue::schedule::<Reconcile>(&mut tx, &intent_id, reconcile_at(state, now), now).await?;
    tx.commit().await?;
    Ok(intent_id)
}

/// Records a payout of `amount` to `method` for `purpose` (`withdrawal:<id>`) inside `tx`, the
/// transaction that takes the money from the balance; returns its id, the idempotency key of
/// its call. No reconciliation job of this module: the purpose's own job pays it out under
/// the key until the gateway confirms, then [`paid_out`].
pub async fn record_payout(
    tx: &mut Tx,
    account_id: &str,
    method: Method<'_>,
    amount: Money,
    purpose: &str,
    now: Millis,
) -> Result<String, ApiError> {
    let new = gateway_intents::New {
        account_id,
        operation: Operation::Payout,
        purpose,
        method: Some((method.id, method.token)),
        amount,
        now,
    };
    Ok(gateway_intents::insert(tx, new).await?)
}

/// Records inside `tx` that the gateway made the payout `intent_id`; false when it was no
/// longer pending (recorded already).
pub async fn paid_out(
    tx: &mut Tx,
    intent_id: &str,
    reference: &str,
    now: Millis,
) -> Result<bool, ApiError> {
    Ok(gateway_intents::set_status(
        tx,
        intent_id,
        Status::Pending,
        Status::Captured,
        Some(reference),
        now,
    )
    .await?)
}

/// Records that the gateway refused a pending intent: nothing moved, nothing to settle.
async fn fail(state: &AppState, intent_id: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    gateway_intents::set_status(
        &mut tx,
        intent_id,
        Status::Pending,
        Status::Failed,
        None,
        now,
    )
    .await?;
    queue::done::<Reconcile>(&mut tx, intent_id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The job: a `pending` intent whose caller gave up is asked about again under its key (a
/// charge found made is reversed: its order was never written); a `reversing` one is refunded.
/// An error leaves the job to be retried.
pub async fn reconcile(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    let Some(row) = gateway_intents::get(&state.db, &job.subject).await? else {
        return finish(state, job).await;
    };
    if row.status.0 == Status::Pending {
        let gateway = gateway(state)?;
        let amount = row.amount();
        let asked = match &row.method_token {
            Some(token) => within(state, gateway.charge(token, amount, &job.subject)).await,
            // A hold left pending by a crash: see `hold`.
            None => Err(GatewayError::Declined),
        };
        let now = state.clock.now();
        let mut tx = account::begin_locked(&state.db, &row.account_id).await?;
        match asked {
            Ok(charge) => {
                let charged = Charged {
                    intent_id: job.subject.clone(),
                    reference: charge.reference,
                    amount,
                };
                if gateway_intents::set_status(
                    &mut tx,
                    &job.subject,
                    Status::Pending,
                    Status::Reversing,
                    Some(&charged.reference),
                    now,
                )
                .await?
                {
                    tracing::warn!(intent = %job.subject, "a charge whose answer was lost is being returned");
                    record_charge(&mut tx, &row.account_id, &charged, now).await?;
                }
            }
            Err(e) if e.is_refusal() => {
                gateway_intents::set_status(
                    &mut tx,
                    &job.subject,
                    Status::Pending,
                    Status::Failed,
                    None,
                    now,
                )
                .await?;
            }
            Err(e) => return Err(anyhow::anyhow!("asking the gateway about a charge: {e}").into()),
        }
        tx.commit().await?;
    }
    reverse(state, &job.subject).await?;
    finish(state, job).await
}

async fn finish(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    queue::finish(&mut tx, job, Outcome::Done, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Refunds a `reversing` intent under its reversal key and records it; does nothing to an
/// intent in any other state.
async fn reverse(state: &AppState, intent_id: &str) -> Result<(), ApiError> {
    let Some(row) = gateway_intents::get(&state.db, intent_id)
        .await?
        .filter(|r| r.status.0 == Status::Reversing)
    else {
        return Ok(());
    };
    let gateway = gateway(state)?;
    let amount = row.amount();
    let reference = row
        .gateway_reference
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("reversing intent {intent_id} has no charge reference"))?;
    let key = format!("{intent_id}:reverse");
    let operation = row.operation.0;
    let (returned, entry) = match operation {
        Operation::Hold => (
            within(state, gateway.release(reference, &key)).await,
            Entry {
                account_id: &row.account_id,
                kind: LedgerKind::PreauthRelease,
                bucket: Bucket::Hold,
                amount: Money::new(-amount.amount, amount.currency),
                payment_method_id: None,
                reference: Some(reference),
                memo: "Card verification: hold released",
            },
        ),
        Operation::Charge | Operation::Payout => (
            within(state, gateway.refund(reference, amount, &key)).await,
            Entry {
                account_id: &row.account_id,
                kind: LedgerKind::ChargeReversed,
                bucket: Bucket::Gateway,
                amount,
                payment_method_id: None,
                reference: Some(reference),
                memo: "Charge returned: what it paid for was not written",
            },
        ),
    };
    returned.map_err(|e| anyhow::anyhow!("returning {} {reference}: {e}", operation.as_str()))?;
    let now = state.clock.now();
    let mut tx = account::begin_locked(&state.db, &row.account_id).await?;
    if gateway_intents::set_status(
        &mut tx,
        intent_id,
        Status::Reversing,
        Status::Reversed,
        None,
        now,
    )
    .await?
    {
        ledger_entries::insert(&mut tx, now, entry).await?;
        queue::done::<Reconcile>(&mut tx, intent_id, now).await?;
    }
    tx.commit().await?;
    tracing::info!(intent = %intent_id, %reference, operation = operation.as_str(), "returned at the gateway");
    Ok(())
}

/// The ledger's line for money taken at the gateway.
async fn record_charge(
    tx: &mut Tx,
    account_id: &str,
    charged: &Charged,
    now: Millis,
) -> Result<(), ApiError> {
    let entry = Entry {
        account_id,
        kind: LedgerKind::Charge,
        bucket: Bucket::Gateway,
        amount: Money::new(-charged.amount.amount, charged.amount.currency),
        payment_method_id: None,
        reference: Some(&charged.reference),
        memo: "Charged to a payment method",
    };
    Ok(ledger_entries::insert(tx, now, entry).await?)
}

/// For the test of every stored name (`db`): this module's own.
#[cfg(test)]
pub(crate) async fn stored_names_read_back(db: &crate::db::Db) {
    crate::db::stored_name_reads_back::<Status>(db).await;
    crate::db::stored_name_reads_back::<Operation>(db).await;
}
