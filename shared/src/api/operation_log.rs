//! The operation log (SPEC §1 "Account security"; what ActionTrail is to Alibaba Cloud): who
//! did what, when and from which address. An entry is facts — an action, an actor, a detail of
//! the action's own shape, money as [`Money`] — which the console words from its catalog.
//! Never an email, a phone number or a secret.

use super::{PaymentMethodKind, Permission};
use crate::account::Channel;
use crate::closure::BlockingKind;
use crate::error::FieldError;
use crate::money::Money;
use crate::payment::CardBrand;
use serde::{Deserialize, Serialize};

use strum::{IntoStaticStr, VariantArray};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The operation log's groups of actions.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OperationCategory {
    /// Sign-ins, passwords, two-step verification, sessions, RAM users.
    Security,
    /// Payment methods, the billing address, purchases, renewals, unsubscriptions, withdrawals.
    Money,
    /// The closure's steps.
    Closure,
}

impl OperationCategory {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What an entry records. The names are stable: the export keeps them, and the database
/// stores them by [`OperationAction::as_str`], serde's name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OperationAction {
    SignIn,
    /// The password of an account with two-step verification on: its code comes next.
    SignInPasswordAccepted,
    SignInFailed,
    PasswordReset,
    PasswordChanged,
    SessionSignedOut,
    TwoStepOn,
    TwoStepOff,
    RamUserCreated,
    RamUserDeleted,
    PaymentMethodAdded,
    PaymentMethodRemoved,
    DefaultPaymentMethodSet,
    BillingAddressSaved,
    Purchase,
    Renewal,
    Unsubscribe,
    Withdrawal,
    /// The card network returned a refund paid to a card; it was credited to the balance.
    RefundReturnedToBalance,
    /// The cardholder disputed a payment with their bank (a chargeback).
    PaymentDisputed,
    ClosureIdentityVerified,
    ClosureItemsRenounced,
    ClosureConfirmed,
}

impl OperationAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The one group each action belongs to (what the log's filter and its column say).
    pub fn category(self) -> OperationCategory {
        use OperationAction::*;
        match self {
            SignIn
            | SignInPasswordAccepted
            | SignInFailed
            | PasswordReset
            | PasswordChanged
            | SessionSignedOut
            | TwoStepOn
            | TwoStepOff
            | RamUserCreated
            | RamUserDeleted => OperationCategory::Security,
            PaymentMethodAdded
            | PaymentMethodRemoved
            | DefaultPaymentMethodSet
            | BillingAddressSaved
            | Purchase
            | Renewal
            | Unsubscribe
            | Withdrawal
            | RefundReturnedToBalance
            | PaymentDisputed => OperationCategory::Money,
            ClosureIdentityVerified | ClosureItemsRenounced | ClosureConfirmed => {
                OperationCategory::Closure
            }
        }
    }
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OperationActor {
    /// The account's owner; also a request without a session (a sign-in, a password reset).
    Owner,
    RamUser {
        /// The RAM user's user name.
        name: String,
    },
    /// The server itself: its jobs, and what the payment gateway reported (a webhook).
    System,
}

/// A payment method as the log names it: its kind, and for a card its brand and last four
/// digits. A PayPal or Paytm account is named by its kind alone (no email, no phone number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoggedPaymentMethod {
    pub kind: PaymentMethodKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<CardBrand>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignInRefusal {
    WrongPassword,
    WrongTwoStepCode,
}

/// How the owner proved their identity for the closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdentityMethod {
    SmsCode,
    Authenticator,
    Alipay,
}

/// One instance's renewals cancelled, and what that refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RenewalRefund {
    pub instance: String,
    pub refund: Money,
}

