//! Request and response bodies of the JSON API under `/api`.
//!
//! Requests travel as plain forms (what the user typed); `parse` turns a form into the checked
//! values the server acts on, and the app runs the same `parse` before it sends anything.

mod billing;
mod closure;
mod operation_log;
mod page;
mod payment;
mod resources;
mod security;
mod spending;
mod withdrawal;

pub use billing::*;
pub use closure::*;
pub use operation_log::*;
pub use page::*;
pub use payment::*;
pub use resources::*;
pub use security::*;
pub use spending::*;
pub use withdrawal::*;

use crate::account::{Channel, Delivery, Email, Password, Phone, VerificationCode};
use crate::country::Country;
use crate::error::{FieldError, collect_errors};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `POST /api/signup`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignupForm {
    /// ISO 3166-1 alpha-2 code: where the phone number and card are registered.
    #[cfg_attr(feature = "openapi", schema(value_type = Country))]
    pub country: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Email))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Password))]
    pub password: String,
    /// The same as `password`.
    #[cfg_attr(feature = "openapi", schema(value_type = Password))]
    pub password_confirmation: String,
    /// The Membership Agreement, Privacy Policy, Product Terms and Terms of Use.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::ticked))]
    pub accept_agreement: bool,
}

/// A sign-up whose every field passed its rule.
#[derive(Debug, Clone)]
pub struct Signup {
    pub country: Country,
    pub email: Email,
    pub password: Password,
}

impl SignupForm {
    pub fn parse(&self) -> Result<Signup, Vec<FieldError>> {
        let country = Country::parse(&self.country);
        let email = Email::parse(&self.email);
        let password = Password::parse(&self.password, email.as_ref().ok());
        let confirmed = Password::confirm(&self.password, &self.password_confirmation);
        let agreed = if self.accept_agreement {
            Ok(())
        } else {
            Err(crate::Invalid::new(
                crate::ErrorCode::AgreementRequired,
                "Read and accept the agreements to continue.",
            ))
        };
        match (country, email, password, confirmed, agreed) {
            (Ok(country), Ok(email), Ok(password), Ok(()), Ok(())) => Ok(Signup {
                country,
                email,
                password,
            }),
            (country, email, password, confirmed, agreed) => Err(collect_errors([
                country.err().map(|e| e.at("country")),
                email.err().map(|e| e.at("email")),
                password.err().map(|e| e.at("password")),
                confirmed.err().map(|e| e.at("password_confirmation")),
                agreed.err().map(|e| e.at("accept_agreement")),
            ])),
        }
    }
}

/// The answer to a sign-up: it waits for a verified code before it becomes an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignupStarted {
    /// Names the pending sign-up in the verification calls. Keep it private.
    pub signup_id: String,
    pub email: String,
    pub country: String,
    /// Without the `+`.
    pub calling_code: String,
    /// RFC 3339; the sign-up is forgotten after this.
    pub expires_at: String,
}

/// `POST /api/signup/{id}/code`: send a code by email (default) or to a phone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SendCodeForm {
    pub channel: Option<Channel>,
    /// Required for the phone channel: a number of the sign-up's country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// For the phone channel: SMS (default) or a voice call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

/// Where a code is to go.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeTarget {
    Email,
    Phone(Phone, Delivery),
}

