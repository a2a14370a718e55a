//! Stripe's asynchronous outcomes, reported to `POST /api/webhooks/stripe`: a
//! delivery is taken only with a valid signature of the endpoint's secret, made within five
//! minutes of our clock (`gateway::stripe_webhook`); each event is acted on once, its id
//! written in `stripe_events` in the transaction of its effect, so Stripe's redeliveries and
//! replays change nothing. What we act on:
//! - a refund the card network returned (`refund.failed`, or `refund.updated` to `failed`):
//!   credited to the account's balance ([`refund::return_to_balance`]);
//! - a dispute (`charge.dispute.created`): an operation-log entry on the account of the
//!   disputed PaymentIntent, and a warning for the operator, who answers it at Stripe.
//!
//! Every other event is recorded as seen and answered 200: Stripe redelivers any other answer
//! for days.

use crate::clock::Millis;
use crate::db::{self, Tx};
use crate::domain::account::{self, AccountStatus};
use crate::domain::refund::{self, CardReturn, Returned};
use crate::error::ApiError;
use crate::gateway::stripe_webhook::{self, Dispute, Event, Refund, Report};
use crate::oplog::{self, Operation};
use crate::state::AppState;
use crate::tables::gateway_intents;
use crate::tables::refunds;
use axum::http::StatusCode;
use shared::money::{Currency, Money};

/// Takes one delivery: `signature` is its `Stripe-Signature` header, `body` its bytes as
/// sent. [`ApiError::NotFound`] on a server without Stripe; a refused signature changes nothing.
pub async fn receive(
    state: &AppState,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), ApiError> {
    // Configured with the other two Stripe keys or not at all: a partial configuration stops
    // the start (`Config::stripe`).
    let Some(secret) = state.config.stripe_webhook_secret.as_ref() else {
        return Err(ApiError::NotFound);
    };
    let now = state.clock.now();
    if let Err(refused) = stripe_webhook::verify(secret.expose(), signature, body, now.unix_secs())
    {
        tracing::warn!(reason = refused.reason(), "Stripe webhook delivery refused");
        return Err(ApiError::SignatureInvalid);
    }
    let event: Event = serde_json::from_slice(body).map_err(|e| not_an_event(&e))?;
    let seen: Option<String> = sqlx::query_scalar("SELECT id FROM stripe_events WHERE id = $1")
        .bind(&event.id)
        .fetch_optional(&state.db)
        .await?;
    if seen.is_some() {
        tracing::info!(event = %event.id, kind = %event.kind, "Stripe event already processed");
        return Ok(());
    }
    match event.report().map_err(|e| not_an_event(&e))? {
        Report::RefundFailed(refund) => refund_failed(state, &event, &refund, now).await,
        Report::DisputeCreated(dispute) => dispute_created(state, &event, &dispute, now).await,
        Report::Other => {
            tracing::info!(event = %event.id, kind = %event.kind, "Stripe event not acted on");
            seen_alone(state, &event, now).await
        }
    }
}

fn not_an_event(e: &serde_json::Error) -> ApiError {
    tracing::warn!(error = %e, "a signed Stripe delivery is not an event we can read");
    ApiError::BadRequest {
        status: StatusCode::BAD_REQUEST,
        message: format!("Not a Stripe event: {e}"),
    }
}

