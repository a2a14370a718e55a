//! Bodies of the purchase, instance, unsubscription and RAM-user endpoints.

use crate::catalog::Billing;
use crate::error::{ErrorCode, FieldError, Invalid};
use crate::money::Money;
use crate::refund::{RefundType, ResourceKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use strum::{IntoStaticStr, VariantArray};
#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InstanceView {
    pub id: String,
    pub product: String,
    pub product_name: String,
    pub region: String,
    pub billing: Billing,
    pub resource_kind: ResourceKind,
    pub activated: bool,
    pub auto_renew: bool,
    pub status: InstanceStatus,
    /// RFC 3339.
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// Whether an instance still runs. A released one is kept for its orders and records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum InstanceStatus {
    Running,
    Released,
}

impl InstanceStatus {
    /// Its serde name, as stored in `instances.status`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The answer to a purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Purchased {
    pub instance: InstanceView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    pub charged: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CouponView {
    pub id: String,
    pub description: String,
    pub amount: Money,
    pub remaining: Money,
    /// RFC 3339.
    pub expires_at: String,
}

/// `POST /api/instances/{id}/renew`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct RenewForm {
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::offered_period, required = true)
    )]
    pub period_months: u32,
    pub pay_with: crate::catalog::PayWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnsubscribeTab {
    /// Active instance orders (with their pending renewals).
    #[default]
    Resource,
    /// Pending renewals that have not taken effect.
    Renewal,
    /// Unsubscription history.
    Records,
}

/// The resource tab's columns the server can order by. The refund if unsubscribed now and the
/// refund type are not among them: they are worked out per order by `shared::refund` at
/// the moment of asking, not stored, so the database cannot order the pages by them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ResourceSort {
    /// The instance ID.
    Instance,
    /// The product's name.
    Product,
    /// When the first order was placed (the default).
    OrderTime,
    /// The expiry time.
    Expires,
    /// The cash paid over the orders still in force.
    Paid,
}

impl ResourceSort {
    /// The name in a query string (its serde name).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::VARIANTS.iter().copied().find(|s| s.as_str() == raw)
    }

    /// The direction a first click on the column asks for: times and amounts newest or
    /// largest first, names from A.
    pub fn first_direction(self) -> SortDirection {
        match self {
            ResourceSort::Instance | ResourceSort::Product => SortDirection::Asc,
            ResourceSort::OrderTime | ResourceSort::Expires | ResourceSort::Paid => {
                SortDirection::Desc
            }
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SortDirection {
    Asc,
    Desc,
}

impl SortDirection {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [SortDirection::Asc, SortDirection::Desc]
            .into_iter()
            .find(|d| d.as_str() == raw)
    }

    pub fn reversed(self) -> Self {
        match self {
            SortDirection::Asc => SortDirection::Desc,
            SortDirection::Desc => SortDirection::Asc,
        }
    }
}

impl UnsubscribeQuery {
    /// The resource tab's order: the column asked for (the order time by default) and its
    /// direction (the column's first direction when not given).
    pub fn resource_order(&self) -> (ResourceSort, SortDirection) {
        let sort = self.sort.unwrap_or(ResourceSort::OrderTime);
        (sort, self.direction.unwrap_or(sort.first_direction()))
    }
}

/// The most rows one page of `GET /api/unsubscribe` holds.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Filters and page of `GET /api/unsubscribe`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[serde(default)]
pub struct UnsubscribeQuery {
    pub tab: UnsubscribeTab,
    /// Product code, e.g. `ecs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Part of an instance ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Orders placed at or after this time (RFC 3339 or YYYY-MM-DD).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_from: Option<String>,
    /// Orders placed before the end of this day (RFC 3339 or YYYY-MM-DD); not before
    /// `order_from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_to: Option<String>,
    /// Resource tab: only this resource type (the seed's Regular Cloud Resource and Resource
    /// Plans tabs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ResourceKind>,
    /// Resource tab: only this refund type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_type: Option<RefundType>,
    /// Resource tab: only activated (`true`) or not activated (`false`) resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated: Option<bool>,
    /// Resource tab: the column the rows are ordered by, across pages; the order time by
    /// default. Ties are broken by instance ID, so paging is deterministic.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub sort: Option<ResourceSort>,
    /// Resource tab: the direction of `sort`; newest, latest or largest first (`desc`) for
    /// times and amounts, A to Z (`asc`) for IDs and products, when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub direction: Option<SortDirection>,
    /// 1-based (0 counts as 1); at most 2,147,483,647.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(maximum = 2_147_483_647),
        schema(maximum = 2_147_483_647)
    )]
    pub page: Option<u32>,
    /// At most 100; 20 by default (0 counts as 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 100), schema(maximum = 100))]
    pub page_size: Option<u32>,
}

