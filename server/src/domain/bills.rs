//! Pay-as-you-go bills: when one is overdue. A bill is payable while it is unpaid and not waived
//! (renounced with a closure, seed 001), and overdue once it is payable and its due time has
//! come. The closure check, the closure decision and the bills list all ask here.
//!
//! [`ChargeBill`] charges a pay-as-you-go bill until the gateway answers. The usage job charges
//! a new bill at once; when the gateway could not be reached (the network failed, the answer
//! was lost), this job charges it again later by the queue's retry policy, instead of leaving
//! the bill overdue for a fault that was not the customer's. A decline or a missing method is
//! an answer: the bill stays unpaid, which is an overdue payment. While the job is pending, a
//! closing account's decision waits for it (money in flight, SPEC §6.4).

use crate::clock::Millis;
use crate::db::{self, Backend, Stored};
use crate::domain::account::Writer;
use crate::domain::intent;
use crate::domain::purchase::charge_bill;
use crate::error::ApiError;
use crate::queue::{Claimed, Job, JobError, Outcome, finish};
use crate::state::AppState;
use shared::money::{Currency, Money};

/// The SQL condition of a payable bill.
pub const PAYABLE: &str = "status = 'unpaid' AND waived_at IS NULL";

/// The SQL condition of an overdue bill, with the time now as the query's first parameter.
pub fn overdue_condition() -> String {
    format!("{PAYABLE} AND due_at <= $1")
}

/// A column that says whether the bill is overdue (1) or not (0), with the time now as the
/// query's first parameter.
pub fn overdue_column() -> String {
    format!("CASE WHEN {} THEN 1 ELSE 0 END", overdue_condition())
}

/// An overdue bill of an account.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub id: String,
    pub account_id: String,
    pub amount: Money,
}

/// The overdue bills of `accounts` at `now`, oldest first.
pub async fn overdue<'a>(
    conn: &mut sqlx::AnyConnection,
    accounts: impl IntoIterator<Item = &'a str>,
    now: Millis,
) -> Result<Vec<Overdue>, ApiError> {
    let rows: Vec<(String, String, i64, Stored<Currency>)> = sqlx::query_as(&format!(
        "SELECT id, account_id, amount_minor, currency FROM bills
         WHERE {} AND account_id IN {} ORDER BY due_at, id",
        overdue_condition(),
        db::in_json(Backend::of(conn), 2)
    ))
    .bind(now)
    .bind(db::json_texts(accounts))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, account_id, minor, Stored(currency))| Overdue {
            id,
            account_id,
            amount: Money::from_minor(minor, currency),
        })
        .collect())
}

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
    let account: Option<String> = sqlx::query_scalar("SELECT account_id FROM bills WHERE id = $1")
        .bind(&job.subject)
        .fetch_optional(&state.db)
        .await?;
    if let Some(account_id) = account {
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
