//! The `instances` table as the code reads it: one row type and its columns, its billing and
//! resource kind decoded where they are read, and what follows from a row (its refund type,
//! its plan's quota, how the API shows it).

use crate::clock::{Millis, rfc3339};
use crate::db::Stored;
use crate::error::ApiError;
use shared::api::{InstanceStatus, InstanceView};
use shared::catalog::{Billing, Product};
use shared::refund::{RefundType, ResourceKind, refund_type};
use sqlx::{Any, Executor};

/// The columns [`Instance`] reads, of `instances`.
pub const COLUMNS: &str = "id, account_id, product, region, billing, resource_kind, activated, used, \
                           auto_renew, status, created_at, started_at, expires_at, billed_until, \
                           released_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Instance {
    pub id: String,
    pub account_id: String,
    pub product: String,
    pub region: String,
    pub billing: Stored<Billing>,
    pub resource_kind: Stored<ResourceKind>,
    #[sqlx(try_from = "crate::db::Flag")]
    pub activated: bool,
    /// Pay-as-you-go usage has drawn on this resource plan.
    #[sqlx(try_from = "crate::db::Flag")]
    pub used: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    pub auto_renew: bool,
    pub status: Stored<InstanceStatus>,
    pub created_at: Millis,
    pub started_at: Millis,
    pub expires_at: Option<Millis>,
    /// Pay-as-you-go: the end of the last hour billed.
    pub billed_until: Option<Millis>,
    pub released_at: Option<Millis>,
}

/// The instance `id`, whoever holds it.
pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<Instance>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM instances WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The instance `id` of `account_id`: another account's is not found.
pub async fn owned<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
) -> Result<Instance, ApiError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM instances WHERE id = $1 AND account_id = $2"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await?
    .ok_or(ApiError::NotFound)
}

impl Instance {
    pub fn kind(&self) -> ResourceKind {
        self.resource_kind.0
    }

    pub fn is_running(&self) -> bool {
        self.status.0 == InstanceStatus::Running
    }

    pub fn is_subscription(&self) -> bool {
        self.billing.0 == Billing::Subscription
    }

    /// An instance of a product no longer sold keeps its refund rule: partly refundable.
    pub fn refundable(&self) -> bool {
        Product::find(&self.product).is_none_or(|p| p.refundable)
    }

    pub fn product_name(&self) -> String {
        Product::find(&self.product).map_or_else(|| self.product.clone(), |p| p.name.to_owned())
    }

    pub fn refund_type(&self) -> RefundType {
        refund_type(self.kind(), self.refundable(), self.activated, self.used)
    }

    /// The quota each paid period of a resource plan holds (thousandths of its unit); 0 for
    /// regular resources.
    pub fn quota_milli(&self) -> i64 {
        match self.kind() {
            ResourceKind::ResourcePlan => {
                Product::find(&self.product).map_or(0, Product::quota_milli)
            }
            ResourceKind::RegularCloudResource => 0,
        }
    }

    pub fn view(self) -> InstanceView {
        InstanceView {
            product_name: self.product_name(),
            id: self.id,
            product: self.product,
            region: self.region,
            billing: self.billing.0,
            resource_kind: self.resource_kind.0,
            activated: self.activated,
            auto_renew: self.auto_renew,
            status: self.status.0,
            started_at: rfc3339(self.started_at),
            expires_at: self.expires_at.map(rfc3339),
        }
    }
}