/// One instance that can be unsubscribed, with the refund it would get now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnsubscribableResource {
    pub instance_id: String,
    pub product: String,
    pub product_name: String,
    pub region: String,
    pub resource_kind: ResourceKind,
    pub refund_type: RefundType,
    pub activated: bool,
    /// RFC 3339: when the first order was placed.
    pub order_time: String,
    pub expires_at: String,
    /// Cash paid over all orders still in force (coupons and credit excluded).
    pub cash_paid: Money,
    /// Paid with free credit or coupons: never refunded as cash.
    pub non_cash_paid: Money,
    pub refund: Money,
    /// Where the refund would go if unsubscribed now, each place once: the account balance past
    /// the card's 150 days or PayPal's 180, or when the method was removed. Empty: no refund.
    pub refund_to: Vec<RefundPlace>,
    pub pending_renewals: u32,
    /// A resource plan's quota in the order in force, and what pay-as-you-go usage has drawn
    /// of it (SPEC §5): it decides the plan's refund. Absent for regular resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaDrawn>,
    /// How `refund` comes about, one paid order (the one in force, then pending renewals) at
    /// a time, by `shared::refund::refund_breakdown`.
    #[serde(default)]
    pub breakdown: Vec<OrderRefund>,
}

/// One paid order's part of a refund if unsubscribed now, and where that part would go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderRefund {
    pub order_id: String,
    /// RFC 3339: the paid period.
    pub starts_at: String,
    pub ends_at: String,
    pub cash_paid: Money,
    /// Paid with free credit or coupons: never refunded as cash.
    pub non_cash_paid: Money,
    pub used_by: crate::refund::UsedBy,
    /// The share of the period used, between 0 and 1.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0.25"))]
    pub used_share: Decimal,
    /// cash × used share, rounded up to the cent.
    pub consumed: Money,
    pub refund: Money,
    /// How the cash was paid: `card`, `paypal`, `paytm`, `balance` or `credit`.
    pub paid_with: String,
    /// Whole days from the payment to now: what the destination's window counts.
    pub paid_days_ago: u32,
    pub destination: crate::refund::RefundDestination,
    /// The payment method was removed since, so it cannot take money back.
    pub method_removed: bool,
    /// The payment method's label while it is still bound (`VISA •••• 1111`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_label: Option<String>,
}

/// What pay-as-you-go usage drew of a resource plan's quota, in the quota's unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct QuotaDrawn {
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12.5"))]
    pub drawn: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "500"))]
    pub quota: Decimal,
    /// `GB`.
    pub unit: String,
}

impl OrderRefund {
    /// The used share in per cent, to one decimal: `33.3`.
    pub fn used_percent(&self) -> Decimal {
        (self.used_share * Decimal::ONE_HUNDRED)
            .round_dp(1)
            .normalize()
    }
}

impl QuotaDrawn {
    /// In thousandths of the unit, as `orders.drawn_milli` and `shared::catalog` keep them.
    pub fn from_milli(drawn_milli: i64, quota: &crate::catalog::Quota) -> QuotaDrawn {
        QuotaDrawn {
            drawn: Decimal::new(drawn_milli, 3).normalize(),
            quota: Decimal::from(quota.units),
            unit: quota.unit.to_owned(),
        }
    }
}