impl SendCodeForm {
    /// `country` is the sign-up's, which fixes the phone's calling code.
    pub fn parse(&self, country: Country) -> Result<CodeTarget, FieldError> {
        match self.channel.unwrap_or(Channel::Email) {
            Channel::Email => Ok(CodeTarget::Email),
            Channel::Phone => {
                let phone = Phone::parse(country, self.phone.as_deref().unwrap_or(""))
                    .map_err(|e| e.at("phone"))?;
                Ok(CodeTarget::Phone(phone, self.delivery.unwrap_or_default()))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CodeSent {
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// The address or number, partly masked.
    pub sent_to: String,
    pub resend_after_seconds: u64,
    pub expires_in_seconds: u64,
}

/// `POST /api/signup/{id}/verify`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VerifyForm {
    #[cfg_attr(feature = "openapi", schema(value_type = VerificationCode))]
    pub code: String,
}

impl VerifyForm {
    pub fn parse(&self) -> Result<VerificationCode, FieldError> {
        VerificationCode::parse(&self.code).map_err(|e| e.at("code"))
    }
}

/// `POST /api/session`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignInForm {
    #[cfg_attr(feature = "openapi", schema(value_type = Email))]
    pub email: String,
    /// Not held to the new-password rules: an old password may predate them.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct SignIn {
    pub email: Email,
    /// Not checked against the new-password rules: an old password may predate them.
    pub password: String,
}

impl SignInForm {
    pub fn parse(&self) -> Result<SignIn, Vec<FieldError>> {
        let email = Email::parse(&self.email);
        let password = entered_password(&self.password);
        match (email, password) {
            (Ok(email), Ok(password)) => Ok(SignIn { email, password }),
            (email, password) => Err(collect_errors([
                email.err().map(|e| e.at("email")),
                password.err(),
            ])),
        }
    }
}

/// A password to compare with the stored one (sign-in, and again before a sensitive step): not
/// held to the new-password rules, as an old password may predate them; it need only be there.
pub(crate) fn entered_password(password: &str) -> Result<String, FieldError> {
    if password.is_empty() {
        Err(
            crate::Invalid::new(crate::ErrorCode::InvalidPassword, "Enter your password.")
                .at("password"),
        )
    } else {
        Ok(password.to_owned())
    }
}

/// The signed-in account and the token every state-changing request must echo in the
/// `X-CSRF-Token` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionInfo {
    pub account: AccountView,
    pub csrf_token: String,
    /// RFC 3339.
    pub expires_at: String,
    /// Set when a RAM user, not the owner, is signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram_user: Option<RamUserView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AccountView {
    pub id: String,
    /// The account ID RAM users sign in under (the account alias).
    pub uid: String,
    pub email: String,
    pub country: String,
    pub country_name: String,
    /// The channel proven at sign-up; the other one is verified with the billing address.
    pub verified_channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub next_steps: Vec<NextStep>,
    /// Free credit left to spend.
    pub credit_balance: crate::money::Money,
    pub real_name: RealNameStatus,
    /// In the closure cool-down: only the remaining time can be seen (`GET /api/closure`).
    pub closing: bool,
    /// The kinds of payment method this account may add (Paytm alone for India accounts
    /// registered after 2019-07-29), so the next step names the right one.
    #[serde(default)]
    pub payment_methods_available: Vec<PaymentMethodKind>,
    /// The free credit the first verified payment method activates; absent once it was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_credit_offered: Option<crate::money::Money>,
}

/// What the account still needs before it can buy anything, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NextStep {
    pub key: NextStepKey,
    pub done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NextStepKey {
    /// The contact channel not verified at sign-up, verified with the billing address.
    VerifyContact,
    BillingAddress,
    PaymentMethod,
    /// Optional: needed only to buy in mainland-China regions.
    RealNameRegistration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    pub status: Serving,
    /// The database as the readiness probe found it; liveness leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseState>,
}

/// Whether the instance serves: `unavailable` when the readiness probe fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Serving {
    Ok,
    Unavailable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DatabaseState {
    Ok,
    Unreachable,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn good() -> SignupForm {
        SignupForm {
            country: "SG".into(),
            email: "lin@example.com".into(),
            password: "Harbour7Lights".into(),
            password_confirmation: "Harbour7Lights".into(),
            accept_agreement: true,
        }
    }

    #[test]
    fn a_good_signup_parses() {
        let s = good().parse().unwrap();
        assert_eq!(s.country.code(), "SG");
        assert_eq!(s.email.as_str(), "lin@example.com");
    }

    #[test]
    fn every_bad_field_is_reported_with_its_name_and_code() {
        let form = SignupForm {
            country: "ZZ".into(),
            email: "nope".into(),
            password: "short".into(),
            password_confirmation: "other".into(),
            accept_agreement: false,
        };
        let errors = form.parse().unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            got,
            vec![
                ("country", ErrorCode::InvalidCountry),
                ("email", ErrorCode::InvalidEmail),
                ("password", ErrorCode::InvalidPassword),
                ("password_confirmation", ErrorCode::PasswordMismatch),
                ("accept_agreement", ErrorCode::AgreementRequired),
            ]
        );
    }

    #[test]
    fn the_password_is_checked_against_the_email_of_the_same_form() {
        let form = SignupForm {
            password: "lin12345x".into(),
            password_confirmation: "lin12345x".into(),
            ..good()
        };
        let errors = form.parse().unwrap_err();
        assert_eq!(errors[0].field, "password");
    }

    #[test]
    fn a_phone_code_needs_a_number_of_the_signup_country() {
        let sg = Country::parse("SG").unwrap();
        let form = SendCodeForm {
            channel: Some(Channel::Phone),
            phone: None,
            delivery: None,
        };
        assert_eq!(form.parse(sg).unwrap_err().field, "phone");
        let form = SendCodeForm {
            channel: Some(Channel::Phone),
            phone: Some("9123 4567".into()),
            delivery: Some(Delivery::Voice),
        };
        assert_eq!(
            form.parse(sg).unwrap(),
            CodeTarget::Phone(Phone::parse(sg, "91234567").unwrap(), Delivery::Voice)
        );
        assert_eq!(
            SendCodeForm::default().parse(sg).unwrap(),
            CodeTarget::Email
        );
    }

    #[test]
    fn sign_in_needs_an_email_and_some_password() {
        let errors = SignInForm {
            email: "x".into(),
            password: "".into(),
        }
        .parse()
        .unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(
            SignInForm {
                email: "a@b.co".into(),
                password: "old".into()
            }
            .parse()
            .is_ok()
        );
    }

    #[test]
    fn reauthentication_needs_some_password_in_its_field() {
        let missing = ReauthForm {
            password: "".into(),
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            (missing.field, missing.code),
            ("password", ErrorCode::InvalidPassword)
        );
        let old = ReauthForm {
            password: "old".into(),
        };
        assert_eq!(old.parse().as_deref(), Ok("old"));
    }
}