/// What an action was about, one shape per kind of fact (`kind` names it). Which actions
/// write which shape: see each variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OperationDetail {
    /// Nothing more than the action says (`sign_in_password_accepted`, `password_changed`:
    /// the other sessions signed out; `two_step_on`: by an authenticator app; `two_step_off`).
    None,
    /// `sign_in`: from which browser, and whether a two-step code completed it.
    SignIn {
        /// The browser's user agent, as the session keeps it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_agent: Option<String>,
        two_step: bool,
    },
    /// `sign_in_failed`.
    SignInRefused { reason: SignInRefusal },
    /// `password_reset`: by a code sent to the email or the phone; every session signed out.
    PasswordReset { channel: Channel },
    /// `session_signed_out`: one session, by its browser.
    Session {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_agent: Option<String>,
    },
    /// `session_signed_out`: every other session at once.
    OtherSessions { count: u32 },
    /// `ram_user_created`.
    RamUserCreated {
        name: String,
        permissions: Vec<Permission>,
    },
    /// `ram_user_deleted`.
    RamUser { name: String },
    /// `payment_method_added`, `payment_method_removed`, `default_payment_method_set`.
    PaymentMethod { method: LoggedPaymentMethod },
    /// `billing_address_saved`: its country, an ISO 3166-1 alpha-2 code.
    BillingAddress { country: String },
    /// `purchase` of a subscription.
    Subscription {
        instance: String,
        /// The catalog's product code.
        product: String,
        months: u32,
        price: Money,
    },
    /// `purchase` of a pay-as-you-go instance: nothing charged now, usage billed later.
    PayAsYouGo { instance: String, product: String },
    /// `renewal`.
    Renewal {
        instance: String,
        months: u32,
        price: Money,
    },
    /// `unsubscribe` of resources, and the refund of them all.
    Unsubscribed {
        instances: Vec<String>,
        refund: Money,
    },
    /// `unsubscribe` of renewals not yet in effect.
    RenewalsCancelled { renewals: Vec<RenewalRefund> },
    /// `withdrawal` of the balance.
    Withdrawal {
        amount: Money,
        to: LoggedPaymentMethod,
    },
    /// `refund_returned_to_balance`: the amount credited.
    Amount { amount: Money },
    /// `payment_disputed`.
    Dispute {
        /// None when the card network's currency is not one this service charges in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<Money>,
        /// The card network's reason code (`fraudulent`, …), when it gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The payment gateway's id of the dispute.
        dispute: String,
    },
    /// `closure_identity_verified`.
    Identity { method: IdentityMethod },
    /// `closure_items_renounced`.
    ItemsRenounced { items: Vec<BlockingKind> },
    /// `closure_confirmed`: when the cool-down ends (RFC 3339).
    CoolDown { until: String },
    /// An entry written before details were facts whose text did not read as any of the
    /// shapes above: the text as it was written, in English.
    Legacy { text: String },
}

/// `GET /api/operation-log`: one category or all, a page of 50, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, utoipa::IntoParams))]
#[serde(default)]
pub struct OperationLogQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<OperationCategory>,
    /// 1-based (0 counts as 1); at most 2,147,483,647, as every page number of the API.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(maximum = 2_147_483_647),
        schema(maximum = 2_147_483_647)
    )]
    pub page: Option<u32>,
}

impl OperationLogQuery {
    /// Refuses a page past the documented maximum.
    pub fn check(&self) -> Result<(), FieldError> {
        super::check_page(self.page)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OperationEntry {
    /// RFC 3339.
    pub at: String,
    pub actor: OperationActor,
    pub action: OperationAction,
    /// The action's, as [`OperationAction::category`] gives it.
    pub category: OperationCategory,
    pub detail: OperationDetail,
    /// The client's address; none for the system's own jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OperationLog {
    pub entries: Vec<OperationEntry>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use rust_decimal::Decimal;

    #[test]
    fn each_action_is_stored_by_its_serde_name_and_belongs_to_one_category() {
        for &action in OperationAction::VARIANTS {
            assert_eq!(
                serde_json::to_value(action).unwrap(),
                serde_json::Value::String(action.as_str().to_owned())
            );
            let back: OperationAction =
                serde_json::from_value(serde_json::Value::String(action.as_str().to_owned()))
                    .unwrap();
            assert_eq!(back, action);
        }
        assert_eq!(
            OperationAction::PaymentDisputed.category(),
            OperationCategory::Money
        );
        assert_eq!(
            OperationAction::TwoStepOn.category(),
            OperationCategory::Security
        );
    }

    #[test]
    fn a_detail_travels_as_a_tagged_fact_with_money_as_decimal_strings() {
        let detail = OperationDetail::Renewal {
            instance: "i-1".to_owned(),
            months: 3,
            price: Money::new(Decimal::new(3000, 2), Currency::USD),
        };
        let json = serde_json::to_value(&detail).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "renewal", "instance": "i-1", "months": 3,
                "price": {"amount": "30.00", "currency": "USD"}
            })
        );
        assert_eq!(
            serde_json::from_value::<OperationDetail>(json).unwrap(),
            detail
        );
        let actor = OperationActor::RamUser {
            name: "ops".to_owned(),
        };
        assert_eq!(
            serde_json::to_value(&actor).unwrap(),
            serde_json::json!({"kind": "ram_user", "name": "ops"})
        );
    }

    #[test]
    fn an_unknown_kind_of_detail_is_refused() {
        let unknown = serde_json::json!({"kind": "teleported"});
        assert!(serde_json::from_value::<OperationDetail>(unknown).is_err());
    }
}