impl std::fmt::Display for QuotaDrawn {
    /// "drawn 12.5 of 500 GB".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "drawn {} of {} {}", self.drawn, self.quota, self.unit)
    }
}

/// A renewal order that has not started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PendingRenewal {
    pub order_id: String,
    pub instance_id: String,
    pub product_name: String,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    pub refund: Money,
    /// Where the refund would go if cancelled now, as in [`UnsubscribableResource::refund_to`].
    pub refund_to: Vec<RefundPlace>,
    /// The expiration time the instance would have if this renewal and all later ones were cancelled.
    pub updated_expiration: String,
}

/// Where a refund, or part of one, goes: the destination, and the payment method's label while
/// the method is still bound (`VISA •••• 1111`, a PayPal address). The app words it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RefundPlace {
    pub destination: crate::refund::RefundDestination,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_label: Option<String>,
}

impl RefundPlace {
    /// The places of `places`, each once, in order.
    pub fn each_once(places: impl IntoIterator<Item = RefundPlace>) -> Vec<RefundPlace> {
        let mut unique: Vec<RefundPlace> = Vec::new();
        for place in places {
            if !unique.contains(&place) {
                unique.push(place);
            }
        }
        unique
    }
}

/// What an unsubscription covered: the resource (released, every paid order refunded), or
/// only its pending renewals.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum UnsubscribeScope {
    Resource,
    Renewal,
}

impl UnsubscribeScope {
    /// Its serde name, as stored in `unsubscriptions.scope`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An order's status.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OrderStatus {
    Paid,
    Unsubscribed,
}

impl OrderStatus {
    /// Its serde name, as stored in `orders.status`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where an unsubscription's refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordRefundStatus {
    /// Nothing was refunded.
    None,
    /// On its way (refunds arrive within 30 business days).
    Processing,
    /// Every refund arrived.
    Refunded,
}

/// One past unsubscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnsubscribeRecord {
    pub id: String,
    pub instance_id: String,
    pub product_name: String,
    pub scope: UnsubscribeScope,
    pub refund_type: RefundType,
    /// The status of the unsubscribed orders.
    pub order_status: OrderStatus,
    /// Where the refund goes, each place once; empty when nothing is refunded.
    pub unsubscribe_to: Vec<RefundPlace>,
    pub refund_amount: Money,
    /// The orders whose cash is refunded (the active order and any pending renewals); empty
    /// when nothing is refunded.
    #[serde(default)]
    pub refunded_orders: Vec<String>,
    pub refund_status: RecordRefundStatus,
    /// RFC 3339: when the refund arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_time: Option<String>,
    pub unsubscribed_at: String,
}

/// How many resources of one resource type, refund type and activation status match the
/// resource tab's product, instance and order-time filters (its type, refund-type and
/// activation filters aside, so each of their choices can show its own count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GroupCount {
    pub resource_kind: ResourceKind,
    pub refund_type: RefundType,
    pub activated: bool,
    pub count: u32,
}

impl GroupCount {
    /// Whether this group passes the type, refund-type and activation filters of `query`.
    pub fn matches(&self, query: &UnsubscribeQuery) -> bool {
        query.kind.is_none_or(|k| k == self.resource_kind)
            && query.refund_type.is_none_or(|t| t == self.refund_type)
            && query.activated.is_none_or(|a| a == self.activated)
    }
}

/// `GET /api/unsubscribe`: one tab's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnsubscribeList {
    pub tab: UnsubscribeTab,
    #[serde(default)]
    pub resources: Vec<UnsubscribableResource>,
    #[serde(default)]
    pub renewals: Vec<PendingRenewal>,
    #[serde(default)]
    pub records: Vec<UnsubscribeRecord>,
    /// Counts per resource type, refund type and activation status (resource tab).
    #[serde(default)]
    pub groups: Vec<GroupCount>,
    pub total: u32,
    pub page: u32,
    pub page_size: u32,
}

/// The most instances one batch unsubscription may hold (seed 002).
pub const MAX_BATCH: usize = 50;

