//! Deleting closed accounts for good (SPEC §6.4): afterwards no row names an account, its
//! email, its phone or its UID, except the one-way identity hashes that stop a second free
//! credit (`free_credit_identities`). Most of an account's rows go by cascade from `accounts`;
//! those below hold it by address, by a subject built from it, or by the id of one of its
//! rows, without a foreign key, and go first.
//!
//! One function for one account or a batch of thousands (the closure decisions' batch): each
//! statement takes its list as one JSON parameter and reads an index by exact values. No
//! `LIKE`, which scans the table, and no ranges of text, which PostgreSQL compares by the
//! database's collation (one that ignores punctuation puts `account:<id>;` before
//! `account:<id>:closure`). What names an account without being found this way (a throttle key
//! typed for a RAM user it never had, the closure's own notice to the freed address, the
//! finished decision's job) is gone
//! with housekeeping a day later ([`crate::domain::housekeeping`]).

use crate::db::{self, Backend, HeldTx};
use crate::domain::bills::ChargeBill;
use crate::domain::closure::decision::DecideClosure;
use crate::domain::closure::system_check::AdvanceSystemCheck;
use crate::domain::expiry::Expire;
use crate::domain::intent::Reconcile;
use crate::domain::refund::SettleRefund;
use crate::domain::usage::BillUsage;
use crate::domain::verification::Purpose;
use crate::domain::withdrawal::PayOut;
use crate::domain::{session, signup};
use crate::error::ApiError;
use crate::queue::Job;
use std::collections::{BTreeSet, HashMap};
use strum::VariantArray;

/// Each kind of job whose subject is the id of an account's row, and that row's table.
const JOBS_BY_SUBJECT: [(&str, &str); 8] = [
    (Expire::KIND, "instances"),
    (BillUsage::KIND, "instances"),
    (SettleRefund::KIND, "refunds"),
    (ChargeBill::KIND, "bills"),
    (Reconcile::KIND, "gateway_intents"),
    (PayOut::KIND, "withdrawals"),
    (AdvanceSystemCheck::KIND, "closure_checks"),
    (DecideClosure::KIND, "closures"),
];

/// Which list a statement of [`DELETES`] takes.
#[derive(Debug, Clone, Copy)]
enum List {
    /// Every address the accounts' messages and codes went to.
    Addresses,
    Accounts,
    Signups,
    ThrottleKeys,
}

/// The last deletions, in order, each by its list of values (`IN` ends each one). Every
/// statement reads the index of the column before its `IN` (a test checks SQLite's plans).
const DELETES: [(&str, List); 8] = [
    // Resets name an account by id (a cascade) or, typed before it existed, by address;
    // their codes went to the account's addresses and go with them below.
    (
        "DELETE FROM password_resets WHERE address IN",
        List::Addresses,
    ),
    (
        "DELETE FROM verification_codes WHERE address IN",
        List::Addresses,
    ),
    ("DELETE FROM outbox WHERE account_id IN", List::Accounts),
    // The messages to those addresses that no account sent. `account_id IS NULL`, a plain
    // column test, would have SQLite read them through `outbox_account`: every message
    // without an account, which every decided closure adds to (its notices go to the freed
    // address), so each batch of decisions read more than the last. As an expression it
    // leaves SQLite the recipients' own index.
    (
        "DELETE FROM outbox WHERE COALESCE(account_id, '') = '' AND recipient IN",
        List::Addresses,
    ),
    ("DELETE FROM signups WHERE id IN", List::Signups),
    (
        "DELETE FROM rate_events WHERE subject IN",
        List::ThrottleKeys,
    ),
    (
        "DELETE FROM idempotency_keys WHERE account_id IN",
        List::Accounts,
    ),
    ("DELETE FROM accounts WHERE id IN", List::Accounts),
];

