//! Withdrawing the balance (SPEC §6.5): cash in the balance, never credit or coupons, paid out
//! to a card or the PayPal of the account, as a refund-like payout: Processing, then Paid.
//!
//! One transaction, through the account's write gate, re-reads the cash balance, checks the
//! amount against it (`shared::withdrawal`), debits it in the ledger, writes the withdrawal and
//! its payout intent (whose id keys the call at the gateway) and schedules the payout job. The
//! write gate serialises writers of one account (SQLite's write lock, PostgreSQL's lock on the
//! account row), so two withdrawals racing for one balance are checked one after the other: the
//! second sees the first's debit. The job pays out under the intent's key, retried by the jobs'
//! policy until the gateway confirms, so a payout is made once whatever fails in between.

use crate::clock::rfc3339;
use crate::db;
use crate::domain::account::{self, Writer};
use crate::domain::intent::{self, Method};
use crate::domain::ledger::{self, Bucket, LedgerKind};
use crate::error::ApiError;
use crate::notices::Notice;
use crate::notify::{Medium, Outgoing};
use crate::oplog::{self, Operation};
use crate::queue::{self, Claimed, Job, JobError, Outcome};
use crate::state::AppState;
use crate::tables::ledger_entries::{self, Entry};
use crate::tables::{payment_methods, withdrawals};
use anyhow::Context;
use shared::api::{
    PayoutDestination, WithdrawalForm, WithdrawalStatus, WithdrawalView, WithdrawalsView,
};
use shared::money::Money;

/// The job that pays a withdrawal out under its intent's key; its subject is the withdrawal's
/// id.
pub struct PayOut;

impl Job for PayOut {
    const KIND: &'static str = "withdrawal_payout";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        Ok(pay_out(state, job).await?)
    }
}

async fn destinations<'e>(
    state: &AppState,
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_id: &str,
) -> Result<Vec<payment_methods::Destination>, ApiError> {
    // A gateway that cannot pay out (Stripe without Connect) offers no destination, so no
    // withdrawal takes money from the balance that its job could never pay.
    if !state.gateway.as_ref().is_some_and(|g| g.pays_out()) {
        return Ok(Vec::new());
    }
    // Bound cards were verified by a hold when added; Paytm takes no payouts.
    Ok(payment_methods::payout_destinations(db, account_id).await?)
}

/// The cash that can be withdrawn: the cash bucket, never below zero.
fn withdrawable(cash: Money) -> Money {
    Money::new(cash.amount.max(rust_decimal::Decimal::ZERO), cash.currency)
}

fn record_view(row: withdrawals::Withdrawal) -> WithdrawalView {
    WithdrawalView {
        id: row.id,
        amount: Money::from_minor(row.amount_minor, row.currency.0),
        destination_kind: row.destination_kind.0,
        destination: row.destination_label,
        status: row.status.0,
        created_at: rfc3339(row.created_at),
        paid_at: row.paid_at.map(rfc3339),
    }
}

