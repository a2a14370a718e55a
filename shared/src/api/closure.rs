//! Bodies of the account-closure endpoints and of the pages that resolve what blocks it.

use crate::closure::{ClosureCheck, RelationshipKind};
use crate::error::{ErrorCode, FieldError, Invalid};
use crate::money::Money;
use serde::{Deserialize, Serialize};

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
    /// What the last closure came to, when one failed: why, and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
    pub cool_down_days: i64,
    /// Whether the identity step of this session is done (valid for 30 minutes).
    pub identity_verified: bool,
    /// Whether real-name registration allows the simulated Alipay authorization.
    pub alipay_available: bool,
}

/// `POST /api/closure/system-check` and `GET /api/closure/system-check/{id}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SystemCheckView {
    pub id: String,
    /// `running` or `done`.
    pub status: String,
    /// 0–100.
    pub progress: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ClosureCheck>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClosureReason {
    #[default]
    NoLongerNeeded,
    SwitchingProvider,
    TooExpensive,
    DuplicateAccount,
    PrivacyConcerns,
    Other,
}

impl ClosureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ClosureReason::NoLongerNeeded => "no_longer_needed",
            ClosureReason::SwitchingProvider => "switching_provider",
            ClosureReason::TooExpensive => "too_expensive",
            ClosureReason::DuplicateAccount => "duplicate_account",
            ClosureReason::PrivacyConcerns => "privacy_concerns",
            ClosureReason::Other => "other",
        }
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
    pub reason: ClosureReason,
    /// Optional words on the reason.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::closure_reason_detail))]
    pub reason_detail: String,
}

impl ConfirmClosureForm {
    pub fn check(&self) -> Result<(), FieldError> {
        if !self.agreement_accepted {
            return Err(Invalid::new(
                ErrorCode::AgreementRequired,
                "Read and accept the Account Closure Agreement.",
            )
            .at("agreement_accepted"));
        }
        if !self.renounce.is_empty() && !self.risk_acknowledged {
            return Err(Invalid::new(
                ErrorCode::ConfirmationRequired,
                "Confirm that renounced balances and released resources cannot be recovered.",
            )
            .at("risk_acknowledged"));
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BillView {
    pub id: String,
    pub description: String,
    pub amount: Money,
    /// `unpaid`, `paid` or `waived`.
    pub status: String,
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
    /// `administrator` or `member`.
    pub role: String,
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
