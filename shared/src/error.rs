//! The one error shape of the API and its stable machine codes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable machine code. Clients branch on these, so a code is never renamed; new ones are
/// added at the end. Unknown codes from a newer server deserialise as [`ErrorCode::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
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
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The wire form, e.g. `"email_taken"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidPassword => "invalid_password",
            Self::PasswordMismatch => "password_mismatch",
            Self::AgreementRequired => "agreement_required",
            Self::InvalidCountry => "invalid_country",
            Self::InvalidPhone => "invalid_phone",
            Self::InvalidCode => "invalid_code",
            Self::InvalidChannel => "invalid_channel",
            Self::EmailTaken => "email_taken",
            Self::SignupNotFound => "signup_not_found",
            Self::SignupExpired => "signup_expired",
            Self::NoCodeSent => "no_code_sent",
            Self::CodeIncorrect => "code_incorrect",
            Self::CodeExpired => "code_expired",
            Self::CodeUsed => "code_used",
            Self::CodeAttemptsExceeded => "code_attempts_exceeded",
            Self::ResendTooSoon => "resend_too_soon",
            Self::TooManyCodes => "too_many_codes",
            Self::InvalidCredentials => "invalid_credentials",
            Self::SignInThrottled => "sign_in_throttled",
            Self::Unauthenticated => "unauthenticated",
            Self::CsrfFailed => "csrf_failed",
            Self::RateLimited => "rate_limited",
            Self::ServerBusy => "server_busy",
            Self::NotFound => "not_found",
            Self::Internal => "internal",
            Self::FieldRequired => "field_required",
            Self::FieldTooLong => "field_too_long",
            Self::InvalidText => "invalid_text",
            Self::InvalidPostalCode => "invalid_postal_code",
            Self::ContactNotVerified => "contact_not_verified",
            Self::InvalidIdNumber => "invalid_id_number",
            Self::RealNameAlreadyVerified => "real_name_already_verified",
            Self::BillingAddressRequired => "billing_address_required",
            Self::InvalidCardNumber => "invalid_card_number",
            Self::UnsupportedCardBrand => "unsupported_card_brand",
            Self::CardTypeNotAccepted => "card_type_not_accepted",
            Self::InvalidExpiry => "invalid_expiry",
            Self::CardExpired => "card_expired",
            Self::InvalidCvv => "invalid_cvv",
            Self::CardAlreadyBound => "card_already_bound",
            Self::PaymentDeclined => "payment_declined",
            Self::InsufficientFunds => "insufficient_funds",
            Self::GatewayError => "gateway_error",
            Self::GatewayTimeout => "gateway_timeout",
            Self::PaymentMethodNotAvailable => "payment_method_not_available",
            Self::PaypalRegionNotSupported => "paypal_region_not_supported",
            Self::PaypalCancelled => "paypal_cancelled",
            Self::ReauthRequired => "reauth_required",
            Self::LastPaymentMethod => "last_payment_method",
            Self::IdempotencyKeyMissing => "idempotency_key_missing",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::IdempotencyInProgress => "idempotency_in_progress",
            Self::InvalidProduct => "invalid_product",
            Self::RealNameRequired => "real_name_required",
            Self::PaymentMethodRequired => "payment_method_required",
            Self::InsufficientBalance => "insufficient_balance",
            Self::ConfirmationRequired => "confirmation_required",
            Self::BatchTooLarge => "batch_too_large",
            Self::BatchMixedRefundTypes => "batch_mixed_refund_types",
            Self::AlreadyReleased => "already_released",
            Self::NotUnsubscribable => "not_unsubscribable",
            Self::PermissionDenied => "permission_denied",
            Self::OwnerOnly => "owner_only",
            Self::UsernameTaken => "username_taken",
            Self::InvalidUsername => "invalid_username",
            Self::AccountClosing => "account_closing",
            Self::ClosureBlocked => "closure_blocked",
            Self::IdentityNotVerified => "identity_not_verified",
            Self::SystemCheckRequired => "system_check_required",
            Self::CouponNotUsable => "coupon_not_usable",
            Self::AmountInvalid => "amount_invalid",
            Self::PayoutDestinationInvalid => "payout_destination_invalid",
            Self::ResetNotFound => "reset_not_found",
            Self::ResetExpired => "reset_expired",
            Self::TwoStepRequired => "two_step_required",
            Self::TwoStepExpired => "two_step_expired",
            Self::TwoStepAlreadyOn => "two_step_already_on",
            Self::TwoStepNotSetUp => "two_step_not_set_up",
            Self::SignatureInvalid => "signature_invalid",
            Self::WebhookEventEarly => "webhook_event_early",
            Self::Unknown => "unknown",
        }
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
        for code in [
            ErrorCode::EmailTaken,
            ErrorCode::CodeAttemptsExceeded,
            ErrorCode::CsrfFailed,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
    }

    #[test]
    fn an_unknown_code_from_a_newer_server_still_parses() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"code":"brand_new_code","message":"m"}"#).unwrap();
        assert_eq!(body.code, ErrorCode::Unknown);
    }
}
