//! Account security self-service (SPEC §1 "Account security"): a forgotten password's reset, a
//! password change, and the account's signed-in sessions.

use crate::account::{Channel, Delivery, Email, Password, Phone, VerificationCode};
use crate::country::Country;
use crate::error::{ErrorCode, FieldError, Invalid, collect_errors};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `POST /api/password-reset`: where to send the reset code. The email, or a phone number of
/// `country`, that the account verified.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PasswordResetForm {
    /// Email (default) or phone.
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Email>))]
    pub email: Option<String>,
    /// For the phone channel: the ISO 3166-1 alpha-2 code that fixes the calling code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Country>))]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// For the phone channel: SMS (default) or a voice call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

/// Where a reset code is to go.
#[derive(Debug, Clone, PartialEq)]
pub enum ResetAddress {
    Email(Email),
    Phone(Phone, Delivery),
}

impl ResetAddress {
    pub fn channel(&self) -> Channel {
        match self {
            ResetAddress::Email(_) => Channel::Email,
            ResetAddress::Phone(..) => Channel::Phone,
        }
    }

    /// The email, or the E.164 number.
    pub fn as_str(&self) -> &str {
        match self {
            ResetAddress::Email(email) => email.as_str(),
            ResetAddress::Phone(phone, _) => phone.as_str(),
        }
    }

    pub fn masked(&self) -> String {
        match self {
            ResetAddress::Email(email) => email.masked(),
            ResetAddress::Phone(phone, _) => phone.masked(),
        }
    }

    pub fn delivery(&self) -> Option<Delivery> {
        match self {
            ResetAddress::Email(_) => None,
            ResetAddress::Phone(_, delivery) => Some(*delivery),
        }
    }
}

impl PasswordResetForm {
    pub fn parse(&self) -> Result<ResetAddress, Vec<FieldError>> {
        match self.channel.unwrap_or(Channel::Email) {
            Channel::Email => Email::parse(self.email.as_deref().unwrap_or(""))
                .map(ResetAddress::Email)
                .map_err(|e| vec![e.at("email")]),
            Channel::Phone => {
                let country = Country::parse(self.country.as_deref().unwrap_or(""))
                    .map_err(|e| vec![e.at("country")])?;
                Phone::parse(country, self.phone.as_deref().unwrap_or(""))
                    .map(|phone| ResetAddress::Phone(phone, self.delivery.unwrap_or_default()))
                    .map_err(|e| vec![e.at("phone")])
            }
        }
    }
}

/// The answer to a reset request, the same whether or not an account uses the address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PasswordResetStarted {
    /// Names the reset in the calls that follow. Keep it private.
    pub reset_id: String,
    pub code: super::CodeSent,
}

/// `POST /api/password-reset/{id}`: the code and the new password.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResetPasswordForm {
    #[cfg_attr(feature = "openapi", schema(value_type = VerificationCode))]
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Password))]
    pub password: String,
    /// The same as `password`.
    #[cfg_attr(feature = "openapi", schema(value_type = Password))]
    pub password_confirmation: String,
}

#[derive(Debug, Clone)]
pub struct ResetPassword {
    pub code: VerificationCode,
    pub password: Password,
}

/// A new password with its confirmation, held to the sign-up rules: the one check of the
/// reset and the change.
fn new_password(
    password: &str,
    confirmation: &str,
    email: Option<&Email>,
) -> (Result<Password, FieldError>, Option<FieldError>) {
    (
        Password::parse(password, email).map_err(|e| e.at("password")),
        Password::confirm(password, confirmation)
            .err()
            .map(|e| e.at("password_confirmation")),
    )
}

impl ResetPasswordForm {
    /// `email` is the account's where it is known (the page knows it when the code went by
    /// email; the server checks again with the account's own once the code is proven).
    pub fn parse(&self, email: Option<&Email>) -> Result<ResetPassword, Vec<FieldError>> {
        let code = VerificationCode::parse(&self.code).map_err(|e| e.at("code"));
        let (password, confirmed) =
            new_password(&self.password, &self.password_confirmation, email);
        match (code, password, confirmed) {
            (Ok(code), Ok(password), None) => Ok(ResetPassword { code, password }),
            (code, password, confirmed) => {
                Err(collect_errors([code.err(), password.err(), confirmed]))
            }
        }
    }
}

/// `PUT /api/account/password`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChangePasswordForm {
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub current_password: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Password))]
    pub password: String,
    /// The same as `password`.
    #[cfg_attr(feature = "openapi", schema(value_type = Password))]
    pub password_confirmation: String,
}

#[derive(Debug, Clone)]
pub struct ChangePassword {
    /// Compared with the stored one; not held to the rules (it may predate them).
    pub current: String,
    pub password: Password,
}

impl ChangePasswordForm {
    pub fn parse(&self, email: &Email) -> Result<ChangePassword, Vec<FieldError>> {
        let current = super::entered_password(&self.current_password).map_err(|e| FieldError {
            field: "current_password",
            message: "Enter your current password.".to_owned(),
            ..e
        });
        let (password, confirmed) =
            new_password(&self.password, &self.password_confirmation, Some(email));
        match (current, password, confirmed) {
            (Ok(current), Ok(password), None) => Ok(ChangePassword { current, password }),
            (current, password, confirmed) => {
                Err(collect_errors([current.err(), password.err(), confirmed]))
            }
        }
    }
}

