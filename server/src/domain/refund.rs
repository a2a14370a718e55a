//! Settles a refund: Processing until the payment channel has returned the money (SPEC §5: up
//! to 30 business days; the simulated channels take a few days), then Refunded. A refund to
//! the account balance is credited to the cash bucket of the ledger when it settles.

use crate::db::{self, Stored};
use crate::domain::account;
use crate::domain::intent;
use crate::domain::ledger::{self, Bucket, Entry, LedgerKind};
use crate::error::ApiError;
use crate::notices::Notice;
use crate::notify::{Medium, Outgoing};
use crate::queue::{Claimed, Job, JobError, Outcome, finish};
use crate::state::AppState;
use shared::money::{Currency, Money};
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
pub fn settle_after_ms(destination: RefundDestination) -> i64 {
    match destination {
        RefundDestination::Balance => 0,
        RefundDestination::Card | RefundDestination::Paypal | RefundDestination::Paytm => {
            3 * 86_400_000
        }
    }
}

/// A refund is on its way until the gateway (or the balance) has paid it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Processing,
    Refunded,
}

#[derive(sqlx::FromRow)]
struct Refund {
    account_id: String,
    amount_minor: i64,
    currency: Stored<Currency>,
    destination: Stored<RefundDestination>,
    status: Stored<Status>,
    gateway_reference: Option<String>,
    email: String,
}

pub async fn settle(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    let refund: Option<Refund> = sqlx::query_as(
        "SELECT r.account_id, r.amount_minor, r.currency, r.destination, r.status, o.gateway_reference, a.email
         FROM refunds r JOIN orders o ON o.id = r.order_id JOIN accounts a ON a.id = r.account_id WHERE r.id = $1",
    )
    .bind(&job.subject)
    .fetch_optional(&state.db)
    .await?;
    let now = state.clock.now_ms();
    let Some(refund) = refund.filter(|r| r.status.0 == Status::Processing) else {
        // Gone with its account, or settled already: nothing left to do.
        let mut tx = db::begin_write(&state.db).await?;
        finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        return Ok(());
    };
    let currency = refund.currency.0;
    let amount = Money::from_minor(refund.amount_minor, currency);
    let destination = refund.destination.0;
    if destination != RefundDestination::Balance {
        let gateway = state
            .gateway
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no gateway to refund through"))?;
        let reference = refund.gateway_reference.as_deref().unwrap_or_default();
        // The refund id keys it at the gateway: a rerun after a crash here is not a second refund.
        intent::within(state, gateway.refund(reference, amount, &job.subject))
            .await
            .map_err(|e| anyhow::anyhow!("gateway refund: {e}"))?;
    }
    let mut tx = account::begin_locked(&state.db, &refund.account_id).await?;
    let updated = sqlx::query("UPDATE refunds SET status = 'refunded', refunded_at = $1 WHERE id = $2 AND status = 'processing'")
        .bind(now)
        .bind(&job.subject)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        // Another run settled it since we looked (a lease that ran out under a slow run):
        // its ledger entry and its message stand, this run adds neither.
        finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        return Ok(());
    }
    if destination == RefundDestination::Balance {
        let entry = Entry {
            account_id: &refund.account_id,
            kind: LedgerKind::Refund,
            bucket: Bucket::Cash,
            amount,
            payment_method_id: None,
            reference: Some(&job.subject),
            memo: "Refund of an unsubscribed order",
        };
        ledger::record(&mut tx, now, entry).await?;
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