/// What the withdrawal page shows: the withdrawable cash, the credit that is not, where the
/// money can go, and the record, newest first.
pub async fn view(state: &AppState, account_id: &str) -> Result<WithdrawalsView, ApiError> {
    let mut conn = state.db.readers().acquire().await?;
    let cash = ledger::balance(&mut *conn, account_id, Bucket::Cash).await?;
    let credit = ledger::balance(&mut *conn, account_id, Bucket::Credit).await?;
    let destinations = destinations(state, &mut *conn, account_id)
        .await?
        .into_iter()
        .map(|d| {
            Ok(PayoutDestination {
                payment_method_id: d.id,
                kind: d.kind.0,
                label: d.label,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    let rows = withdrawals::latest(&mut *conn, account_id).await?;
    Ok(WithdrawalsView {
        withdrawable: withdrawable(cash),
        credit,
        destinations,
        records: rows.into_iter().map(record_view).collect(),
    })
}

/// Takes the amount from the balance and starts its payout (see the module's comment).
pub async fn withdraw(
    state: &AppState,
    account_id: &str,
    form: &WithdrawalForm,
) -> Result<WithdrawalView, ApiError> {
    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    // Read after the write gate: no other withdrawal or purchase of the account can spend this
    // cash before the commit.
    let cash = ledger::balance(&mut *tx, account_id, Bucket::Cash).await?;
    let destinations = destinations(state, &mut *tx, account_id).await?;
    let ids: Vec<&str> = destinations.iter().map(|d| d.id.as_str()).collect();
    let request = form.check(withdrawable(cash), &ids)?;
    let destination = destinations
        .iter()
        .find(|d| d.id == request.payment_method_id)
        .ok_or_else(shared::withdrawal::destination_invalid)?;
    let token = destination
        .gateway_token
        .as_deref()
        .ok_or_else(shared::withdrawal::destination_invalid)?;
    let amount = request.amount;
    let minor = amount.to_minor().context("withdrawal amount")?;

    let id = format!("wd-{}", uuid::Uuid::new_v4().simple());
    let method = Method {
        id: &destination.id,
        token,
    };
    let intent_id = intent::record_payout(
        &mut tx,
        account_id,
        method,
        amount,
        &format!("withdrawal:{id}"),
        now,
    )
    .await?;
    let entry = Entry {
        account_id,
        kind: LedgerKind::Withdrawal,
        bucket: Bucket::Cash,
        amount: Money::new(-amount.amount, amount.currency),
        payment_method_id: Some(&destination.id),
        reference: Some(&id),
        memo: "Withdrawal of the balance",
    };
    ledger_entries::insert(&mut tx, now, entry).await?;
    let withdrawal = withdrawals::New {
        id: &id,
        account_id,
        intent_id: &intent_id,
        payment_method_id: &destination.id,
        destination_kind: destination.kind.0,
        destination_label: &destination.label,
        amount_minor: minor,
        currency: amount.currency,
        created_at: now,
    };
    withdrawals::insert(&mut tx, withdrawal).await?;
    queue::schedule::<PayOut>(&mut tx, &id, now, now).await?;
    let view = record_view(withdrawals::get(&mut tx, &id).await?);
    let withdrawn = Operation::BalanceWithdrawn {
        amount,
        to: destination.named.logged(),
    };
    oplog::record(&mut tx, account_id, withdrawn, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, withdrawal = %id, amount = %amount, "withdrawal processing");
    Ok(view)
}

/// The job: pays a processing withdrawal out under its intent's key and marks it Paid. Any
/// error leaves the job to be retried (`queue::retry_at`): the money has left the balance, so
/// the payout is never given up; asked again under the same key, the gateway pays once.
pub async fn pay_out(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    let row = withdrawals::payout(&state.db, &job.subject).await?;
    let Some(row) = row.filter(|r| r.status.0 == WithdrawalStatus::Processing) else {
        // Paid already, or gone with its account: nothing left to do.
        let now = state.clock.now();
        let mut tx = db::begin_write(&state.db).await?;
        queue::finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        return Ok(());
    };
    let amount = row.amount();
    let token = row
        .method_token
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("payout intent {} has no method token", row.intent_id))?;
    let gateway = state
        .gateway
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no gateway to pay out through"))?;
    let payout = intent::within(state, gateway.payout(token, amount, &row.intent_id))
        .await
        .map_err(|e| anyhow::anyhow!("gateway payout of {}: {e}", job.subject))?;

    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, &row.account_id, Writer::System).await?;
    if withdrawals::mark_paid(&mut tx, &job.subject, &payout.reference, now).await? {
        intent::paid_out(&mut tx, &row.intent_id, &payout.reference, now).await?;
        let entry = Entry {
            account_id: &row.account_id,
            kind: LedgerKind::Payout,
            bucket: Bucket::Gateway,
            amount,
            payment_method_id: None,
            reference: Some(&payout.reference),
            memo: "Withdrawal paid out to a payment method",
        };
        ledger_entries::insert(&mut tx, now, entry).await?;
        let message = Outgoing {
            account_id: Some(&row.account_id),
            medium: Medium::Email,
            recipient: &row.email,
            notice: Notice::WithdrawalPaid {
                amount: amount.to_string(),
                destination: &row.destination_label,
            },
        };
        state.outbox.enqueue(&mut tx, now, message).await?;
        tracing::info!(withdrawal = %job.subject, amount = %amount, "withdrawal paid");
    }
    queue::finish(&mut tx, job, Outcome::Done, now).await?;
    tx.commit().await?;
    Ok(())
}
