//! The billing address (SPEC §2) and the verification of the contact channel the account did
//! not prove at sign-up, which must happen before the address is saved.

use crate::db;
use crate::domain::account::{self, Writer};
use crate::domain::verification;
use crate::error::ApiError;
use crate::oplog::{self, Operation};
use crate::state::AppState;
use crate::tables::accounts::{self, Contact};
use shared::account::{Channel, Email, VerificationCode};
use shared::api::{BillingAddressView, CodeSent, CodeTarget, SendCodeForm};
use shared::billing::{AccountType, Address, BillingAddress};

impl Contact {
    /// The channel still to prove, if any.
    fn to_verify(&self) -> Option<Channel> {
        match (self.email_verified_at, self.phone_verified_at) {
            (Some(_), None) => Some(Channel::Phone),
            (None, _) => Some(Channel::Email),
            (Some(_), Some(_)) => None,
        }
    }
}

async fn contact(db: &db::Db, account_id: &str) -> Result<Contact, ApiError> {
    accounts::contact(db, account_id)
        .await?
        .ok_or(ApiError::Unauthenticated)
}

#[derive(sqlx::FromRow)]
struct Row {
    account_type: db::Stored<AccountType>,
    last_name: String,
    first_name: String,
    company_name: Option<String>,
    country: String,
    address_line1: String,
    address_line2: Option<String>,
    city: String,
    state: String,
    postal_code: Option<String>,
}

/// The address comes before any purchase or payment method (SPEC §2): the one check of that
/// rule, for every payment method and for purchases.
pub async fn require_address(db: &db::Db, account_id: &str) -> Result<(), ApiError> {
    let db::Flag(added) =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM billing_addresses WHERE account_id = $1)")
            .bind(account_id)
            .fetch_one(db)
            .await?;
    if added {
        Ok(())
    } else {
        Err(ApiError::BillingAddressRequired)
    }
}

pub async fn address(db: &db::Db, account_id: &str) -> Result<Option<BillingAddress>, ApiError> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT account_type, last_name, first_name, company_name, country, address_line1, address_line2, city, state, postal_code
         FROM billing_addresses WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok(BillingAddress {
            account_type: r.account_type.0,
            last_name: r.last_name,
            first_name: r.first_name,
            company_name: r.company_name,
            address: Address {
                country: r.country,
                address_line1: r.address_line1,
                address_line2: r.address_line2,
                city: r.city,
                state: r.state,
                postal_code: r.postal_code,
            },
        })
    })
    .transpose()
}

pub async fn view(state: &AppState, account_id: &str) -> Result<BillingAddressView, ApiError> {
    let contact = contact(&state.db, account_id).await?;
    let (country, _) = account::country_and_created(&state.db, account_id).await?;
    Ok(BillingAddressView {
        address: address(&state.db, account_id).await?,
        email_verified: contact.email_verified_at.is_some(),
        phone_verified: contact.phone_verified_at.is_some(),
        contact_to_verify: contact.to_verify(),
        email: contact.email,
        phone: contact.phone,
        calling_code: country.calling_code().to_owned(),
    })
}

/// Sends a code to the channel still to prove: the mobile number (SMS or voice) for accounts
/// that signed up by email, the account email for those that signed up by phone. A verified
/// mobile number may also be replaced by proving a new one.
pub async fn send_contact_code(
    state: &AppState,
    account_id: &str,
    form: &SendCodeForm,
    client: &str,
) -> Result<CodeSent, ApiError> {
    let contact = contact(&state.db, account_id).await?;
    let (country, _) = account::country_and_created(&state.db, account_id).await?;
    let target = match contact.to_verify() {
        Some(Channel::Email) => CodeTarget::Email,
        _ => match form.parse(country)? {
            CodeTarget::Email => {
                return Err(ApiError::ContactNotVerified {
                    needed: Channel::Phone,
                });
            }
            phone => phone,
        },
    };
    let (channel, address, delivery, sent_to) = match &target {
        CodeTarget::Email => {
            let email =
                Email::parse(&contact.email).map_err(|e| anyhow::anyhow!("stored email: {e}"))?;
            (Channel::Email, contact.email.clone(), None, email.masked())
        }
        CodeTarget::Phone(phone, delivery) => (
            Channel::Phone,
            phone.as_str().to_owned(),
            Some(*delivery),
            phone.masked(),
        ),
    };
    verification::send_to_account(
        state,
        verification::Purpose::Contact,
        account_id,
        (channel, &address, delivery),
        sent_to,
        client,
    )
    .await
}

pub async fn verify_contact(
    state: &AppState,
    account_id: &str,
    code: &VerificationCode,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let (mut tx, proven) = verification::check(
        tx,
        &state.secrets,
        now,
        &verification::Purpose::Contact.subject(account_id),
        code,
    )
    .await?;
    match proven.channel {
        Channel::Email => {
            accounts::mark_email_verified(&mut tx, account_id, &proven.address, now).await?;
        }
        Channel::Phone => {
            accounts::set_verified_phone(&mut tx, account_id, &proven.address, now).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(account = %account_id, channel = proven.channel.as_str(), "contact verified");
    Ok(())
}

/// Saves (creates or replaces) the billing address. Both contact channels must be proven.
pub async fn save(
    state: &AppState,
    account_id: &str,
    address: BillingAddress,
) -> Result<BillingAddress, ApiError> {
    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    match accounts::verified_at(&mut tx, account_id).await? {
        (Some(_), Some(_)) => {}
        (Some(_), None) => {
            return Err(ApiError::ContactNotVerified {
                needed: Channel::Phone,
            });
        }
        (None, _) => {
            return Err(ApiError::ContactNotVerified {
                needed: Channel::Email,
            });
        }
    }
    let a = &address.address;
    sqlx::query(
        "INSERT INTO billing_addresses (account_id, account_type, last_name, first_name, company_name, country, address_line1, address_line2, city, state, postal_code, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (account_id) DO UPDATE SET account_type = excluded.account_type, last_name = excluded.last_name,
           first_name = excluded.first_name, company_name = excluded.company_name, country = excluded.country,
           address_line1 = excluded.address_line1, address_line2 = excluded.address_line2, city = excluded.city,
           state = excluded.state, postal_code = excluded.postal_code, updated_at = excluded.updated_at",
    )
    .bind(account_id)
    .bind(address.account_type.as_str())
    .bind(&address.last_name)
    .bind(&address.first_name)
    .bind(&address.company_name)
    .bind(&a.country)
    .bind(&a.address_line1)
    .bind(&a.address_line2)
    .bind(&a.city)
    .bind(&a.state)
    .bind(&a.postal_code)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    oplog::record(
        &mut tx,
        account_id,
        Operation::BillingAddressSaved {
            country: a.country.clone(),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(address)
}
