//! The account as its owner sees it.

use crate::clock::{Millis, rfc3339};
use crate::db::{self, Db, HeldTx, Tx};
use crate::domain::{ledger, payment};
use crate::error::ApiError;
pub use crate::tables::accounts::AccountStatus;
use crate::tables::accounts::{self, ViewRow};
use shared::api::{AccountView, NextStep, NextStepKey, RealNameStatus};
use shared::country::Country;
use shared::money::Money;

/// Who writes: the account's own people, or the system on its behalf (jobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// The owner or a RAM user: refused once the closure was confirmed (SPEC §6.3).
    Member,
    /// A job: usage billing, refunds and reconciliation go on during the cool-down.
    System,
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
/// writers cannot take the same locks in opposite orders. Writers call this, not
/// [`accounts::lock`] (how the row is locked), so that the rule is read where they take it.
pub async fn lock(tx: &mut HeldTx<'_>, account_id: &str) -> sqlx::Result<Option<AccountStatus>> {
    accounts::lock(tx, account_id).await
}

pub async fn view(db: &Db, account_id: &str) -> Result<AccountView, ApiError> {
    let row = accounts::view(db, account_id)
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
    accounts::country_and_created(db, account_id)
        .await?
        .ok_or(ApiError::Unauthenticated)
}
