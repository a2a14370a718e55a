//! Bodies of the billing-address, contact-verification and real-name endpoints.

use crate::account::Channel;
use crate::billing::BillingAddress;
use crate::realname::RealNameKind;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `GET /api/billing-address`: the address, if any, and the state of both contact channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BillingAddressView {
    pub address: Option<BillingAddress>,
    pub email: String,
    pub email_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub phone_verified: bool,
    /// The channel not verified at sign-up, which must be verified before the address is saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_to_verify: Option<Channel>,
    /// The calling code of the account's country, without `+`.
    pub calling_code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RealNameStatus {
    NotRegistered,
    Verified,
}

/// `GET /api/real-name`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RealNameView {
    pub status: RealNameStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RealNameKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Only a masked form is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_masked: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
}
