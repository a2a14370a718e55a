//! Account closure (SPEC §6, seed 001): what blocks it, what can be renounced, and the
//! thresholds, compared in CNY.

use crate::api::RelationshipRole;
use crate::money::{Currency, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

/// A cash balance above this (in CNY) must be used up first; at or below it may be renounced.
pub const BALANCE_LIMIT_CNY: i64 = 1_000;
/// Overdue payments above this (in CNY) must be paid; at or below they may be renounced.
pub const OVERDUE_LIMIT_CNY: i64 = 10;
/// Days between confirming closure and its result, unless configured otherwise.
pub const DEFAULT_COOL_DOWN_DAYS: i64 = 7;
pub const SERVICE_LINKED_ROLE: &str = "AliyunServiceRoleForAccountDeletion";

/// Must be resolved before closing, or may be given up with the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    MustProcess,
    Renounceable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BlockingKind {
    OverduePayments,
    CashBalance,
    UnexpiredDomains,
    IcpFilings,
    RunningSubscriptions,
    AutoRenewingSubscriptions,
    PayAsYouGoResources,
    ResourceDirectory,
    FinanceTrusteeship,
    FinancialManagement,
    EnterpriseMultiAccount,
    ResellerPartnership,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RelationshipKind {
    ResourceDirectory,
    FinanceTrusteeship,
    FinancialManagement,
    EnterpriseMultiAccount,
}

impl RelationshipKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn blocking_kind(self) -> BlockingKind {
        match self {
            RelationshipKind::ResourceDirectory => BlockingKind::ResourceDirectory,
            RelationshipKind::FinanceTrusteeship => BlockingKind::FinanceTrusteeship,
            RelationshipKind::FinancialManagement => BlockingKind::FinancialManagement,
            RelationshipKind::EnterpriseMultiAccount => BlockingKind::EnterpriseMultiAccount,
        }
    }

    /// The relationship a blocking item of `kind` is about, if it is about one.
    pub fn of(kind: BlockingKind) -> Option<RelationshipKind> {
        Self::VARIANTS
            .iter()
            .copied()
            .find(|r| r.blocking_kind() == kind)
    }
}

/// How an amount compares with its closure limit, in CNY. `None`: nothing to settle.
pub fn classify(amount_cny: Decimal, limit_cny: i64) -> Option<Severity> {
    if amount_cny <= Decimal::ZERO {
        None
    } else if amount_cny > Decimal::from(limit_cny) {
        Some(Severity::MustProcess)
    } else {
        Some(Severity::Renounceable)
    }
}

/// One line of the closure check, as facts: the console words them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckItem {
    /// Stable within a check: what `renounce` names.
    pub key: String,
    pub kind: BlockingKind,
    pub severity: Severity,
    /// The console page that resolves it.
    pub resolve_path: String,
    pub count: u32,
    /// For balances and overdue payments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The same amount in CNY, as compared with the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cny: Option<Money>,
    /// For overdue payments: what is owed in each currency, even when there are several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub totals: Vec<Money>,
    /// For a multi-account relationship (the item's `kind` says which): the account's side of
    /// it, which decides what resolves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<RelationshipRole>,
    /// The things this item is about (instance IDs, filing numbers, relationship IDs…).
    #[serde(default)]
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClosureCheck {
    pub items: Vec<CheckItem>,
    /// No item must be processed: closure may start (renounceable items are given up).
    pub can_close: bool,
    /// RFC 3339.
    pub checked_at: String,
}

impl ClosureCheck {
    pub fn must_process(&self) -> impl Iterator<Item = &CheckItem> {
        self.items
            .iter()
            .filter(|i| i.severity == Severity::MustProcess)
    }

    pub fn renounceable(&self) -> impl Iterator<Item = &CheckItem> {
        self.items
            .iter()
            .filter(|i| i.severity == Severity::Renounceable)
    }
}

/// `CNY amount = amount × rate`, where `rate` is CNY per unit of the currency.
pub fn to_cny(amount: Money, cny_per_unit: Decimal) -> Money {
    if amount.currency == Currency::CNY {
        return amount;
    }
    Money::new(
        crate::money::round_up_to_cent(amount.amount * cny_per_unit),
        Currency::CNY,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_are_inclusive_for_renouncing() {
        assert_eq!(classify(Decimal::ZERO, BALANCE_LIMIT_CNY), None);
        assert_eq!(
            classify(Decimal::new(1, 2), BALANCE_LIMIT_CNY),
            Some(Severity::Renounceable)
        );
        assert_eq!(
            classify(Decimal::from(1_000), BALANCE_LIMIT_CNY),
            Some(Severity::Renounceable)
        );
        assert_eq!(
            classify(Decimal::new(1_000_01, 2), BALANCE_LIMIT_CNY),
            Some(Severity::MustProcess)
        );
        assert_eq!(
            classify(Decimal::from(10), OVERDUE_LIMIT_CNY),
            Some(Severity::Renounceable)
        );
        assert_eq!(
            classify(Decimal::new(10_01, 2), OVERDUE_LIMIT_CNY),
            Some(Severity::MustProcess)
        );
    }

    #[test]
    fn conversion_to_cny_rounds_up_so_a_limit_is_never_slipped_under() {
        let usd = Money::from_minor(141, Currency::USD); // 1.41 USD
        let cny = to_cny(usd, Decimal::new(71, 1)); // at 7.1 CNY per USD: 10.011
        assert_eq!(cny, Money::from_minor(10_02, Currency::CNY));
        assert_eq!(
            classify(cny.amount, OVERDUE_LIMIT_CNY),
            Some(Severity::MustProcess)
        );
        let cny_already = Money::from_minor(5_00, Currency::CNY);
        assert_eq!(to_cny(cny_already, Decimal::new(71, 1)), cny_already);
    }

    #[test]
    fn each_relationship_is_found_again_by_its_blocking_kind() {
        for &kind in RelationshipKind::VARIANTS {
            assert_eq!(RelationshipKind::of(kind.blocking_kind()), Some(kind));
            // The stored name, which the server decodes by the serde name.
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(RelationshipKind::of(BlockingKind::CashBalance), None);
    }
}
