//! The payment gateway: the card network and PayPal, which we cannot reach from here. The
//! server talks to them only through [`PaymentGateway`]; dev and test mode plug in the
//! [`simulator`], production needs a real implementation (none ships yet).

pub mod simulator;

use shared::money::Money;
use shared::payment::{CardNumber, Cvv, Expiry};
use std::future::Future;
use std::pin::Pin;

pub type GatewayFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GatewayError>> + Send + 'a>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("the issuer declined")]
    Declined,
    #[error("insufficient funds")]
    InsufficientFunds,
    #[error("gateway error: {0}")]
    Network(String),
    #[error("the gateway did not answer in time")]
    Timeout,
    #[error("PayPal approval not found or not approved")]
    NotApproved,
    /// The key was used before for a call with other parameters: a bug of ours, never retried.
    #[error("idempotency key reused with other parameters")]
    KeyReused,
}

impl GatewayError {
    /// True when the gateway said no: nothing happened, and asking again changes nothing. Any
    /// other error leaves the outcome unknown until the gateway is asked again under the key.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            GatewayError::Declined
                | GatewayError::InsufficientFunds
                | GatewayError::NotApproved
                | GatewayError::KeyReused
        )
    }
}

/// What the gateway needs to verify a card. The CVV lives only as long as this request.
pub struct CardCheck<'a> {
    pub number: &'a CardNumber,
    pub expiry: Expiry,
    pub cvv: &'a Cvv,
    pub holder: &'a str,
}

#[derive(Debug, Clone)]
pub struct Authorization {
    pub reference: String,
    /// What the gateway gives to charge this card later without its number.
    pub card_token: String,
}

/// A completed charge.
#[derive(Debug, Clone)]
pub struct Charge {
    pub reference: String,
}

/// A PayPal account that approved the billing agreement.
#[derive(Debug, Clone)]
pub struct PaypalPayer {
    pub payer_id: String,
    pub email: String,
    /// ISO 3166-1 alpha-2 of the PayPal account.
    pub country: String,
}

/// Every call that moves money or places a hold carries an idempotency key (SPEC §9): the
/// gateway answers a second call under the same key with the first call's outcome and does
/// nothing more, as Stripe's `Idempotency-Key` header does. A caller that lost an answer asks
/// again under the same key to learn what happened.
pub trait PaymentGateway: Send + Sync {
    /// Places a pre-authorization hold of `amount` on the card.
    fn authorize<'a>(
        &'a self,
        card: CardCheck<'a>,
        amount: Money,
    ) -> GatewayFuture<'a, Authorization>;

    /// Releases a hold placed by `authorize`.
    fn release<'a>(&'a self, reference: &'a str, idempotency_key: &'a str)
    -> GatewayFuture<'a, ()>;

    /// The PayPal account that approved `token`, if it did.
    fn paypal_payer<'a>(&'a self, token: &'a str) -> GatewayFuture<'a, PaypalPayer>;

    /// Where to send the browser to approve `token` at PayPal.
    fn paypal_approval_url(&self, token: &str) -> String;

    /// Charges a bound method, named by the token the gateway gave when it was added.
    fn charge<'a>(
        &'a self,
        method_token: &'a str,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Charge>;

    /// Returns `amount` of an earlier charge to where it came from.
    fn refund<'a>(
        &'a self,
        charge_reference: &'a str,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, ()>;

    /// Pays `amount` out to a bound method, named by its token: a withdrawal of the balance
    /// (SPEC §6.5). Answers the payout's reference.
    fn payout<'a>(
        &'a self,
        method_token: &'a str,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Charge>;
}
