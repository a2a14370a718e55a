//! Refund types and the refund formula (SPEC §5, seed 002), written once: the server charges
//! by it and the page shows it.

use crate::money::{Money, round_up_to_cent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Published on the unsubscribe page, beside every figure it produces.
pub const REFUND_RULE: &str = "Coupons and free credit are never refunded as cash. A partial refund is \
the cash you paid minus the part you used: cash × time used ÷ time paid for, rounded up to the cent. \
A renewal that has not started yet is refunded in full. Nonrefundable resources refund nothing.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    RegularCloudResource,
    ResourcePlan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundType {
    PartialRefund,
    Nonrefundable,
    UnactivatedSubscriptionRefund,
    FullRefundForUnusedResources,
}

impl RefundType {
    pub fn label(self) -> &'static str {
        match self {
            RefundType::PartialRefund => "Partial Refund",
            RefundType::Nonrefundable => "Nonrefundable",
            RefundType::UnactivatedSubscriptionRefund => "Unactivated Subscription Refund",
            RefundType::FullRefundForUnusedResources => "Full Refund for Unused Resources",
        }
    }
}

/// The refund type of a subscription, by the seed's classes: regular resources are partly
/// refundable or not at all; resource plans refund in full until activated or used.
pub fn refund_type(
    kind: ResourceKind,
    refundable: bool,
    activated: bool,
    used: bool,
) -> RefundType {
    match kind {
        ResourceKind::ResourcePlan if !activated => RefundType::UnactivatedSubscriptionRefund,
        ResourceKind::ResourcePlan if !used => RefundType::FullRefundForUnusedResources,
        _ if refundable => RefundType::PartialRefund,
        _ => RefundType::Nonrefundable,
    }
}

/// One paid order (a purchase or a renewal) as the refund sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaidPeriod {
    /// What was paid in cash (card, PayPal, Paytm or account balance): the most a refund returns.
    pub cash: Money,
    /// Milliseconds since the epoch; the period is `[starts_at, ends_at)`.
    pub starts_at: i64,
    pub ends_at: i64,
}

/// The cash refund for unsubscribing `period` at `now`.
pub fn refund(period: &PaidPeriod, refund_type: RefundType, now: i64) -> Money {
    let zero = Money::zero(period.cash.currency);
    if period.cash.amount <= Decimal::ZERO {
        return zero;
    }
    if now < period.starts_at {
        // A renewal that has not begun: nothing of it was used.
        return period.cash;
    }
    match refund_type {
        RefundType::Nonrefundable => zero,
        RefundType::UnactivatedSubscriptionRefund | RefundType::FullRefundForUnusedResources => {
            period.cash
        }
        RefundType::PartialRefund => {
            let length = period.ends_at - period.starts_at;
            if length <= 0 || now >= period.ends_at {
                return zero;
            }
            let used = Decimal::from(now - period.starts_at) / Decimal::from(length);
            let consumed = round_up_to_cent(period.cash.amount * used);
            Money::new(
                (period.cash.amount - consumed).max(Decimal::ZERO),
                period.cash.currency,
            )
        }
    }
}

/// Where a refund goes (seed 002): back to the card within 150 days of payment, to PayPal
/// within 180 days, otherwise (and for balance payments) to the account balance. Paytm, which
/// the seed does not list, follows the card rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundDestination {
    Card,
    Paypal,
    Paytm,
    Balance,
}

impl RefundDestination {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundDestination::Card => "card",
            RefundDestination::Paypal => "paypal",
            RefundDestination::Paytm => "paytm",
            RefundDestination::Balance => "balance",
        }
    }
}

const DAY_MS: i64 = 86_400_000;

