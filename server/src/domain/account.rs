//! The account as its owner sees it.

use crate::clock::rfc3339;
use crate::db::{Db, Tx};
use crate::error::ApiError;
use shared::account::Channel;
use shared::api::{AccountView, NextStep, NextStepKey};
use shared::country::Country;

pub async fn live_email_exists(tx: &mut Tx, email: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE email = ? AND status <> 'closed')",
    )
    .bind(email)
    .fetch_one(&mut **tx)
    .await
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
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
        "SELECT id, email, country, verified_channel, email_verified_at, phone, phone_verified_at, created_at
         FROM accounts WHERE id = ?",
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
    Ok(AccountView {
        id: row.id,
        email: row.email,
        country: country.code().to_owned(),
        country_name: country.name().to_owned(),
        verified_channel,
        phone: row.phone,
        created_at: rfc3339(row.created_at),
        // The billing address (next issue) verifies the second channel, so both steps are
        // open until it exists.
        next_steps: vec![
            NextStep {
                key: NextStepKey::BillingAddress,
                done: both_verified,
            },
            NextStep {
                key: NextStepKey::PaymentMethod,
                done: false,
            },
        ],
    })
}
