//! Bodies of the withdrawal endpoints (SPEC §6.5).

use super::PaymentMethodKind;
use crate::error::FieldError;
use crate::money::Money;
use crate::withdrawal::{self, WithdrawalRequest};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `POST /api/withdrawals`: what the user typed and chose.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct WithdrawalForm {
    /// A decimal string in the balance's currency, at most two decimals, e.g. `"120.50"`.
    #[cfg_attr(feature = "openapi", schema(example = "120.50"))]
    pub amount: String,
    /// One of the account's cards or its PayPal, from [`WithdrawalsView::destinations`].
    pub payment_method_id: String,
}

impl WithdrawalForm {
    /// Checks the form against the cash that can be withdrawn and the account's destinations.
    pub fn check(
        &self,
        withdrawable: Money,
        destinations: &[&str],
    ) -> Result<WithdrawalRequest, Vec<FieldError>> {
        withdrawal::check(
            &self.amount,
            &self.payment_method_id,
            withdrawable,
            destinations,
        )
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WithdrawalStatus {
    /// Taken from the balance, on its way to the card or PayPal.
    Processing,
    /// The gateway has paid it out.
    Paid,
}

impl WithdrawalStatus {
    /// Its serde name, as `withdrawals.status` holds it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where a withdrawal can go: a bound card or the bound PayPal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PayoutDestination {
    pub payment_method_id: String,
    pub kind: PaymentMethodKind,
    /// "VISA •••• 1111", a masked PayPal email.
    pub label: String,
}

/// One withdrawal of the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WithdrawalView {
    pub id: String,
    pub amount: Money,
    pub destination_kind: PaymentMethodKind,
    /// The destination's label when the withdrawal was made.
    pub destination: String,
    pub status: WithdrawalStatus,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
}

/// `GET /api/withdrawals`: what can be withdrawn, where to, and the record, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WithdrawalsView {
    /// The cash balance: all of it can be withdrawn.
    pub withdrawable: Money,
    /// Free credit, shown beside it: it cannot be withdrawn.
    pub credit: Money,
    pub destinations: Vec<PayoutDestination>,
    pub records: Vec<WithdrawalView>,
}
