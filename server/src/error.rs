//! The API's one error type: each case maps to an HTTP status, a stable code and a message
//! in `IntoResponse`. Internal failures are logged here and answered without detail.

use crate::db;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::{ErrorBody, ErrorCode, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid field {}: {}", .0.field, .0.message)]
    Invalid(FieldError),
    #[error("malformed request: {message}")]
    BadRequest { status: StatusCode, message: String },
    #[error("email already has an account")]
    EmailTaken,
    #[error("no such sign-up")]
    SignupNotFound,
    #[error("sign-up expired")]
    SignupExpired,
    #[error("no such password reset")]
    ResetNotFound,
    #[error("password reset expired or used")]
    ResetExpired,
    /// The password was right; the account asks for its authenticator's code next.
    #[error("two-step verification required")]
    TwoStepRequired,
    #[error("two-step sign-in expired")]
    TwoStepExpired,
    #[error("two-step verification already on")]
    TwoStepAlreadyOn,
    #[error("two-step verification not set up")]
    TwoStepNotSetUp,
    /// An authenticator or recovery code matched nothing (or was used before).
    #[error("wrong authenticator code")]
    TotpIncorrect,
    #[error("no code was sent")]
    NoCodeSent,
    #[error("wrong code, {attempts_left} tries left")]
    CodeIncorrect { attempts_left: u32 },
    #[error("code expired")]
    CodeExpired,
    #[error("code already used")]
    CodeUsed,
    #[error("too many wrong codes")]
    CodeAttemptsExceeded,
    #[error("resend too soon")]
    ResendTooSoon { retry_after: u64 },
    #[error("too many codes to one address")]
    TooManyCodes { retry_after: u64 },
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A signed-in user's password, asked again, was wrong (same code as a failed sign-in).
    #[error("wrong password")]
    WrongPassword,
    /// The current password, given to change it, was wrong.
    #[error("wrong current password")]
    WrongCurrentPassword,
    #[error("sign-in throttled")]
    SignInThrottled { retry_after: u64 },
    #[error("not signed in")]
    Unauthenticated,
    #[error("csrf check failed")]
    CsrfFailed,
    /// A webhook's signature (Twilio's `X-Twilio-Signature`, Stripe's `Stripe-Signature`) is
    /// missing, wrong, or (Stripe's) made too long ago.
    #[error("webhook signature invalid")]
    SignatureInvalid,
    #[error("server busy")]
    ServerBusy { retry_after: u64 },
    #[error("not found")]
    NotFound,
    #[error("the other contact channel is not verified")]
    ContactNotVerified { needed: shared::account::Channel },
    #[error("real name already verified")]
    RealNameAlreadyVerified,
    #[error("no billing address")]
    BillingAddressRequired,
    #[error("{brand} cards are not accepted for {country}")]
    BrandNotAccepted {
        brand: &'static str,
        country: &'static str,
    },
    #[error("{0} cards are not accepted")]
    CardTypeNotAccepted(&'static str),
    #[error("card already bound")]
    CardAlreadyBound,
    #[error("payment method already bound")]
    MethodAlreadyBound { kind: &'static str },
    #[error("payment declined")]
    PaymentDeclined,
    #[error("insufficient funds")]
    InsufficientFunds,
    #[error("gateway error")]
    GatewayError,
    #[error("gateway timeout")]
    GatewayTimeout,
    #[error("payment method not available: {0}")]
    PaymentMethodNotAvailable(String),
    #[error("mainland China PayPal")]
    PaypalRegionNotSupported,
    #[error("PayPal not approved")]
    PaypalNotApproved,
    #[error("recent sign-in needed")]
    ReauthRequired,
    #[error("last payment method")]
    LastPaymentMethod,
    #[error("only the account owner may do this")]
    OwnerOnly,
    #[error("RAM user lacks {0}")]
    PermissionDenied(&'static str),
    #[error("real-name registration needed")]
    RealNameRequired,
    #[error("no payment method")]
    PaymentMethodRequired,
    #[error("insufficient {0}")]
    InsufficientBalance(&'static str),
    #[error("batch mixes refund types")]
    BatchMixedRefundTypes,
    #[error("already released")]
    AlreadyReleased,
    #[error("not unsubscribable: {0}")]
    NotUnsubscribable(String),
    /// One item of a batch was refused: its own error, said of it; nothing of the batch was
    /// written.
    #[error("{instance_id}: {error}")]
    InBatch {
        instance_id: String,
        error: Box<ApiError>,
    },
    #[error("username taken")]
    UsernameTaken,
    #[error("account is closing")]
    AccountClosing,
    #[error("closure blocked")]
    ClosureBlocked(String),
    #[error("identity not verified")]
    IdentityNotVerified(String),
    #[error("system check needed")]
    SystemCheckRequired,
    #[error("coupon not usable")]
    CouponNotUsable,
    #[error("missing Idempotency-Key")]
    IdempotencyKeyMissing,
    #[error("Idempotency-Key reused with another request")]
    IdempotencyKeyReused,
    #[error("Idempotency-Key in progress")]
    IdempotencyInProgress,
    /// A webhook event about something this server is still writing (a refund whose
    /// settlement has not committed): answered non-2xx, so the gateway delivers it again.
    #[error("webhook event arrived before its subject was settled")]
    WebhookEventEarly,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        // PostgreSQL aborted the transaction to break a deadlock (or could not serialise it):
        // nothing was written and the same request can succeed a moment later, so the caller
        // is told to retry, as when the server is busy, rather than that something broke. (A
        // job's error is retried by the queue.)
        if db::is_retryable(&e) {
            tracing::warn!(error = %e, "transaction aborted by the database; the caller retries");
            return ApiError::ServerBusy { retry_after: 1 };
        }
        ApiError::Internal(e.into())
    }
}

impl From<crate::notify::QueueError> for ApiError {
    fn from(e: crate::notify::QueueError) -> Self {
        match e {
            crate::notify::QueueError::Database(e) => e.into(),
            template => ApiError::Internal(template.into()),
        }
    }
}

/// Money that cannot be stored or combined is a fault of the code that computed it.
impl From<shared::money::NotStorable> for ApiError {
    fn from(e: shared::money::NotStorable) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<shared::money::CurrencyMismatch> for ApiError {
    fn from(e: shared::money::CurrencyMismatch) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Invalid(e)
    }
}

/// A form's parser reports every bad field; the API answers with the first.
impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        match errors.into_iter().next() {
            Some(first) => ApiError::Invalid(first),
            None => ApiError::Internal(anyhow::anyhow!("a form parser failed without an error")),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::BadRequest {
            status: rejection.status(),
            message: rejection.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest {
            status: rejection.status(),
            message: rejection.body_text(),
        }
    }
}

impl ApiError {
    fn parts(&self) -> (StatusCode, ErrorCode, String, Option<u64>) {
        use ApiError::*;
        use ErrorCode as C;
        let (status, code, message, retry) = match self {
            Invalid(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.code, e.message.clone(), None),
            BadRequest { status, message } => (*status, C::BadRequest, message.clone(), None),
            EmailTaken => (
                StatusCode::CONFLICT,
                C::EmailTaken,
                "An account with this email already exists. Sign in instead, or use another email.".into(),
                None,
            ),
            SignupNotFound => (
                StatusCode::NOT_FOUND,
                C::SignupNotFound,
                "This sign-up was not found. Start the sign-up again.".into(),
                None,
            ),
            SignupExpired => (
                StatusCode::GONE,
                C::SignupExpired,
                "This sign-up has expired. Start the sign-up again.".into(),
                None,
            ),
            ResetNotFound => (
                StatusCode::NOT_FOUND,
                C::ResetNotFound,
                "This password reset was not found. Start again from \"Forgot password?\".".into(),
                None,
            ),
            ResetExpired => (
                StatusCode::GONE,
                C::ResetExpired,
                "This password reset has expired or was used. Start again from \"Forgot password?\".".into(),
                None,
            ),
            TwoStepRequired => (
                StatusCode::UNAUTHORIZED,
                C::TwoStepRequired,
                "Enter the code from your authenticator app to finish signing in.".into(),
                None,
            ),
            TwoStepExpired => (
                StatusCode::UNAUTHORIZED,
                C::TwoStepExpired,
                "This sign-in has expired. Sign in again with your password.".into(),
                None,
            ),
            TwoStepAlreadyOn => (
                StatusCode::CONFLICT,
                C::TwoStepAlreadyOn,
                "Two-step verification is already on. Turn it off first to use another authenticator.".into(),
                None,
            ),
            TwoStepNotSetUp => (
                StatusCode::CONFLICT,
                C::TwoStepNotSetUp,
                "Two-step verification is not set up for this account.".into(),
                None,
            ),
            TotpIncorrect => (
                StatusCode::UNPROCESSABLE_ENTITY,
                C::CodeIncorrect,
                "That code is not right, or was used already. Enter the newest code from your authenticator app, or a recovery code you have not used.".into(),
                None,
            ),
            NoCodeSent => (
                StatusCode::BAD_REQUEST,
                C::NoCodeSent,
                "Send a code first, then enter it here.".into(),
                None,
            ),
            CodeIncorrect { attempts_left } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                C::CodeIncorrect,
                format!(
                    "That code is not right. {attempts_left} {} left.",
                    if *attempts_left == 1 { "try" } else { "tries" }
                ),
                None,
            ),
            CodeExpired => (
                StatusCode::GONE,
                C::CodeExpired,
                "This code has expired. Send a new one.".into(),
                None,
            ),
            CodeUsed => (
                StatusCode::CONFLICT,
                C::CodeUsed,
                "This code has already been used.".into(),
                None,
            ),
            CodeAttemptsExceeded => (
                StatusCode::TOO_MANY_REQUESTS,
                C::CodeAttemptsExceeded,
                "Too many wrong codes. Send a new code.".into(),
                None,
            ),
            ResendTooSoon { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                C::ResendTooSoon,
                format!(
                    "You can ask for a new code in {}.",
                    shared::duration::wait_words(*retry_after)
                ),
                Some(*retry_after),
            ),
            TooManyCodes { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                C::TooManyCodes,
                format!(
                    "Too many codes were sent to this address. Try again in {}.",
                    shared::duration::wait_words(*retry_after)
                ),
                Some(*retry_after),
            ),
            RateLimited { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                C::RateLimited,
                format!(
                    "Too many requests. Try again in {}.",
                    shared::duration::wait_words(*retry_after)
                ),
                Some(*retry_after),
            ),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                C::InvalidCredentials,
                "The email or password is not right.".into(),
                None,
            ),
            SignInThrottled { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                C::SignInThrottled,
                format!(
                    "Too many failed sign-ins. Try again in {}.",
                    shared::duration::wait_words(*retry_after)
                ),
                Some(*retry_after),
            ),
            WrongPassword => (
                StatusCode::UNAUTHORIZED,
                C::InvalidCredentials,
                "That password is not right.".into(),
                None,
            ),
            WrongCurrentPassword => (
                StatusCode::UNAUTHORIZED,
                C::InvalidCredentials,
                "Your current password is not right.".into(),
                None,
            ),
            Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                C::Unauthenticated,
                "Sign in to continue.".into(),
                None,
            ),
            CsrfFailed => (
                StatusCode::FORBIDDEN,
                C::CsrfFailed,
                "This request did not come from the Account Center page. Reload the page and try again.".into(),
                None,
            ),
            SignatureInvalid => (
                StatusCode::FORBIDDEN,
                C::SignatureInvalid,
                "The request's signature is missing, does not match, or was made too long ago.".into(),
                None,
            ),
            ServerBusy { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                C::ServerBusy,
                "The server is busy. Try again in a moment.".into(),
                Some(*retry_after),
            ),
            NotFound => (StatusCode::NOT_FOUND, C::NotFound, "Not found.".into(), None),
            ContactNotVerified { needed } => (
                StatusCode::CONFLICT,
                C::ContactNotVerified,
                match needed {
                    shared::account::Channel::Phone => "Verify your mobile number first.".into(),
                    shared::account::Channel::Email => "Verify your account email first.".into(),
                },
                None,
            ),
            RealNameAlreadyVerified => (
                StatusCode::CONFLICT,
                C::RealNameAlreadyVerified,
                "Real-name registration is already complete and cannot be changed here.".into(),
                None,
            ),
            BillingAddressRequired => (
                StatusCode::CONFLICT,
                C::BillingAddressRequired,
                "Add your billing address first.".into(),
                None,
            ),
            BrandNotAccepted { brand, country } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                C::UnsupportedCardBrand,
                format!("{brand} cards are not accepted for accounts in {country}. Use another card."),
                None,
            ),
            CardTypeNotAccepted(kind) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                C::CardTypeNotAccepted,
                format!("This is a {kind} card. Prepaid, virtual and gift cards are not accepted: use a credit or debit card."),
                None,
            ),
            CardAlreadyBound => (
                StatusCode::CONFLICT,
                C::CardAlreadyBound,
                "This card is already added to an account. A card can belong to one account at a time.".into(),
                None,
            ),
            MethodAlreadyBound { kind } => (
                StatusCode::CONFLICT,
                C::CardAlreadyBound,
                format!("This {kind} account is already added to an account. It can belong to one account at a time."),
                None,
            ),
            PaymentDeclined => (
                StatusCode::PAYMENT_REQUIRED,
                C::PaymentDeclined,
                "Your bank declined the verification. Check the card details or use another card.".into(),
                None,
            ),
            InsufficientFunds => (
                StatusCode::PAYMENT_REQUIRED,
                C::InsufficientFunds,
                "The card has too little available to verify it (1.00 is held and released at once). Use another card.".into(),
                None,
            ),
            GatewayError => (
                StatusCode::BAD_GATEWAY,
                C::GatewayError,
                "The card network could not be reached. Nothing was added; try again in a few minutes.".into(),
                None,
            ),
            GatewayTimeout => (
                StatusCode::GATEWAY_TIMEOUT,
                C::GatewayTimeout,
                "The card network did not answer in time. Nothing was added; try again.".into(),
                None,
            ),
            PaymentMethodNotAvailable(why) => {
                (StatusCode::UNPROCESSABLE_ENTITY, C::PaymentMethodNotAvailable, why.clone(), None)
            }
            PaypalRegionNotSupported => (
                StatusCode::UNPROCESSABLE_ENTITY,
                C::PaypalRegionNotSupported,
                "Mainland China PayPal accounts are not supported. Use another PayPal account or a card.".into(),
                None,
            ),
            PaypalNotApproved => (
                StatusCode::CONFLICT,
                C::PaypalCancelled,
                "PayPal was not approved, so nothing was added. Start again to add PayPal.".into(),
                None,
            ),
            ReauthRequired => (
                StatusCode::FORBIDDEN,
                C::ReauthRequired,
                "For your security, enter your password again to continue.".into(),
                None,
            ),
            LastPaymentMethod => (
                StatusCode::CONFLICT,
                C::LastPaymentMethod,
                "This is your last payment method and pay-as-you-go resources are running. Add another method first.".into(),
                None,
            ),
            OwnerOnly => (
                StatusCode::FORBIDDEN,
                C::OwnerOnly,
                "Only the account owner can do this. RAM users cannot.".into(),
                None,
            ),
            PermissionDenied(permission) => (
                StatusCode::FORBIDDEN,
                C::PermissionDenied,
                format!("Your RAM user needs the {permission} permission for this. Ask the account owner to grant it."),
                None,
            ),
            RealNameRequired => (
                StatusCode::CONFLICT,
                C::RealNameRequired,
                "Buying in mainland-China regions needs real-name registration first.".into(),
                None,
            ),
            PaymentMethodRequired => (
                StatusCode::CONFLICT,
                C::PaymentMethodRequired,
                "Add a payment method first.".into(),
                None,
            ),
            InsufficientBalance(what) => (
                StatusCode::PAYMENT_REQUIRED,
                C::InsufficientBalance,
                format!("Your {what} does not cover this. Choose another way to pay."),
                None,
            ),
            BatchMixedRefundTypes => (
                StatusCode::UNPROCESSABLE_ENTITY,
                C::BatchMixedRefundTypes,
                "Only Partial Refund resources can be unsubscribed in a batch. Unsubscribe the others one at a time.".into(),
                None,
            ),
            AlreadyReleased => (
                StatusCode::CONFLICT,
                C::AlreadyReleased,
                "This resource is already unsubscribed and released.".into(),
                None,
            ),
            NotUnsubscribable(why) => (StatusCode::CONFLICT, C::NotUnsubscribable, why.clone(), None),
            InBatch { instance_id, error } => {
                let (status, code, message, retry) = error.parts();
                (status, code, format!("{instance_id}: {message}"), retry)
            }
            UsernameTaken => (
                StatusCode::CONFLICT,
                C::UsernameTaken,
                "This account already has a RAM user of that name.".into(),
                None,
            ),
            AccountClosing => (
                StatusCode::FORBIDDEN,
                C::AccountClosing,
                "This account is being closed. During the cool-down only the remaining time can be seen; nothing else can be done, and the closure cannot be revoked.".into(),
                None,
            ),
            ClosureBlocked(why) => (StatusCode::CONFLICT, C::ClosureBlocked, why.clone(), None),
            IdentityNotVerified(why) => (StatusCode::FORBIDDEN, C::IdentityNotVerified, why.clone(), None),
            SystemCheckRequired => (
                StatusCode::CONFLICT,
                C::SystemCheckRequired,
                "Run the system check again: it must be finished and less than 30 minutes old.".into(),
                None,
            ),
            CouponNotUsable => (
                StatusCode::UNPROCESSABLE_ENTITY,
                C::CouponNotUsable,
                "This coupon cannot be used: it is spent, expired, in another currency, or not yours.".into(),
                None,
            ),
            IdempotencyKeyMissing => (
                StatusCode::BAD_REQUEST,
                C::IdempotencyKeyMissing,
                "Send an Idempotency-Key header with this request.".into(),
                None,
            ),
            IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                C::IdempotencyKeyReused,
                "This Idempotency-Key was already used for a different request.".into(),
                None,
            ),
            IdempotencyInProgress => (
                StatusCode::CONFLICT,
                C::IdempotencyInProgress,
                "The same request is still being processed. Wait a moment and look again.".into(),
                Some(1),
            ),
            WebhookEventEarly => (
                StatusCode::CONFLICT,
                C::WebhookEventEarly,
                "This event is about a refund still being settled here. Deliver it again later.".into(),
                None,
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                C::Internal,
                "Something went wrong on our side. Nothing was changed; try again.".into(),
                None,
            ),
        };
        (status, code, message, retry)
    }
}

