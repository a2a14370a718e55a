//! The billing address (SPEC §2) and the verification of the contact channel the account did
//! not prove at sign-up, which must happen before the address is saved.

use crate::db;
use crate::domain::account::{self, Writer};
use crate::domain::verification;
use crate::error::ApiError;
use crate::oplog::{self, Operation};
use crate::state::AppState;
use crate::tables::accounts::{self, Contact};
use crate::tables::billing_addresses;
use shared::account::{Channel, Email, VerificationCode};
use shared::api::{BillingAddressView, CodeSent, CodeTarget, SendCodeForm};
use shared::billing::BillingAddress;

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

/// The address comes before any purchase or payment method (SPEC §2): the one check of that
/// rule, for every payment method and for purchases.
pub async fn require_address(db: &db::Db, account_id: &str) -> Result<(), ApiError> {
    if billing_addresses::exists(db, account_id).await? {
        Ok(())
    } else {
        Err(ApiError::BillingAddressRequired)
    }
}

pub async fn view(state: &AppState, account_id: &str) -> Result<BillingAddressView, ApiError> {
    let contact = contact(&state.db, account_id).await?;
    let (country, _) = account::country_and_created(&state.db, account_id).await?;
    Ok(BillingAddressView {
        address: billing_addresses::get(&state.db, account_id).await?,
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
    billing_addresses::save(&mut tx, account_id, &address, now).await?;
    oplog::record(
        &mut tx,
        account_id,
        Operation::BillingAddressSaved {
            country: address.address.country.clone(),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(address)
}