/// Deletes every row of `accounts`, and every row that names one of them.
pub async fn delete_accounts(tx: &mut HeldTx<'_>, accounts: &[&str]) -> Result<(), ApiError> {
    let backend = Backend::of(tx);
    let ids = db::json_texts(accounts.iter().copied());
    let owners: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT id, COALESCE(uid, id), email, phone FROM accounts WHERE id IN {}",
        db::in_json(backend, 1)
    ))
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    let emails = db::json_texts(owners.iter().map(|o| o.2.as_str()));

    // Codes: the accounts' own, and those of every sign-up with their emails (by email or by
    // phone, to whatever number was typed), found by subject.
    let signups = strings(tx, "SELECT id FROM signups WHERE email IN", &emails).await?;
    let mut subjects: Vec<String> = signups.iter().map(|id| signup::subject(id)).collect();
    for (id, ..) in &owners {
        subjects.extend(Purpose::VARIANTS.iter().map(|purpose| purpose.subject(id)));
    }
    let subjects = db::json_texts(subjects.iter().map(String::as_str));
    // The codes go, and what they answer is every address they went to, besides the accounts'
    // email and phone: a message with no account (a sign-up's code, an earlier closure's
    // notice) is found by its address.
    let mut addresses: BTreeSet<String> = sqlx::query_scalar(&format!(
        "DELETE FROM verification_codes WHERE subject IN {} RETURNING address",
        db::in_json(backend, 1)
    ))
    .bind(&subjects)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    for (_, _, email, phone) in &owners {
        addresses.insert(email.clone());
        addresses.extend(phone.clone());
    }
    let addresses = db::json_texts(addresses.iter().map(String::as_str));

    let mut ram_users: HashMap<String, Vec<String>> = HashMap::new();
    let users: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT account_id, username FROM ram_users WHERE account_id IN {}",
        db::in_json(backend, 1)
    ))
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    for (account_id, username) in users {
        ram_users.entry(account_id).or_default().push(username);
    }
    let mut throttle_keys = Vec::new();
    for (id, uid, email, _) in &owners {
        let users: Vec<&str> = ram_users
            .get(id)
            .map_or_else(Vec::new, |u| u.iter().map(String::as_str).collect());
        throttle_keys.extend(session::throttle_keys(email, uid, &users));
    }
    let throttle_keys = db::json_texts(throttle_keys.iter().map(String::as_str));

    let mut job_subjects: HashMap<&str, String> = HashMap::new();
    for (_, table) in JOBS_BY_SUBJECT {
        if !job_subjects.contains_key(table) {
            let sql = format!("SELECT id FROM {table} WHERE account_id IN");
            let rows = strings(tx, &sql, &ids).await?;
            job_subjects.insert(table, db::json_texts(rows.iter().map(String::as_str)));
        }
    }
    for (kind, table) in JOBS_BY_SUBJECT {
        // A job under way is left to finish: the decision deleting the account is one, and
        // ends `done` in this transaction, which is how the scheduler knows it ran once. Done
        // jobs go with housekeeping a day later.
        sqlx::query(&format!(
            "DELETE FROM jobs WHERE kind = $2 AND status <> 'running' AND subject IN {}",
            db::in_json(backend, 1)
        ))
        .bind(&job_subjects[table])
        .bind(kind)
        .execute(&mut **tx)
        .await?;
    }

    let signups = db::json_texts(signups.iter().map(String::as_str));
    for (sql, list) in DELETES {
        let list = match list {
            List::Addresses => &addresses,
            List::Accounts => &ids,
            List::Signups => &signups,
            List::ThrottleKeys => &throttle_keys,
        };
        sqlx::query(&format!("{sql} {}", db::in_json(backend, 1)))
            .bind(list)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The strings `sql` (ending in `IN`) selects for the JSON list `list`.
async fn strings(tx: &mut HeldTx<'_>, sql: &str, list: &str) -> Result<Vec<String>, ApiError> {
    let backend = Backend::of(tx);
    Ok(
        sqlx::query_scalar(&format!("{sql} {}", db::in_json(backend, 1)))
            .bind(list)
            .fetch_all(&mut **tx)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    /// Each deletion reads the index of the column its list matches, whatever else it tests:
    /// SQLite picks an index by the shape of a condition, not by how many rows it holds.
    #[tokio::test]
    async fn each_deletion_reads_the_index_of_its_lists_column() {
        let (_dir, db) = db::scratch().await;
        db::migrate(&db).await.unwrap();
        for (sql, _) in DELETES {
            let column = sql.trim_end_matches(" IN").rsplit(' ').next().unwrap();
            let explain = format!(
                "EXPLAIN QUERY PLAN {sql} {}",
                db::in_json(Backend::Sqlite, 1)
            );
            let plan: Vec<String> = sqlx::query(&explain)
                .bind("[]")
                .fetch_all(&db)
                .await
                .unwrap()
                .iter()
                .map(|row| row.get::<String, _>("detail"))
                .collect();
            let table = sql.split(' ').nth(2).unwrap();
            let read = plan
                .iter()
                .find(|step| step.starts_with(&format!("SEARCH {table} ")))
                .unwrap_or_else(|| panic!("{sql}: no search of {table} in {plan:?}"));
            assert!(
                read.contains(&format!("({column}=?)")) || read.contains(&format!("({column}=? ")),
                "{sql}: {read}"
            );
        }
    }
}
