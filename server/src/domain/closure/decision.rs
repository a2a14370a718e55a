//! The closure's decision when the cool-down ends (SPEC §6.4): the closure fails and the account
//! is restored if new overdue payments appeared, otherwise every row of the account is deleted.
//! An account with money still moving waits until it has arrived. One function decides any
//! number of closures with a few statements, so a day with 100,000 cool-downs ending at once
//! settles in seconds; a single decision is a batch of one.

use crate::db::{self, Backend, HeldTx};
use crate::domain::{bills, deletion};
use crate::error::ApiError;
use crate::notify::{self, OwnerNotice};
use std::collections::{HashMap, HashSet};

/// How long a decision waits before looking again at an account with money still moving.
const MONEY_WAIT_MS: i64 = 3_600_000;

const CLOSED_SUBJECT: &str = "Account closed";
const CLOSED_BODY: &str = "Your Account Center account is closed. All its data, resources and payment information have been deleted for good. \
                           You can sign up again with the same email.";
const FAILED_SUBJECT: &str = "Account closure failed";

/// What became of one closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The account is deleted.
    Closed,
    /// New overdue payments: the account is restored.
    Failed,
    /// Money is still moving: decide again at this time.
    Wait(i64),
    /// Not cooling down (decided before, or gone): nothing to do.
    Moot,
}

fn failure_text(overdue: &[&bills::Overdue]) -> String {
    let total = bills::worded(&bills::totals(overdue.iter().copied()));
    format!(
        "The closure failed: new overdue payments of {total} appeared during the cool-down (delayed usage billing). \
         Your account is restored. Pay the overdue bills, then start the closure again."
    )
}

/// Decides the closures `ids` in `tx`; answers each one's decision.
pub async fn decide(
    tx: &mut HeldTx<'_>,
    ids: &[&str],
    now: i64,
) -> Result<HashMap<String, Decision>, ApiError> {
    let backend = Backend::of(tx);
    let mut decisions: HashMap<String, Decision> = ids
        .iter()
        .map(|id| ((*id).to_owned(), Decision::Moot))
        .collect();
    let cooling: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT c.id, c.account_id, a.email, a.phone FROM closures c JOIN accounts a ON a.id = c.account_id
         WHERE c.status = 'cooling_down' AND c.id IN {}",
        db::in_json(backend, 1)
    ))
    .bind(db::json_texts(ids.iter().copied()))
    .fetch_all(&mut **tx)
    .await?;
    let waiting = with_money_in_flight(tx, cooling.iter().map(|c| c.1.as_str())).await?;
    let (waits, cooling): (Vec<_>, Vec<_>) =
        cooling.into_iter().partition(|c| waiting.contains(&c.1));
    for (closure, account_id, _, _) in waits {
        tracing::info!(account = %account_id, "closure decision waits for money still moving");
        decisions.insert(closure, Decision::Wait(now + MONEY_WAIT_MS));
    }

    let overdue = bills::overdue(tx, cooling.iter().map(|c| c.1.as_str()), now).await?;
    let mut overdue_of: HashMap<&str, Vec<&bills::Overdue>> = HashMap::new();
    for bill in &overdue {
        overdue_of.entry(&bill.account_id).or_default().push(bill);
    }
    let (failing, closing): (Vec<_>, Vec<_>) = cooling
        .iter()
        .partition(|(_, account_id, _, _)| overdue_of.contains_key(account_id.as_str()));

    if !closing.is_empty() {
        let accounts: Vec<&str> = closing.iter().map(|c| c.1.as_str()).collect();
        deletion::delete_accounts(tx, &accounts).await?;
        let mut messages = Vec::with_capacity(closing.len() * 2);
        for (closure, account_id, email, phone) in &closing {
            messages.extend(
                OwnerNotice {
                    account_id: None,
                    email: Some(email),
                    phone: phone.as_deref(),
                    subject: CLOSED_SUBJECT,
                    body: CLOSED_BODY,
                    sms: None,
                }
                .messages(),
            );
            decisions.insert(closure.clone(), Decision::Closed);
            tracing::info!(account = %account_id, "account closed and deleted");
        }
        notify::enqueue_many(tx, now, &messages).await?;
    }

    if !failing.is_empty() {
        // One statement per distinct failure text: the text names the overdue total, which
        // accounts often share.
        let failures: Vec<String> = failing
            .iter()
            .map(|c| failure_text(&overdue_of[c.1.as_str()]))
            .collect();
        let mut by_failure: HashMap<&str, Vec<&str>> = HashMap::new();
        for (c, failure) in failing.iter().zip(&failures) {
            by_failure.entry(failure).or_default().push(&c.0);
        }
        for (failure, closures) in by_failure {
            sqlx::query(&format!(
                "UPDATE closures SET status = 'failed', decided_at = $1, failure = $2 WHERE id IN {}",
                db::in_json(backend, 3)
            ))
            .bind(now)
            .bind(failure)
            .bind(db::json_texts(closures))
            .execute(&mut **tx)
            .await?;
        }
        let accounts = db::json_texts(failing.iter().map(|c| c.1.as_str()));
        for sql in [
            "UPDATE accounts SET status = 'active' WHERE id IN",
            "DELETE FROM service_linked_roles WHERE account_id IN",
        ] {
            sqlx::query(&format!("{sql} {}", db::in_json(backend, 1)))
                .bind(&accounts)
                .execute(&mut **tx)
                .await?;
        }
        let mut messages = Vec::with_capacity(failing.len() * 2);
        for ((closure, account_id, email, phone), failure) in failing.iter().zip(&failures) {
            messages.extend(
                OwnerNotice {
                    account_id: Some(account_id),
                    email: Some(email),
                    phone: phone.as_deref(),
                    subject: FAILED_SUBJECT,
                    body: failure,
                    sms: None,
                }
                .messages(),
            );
            decisions.insert(closure.clone(), Decision::Failed);
            tracing::info!(account = %account_id, "account closure failed: overdue payments");
        }
        notify::enqueue_many(tx, now, &messages).await?;
    }
    Ok(decisions)
}

/// The accounts among `accounts` with money still moving: a refund or a withdrawal not yet
/// paid, or a charge not yet settled at the gateway (pending, or being returned), or a bill
/// whose charge is still being tried. Their closure is decided only once it has arrived
/// (SPEC §6.4): deleting the account first would lose the money with it.
async fn with_money_in_flight<'a>(
    tx: &mut HeldTx<'_>,
    accounts: impl IntoIterator<Item = &'a str>,
) -> Result<HashSet<String>, ApiError> {
    let list = db::in_json(Backend::of(tx), 1);
    let waiting: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT account_id FROM refunds WHERE status = 'processing' AND account_id IN {list}
         UNION SELECT account_id FROM gateway_intents WHERE status IN ('pending', 'reversing') AND account_id IN {list}
         UNION SELECT account_id FROM withdrawals WHERE status = 'processing' AND account_id IN {list}
         UNION SELECT b.account_id FROM bills b JOIN jobs j ON j.kind = '{bill}' AND j.subject = b.id
          WHERE j.status IN ('pending', 'running') AND b.status = 'unpaid' AND b.account_id IN {list}",
        bill = crate::jobs::bill::KIND
    ))
    .bind(db::json_texts(accounts))
    .fetch_all(&mut **tx)
    .await?;
    Ok(waiting.into_iter().collect())
}