/// `paid_with` is how the order was paid: `card`, `paypal`, `paytm`, `balance` or `credit`.
pub fn refund_destination(paid_with: &str, paid_at: i64, now: i64) -> RefundDestination {
    let within = |days: i64| now - paid_at <= days * DAY_MS;
    match paid_with {
        "card" if within(150) => RefundDestination::Card,
        "paytm" if within(150) => RefundDestination::Paytm,
        "paypal" if within(180) => RefundDestination::Paypal,
        _ => RefundDestination::Balance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use proptest::prelude::*;
    use std::str::FromStr;

    const DAY: i64 = 86_400_000;

    fn usd(s: &str) -> Money {
        Money::new(Decimal::from_str(s).unwrap(), Currency::USD)
    }

    fn month(cash: &str) -> PaidPeriod {
        PaidPeriod {
            cash: usd(cash),
            starts_at: 0,
            ends_at: 30 * DAY,
        }
    }

    #[test]
    fn a_partial_refund_is_cash_minus_the_used_share_rounded_against_the_customer() {
        // 10 of 30 days used of 100.00: 33.333… consumed, rounded up to 33.34.
        assert_eq!(
            refund(&month("100.00"), RefundType::PartialRefund, 10 * DAY),
            usd("66.66")
        );
        assert_eq!(
            refund(&month("90.00"), RefundType::PartialRefund, 10 * DAY),
            usd("60.00")
        );
    }

    #[test]
    fn at_the_first_instant_everything_and_at_the_last_nothing_is_refunded() {
        let p = month("100.00");
        assert_eq!(refund(&p, RefundType::PartialRefund, 0), usd("100.00"));
        // One millisecond in, a sliver is used: rounded up, it costs a cent.
        assert_eq!(refund(&p, RefundType::PartialRefund, 1), usd("99.99"));
        assert_eq!(
            refund(&p, RefundType::PartialRefund, 30 * DAY - 1),
            usd("0.00")
        );
        assert_eq!(refund(&p, RefundType::PartialRefund, 30 * DAY), usd("0.00"));
        assert_eq!(refund(&p, RefundType::PartialRefund, 31 * DAY), usd("0.00"));
    }

    #[test]
    fn a_leap_day_is_a_day_like_any_other() {
        // February 2028 has 29 days; after 28 of them, one day of 29 is left.
        let feb = PaidPeriod {
            cash: usd("29.00"),
            starts_at: 0,
            ends_at: 29 * DAY,
        };
        assert_eq!(
            refund(&feb, RefundType::PartialRefund, 28 * DAY),
            usd("1.00")
        );
    }

    #[test]
    fn a_renewal_that_has_not_started_is_refunded_in_full_whatever_its_type() {
        let renewal = PaidPeriod {
            cash: usd("50.00"),
            starts_at: 30 * DAY,
            ends_at: 60 * DAY,
        };
        for t in [RefundType::PartialRefund, RefundType::Nonrefundable] {
            assert_eq!(refund(&renewal, t, 29 * DAY), usd("50.00"));
        }
    }

    #[test]
    fn nonrefundable_refunds_nothing_and_unused_plans_refund_everything() {
        assert_eq!(
            refund(&month("100.00"), RefundType::Nonrefundable, DAY),
            usd("0.00")
        );
        assert_eq!(
            refund(
                &month("100.00"),
                RefundType::UnactivatedSubscriptionRefund,
                20 * DAY
            ),
            usd("100.00")
        );
        assert_eq!(
            refund(
                &month("100.00"),
                RefundType::FullRefundForUnusedResources,
                20 * DAY
            ),
            usd("100.00")
        );
    }

    #[test]
    fn an_order_paid_only_with_credit_refunds_no_cash() {
        assert_eq!(
            refund(&month("0.00"), RefundType::PartialRefund, DAY),
            usd("0.00")
        );
    }

    #[test]
    fn refund_types_follow_the_seed() {
        use ResourceKind::*;
        assert_eq!(
            refund_type(RegularCloudResource, true, true, true),
            RefundType::PartialRefund
        );
        assert_eq!(
            refund_type(RegularCloudResource, false, true, true),
            RefundType::Nonrefundable
        );
        assert_eq!(
            refund_type(ResourcePlan, true, false, false),
            RefundType::UnactivatedSubscriptionRefund
        );
        assert_eq!(
            refund_type(ResourcePlan, true, true, false),
            RefundType::FullRefundForUnusedResources
        );
        assert_eq!(
            refund_type(ResourcePlan, true, true, true),
            RefundType::PartialRefund
        );
    }

    #[test]
    fn refunds_go_back_to_the_card_for_150_days_and_to_paypal_for_180() {
        use RefundDestination::*;
        assert_eq!(refund_destination("card", 0, 150 * DAY), Card);
        assert_eq!(refund_destination("card", 0, 150 * DAY + 1), Balance);
        assert_eq!(refund_destination("paypal", 0, 180 * DAY), Paypal);
        assert_eq!(refund_destination("paypal", 0, 180 * DAY + 1), Balance);
        assert_eq!(refund_destination("balance", 0, 0), Balance);
        assert_eq!(refund_destination("paytm", 0, DAY), Paytm);
    }

    fn any_period() -> impl Strategy<Value = (PaidPeriod, i64)> {
        (0i64..10_000_000, 1i64..400, -5i64..500, 0i64..DAY).prop_map(
            |(cents, days, at_day, at_ms)| {
                let period = PaidPeriod {
                    cash: Money::from_minor(cents, Currency::USD),
                    starts_at: 0,
                    ends_at: days * DAY,
                };
                (period, at_day * DAY + at_ms)
            },
        )
    }

    proptest! {
        #[test]
        fn a_refund_is_never_negative_nor_more_than_the_cash_paid((period, now) in any_period()) {
            for t in [RefundType::PartialRefund, RefundType::Nonrefundable, RefundType::UnactivatedSubscriptionRefund, RefundType::FullRefundForUnusedResources] {
                let r = refund(&period, t, now);
                prop_assert!(r.amount >= Decimal::ZERO);
                prop_assert!(r.amount <= period.cash.amount);
                prop_assert!(r.to_minor().is_ok(), "whole cents: {}", r);
            }
        }

        #[test]
        fn a_later_unsubscription_never_refunds_more((period, now) in any_period(), later in 0i64..(30 * DAY)) {
            let earlier = refund(&period, RefundType::PartialRefund, now);
            let after = refund(&period, RefundType::PartialRefund, now + later);
            prop_assert!(after.amount <= earlier.amount);
        }

        #[test]
        fn the_parts_of_a_batch_add_up_to_its_total(periods in proptest::collection::vec(any_period(), 1..50)) {
            let parts: Vec<Money> = periods.iter().map(|(p, now)| refund(p, RefundType::PartialRefund, *now)).collect();
            let total = parts.iter().try_fold(Money::zero(Currency::USD), |acc, m| acc.checked_add(*m)).unwrap();
            let minor_sum: i64 = parts.iter().map(|m| m.to_minor().unwrap()).sum();
            prop_assert_eq!(total.to_minor().unwrap(), minor_sum);
            let paid: i64 = periods.iter().map(|(p, _)| p.cash.to_minor().unwrap()).sum();
            prop_assert!(minor_sum <= paid);
        }
    }
}
