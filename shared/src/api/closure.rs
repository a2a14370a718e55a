//! Bodies of the account-closure endpoints and of the pages that resolve what blocks it.

use crate::closure::{ClosureCheck, RelationshipKind};
use crate::error::{ErrorCode, FieldError, Invalid};
use crate::money::Money;
use serde::{Deserialize, Serialize};

use strum::{IntoStaticStr, VariantArray};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClosureState {
    /// No closure under way.
    Open,
    /// Confirmed; irreversible; ends at `ends_at`.
    CoolingDown,
}

/// `GET /api/closure`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClosureStatus {
    pub state: ClosureState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_seconds: Option<i64>,
    /// Roles on the account, e.g. `AliyunServiceRoleForAccountDeletion` during the cool-down.
    pub service_linked_roles: Vec<String>,
    /// Why the last closure failed, when one did (and none is under way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<ClosureFailure>,
    pub cool_down_days: i64,
    /// Whether the identity step of this session is done (valid for 30 minutes).
    pub identity_verified: bool,
    /// Whether real-name registration allows the simulated Alipay authorization.
    pub alipay_available: bool,
    /// Whether two-step verification is on, so the authenticator's code proves the identity.
    #[serde(default)]
    pub authenticator_available: bool,
}

/// Why a closure failed (SPEC §6.4): new overdue payments appeared during the cool-down
/// (delayed usage billing), so the account was restored instead of deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClosureFailure {
    /// The new overdue payments, one total per currency; empty for a closure that failed before
    /// its totals were kept.
    pub overdue: Vec<Money>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SystemCheckStatus {
    Running,
    Done,
}

impl SystemCheckStatus {
    /// Its serde name, as `closure_checks.status` holds it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The system check's steps, in order (seed 001): finances, resources, domains and filings,
/// relationships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, VariantArray)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SystemCheckPhase {
    Finances,
    Resources,
    DomainsAndFilings,
    Relationships,
}

impl SystemCheckPhase {
    /// The step a check `progress` per cent of the way through is on.
    pub fn at(progress: u8) -> SystemCheckPhase {
        let step = usize::from(progress.min(99)) * Self::VARIANTS.len() / 100;
        Self::VARIANTS[step]
    }
}

/// `POST /api/closure/system-check` and `GET /api/closure/system-check/{id}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SystemCheckView {
    pub id: String,
    pub status: SystemCheckStatus,
    /// 0–100.
    pub progress: u8,
    /// What the check is looking at now; absent once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SystemCheckPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ClosureCheck>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ClosureReason {
    NoLongerNeeded,
    SwitchingProvider,
    TooExpensive,
    DuplicateAccount,
    PrivacyConcerns,
    Other,
}

impl ClosureReason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The longest `reason_detail`, in characters.
pub const REASON_DETAIL_MAX_CHARS: usize = 500;

/// `POST /api/closure`: Confirm Deletion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct ConfirmClosureForm {
    /// The finished system check this confirmation follows.
    pub system_check_id: String,
    /// "I have read and agree to the Account Closure Agreement."
    pub agreement_accepted: bool,
    /// Keys of the renounceable items given up; every renounceable item must be listed.
    pub renounce: Vec<String>,
    /// "I understand renounced balances and released resources cannot be recovered."
    pub risk_acknowledged: bool,
    /// Required: the owner chooses it (seed 001: "select a closure reason"); none is assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ClosureReason>,
    /// Optional words on the reason.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::closure_reason_detail))]
    pub reason_detail: String,
}

impl ConfirmClosureForm {
    /// The agreement's checkbox alone: the agreement step checks it before the system check.
    pub fn check_agreement(&self) -> Result<(), FieldError> {
        if !self.agreement_accepted {
            return Err(Invalid::new(
                ErrorCode::AgreementRequired,
                "Read and accept the Account Closure Agreement.",
            )
            .at("agreement_accepted"));
        }
        Ok(())
    }

    pub fn check(&self) -> Result<(), FieldError> {
        self.check_agreement()?;
        if !self.renounce.is_empty() && !self.risk_acknowledged {
            return Err(risk_required());
        }
        if self.reason.is_none() {
            return Err(
                Invalid::new(ErrorCode::FieldRequired, "Choose a closure reason.").at("reason"),
            );
        }
        if self.reason_detail.chars().count() > REASON_DETAIL_MAX_CHARS {
            return Err(
                Invalid::new(ErrorCode::FieldTooLong, "Say it in at most 500 characters.")
                    .at("reason_detail"),
            );
        }
        Ok(())
    }
}

fn risk_required() -> FieldError {
    Invalid::new(
        ErrorCode::ConfirmationRequired,
        "Confirm that renounced balances and released resources cannot be recovered.",
    )
    .at("risk_acknowledged")
}

/// `POST /api/closure/renounce`: Confirm Discard or Release (seed 001, step 2.3). The
/// selected renounceable items are given up at once: small balances discarded, small overdue
/// payments cancelled, pay-as-you-go instances released.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct RenounceForm {
    /// Keys of renounceable items of the closure check (`cash_balance`, `overdue_payments`,
    /// `pay_as_you_go_resources`). One already renounced is skipped: a retry changes nothing.
    pub renounce: Vec<String>,
    /// "I understand renounced balances and released resources cannot be recovered."
    pub risk_acknowledged: bool,
}

impl RenounceForm {
    pub fn check(&self) -> Result<(), FieldError> {
        if self.renounce.is_empty() {
            return Err(Invalid::new(
                ErrorCode::FieldRequired,
                "Select the items to discard or release.",
            )
            .at("renounce"));
        }
        if !self.risk_acknowledged {
            return Err(risk_required());
        }
        Ok(())
    }
}

/// A bill's state: a waived one is no longer owed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum BillStatus {
    Unpaid,
    Paid,
    Waived,
}

impl BillStatus {
    /// Its serde name; `bills.status` holds `unpaid` or `paid` (a waived bill is an unpaid one
    /// with `waived_at`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The account's side of a relationship: an administrator must hand it over before closing.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RelationshipRole {
    Administrator,
    Member,
}

impl RelationshipRole {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BillView {
    pub id: String,
    pub description: String,
    pub amount: Money,
    pub status: BillStatus,
    pub overdue: bool,
    pub due_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IcpFilingView {
    pub id: String,
    pub number: String,
    pub website: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RelationshipView {
    pub id: String,
    pub kind: RelationshipKind,
    pub role: RelationshipRole,
    /// The other account or directory.
    pub peer: String,
}

/// What else the account is tied to: the closure's "must process" pages read these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AccountTies {
    pub bills: Vec<BillView>,
    pub icp_filings: Vec<IcpFilingView>,
    pub relationships: Vec<RelationshipView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseller_partner: Option<String>,
    pub cash_balance: Money,
}

#[cfg(test)]
mod tests {
    use super::SystemCheckPhase::{self, *};

    #[test]
    fn each_quarter_of_the_system_check_is_one_phase() {
        let at = |p| SystemCheckPhase::at(p);
        assert_eq!(
            [at(0), at(24), at(25), at(49)],
            [Finances, Finances, Resources, Resources]
        );
        assert_eq!(
            [at(50), at(74), at(75), at(100)],
            [
                DomainsAndFilings,
                DomainsAndFilings,
                Relationships,
                Relationships
            ]
        );
    }
}