/// `GET /api/sessions`: the account's signed-in sessions, this one first, then by last use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionList {
    pub sessions: Vec<SessionEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionEntry {
    /// Names the session in `DELETE /api/sessions/{id}`.
    pub id: String,
    /// The browser's user agent, as it sent it; [`crate::device::describe`] words it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The address it signed in from.
    pub ip: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339; moves at most every five minutes.
    pub last_used_at: String,
    /// The session asking.
    pub current: bool,
    /// Set for a RAM user's session: its user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram_user: Option<String>,
}

/// `POST /api/sessions/sign-out-others`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignedOut {
    pub signed_out: u32,
}

/// A second step's code as typed: the authenticator's 6 digits, or a recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    /// Six digits.
    Totp(String),
    /// Ten base32 letters and digits, lower case, the dash and spaces dropped.
    Recovery(String),
}

impl SecondFactor {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(SecondFactor::Totp(compact));
        }
        if compact.len() == 10
            && compact
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        {
            return Ok(SecondFactor::Recovery(compact));
        }
        Err(Invalid::new(
            ErrorCode::InvalidCode,
            "Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
        ))
    }
}

/// `POST /api/session/two-step`, `POST /api/account/two-step/enable` (a code only) and
/// `POST /api/closure/identity/authenticator`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoStepCodeForm {
    /// Six digits from the authenticator app, or a recovery code (`abcde-fghij`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub code: String,
}

impl TwoStepCodeForm {
    pub fn parse(&self) -> Result<SecondFactor, FieldError> {
        SecondFactor::parse(&self.code).map_err(|e| e.at("code"))
    }
}

/// `POST /api/account/two-step/disable`: the password and a current code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoStepDisableForm {
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub password: String,
    /// Six digits from the authenticator app, or a recovery code.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub code: String,
}

impl TwoStepDisableForm {
    pub fn parse(&self) -> Result<(String, SecondFactor), Vec<FieldError>> {
        let password = super::entered_password(&self.password);
        let code = SecondFactor::parse(&self.code).map_err(|e| e.at("code"));
        match (password, code) {
            (Ok(password), Ok(code)) => Ok((password, code)),
            (password, code) => Err(collect_errors([password.err(), code.err()])),
        }
    }
}

/// `GET /api/account/two-step`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoStepStatus {
    pub enabled: bool,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_at: Option<String>,
    pub recovery_codes_left: u32,
}

/// `POST /api/account/two-step/setup`: what the authenticator app needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoStepSetup {
    /// The secret in base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub otpauth_uri: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

/// `POST /api/account/two-step/enable`: the recovery codes, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoStepEnabled {
    pub recovery_codes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reset(code: &str, password: &str, confirmation: &str) -> ResetPasswordForm {
        ResetPasswordForm {
            code: code.to_owned(),
            password: password.to_owned(),
            password_confirmation: confirmation.to_owned(),
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<&'static str> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_second_factor_is_six_digits_or_a_recovery_code() {
        assert_eq!(
            SecondFactor::parse(" 123 456 ").unwrap(),
            SecondFactor::Totp("123456".to_owned())
        );
        assert_eq!(
            SecondFactor::parse("ABCDE-fgh27").unwrap(),
            SecondFactor::Recovery("abcdefgh27".to_owned())
        );
        for wrong in ["", "12345", "1234567", "abcde-fgh18", "abcdefghijk"] {
            assert!(SecondFactor::parse(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn a_reset_names_every_wrong_field_at_once() {
        assert!(
            reset("123456", "Turbine9Blue", "Turbine9Blue")
                .parse(None)
                .is_ok()
        );
        let errors = reset("12345", "short", "other").parse(None).unwrap_err();
        assert_eq!(
            fields(errors),
            ["code", "password", "password_confirmation"]
        );
    }

    #[test]
    fn a_new_password_may_not_hold_the_accounts_email_name() {
        let email = Email::parse("marigold@example.com").unwrap();
        let form = reset("123456", "Marigold2026x", "Marigold2026x");
        assert!(form.parse(None).is_ok());
        assert_eq!(fields(form.parse(Some(&email)).unwrap_err()), ["password"]);
    }

    #[test]
    fn a_change_needs_the_current_password_and_a_new_one_by_the_rules() {
        let email = Email::parse("someone@example.com").unwrap();
        let form = ChangePasswordForm {
            current_password: String::new(),
            password: "password1".to_owned(),
            password_confirmation: "password1".to_owned(),
        };
        assert_eq!(
            fields(form.parse(&email).unwrap_err()),
            ["current_password", "password"]
        );
        let form = ChangePasswordForm {
            current_password: "old".to_owned(),
            password: "Turbine9Blue".to_owned(),
            password_confirmation: "Turbine9Blue".to_owned(),
        };
        assert_eq!(form.parse(&email).unwrap().current, "old");
    }

    #[test]
    fn a_reset_goes_to_an_email_or_a_phone_of_the_country_given() {
        let by_email = PasswordResetForm {
            email: Some("A@Example.com".to_owned()),
            ..Default::default()
        };
        assert_eq!(by_email.parse().unwrap().channel(), Channel::Email);
        let by_phone = PasswordResetForm {
            channel: Some(Channel::Phone),
            country: Some("US".to_owned()),
            phone: Some("2025550123".to_owned()),
            ..Default::default()
        };
        let address = by_phone.parse().unwrap();
        assert_eq!(address.as_str(), "+12025550123");
        assert_eq!(address.delivery(), Some(Delivery::Sms));
        let no_country = PasswordResetForm {
            country: None,
            ..by_phone
        };
        assert_eq!(fields(no_country.parse().unwrap_err()), ["country"]);
    }
}
