//! The one error shape of the API and its stable machine codes.

use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;
use strum::{IntoStaticStr, VariantArray};

/// A stable machine code. Clients branch on these, so a code is never renamed; new ones are
/// added at the end. Unknown codes from a newer server deserialise as [`ErrorCode::Unknown`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, VariantArray)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    // request shape
    BadRequest,
    // fields
    InvalidEmail,
    InvalidPassword,
    PasswordMismatch,
    AgreementRequired,
    InvalidCountry,
    InvalidPhone,
    InvalidCode,
    InvalidChannel,
    // sign-up and verification
    EmailTaken,
    SignupNotFound,
    SignupExpired,
    NoCodeSent,
    CodeIncorrect,
    CodeExpired,
    CodeUsed,
    CodeAttemptsExceeded,
    ResendTooSoon,
    TooManyCodes,
    // sessions and security
    InvalidCredentials,
    SignInThrottled,
    Unauthenticated,
    CsrfFailed,
    RateLimited,
    ServerBusy,
    // generic
    NotFound,
    Internal,
    // billing address and real-name registration
    FieldRequired,
    FieldTooLong,
    InvalidText,
    InvalidPostalCode,
    ContactNotVerified,
    InvalidIdNumber,
    RealNameAlreadyVerified,
    // payment methods
    BillingAddressRequired,
    InvalidCardNumber,
    UnsupportedCardBrand,
    CardTypeNotAccepted,
    InvalidExpiry,
    CardExpired,
    InvalidCvv,
    CardAlreadyBound,
    PaymentDeclined,
    InsufficientFunds,
    GatewayError,
    GatewayTimeout,
    PaymentMethodNotAvailable,
    PaypalRegionNotSupported,
    PaypalCancelled,
    ReauthRequired,
    LastPaymentMethod,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    IdempotencyInProgress,
    // resources and unsubscription
    InvalidProduct,
    RealNameRequired,
    PaymentMethodRequired,
    InsufficientBalance,
    ConfirmationRequired,
    BatchTooLarge,
    BatchMixedRefundTypes,
    AlreadyReleased,
    NotUnsubscribable,
    PermissionDenied,
    OwnerOnly,
    UsernameTaken,
    InvalidUsername,
    // closure
    AccountClosing,
    ClosureBlocked,
    IdentityNotVerified,
    SystemCheckRequired,
    CouponNotUsable,
    // withdrawals
    AmountInvalid,
    PayoutDestinationInvalid,
    // account security
    ResetNotFound,
    ResetExpired,
    TwoStepRequired,
    TwoStepExpired,
    TwoStepAlreadyOn,
    TwoStepNotSetUp,
    // webhooks
    SignatureInvalid,
    WebhookEventEarly,
    Unknown,
}

impl ErrorCode {
    /// The wire form, e.g. `"email_taken"`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Read by name from [`ErrorCode::VARIANTS`], an unknown name as [`ErrorCode::Unknown`]: a
/// search of the names `as_str` already holds, where serde's derive would compile a second
/// matcher of every name into the browser app.
impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(ErrorCode::VARIANTS
            .iter()
            .copied()
            .find(|code| code.as_str() == name)
            .unwrap_or(ErrorCode::Unknown))
    }
}

/// The wire name too: a derived `Debug` would put a second copy of every name, spelled as the
/// variant, into the browser app (its error type is `Debug`, as errors are).
impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error the API returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// A sentence for people, saying what to do about it.
    pub message: String,
    /// The request field the error is about, named as in the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For throttling errors: how long to wait, as also sent in `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

/// Why one value was refused by its parser, before it is tied to a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: ErrorCode,
    pub message: String,
}

impl Invalid {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn at(self, field: &'static str) -> FieldError {
        FieldError {
            field,
            code: self.code,
            message: self.message,
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A refused value tied to the form field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: ErrorCode,
    pub message: String,
}

impl From<FieldError> for ErrorBody {
    fn from(e: FieldError) -> Self {
        ErrorBody {
            code: e.code,
            message: e.message,
            field: Some(e.field.to_owned()),
            retry_after_seconds: None,
        }
    }
}

/// Gathers the errors of a form's fields, so the page can show all of them at once.
/// The server answers with the first.
pub fn collect_errors<const N: usize>(checks: [Option<FieldError>; N]) -> Vec<FieldError> {
    checks.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_stable_names() {
        use strum::VariantArray;
        assert_eq!(ErrorCode::EmailTaken.as_str(), "email_taken");
        for &code in ErrorCode::VARIANTS {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
            let read: ErrorCode = serde_json::from_value(serde_json::json!(code.as_str())).unwrap();
            assert_eq!(read, code);
            assert_eq!(format!("{code:?}"), code.as_str());
        }
    }

    #[test]
    fn a_code_is_a_name_never_another_shape() {
        assert!(serde_json::from_str::<ErrorCode>("7").is_err());
        assert!(serde_json::from_str::<ErrorCode>("null").is_err());
    }

    #[test]
    fn an_unknown_code_from_a_newer_server_still_parses() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"code":"brand_new_code","message":"m"}"#).unwrap();
        assert_eq!(body.code, ErrorCode::Unknown);
    }
}