/// `POST /api/unsubscribe`: one instance, or a batch of Partial Refund ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct UnsubscribeForm {
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::instance_batch, required = true)
    )]
    pub instance_ids: Vec<String>,
    /// "I have confirmed the refund amount."
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::ticked, required = true)
    )]
    pub confirm_refund_amount: bool,
    /// "I have backed up or migrated my data."
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::ticked, required = true)
    )]
    pub confirm_data_backed_up: bool,
}

impl UnsubscribeQuery {
    /// Refuses a page or page size past the documented maximum (clamping it instead would
    /// accept a request the document forbids), and an order time that ends before it starts.
    pub fn check(&self) -> Result<(), FieldError> {
        super::check_page(self.page)?;
        if self.page_size.is_some_and(|s| s > MAX_PAGE_SIZE) {
            return Err(Invalid::new(
                ErrorCode::BadRequest,
                format!("Show at most {MAX_PAGE_SIZE} rows a page."),
            )
            .at("page_size"));
        }
        // Dates as the page's date fields give them compare as text; the server applies the
        // same rule to RFC 3339 times, once it has read them.
        if let (Some(from), Some(to)) = (plain_date(&self.order_from), plain_date(&self.order_to))
            && to < from
        {
            return Err(order_time_reversed());
        }
        Ok(())
    }
}

/// `YYYY-MM-DD`, trimmed; `None` for anything else (the server refuses what it cannot read).
fn plain_date(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|d| {
        d.len() == 10
            && d.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    })
}

/// An order-time filter whose end comes before its start.
pub fn order_time_reversed() -> FieldError {
    Invalid::new(
        ErrorCode::BadRequest,
        "Choose an end date on or after the start date.",
    )
    .at("order_to")
}

impl UnsubscribeForm {
    pub fn check(&self) -> Result<(), FieldError> {
        if self.instance_ids.is_empty() {
            return Err(
                Invalid::new(ErrorCode::FieldRequired, "Choose at least one instance.")
                    .at("instance_ids"),
            );
        }
        if self.instance_ids.len() > MAX_BATCH {
            return Err(Invalid::new(
                ErrorCode::BatchTooLarge,
                format!("Unsubscribe at most {MAX_BATCH} instances at a time."),
            )
            .at("instance_ids"));
        }
        refund_amount_confirmed(self.confirm_refund_amount)?;
        if !self.confirm_data_backed_up {
            return Err(Invalid::new(
                ErrorCode::ConfirmationRequired,
                "Confirm that your data is backed up: it is deleted for good.",
            )
            .at("confirm_data_backed_up"));
        }
        Ok(())
    }
}

/// `POST /api/unsubscribe/renewals`: cancel the pending renewals from `order_id` on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct UnsubscribeRenewalForm {
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub instance_id: String,
    /// The renewal whose start becomes the updated expiration time; it and every later one
    /// are cancelled.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub order_id: String,
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::ticked, required = true)
    )]
    pub confirm_refund_amount: bool,
}

impl UnsubscribeRenewalForm {
    /// Which renewal is cancelled is the server's to check; the confirmation is the form's.
    pub fn check(&self) -> Result<(), FieldError> {
        refund_amount_confirmed(self.confirm_refund_amount)
    }
}

/// One instance's pending renewals in a batch: cancelled from `order_id` on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct RenewalChoice {
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub instance_id: String,
    /// The renewal whose start becomes the instance's updated expiration time; it and every
    /// later one are cancelled.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub order_id: String,
}

/// `POST /api/unsubscribe/renewals/batch`: the seed's "Batch Refund/Renew", the pending
/// renewals of several instances cancelled together, all or none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct UnsubscribeRenewalBatchForm {
    /// At least one instance, at most 50, each once.
    #[cfg_attr(
        feature = "openapi",
        schema(min_items = 1, max_items = 50, required = true)
    )]
    pub renewals: Vec<RenewalChoice>,
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::ticked, required = true)
    )]
    pub confirm_refund_amount: bool,
}

