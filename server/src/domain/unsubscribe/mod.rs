//! Unsubscribing prepaid resources (SPEC §5, seed 002), one file a part: the three tabs of
//! the [`list`](mod@list), unsubscribing [`resources`](mod@resources) (released for good,
//! every paid order refunded), the pending [`renewals`](mod@renewals) cancelled, and the
//! [`record`](mod@record) of each unsubscription. Each order's refund is computed by the
//! formula in `shared::refund`, and every write is one transaction; an order's refund row is
//! unique, so no race, retry or double click refunds twice.

pub mod list;
pub mod record;
pub mod renewals;
pub mod resources;

pub use list::list;
pub use record::record;
pub use renewals::{unsubscribe_renewals, unsubscribe_renewals_batch};
pub use resources::unsubscribe;

use crate::clock::Millis;
use crate::tables::orders::PaidOrder;
use shared::api::RefundPlace;
use shared::money::{Currency, Money};
use shared::refund::{
    Drawn, PaidPeriod, PaidWith, RefundDestination, RefundType, refund, refund_destination,
};

impl PaidOrder {
    fn currency(&self) -> Currency {
        self.currency.0
    }

    /// The one refund the list, the review and the unsubscription all pay; `quota_milli` is
    /// the plan's quota per period ([`crate::tables::instances::Instance::quota_milli`]).
    fn refund(&self, refund_type: RefundType, quota_milli: i64, now: Millis) -> Money {
        refund(&self.period(quota_milli), refund_type, now)
    }

    fn period(&self, quota_milli: i64) -> PaidPeriod {
        PaidPeriod {
            cash: Money::from_minor(self.cash_minor, self.currency()),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            drawn: Drawn {
                amount: self.drawn_milli,
                quota: quota_milli,
            },
        }
    }

    fn refund_destination(&self, method_still_bound: bool, now: Millis) -> RefundDestination {
        destination(self.paid_with.0, self.paid_at, method_still_bound, now)
    }
}

/// Where an order's refund goes at `now`: back the way it was paid while the seed's window
/// lasts, unless that method was removed since (it cannot take the money back); otherwise the
/// account balance.
fn destination(
    paid_with: PaidWith,
    paid_at: Millis,
    method_still_bound: bool,
    now: Millis,
) -> RefundDestination {
    if method_still_bound {
        refund_destination(paid_with, paid_at, now)
    } else {
        RefundDestination::Balance
    }
}

/// Where a refund goes, with its payment method's label while the method is still bound; the
/// balance has none.
fn place(destination: RefundDestination, label: Option<&str>) -> RefundPlace {
    RefundPlace {
        destination,
        method_label: label
            .filter(|_| destination != RefundDestination::Balance)
            .map(str::to_owned),
    }
}
