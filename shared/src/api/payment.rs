//! Bodies of the payment-method and ledger endpoints.

use crate::account::{Phone, VerificationCode};
use crate::country::Country;
use crate::error::{FieldError, collect_errors};
use crate::money::Money;
use crate::payment::CardBrand;
use serde::{Deserialize, Serialize};

use strum::{IntoStaticStr, VariantArray};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PaymentMethodKind {
    Card,
    Paypal,
    Paytm,
}

impl PaymentMethodKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            PaymentMethodKind::Card,
            PaymentMethodKind::Paypal,
            PaymentMethodKind::Paytm,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentMethodView {
    pub id: String,
    pub kind: PaymentMethodKind,
    /// "VISA •••• 1111", a masked PayPal email, a masked Paytm number.
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<CardBrand>,
    /// "MM/YY" for cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_name: Option<String>,
    pub is_default: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// `GET /api/payment-methods`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentMethodsView {
    pub methods: Vec<PaymentMethodView>,
    /// The kinds this account may add (Paytm alone for India accounts registered after
    /// 2019-07-29; cards and PayPal for everyone else).
    pub available: Vec<PaymentMethodKind>,
    pub accepted_brands: Vec<CardBrand>,
    pub billing_address_added: bool,
    /// The amount held and released at once to verify a card.
    pub verification_hold: Money,
    /// The credit the first verified method brings, and whether this account has had it.
    pub free_credit: Money,
    pub free_credit_granted: bool,
    /// How this server takes a card.
    pub card_entry: CardEntry,
}

/// How the console takes a card on this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CardEntry {
    /// The console's own form: number, expiry and CVV go to `POST /api/payment-methods/cards`.
    Form,
    /// Stripe.js's card field tokenizes the card in the browser; its PaymentMethod id goes to
    /// `POST /api/payment-methods/card-tokens`, and the number never reaches this server.
    Stripe {
        /// The key Stripe.js is started with (`pk_…`).
        publishable_key: String,
        /// Where Stripe.js is loaded from (the one script origin the policy adds).
        script_url: String,
    },
}

/// The answer to adding a method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MethodAdded {
    pub method: PaymentMethodView,
    /// Set when this method earned the one-time free credit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_credit_granted: Option<Money>,
}

/// `POST /api/payment-methods/paypal`: where to send the browser to approve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaypalStarted {
    pub token: String,
    pub approval_url: String,
}

/// `POST /api/payment-methods/paypal/complete`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaypalCompleteForm {
    pub token: String,
}

/// `POST /api/payment-methods/paytm/code`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct PaytmCodeForm {
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub phone: String,
}

impl PaytmCodeForm {
    pub fn parse(&self, country: Country) -> Result<Phone, FieldError> {
        Phone::parse(country, &self.phone).map_err(|e| e.at("phone"))
    }
}

/// `POST /api/payment-methods/paytm`: "Add now".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct PaytmForm {
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub phone: String,
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = crate::account::VerificationCode, required = true)
    )]
    pub code: String,
}

impl PaytmForm {
    pub fn parse(&self, country: Country) -> Result<(Phone, VerificationCode), Vec<FieldError>> {
        let phone = Phone::parse(country, &self.phone);
        let code = VerificationCode::parse(&self.code);
        match (phone, code) {
            (Ok(phone), Ok(code)) => Ok((phone, code)),
            (phone, code) => Err(collect_errors([
                phone.err().map(|e| e.at("phone")),
                code.err().map(|e| e.at("code")),
            ])),
        }
    }
}

/// What moved money in or out of a ledger bucket.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum LedgerKind {
    /// A purchase or renewal paid from the balance or credit.
    Payment,
    /// A charge taken at the gateway.
    Charge,
    /// A gateway charge given back (its purpose was refused).
    ChargeReversed,
    /// A card verification's hold placed, and released.
    PreauthHold,
    PreauthRelease,
    FreeCredit,
    /// An unsubscription's refund to the balance.
    Refund,
    /// Cash taken from the balance for a withdrawal, and its payout at the gateway.
    Withdrawal,
    Payout,
    /// A balance given up with the account's closure.
    Renounced,
    /// Dev mode's demo top-up.
    TopUp,
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where a ledger entry's money sits.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Bucket {
    Cash,
    Credit,
    /// Pre-authorization holds on a card: placed and released, netting to zero.
    Hold,
    /// Payments taken from a card, PayPal or Paytm (negative) and charges returned (positive).
    Gateway,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// `POST /api/session/reauth`: the password again, for a sensitive step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReauthForm {
    pub password: String,
}

impl ReauthForm {
    /// The password, which must be there; whether it is right only the server can tell.
    pub fn parse(&self) -> Result<String, FieldError> {
        super::entered_password(&self.password)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LedgerEntryView {
    pub id: String,
    pub kind: LedgerKind,
    pub bucket: Bucket,
    pub amount: Money,
    pub memo: String,
    /// RFC 3339.
    pub created_at: String,
}

/// `GET /api/ledger`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LedgerView {
    pub entries: Vec<LedgerEntryView>,
    pub credit_balance: Money,
}