impl UnsubscribeRenewalBatchForm {
    /// One to [`MAX_BATCH`] instances, none twice (an instance has one updated expiration
    /// time), and the refund amount confirmed; which renewals are pending is the server's.
    pub fn check(&self) -> Result<(), FieldError> {
        if self.renewals.is_empty() {
            return Err(Invalid::new(
                ErrorCode::FieldRequired,
                "Choose the renewals of at least one instance.",
            )
            .at("renewals"));
        }
        if self.renewals.len() > MAX_BATCH {
            return Err(Invalid::new(
                ErrorCode::BatchTooLarge,
                format!("Unsubscribe the renewals of at most {MAX_BATCH} instances at a time."),
            )
            .at("renewals"));
        }
        for (i, choice) in self.renewals.iter().enumerate() {
            if self.renewals[..i]
                .iter()
                .any(|c| c.instance_id == choice.instance_id)
            {
                return Err(Invalid::new(
                    ErrorCode::BadRequest,
                    format!(
                        "{} is chosen twice: choose one updated expiration time per instance.",
                        choice.instance_id
                    ),
                )
                .at("renewals"));
            }
        }
        refund_amount_confirmed(self.confirm_refund_amount)
    }
}

/// "I have confirmed the refund amount." must be ticked before anything is cancelled.
fn refund_amount_confirmed(confirmed: bool) -> Result<(), FieldError> {
    if confirmed {
        Ok(())
    } else {
        Err(Invalid::new(
            ErrorCode::ConfirmationRequired,
            "Confirm the refund amount.",
        )
        .at("confirm_refund_amount"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Unsubscribed {
    pub records: Vec<UnsubscribeRecord>,
    pub total_refund: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum Permission {
    /// Unsubscribe, buy, pay (Alibaba Cloud's AliyunBSSFullAccess).
    BillingFullAccess,
    /// See orders, bills and the unsubscription lists.
    BillingReadOnlyAccess,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::BillingFullAccess => "BillingFullAccess",
            Permission::BillingReadOnlyAccess => "BillingReadOnlyAccess",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Permission::BillingFullAccess,
            Permission::BillingReadOnlyAccess,
        ]
        .into_iter()
        .find(|p| p.as_str() == raw)
    }
}

/// `POST /api/ram-users`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct RamUserForm {
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::ram_username, required = true)
    )]
    pub username: String,
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = crate::account::Password, required = true)
    )]
    pub password: String,
    pub permissions: Vec<Permission>,
}

/// The shortest and longest RAM user name, in ASCII characters once trimmed.
pub const USERNAME_MIN_CHARS: usize = 3;
pub const USERNAME_MAX_CHARS: usize = 64;

