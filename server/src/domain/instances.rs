//! What follows from an instance's row ([`crate::tables::instances`]): its refund type, its
//! plan's quota, how the API shows it.

use crate::clock::rfc3339;
use crate::tables::instances::Instance;
use shared::api::{InstanceStatus, InstanceView};
use shared::catalog::{Billing, Product};
use shared::refund::{RefundType, ResourceKind, refund_type};

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