impl ApiError {
    /// This error as one of a batch's items, `instance_id`, refused; no answer at all (a
    /// failure of the server, logged and said without detail) stays what it is.
    pub fn in_batch(self, instance_id: &str) -> ApiError {
        match self {
            error if error.is_no_answer() || matches!(error, ApiError::InBatch { .. }) => error,
            error => ApiError::InBatch {
                instance_id: instance_id.to_owned(),
                error: Box::new(error),
            },
        }
    }

    /// Whether this is no answer at all: the gateway could not be reached, or the server could
    /// not ask it. A job that meets one tries again later; any other error is the answer
    /// (a decline, a refusal) and the job acts on it.
    pub fn is_no_answer(&self) -> bool {
        matches!(
            self,
            ApiError::Internal(_)
                | ApiError::ServerBusy { .. }
                | ApiError::GatewayError
                | ApiError::GatewayTimeout
        )
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// The JSON body this error is answered with.
    pub fn body(&self) -> ErrorBody {
        let (_, code, message, retry_after_seconds) = self.parts();
        let field = match self {
            ApiError::Invalid(e) => Some(e.field.to_owned()),
            ApiError::CodeIncorrect { .. } | ApiError::TotpIncorrect => Some("code".to_owned()),
            ApiError::EmailTaken => Some("email".to_owned()),
            ApiError::BrandNotAccepted { .. }
            | ApiError::CardTypeNotAccepted(_)
            | ApiError::CardAlreadyBound => Some("number".to_owned()),
            ApiError::ContactNotVerified { .. } => Some("contact".to_owned()),
            ApiError::WrongPassword => Some("password".to_owned()),
            ApiError::WrongCurrentPassword => Some("current_password".to_owned()),
            ApiError::BatchMixedRefundTypes => Some("instance_ids".to_owned()),
            ApiError::UsernameTaken => Some("username".to_owned()),
            ApiError::CouponNotUsable => Some("coupon_id".to_owned()),
            ApiError::InBatch { error, .. } => error.body().field,
            _ => None,
        };
        ErrorBody {
            code,
            message,
            field,
            retry_after_seconds,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let body = self.body();
        let retry_after = body.retry_after_seconds;
        let code = body.code;
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // The code rides along for the metrics, which count refusals by it (`metrics.rs`).
        response.extensions_mut().insert(code);
        response
    }
}

/// The JSON extractor of every handler: a malformed body answers as an `ApiError`, in our
/// error shape, instead of axum's plain-text rejection.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// The query-string extractor of every handler, answering a malformed query in our error shape
/// too (axum's own answers in plain text).
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The answer to a request whose handler panicked (with `tower_http::catch_panic`): logged, and
/// answered as any internal error, instead of a connection closed without a word: a bug that
/// panics (an overflow on a far page, say) still gets an answer in the error shape.
pub fn panic_answer(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    ApiError::Internal(anyhow::anyhow!("handler panicked: {what}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_answered_as_an_internal_error_in_the_error_shape() {
        let response = panic_answer(Box::new("index out of bounds"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let body: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(body.code, ErrorCode::Internal);
        assert!(!body.message.contains("index"), "internals are not sent");
    }
}