impl RamUserForm {
    pub fn parse(&self) -> Result<(String, crate::account::Password), Vec<FieldError>> {
        let name = self.username.trim();
        let username = if (USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            Ok(name.to_ascii_lowercase())
        } else {
            Err(Invalid::new(
                ErrorCode::InvalidUsername,
                "Use 3 to 64 letters, digits, dots, dashes or underscores.",
            ))
        };
        let password = crate::account::Password::parse(&self.password, None);
        match (username, password) {
            (Ok(u), Ok(p)) => Ok((u, p)),
            (u, p) => Err(crate::error::collect_errors([
                u.err().map(|e| e.at("username")),
                p.err().map(|e| e.at("password")),
            ])),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RamUserView {
    pub id: String,
    pub username: String,
    pub permissions: Vec<Permission>,
    pub created_at: String,
}

/// `POST /api/session/ram`: a RAM user signs in under the owner's account alias.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct RamSignInForm {
    /// The owner account's ID (its alias).
    #[cfg_attr(feature = "openapi", schema(required = true, min_length = 1))]
    pub account_alias: String,
    #[cfg_attr(feature = "openapi", schema(required = true, min_length = 1))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(required = true, min_length = 1))]
    pub password: String,
}

/// A RAM user's sign-in with every part present: the alias and username trimmed (usernames
/// are kept in lower case), the password as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct RamSignIn {
    pub account_alias: String,
    pub username: String,
    pub password: String,
}

impl RamSignInForm {
    /// Only that each part is there: like the owner's sign-in, nothing here tells whether an
    /// alias or a username exists, or which part was wrong.
    pub fn parse(&self) -> Result<RamSignIn, Vec<FieldError>> {
        let required = |value: &str, field: &'static str, what: &str| {
            value.is_empty().then(|| {
                Invalid::new(ErrorCode::FieldRequired, format!("Enter the {what}.")).at(field)
            })
        };
        let account_alias = self.account_alias.trim();
        let username = self.username.trim();
        let missing = crate::error::collect_errors([
            required(account_alias, "account_alias", "account alias"),
            required(username, "username", "username"),
            required(&self.password, "password", "password"),
        ]);
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(RamSignIn {
            account_alias: account_alias.to_owned(),
            username: username.to_ascii_lowercase(),
            password: self.password.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renewal_batch_holds_one_to_fifty_instances_each_once_with_the_refund_confirmed() {
        let choice = |i: usize| RenewalChoice {
            instance_id: format!("i-{i}"),
            order_id: format!("ord-{i}"),
        };
        let form = |n: usize| UnsubscribeRenewalBatchForm {
            renewals: (0..n).map(choice).collect(),
            confirm_refund_amount: true,
        };
        assert_eq!(form(0).check().unwrap_err().code, ErrorCode::FieldRequired);
        assert!(form(1).check().is_ok());
        assert!(form(MAX_BATCH).check().is_ok());
        assert_eq!(
            form(MAX_BATCH + 1).check().unwrap_err().code,
            ErrorCode::BatchTooLarge
        );
        let mut twice = form(2);
        twice.renewals.push(RenewalChoice {
            order_id: "ord-other".into(),
            ..choice(1)
        });
        let e = twice.check().unwrap_err();
        assert_eq!((e.field, e.code), ("renewals", ErrorCode::BadRequest));
        assert!(
            e.message.contains("i-1"),
            "names the instance: {}",
            e.message
        );
        let unconfirmed = UnsubscribeRenewalBatchForm {
            confirm_refund_amount: false,
            ..form(1)
        };
        assert_eq!(
            unconfirmed.check().unwrap_err().code,
            ErrorCode::ConfirmationRequired
        );
    }

    #[test]
    fn the_resource_order_defaults_to_the_newest_order_and_each_column_to_its_first_direction() {
        let q = UnsubscribeQuery::default();
        assert_eq!(
            q.resource_order(),
            (ResourceSort::OrderTime, SortDirection::Desc)
        );
        for &sort in ResourceSort::VARIANTS {
            assert_eq!(ResourceSort::parse(sort.as_str()), Some(sort));
            let json = serde_json::to_value(sort).unwrap();
            assert_eq!(
                json.as_str(),
                Some(sort.as_str()),
                "the query name is the serde name"
            );
            let q = UnsubscribeQuery {
                sort: Some(sort),
                ..Default::default()
            };
            assert_eq!(q.resource_order(), (sort, sort.first_direction()));
        }
        assert_eq!(ResourceSort::parse("refund"), None);
    }

    #[test]
    fn refund_places_are_named_once_in_order() {
        use crate::refund::RefundDestination::{Balance, Card};
        let card = |label: &str| RefundPlace {
            destination: Card,
            method_label: Some(label.into()),
        };
        let balance = RefundPlace {
            destination: Balance,
            method_label: None,
        };
        let places = RefundPlace::each_once([
            card("VISA •••• 1111"),
            balance.clone(),
            card("VISA •••• 1111"),
            card("JCB •••• 0000"),
            balance.clone(),
        ]);
        assert_eq!(
            places,
            [card("VISA •••• 1111"), balance, card("JCB •••• 0000")]
        );
    }

    #[test]
    fn an_order_time_filter_may_not_end_before_it_starts() {
        let range = |from: &str, to: &str| UnsubscribeQuery {
            order_from: Some(from.into()),
            order_to: Some(to.into()),
            ..Default::default()
        };
        assert!(range("2026-11-23", "2026-11-23").check().is_ok());
        assert!(range("2026-11-23", "2026-12-01").check().is_ok());
        let reversed = range("2026-11-24", "2026-11-23").check().unwrap_err();
        assert_eq!(
            (reversed.field, reversed.code),
            ("order_to", ErrorCode::BadRequest)
        );
        // Times the page never sends are left to the server, which reads them.
        assert!(range("2026-11-24T12:00:00Z", "2026-11-23").check().is_ok());
    }

    #[test]
    fn cancelling_renewals_needs_the_refund_amount_confirmed() {
        let unconfirmed = UnsubscribeRenewalForm {
            instance_id: "i-1".into(),
            order_id: "o-2".into(),
            confirm_refund_amount: false,
        };
        let refused = unconfirmed.check().unwrap_err();
        assert_eq!(
            (refused.field, refused.code),
            ("confirm_refund_amount", ErrorCode::ConfirmationRequired)
        );
        let confirmed = UnsubscribeRenewalForm {
            confirm_refund_amount: true,
            ..unconfirmed
        };
        assert!(confirmed.check().is_ok());
    }

    #[test]
    fn an_unsubscription_needs_both_confirmations_and_at_most_fifty_instances() {
        let ok = UnsubscribeForm {
            instance_ids: vec!["i-1".into()],
            confirm_refund_amount: true,
            confirm_data_backed_up: true,
        };
        assert!(ok.check().is_ok());
        let no_backup = UnsubscribeForm {
            confirm_data_backed_up: false,
            ..ok.clone()
        };
        assert_eq!(
            no_backup.check().unwrap_err().field,
            "confirm_data_backed_up"
        );
        let no_amount = UnsubscribeForm {
            confirm_refund_amount: false,
            ..ok.clone()
        };
        assert_eq!(
            no_amount.check().unwrap_err().code,
            ErrorCode::ConfirmationRequired
        );
        let fifty = UnsubscribeForm {
            instance_ids: (0..50).map(|i| format!("i-{i}")).collect(),
            ..ok.clone()
        };
        assert!(fifty.check().is_ok());
        let fifty_one = UnsubscribeForm {
            instance_ids: (0..51).map(|i| format!("i-{i}")).collect(),
            ..ok.clone()
        };
        assert_eq!(
            fifty_one.check().unwrap_err().code,
            ErrorCode::BatchTooLarge
        );
        assert_eq!(
            UnsubscribeForm {
                instance_ids: vec![],
                ..ok
            }
            .check()
            .unwrap_err()
            .code,
            ErrorCode::FieldRequired
        );
    }

    #[test]
    fn a_ram_sign_in_needs_every_part_and_trims_the_names() {
        let form = RamSignInForm {
            account_alias: " 5123456789012345 ".into(),
            username: " Ops.Bot ".into(),
            password: " secret ".into(),
        };
        assert_eq!(
            form.parse().unwrap(),
            RamSignIn {
                account_alias: "5123456789012345".into(),
                username: "ops.bot".into(),
                password: " secret ".into(),
            }
        );
        let missing = RamSignInForm {
            account_alias: "  ".into(),
            username: String::new(),
            password: "x".into(),
        }
        .parse()
        .unwrap_err();
        let fields: Vec<_> = missing.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["account_alias", "username"]);
        assert!(missing.iter().all(|e| e.code == ErrorCode::FieldRequired));
    }

    #[test]
    fn ram_usernames_are_simple_and_passwords_follow_the_rules() {
        let form = RamUserForm {
            username: "Ops.Bot".into(),
            password: "Turbine9Blue".into(),
            permissions: vec![],
        };
        assert_eq!(form.parse().unwrap().0, "ops.bot");
        let bad = RamUserForm {
            username: "a b".into(),
            password: "short".into(),
            permissions: vec![],
        };
        let fields: Vec<_> = bad
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["username", "password"]);
    }
}
