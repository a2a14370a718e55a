//! `GET /api/spending`: what the account spent and had refunded, month by month.

use crate::money::Money;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// One calendar month (UTC) in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpendMonth {
    /// `2026-11`.
    pub month: String,
    /// Orders paid (cash and credit) and usage bills paid that month.
    pub spent: Money,
    /// Refunds made that month, whatever their destination.
    pub refunded: Money,
}

/// `GET /api/spending`: oldest month first, only months with something in them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpendingView {
    pub months: Vec<SpendMonth>,
}
