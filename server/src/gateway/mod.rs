//! The payment gateway: the card network and PayPal, which we cannot reach from here. The
//! server talks to them only through [`PaymentGateway`]; dev and test mode plug in the
//! [`simulator`], production the [`stripe`] adapter (cards only).

pub mod simulator;
pub mod stripe;
pub mod stripe_webhook;

use shared::api::PaymentMethodKind;
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
    /// This gateway does not do this (Stripe has no PayPal, no payouts to a customer's card).
    #[error("the gateway does not support {0}")]
    Unsupported(&'static str),
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
                | GatewayError::Unsupported(_)
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

/// The card to verify: its number and CVV, typed into our own form (dev mode's simulator), or
/// the gateway's token for them, made in the browser by the gateway's own script, so that the
/// number never reaches this server (production with Stripe: a PaymentMethod id).
pub enum CardSource<'a> {
    Number(CardCheck<'a>),
    Token(&'a str),
}

/// How a gateway takes a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardEntry {
    /// Typed into the console's own form and sent to the server with its CVV.
    Form,
    /// Tokenized in the browser by the gateway's own script: the server sees a token only.
    Token,
}

/// A tokenized card as the gateway reports it: what the card rules apply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardDetails {
    /// The gateway's brand name, lower case (`visa`, `mastercard`, `amex`, `jcb`, …).
    pub brand: String,
    /// `credit`, `debit`, `prepaid` or `unknown`.
    pub funding: String,
    /// ISO 3166-1 alpha-2 of the issuer, when known.
    pub country: Option<String>,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
    /// The gateway's identity of the card number: the same card gives the same fingerprint.
    pub fingerprint: String,
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
    /// How this gateway takes a card.
    fn card_entry(&self) -> CardEntry;

    /// Whether this gateway takes this kind of method at all.
    fn takes(&self, kind: PaymentMethodKind) -> bool;

    /// Whether this gateway pays money out to a bound method ([`PaymentGateway::payout`]).
    fn pays_out(&self) -> bool;

    /// Places a pre-authorization hold of `amount` on the card.
    fn authorize<'a>(
        &'a self,
        card: CardSource<'a>,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Authorization>;

    /// What the gateway knows of a card it tokenized in the browser.
    fn card_details<'a>(&'a self, token: &'a str) -> GatewayFuture<'a, CardDetails>;

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
