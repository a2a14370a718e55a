//! Pay-as-you-go bills: when one is overdue. A bill is payable while it is unpaid and not waived
//! (renounced with a closure, seed 001), and overdue once it is payable and its due time has
//! come. The closure check, the closure decision and the bills list all ask `tables::bills`,
//! where that condition is written once.
//!
//! [`ChargeBill`] charges a pay-as-you-go bill until the gateway answers. The usage job charges
//! a new bill at once; when the gateway could not be reached (the network failed, the answer
//! was lost), this job charges it again later by the queue's retry policy, instead of leaving
//! the bill overdue for a fault that was not the customer's. A decline or a missing method is
//! an answer: the bill stays unpaid, which is an overdue payment. While the job is pending, a
//! closing account's decision waits for it (money in flight, SPEC §6.4).

use crate::clock::Millis;
use crate::db;
use crate::domain::account::Writer;
use crate::domain::intent;
use crate::domain::purchase::charge_bill;
use crate::error::ApiError;
use crate::queue::{Claimed, Job, JobError, Outcome, finish};
use crate::state::AppState;
use crate::tables::bills::{self, Overdue};
use shared::money::Money;

/// What `bills` add up to, one sum per currency, in the order the currencies first appear:
/// amounts in two currencies are never added together.
pub fn totals<'a>(bills: impl IntoIterator<Item = &'a Overdue>) -> Vec<Money> {
    let mut totals: Vec<Money> = Vec::new();
    for bill in bills {
        match totals
            .iter_mut()
            .find(|t| t.currency == bill.amount.currency)
        {
            Some(total) => total.amount += bill.amount.amount,
            None => totals.push(bill.amount),
        }
    }
    totals
}

/// The totals worded for a person: "USD 12.00" or "USD 12.00 and CNY 3.00".
pub fn worded(totals: &[Money]) -> String {
    totals
        .iter()
        .map(Money::to_string)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Charges a pay-as-you-go bill until the gateway answers.
pub struct ChargeBill;

impl Job for ChargeBill {
    const KIND: &'static str = "bill_charge";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        Ok(charge(state, job).await?)
    }
}

/// When the job first runs: once the usage job's own attempt has surely ended.
pub fn first_try_at(state: &AppState, now: Millis) -> Millis {
    intent::reconcile_at(state, now)
}

/// Charges the bill `job.subject` unless it was paid, waived or deleted meanwhile; an error
/// reaching the gateway leaves the job to be retried.
pub async fn charge(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    if let Some(account_id) = bills::account_of(&state.db, &job.subject).await? {
        charge_bill(state, &account_id, Writer::System, &job.subject).await?;
    }
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    finish(&mut tx, job, Outcome::Done, now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use shared::money::Currency;

    fn dec(minor: i64) -> Decimal {
        Decimal::new(minor, 2)
    }

    fn bill(amount: Money) -> Overdue {
        Overdue {
            id: "b".into(),
            account_id: "a".into(),
            amount,
        }
    }

    #[test]
    fn totals_keep_each_currency_apart() {
        let bills = [
            bill(Money::new(dec(125), Currency::USD)),
            bill(Money::new(dec(300), Currency::CNY)),
            bill(Money::new(dec(75), Currency::USD)),
        ];
        let totals = totals(&bills);
        assert_eq!(
            totals,
            vec![
                Money::new(dec(200), Currency::USD),
                Money::new(dec(300), Currency::CNY)
            ]
        );
        assert_eq!(worded(&totals), "USD 2.00 and CNY 3.00");
    }
}
