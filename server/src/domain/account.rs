//! The account as its owner sees it.

use crate::clock::{Millis, rfc3339};
use crate::db::{self, Backend, Db, Flag, HeldTx, Stored, Tx};
use crate::domain::{ledger, payment};
use crate::error::ApiError;
use crate::inline_reads::InlineRow;
use shared::account::Channel;
use shared::api::{AccountView, NextStep, NextStepKey, RealNameStatus};
use shared::country::Country;
use shared::money::Money;
use std::sync::LazyLock;

/// Who writes: the account's own people, or the system on its behalf (jobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// The owner or a RAM user: refused once the closure was confirmed (SPEC §6.3).
    Member,
    /// A job: usage billing, refunds and reconciliation go on during the cool-down.
    System,
}

/// An account's life: open, or cooling down before its closure is decided (SPEC §6.3). A closed
/// account is deleted; `closed` is the status of one whose deletion an older version left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Closing,
    Closed,
}

/// Opens a write transaction on `account_id`'s data: the one door every account-scoped write
/// goes through (SPEC §9). The account's row is locked first in the transaction ([`lock`])
/// and its status read under that lock, so a check made after it (a balance, a closure check,
/// the status itself) cannot go stale before the write commits: a purchase that reaches its
/// write after Confirm Deletion is refused here, not written. `writer` says who may write in
/// which status.
pub async fn begin_write(db: &Db, account_id: &str, writer: Writer) -> Result<Tx, ApiError> {
    let mut tx = db::begin_write(db).await?;
    match (lock(&mut tx, account_id).await?, writer) {
        (Some(AccountStatus::Active), _) | (Some(AccountStatus::Closing), Writer::System) => Ok(tx),
        (Some(AccountStatus::Closing), Writer::Member) => Err(ApiError::AccountClosing),
        (Some(AccountStatus::Closed) | None, _) => Err(ApiError::Unauthenticated),
    }
}

/// [`begin_write`] whatever the account's status, for writes that hold in every one (signing
/// out, counting a sign-in, settling a job's money for an account that may be gone): the
/// account is locked, if it still exists, and nothing is refused.
pub async fn begin_locked(db: &Db, account_id: &str) -> Result<Tx, ApiError> {
    let mut tx = db::begin_write(db).await?;
    lock(&mut tx, account_id).await?;
    Ok(tx)
}

/// Locks `account_id`'s row until `tx` ends and reads its status (`None`: no such account).
/// On PostgreSQL the lock serialises this account's writers on every instance, and no one
/// else's; it comes first in its transaction (before any [`db::lock_keys`]), so that two
/// writers cannot take the same locks in opposite orders. `FOR NO KEY UPDATE` leaves rows
/// referring to the account (a log line, a session) free to be inserted meanwhile. On SQLite
/// the transaction holds the one write lock already.
pub async fn lock(tx: &mut HeldTx<'_>, account_id: &str) -> sqlx::Result<Option<AccountStatus>> {
    let sql = match Backend::of(tx) {
        Backend::Sqlite => "SELECT status FROM accounts WHERE id = $1",
        Backend::Postgres => "SELECT status FROM accounts WHERE id = $1 FOR NO KEY UPDATE",
    };
    let status: Option<Stored<AccountStatus>> = sqlx::query_scalar(sql)
        .bind(account_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(status.map(|s| s.0))
}

pub async fn live_email_exists(tx: &mut Tx, email: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE email = $1 AND status <> 'closed')",
    )
    .bind(email)
    .fetch_one(&mut **tx)
    .await
    .map(bool::from)
}

/// The columns [`ViewRow`] reads, of `accounts a`: the account, its next steps and its credit
/// in one statement. `GET /api/session` reads them on every page load with the session itself
/// (see `auth::SessionAndAccount`), and each statement is a round trip to the database.
pub static VIEW_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "a.status, a.id, a.uid, a.email, a.country, a.verified_channel, a.email_verified_at, a.phone,
         a.phone_verified_at, a.created_at,
         EXISTS (SELECT 1 FROM billing_addresses WHERE account_id = a.id) AS has_address,
         EXISTS (SELECT 1 FROM payment_methods WHERE account_id = a.id) AS has_method,
         EXISTS (SELECT 1 FROM real_name_registrations WHERE account_id = a.id) AS real_name,
         EXISTS (SELECT 1 FROM ledger_entries WHERE account_id = a.id AND kind = 'free_credit') AS credit_granted,
         (SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries
          WHERE account_id = a.id AND bucket = '{}' AND currency = '{}') AS credit_minor",
        ledger::Bucket::Credit.as_str(),
        ledger::ACCOUNT_CURRENCY.code(),
    )
});

