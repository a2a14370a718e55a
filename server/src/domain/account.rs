//! The account as its owner sees it.

use crate::clock::rfc3339;
use crate::db::{Db, Flag, Tx};
use crate::domain::ledger;
use crate::error::ApiError;
use shared::account::Channel;
use shared::api::{AccountView, NextStep, NextStepKey, RealNameStatus};
use shared::country::Country;

pub async fn live_email_exists(tx: &mut Tx, email: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE email = $1 AND status <> 'closed')",
    )
    .bind(email)
    .fetch_one(&mut **tx)
    .await
    .map(bool::from)
}

#[derive(sqlx::FromRow)]
struct Row {
    status: String,
    id: String,
    uid: String,
    email: String,
    country: String,
    verified_channel: String,
    email_verified_at: Option<i64>,
    phone: Option<String>,
    phone_verified_at: Option<i64>,
    created_at: i64,
}

pub async fn view(db: &Db, account_id: &str) -> Result<AccountView, ApiError> {
    let row: Row = sqlx::query_as(
        "SELECT status, id, uid, email, country, verified_channel, email_verified_at, phone, phone_verified_at, created_at
         FROM accounts WHERE id = $1",
    )
    .bind(account_id)
    .fetch_optional(db)
    .await?
    .ok_or(ApiError::Unauthenticated)?;
    let country = Country::parse(&row.country)
        .map_err(|_| anyhow::anyhow!("stored country {}", row.country))?;
    let verified_channel = Channel::parse(&row.verified_channel)
        .ok_or_else(|| anyhow::anyhow!("stored channel {}", row.verified_channel))?;
    let both_verified = row.email_verified_at.is_some() && row.phone_verified_at.is_some();
    let (Flag(has_address), Flag(has_method), Flag(real_name)) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM billing_addresses WHERE account_id = $1),
                EXISTS (SELECT 1 FROM payment_methods WHERE account_id = $1),
                EXISTS (SELECT 1 FROM real_name_registrations WHERE account_id = $1)",
    )
    .bind(account_id)
    .fetch_one(db)
    .await?;
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
        credit_balance: ledger::balance(db, account_id, ledger::Bucket::Credit).await?,
        closing: row.status == "closing",
        real_name: if real_name {
            RealNameStatus::Verified
        } else {
            RealNameStatus::NotRegistered
        },
    })
}

/// The account's country and when it was registered, which decide some rules.
pub async fn country_and_created(db: &Db, account_id: &str) -> Result<(Country, i64), ApiError> {
    let (country, created_at): (String, i64) =
        sqlx::query_as("SELECT country, created_at FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(db)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
    let country =
        Country::parse(&country).map_err(|_| anyhow::anyhow!("stored country {country}"))?;
    Ok((country, created_at))
}