/// Records `event` as processed in `tx`; false when it was already (a redelivery that raced
/// this one): the caller then drops `tx`, and with it its effect.
async fn first_time(tx: &mut Tx, event: &Event, now: Millis) -> Result<bool, ApiError> {
    let inserted = sqlx::query(
        "INSERT INTO stripe_events (id, type, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(&event.kind)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Records an event that changes nothing of ours.
async fn seen_alone(state: &AppState, event: &Event, now: Millis) -> Result<(), ApiError> {
    let mut tx = db::begin_write(&state.db).await?;
    first_time(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Opens the transaction of an event about `account_id`: the account locked first (SPEC §9),
/// then the event recorded. None when there is nothing to do: the account is gone (its rows
/// with it; the event is recorded), or the event was recorded meanwhile.
async fn begin_on_account(
    state: &AppState,
    account_id: &str,
    event: &Event,
    now: Millis,
) -> Result<Option<Tx>, ApiError> {
    let mut tx = db::begin_write(&state.db).await?;
    let status = account::lock(&mut tx, account_id).await?;
    if !first_time(&mut tx, event, now).await? {
        return Ok(None);
    }
    if matches!(status, None | Some(AccountStatus::Closed)) {
        tracing::info!(event = %event.id, account = %account_id, "Stripe event about a deleted account: nothing to do");
        tx.commit().await?;
        return Ok(None);
    }
    Ok(Some(tx))
}

async fn refund_failed(
    state: &AppState,
    event: &Event,
    returned: &Refund,
    now: Millis,
) -> Result<(), ApiError> {
    let reason = returned.failure_reason.as_deref().unwrap_or("not given");
    let account_id: Option<String> = match returned.our_key() {
        Some(key) => refunds::account_of(&state.db, key).await?,
        None => None,
    };
    let (Some(key), Some(account_id)) = (returned.our_key(), account_id) else {
        // A refund made at Stripe's dashboard, a charge's reversal, or one whose account was
        // closed and deleted since it was paid: the money came back to our Stripe balance and
        // no account of ours holds it. The operator returns it by hand.
        tracing::warn!(
            event = %event.id, stripe_refund = %returned.id, key = returned.our_key().unwrap_or("none"),
            amount_minor = returned.amount, currency = %returned.currency, reason,
            "the card network returned a refund that is not an unsubscription's refund of ours"
        );
        return seen_alone(state, event, now).await;
    };
    let Some(mut tx) = begin_on_account(state, &account_id, event, now).await? else {
        return Ok(());
    };
    let card_return = CardReturn {
        charge_reference: returned.payment_intent.as_deref(),
        amount_minor: returned.amount,
        currency: &returned.currency,
    };
    let outcome = refund::return_to_balance(&mut tx, state, key, &card_return, now).await?;
    tx.commit().await?;
    match outcome {
        Returned::Credited(amount) => tracing::info!(
            event = %event.id, refund = %key, account = %account_id, %amount, reason,
            "refund returned by the card network, credited to the balance"
        ),
        Returned::Mismatch => tracing::warn!(
            event = %event.id, refund = %key, stripe_refund = %returned.id,
            amount_minor = returned.amount, currency = %returned.currency,
            "a returned refund names our refund with another charge or amount: nothing moved"
        ),
        Returned::NotOnCard | Returned::Unknown => tracing::info!(
            event = %event.id, refund = %key, "returned refund already credited to the balance"
        ),
    }
    Ok(())
}

async fn dispute_created(
    state: &AppState,
    event: &Event,
    dispute: &Dispute,
    now: Millis,
) -> Result<(), ApiError> {
    let reason = dispute.reason.as_deref().unwrap_or("not given");
    let account_id: Option<String> = match dispute.payment_intent.as_deref() {
        Some(reference) => gateway_intents::account_by_reference(&state.db, reference).await?,
        None => None,
    };
    let Some(account_id) = account_id else {
        tracing::warn!(
            event = %event.id, dispute = %dispute.id, payment_intent = dispute.payment_intent.as_deref().unwrap_or("none"),
            amount_minor = dispute.amount, currency = %dispute.currency, reason,
            "a payment no account of ours made was disputed: answer it at Stripe"
        );
        return seen_alone(state, event, now).await;
    };
    let Some(mut tx) = begin_on_account(state, &account_id, event, now).await? else {
        return Ok(());
    };
    let disputed = Operation::PaymentDisputed {
        amount: Currency::parse(&dispute.currency.to_ascii_uppercase())
            .map(|currency| Money::from_minor(dispute.amount, currency)),
        reason: dispute.reason.clone(),
        dispute: dispute.id.clone(),
    };
    oplog::record(&mut tx, &account_id, disputed, now).await?;
    tx.commit().await?;
    tracing::warn!(
        event = %event.id, account = %account_id, dispute = %dispute.id,
        payment_intent = dispute.payment_intent.as_deref().unwrap_or("none"),
        amount_minor = dispute.amount, currency = %dispute.currency, reason,
        "a payment was disputed: answer the dispute at Stripe"
    );
    Ok(())
}