#[derive(sqlx::FromRow)]
pub struct ViewRow {
    status: Stored<AccountStatus>,
    id: String,
    uid: String,
    email: String,
    country: String,
    verified_channel: Stored<Channel>,
    email_verified_at: Option<Millis>,
    phone: Option<String>,
    phone_verified_at: Option<Millis>,
    created_at: Millis,
    #[sqlx(try_from = "Flag")]
    has_address: bool,
    #[sqlx(try_from = "Flag")]
    has_method: bool,
    #[sqlx(try_from = "Flag")]
    real_name: bool,
    #[sqlx(try_from = "Flag")]
    credit_granted: bool,
    credit_minor: i64,
}

impl InlineRow for ViewRow {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<ViewRow> {
        Ok(ViewRow {
            status: row.get("status")?,
            id: row.get("id")?,
            uid: row.get("uid")?,
            email: row.get("email")?,
            country: row.get("country")?,
            verified_channel: row.get("verified_channel")?,
            email_verified_at: row.get::<_, Option<i64>>("email_verified_at")?.map(Millis),
            phone: row.get("phone")?,
            phone_verified_at: row.get::<_, Option<i64>>("phone_verified_at")?.map(Millis),
            created_at: Millis(row.get("created_at")?),
            has_address: row.get("has_address")?,
            has_method: row.get("has_method")?,
            real_name: row.get("real_name")?,
            credit_granted: row.get("credit_granted")?,
            credit_minor: row.get("credit_minor")?,
        })
    }
}

pub async fn view(db: &Db, account_id: &str) -> Result<AccountView, ApiError> {
    static VIEW_SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {} FROM accounts a WHERE a.id = $1", *VIEW_COLUMNS));
    let row: ViewRow = sqlx::query_as(&VIEW_SQL)
        .bind(account_id)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    view_of(row)
}

pub fn view_of(row: ViewRow) -> Result<AccountView, ApiError> {
    let country = Country::parse(&row.country)
        .map_err(|_| anyhow::anyhow!("stored country {}", row.country))?;
    let verified_channel = row.verified_channel.0;
    let both_verified = row.email_verified_at.is_some() && row.phone_verified_at.is_some();
    let (has_address, has_method, real_name) = (row.has_address, row.has_method, row.real_name);
    Ok(AccountView {
        id: row.id,
        uid: row.uid,
        email: row.email,
        country: country.code().to_owned(),
        country_name: country.name().to_owned(),
        verified_channel,
        phone: row.phone,
        created_at: rfc3339(row.created_at),
        next_steps: vec![
            NextStep {
                key: NextStepKey::VerifyContact,
                done: both_verified,
            },
            NextStep {
                key: NextStepKey::BillingAddress,
                done: has_address,
            },
            NextStep {
                key: NextStepKey::PaymentMethod,
                done: has_method,
            },
            NextStep {
                key: NextStepKey::RealNameRegistration,
                done: real_name,
            },
        ],
        credit_balance: Money::from_minor(row.credit_minor, ledger::ACCOUNT_CURRENCY),
        closing: row.status.0 == AccountStatus::Closing,
        payment_methods_available: payment::available_kinds(country, row.created_at),
        free_credit_offered: (!row.credit_granted).then(payment::free_credit),
        real_name: if real_name {
            RealNameStatus::Verified
        } else {
            RealNameStatus::NotRegistered
        },
    })
}

/// The account's country and when it was registered, which decide some rules.
pub async fn country_and_created(db: &Db, account_id: &str) -> Result<(Country, Millis), ApiError> {
    let (Stored(country), created_at): (Stored<Country>, Millis) =
        sqlx::query_as("SELECT country, created_at FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(db)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
    Ok((country, created_at))
}
