//! Refund types and the refund formula (SPEC §5, seed 002), written once: the server charges
//! by it and the page shows its figures (the console words the rule, `app/src/words.rs`).

use crate::money::{Money, round_up_to_cent};
use crate::time::{DurationMs, Millis};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ResourceKind {
    RegularCloudResource,
    ResourcePlan,
}

impl ResourceKind {
    /// Its serde name, as stored in `instances.resource_kind`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RefundType {
    PartialRefund,
    Nonrefundable,
    UnactivatedSubscriptionRefund,
    FullRefundForUnusedResources,
}

impl RefundType {
    /// Its name in the API (serde's) and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

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
/// refundable or not at all; resource plans refund in full until activated, then the orders
/// still running in full until pay-as-you-go usage has drawn on the plan (`drawn`, SPEC §5).
pub fn refund_type(
    kind: ResourceKind,
    refundable: bool,
    activated: bool,
    drawn: bool,
) -> RefundType {
    match kind {
        ResourceKind::ResourcePlan if !activated => RefundType::UnactivatedSubscriptionRefund,
        ResourceKind::ResourcePlan if !drawn => RefundType::FullRefundForUnusedResources,
        _ if refundable => RefundType::PartialRefund,
        _ => RefundType::Nonrefundable,
    }
}

/// One paid order (a purchase or a renewal) as the refund sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaidPeriod {
    /// What was paid in cash (card, PayPal, Paytm or account balance): the most a refund returns.
    pub cash: Money,
    /// The period is `[starts_at, ends_at)`.
    pub starts_at: Millis,
    pub ends_at: Millis,
    /// What pay-as-you-go usage drew on the period's quota (resource plans; nothing otherwise).
    pub drawn: Drawn,
}

/// The usage a resource plan's paid period has drawn of its quota, both in the same unit
/// (thousandths of a GB, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drawn {
    pub amount: i64,
    pub quota: i64,
}

impl Drawn {
    pub const NOTHING: Drawn = Drawn {
        amount: 0,
        quota: 0,
    };

    /// drawn ÷ quota, between 0 and 1: usage past the quota (never drawn, but a quota could
    /// shrink) consumes the whole period and no more.
    pub fn share(self) -> Decimal {
        if self.quota <= 0 || self.amount <= 0 {
            return Decimal::ZERO;
        }
        (Decimal::from(self.amount) / Decimal::from(self.quota)).min(Decimal::ONE)
    }
}

/// What part of a paid period counts as used, and by which measure (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UsedBy {
    /// Nothing is used: a renewal not started, or a refund in full.
    Nothing,
    /// Time used ÷ time paid for.
    Time,
    /// Drawn ÷ quota of a resource plan, which went further than the time.
    Quota,
    /// The whole period: it has ended, or the resource is nonrefundable.
    Whole,
}

/// How a period's refund comes about: the cash, the share used and by what measure, the
/// consumed part (rounded up to the cent) and the refund. [`refund`] is its last line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefundBreakdown {
    pub cash: Money,
    /// Between 0 and 1.
    pub used_share: Decimal,
    pub used_by: UsedBy,
    pub consumed: Money,
    pub refund: Money,
}

/// The breakdown of the cash refund for unsubscribing `period` at `now` (SPEC §5).
pub fn refund_breakdown(
    period: &PaidPeriod,
    refund_type: RefundType,
    now: Millis,
) -> RefundBreakdown {
    let cash = period.cash;
    let zero = Money::zero(cash.currency);
    let whole = RefundBreakdown {
        cash,
        used_share: Decimal::ONE,
        used_by: UsedBy::Whole,
        consumed: cash,
        refund: zero,
    };
    let in_full = RefundBreakdown {
        cash,
        used_share: Decimal::ZERO,
        used_by: UsedBy::Nothing,
        consumed: zero,
        refund: cash,
    };
    if cash.amount <= Decimal::ZERO {
        return RefundBreakdown {
            cash: zero,
            consumed: zero,
            ..whole
        };
    }
    if now < period.starts_at {
        // A renewal that has not begun: nothing of it was used.
        return in_full;
    }
    match refund_type {
        RefundType::Nonrefundable => whole,
        RefundType::UnactivatedSubscriptionRefund => in_full,
        // "The cash of orders whose term has not ended."
        RefundType::FullRefundForUnusedResources if now >= period.ends_at => whole,
        RefundType::FullRefundForUnusedResources => in_full,
        RefundType::PartialRefund => {
            let length = period.ends_at - period.starts_at;
            if length <= DurationMs::ZERO || now >= period.ends_at {
                return whole;
            }
            let time_used = Decimal::from((now - period.starts_at).as_millis())
                / Decimal::from(length.as_millis());
            // A plan is used up by time or by what was drawn of it, whichever went further.
            let drawn = period.drawn.share();
            let (used, used_by) = if drawn > time_used {
                (drawn, UsedBy::Quota)
            } else {
                (time_used, UsedBy::Time)
            };
            // Rounded up, and never more than the cash: the refund is never over-paid nor
            // negative.
            let consumed = round_up_to_cent(cash.amount * used).min(cash.amount);
            RefundBreakdown {
                cash,
                used_share: used,
                used_by,
                consumed: Money::new(consumed, cash.currency),
                refund: Money::new(cash.amount - consumed, cash.currency),
            }
        }
    }
}

/// The cash refund for unsubscribing `period` at `now` (SPEC §5).
pub fn refund(period: &PaidPeriod, refund_type: RefundType, now: Millis) -> Money {
    refund_breakdown(period, refund_type, now).refund
}

/// Where a refund goes (seed 002): back to the card within 150 days of payment, to PayPal
/// within 180 days, otherwise (and for balance payments) to the account balance. Paytm, which
/// the seed does not list, follows the card rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RefundDestination {
    Card,
    Paypal,
    Paytm,
    Balance,
}

impl RefundDestination {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How an order was paid (`orders.paid_with`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PaidWith {
    Card,
    Paypal,
    Paytm,
    /// The account's cash balance.
    Balance,
    /// The free credit.
    Credit,
}

impl PaidWith {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl From<crate::api::PaymentMethodKind> for PaidWith {
    fn from(kind: crate::api::PaymentMethodKind) -> Self {
        use crate::api::PaymentMethodKind;
        match kind {
            PaymentMethodKind::Card => PaidWith::Card,
            PaymentMethodKind::Paypal => PaidWith::Paypal,
            PaymentMethodKind::Paytm => PaidWith::Paytm,
        }
    }
}

/// Where the refund of an order paid with `paid_with` at `paid_at` goes at `now`
/// ([`RefundDestination`] gives the windows).
pub fn refund_destination(paid_with: PaidWith, paid_at: Millis, now: Millis) -> RefundDestination {
    let within = |days: i64| now - paid_at <= DurationMs::days(days);
    match paid_with {
        PaidWith::Card if within(150) => RefundDestination::Card,
        PaidWith::Paytm if within(150) => RefundDestination::Paytm,
        PaidWith::Paypal if within(180) => RefundDestination::Paypal,
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
            starts_at: Millis(0),
            ends_at: Millis(30 * DAY),
            drawn: Drawn::NOTHING,
        }
    }

    /// A month of a plan of 500 GB, of which `drawn_milli` thousandths of a GB were drawn.
    fn plan_month(cash: &str, drawn_milli: i64) -> PaidPeriod {
        PaidPeriod {
            drawn: Drawn {
                amount: drawn_milli,
                quota: 500_000,
            },
            ..month(cash)
        }
    }

    proptest! {
        #[test]
        fn the_breakdown_adds_up_to_the_cash(
            cents in 0i64..10_000_000,
            at in -DAY..40 * DAY,
            drawn in 0i64..600_000,
            t in 0usize..4,
        ) {
            let b = refund_breakdown(&plan_month(&format!("{}.{:02}", cents / 100, cents % 100), drawn), RefundType::VARIANTS[t], Millis(at));
            prop_assert_eq!(b.consumed.amount + b.refund.amount, b.cash.amount);
            prop_assert!(b.used_share >= Decimal::ZERO && b.used_share <= Decimal::ONE);
        }
    }

    #[test]
    fn the_breakdown_names_what_used_the_period_up() {
        let by_time = refund_breakdown(
            &plan_month("100.00", 50_000),
            RefundType::PartialRefund,
            Millis(20 * DAY),
        );
        assert_eq!(
            (by_time.used_by, by_time.consumed, by_time.refund),
            (UsedBy::Time, usd("66.67"), usd("33.33"))
        );
        let by_quota = refund_breakdown(
            &plan_month("100.00", 250_000),
            RefundType::PartialRefund,
            Millis(10 * DAY),
        );
        assert_eq!(
            (by_quota.used_by, by_quota.used_share, by_quota.refund),
            (UsedBy::Quota, Decimal::new(5, 1), usd("50.00"))
        );
        let pending = refund_breakdown(&month("9.90"), RefundType::PartialRefund, Millis(-DAY));
        assert_eq!(
            (pending.used_by, pending.refund),
            (UsedBy::Nothing, usd("9.90"))
        );
        let none = refund_breakdown(&month("9.90"), RefundType::Nonrefundable, Millis(DAY));
        assert_eq!(
            (none.used_by, none.consumed, none.refund),
            (UsedBy::Whole, usd("9.90"), usd("0.00"))
        );
    }

    #[test]
    fn a_refund_types_query_name_is_its_api_name() {
        for &t in RefundType::VARIANTS {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }

    #[test]
    fn a_plan_with_nothing_drawn_refunds_by_time_alone() {
        assert_eq!(
            refund(
                &plan_month("100.00", 0),
                RefundType::PartialRefund,
                Millis(10 * DAY)
            ),
            usd("66.66")
        );
    }

    #[test]
    fn a_plan_is_consumed_by_time_or_by_what_was_drawn_whichever_went_further() {
        // 10 of 30 days is a third; 250 of 500 GB is a half: the half counts.
        assert_eq!(
            refund(
                &plan_month("100.00", 250_000),
                RefundType::PartialRefund,
                Millis(10 * DAY)
            ),
            usd("50.00")
        );
        // 20 of 30 days is two thirds (66.666… rounded up to 66.67); 50 GB is a tenth.
        assert_eq!(
            refund(
                &plan_month("100.00", 50_000),
                RefundType::PartialRefund,
                Millis(20 * DAY)
            ),
            usd("33.33")
        );
        // Drawn on the first instant: the drawn share alone, rounded up to the cent.
        assert_eq!(
            refund(
                &plan_month("100.00", 1),
                RefundType::PartialRefund,
                Millis(0)
            ),
            usd("99.99")
        );
    }

    #[test]
    fn a_plan_drawn_to_its_quota_or_past_it_refunds_nothing() {
        for drawn in [500_000, 500_001, 10_000_000] {
            assert_eq!(
                refund(
                    &plan_month("118.80", drawn),
                    RefundType::PartialRefund,
                    Millis(DAY)
                ),
                usd("0.00"),
                "{drawn}"
            );
        }
    }

    #[test]
    fn a_one_cent_plan_is_all_or_nothing() {
        // Any use at all rounds the consumed part up to the whole cent.
        assert_eq!(
            refund(&plan_month("0.01", 1), RefundType::PartialRefund, Millis(0)),
            usd("0.00")
        );
        assert_eq!(
            refund(&plan_month("0.01", 0), RefundType::PartialRefund, Millis(0)),
            usd("0.01")
        );
        assert_eq!(
            refund(
                &plan_month("0.01", 0),
                RefundType::FullRefundForUnusedResources,
                Millis(DAY)
            ),
            usd("0.01")
        );
    }

    #[test]
    fn the_issues_twelve_month_plan_cancelled_after_149_days_with_usage_drawn() {
        // 118.80 for 365 days; 149 days used is 48.50 (48.4997… rounded up); 300 of 500 GB
        // drawn is 71.28, the larger.
        let plan = PaidPeriod {
            cash: usd("118.80"),
            starts_at: Millis(0),
            ends_at: Millis(365 * DAY),
            drawn: Drawn {
                amount: 300_000,
                quota: 500_000,
            },
        };
        assert_eq!(
            refund(&plan, RefundType::PartialRefund, Millis(149 * DAY)),
            usd("47.52")
        );
        let little = PaidPeriod {
            drawn: Drawn {
                amount: 1_000,
                quota: 500_000,
            },
            ..plan
        };
        assert_eq!(
            refund(&little, RefundType::PartialRefund, Millis(149 * DAY)),
            usd("70.30")
        );
    }

    #[test]
    fn a_multi_order_plan_refunds_the_orders_whose_term_has_not_ended() {
        let ended = PaidPeriod {
            starts_at: Millis(-30 * DAY),
            ends_at: Millis(0),
            ..plan_month("9.90", 400_000)
        };
        let running = plan_month("9.90", 100_000);
        let pending = PaidPeriod {
            starts_at: Millis(30 * DAY),
            ends_at: Millis(60 * DAY),
            ..plan_month("9.90", 0)
        };
        let at = Millis(3 * DAY);
        let full = RefundType::FullRefundForUnusedResources;
        assert_eq!(refund(&ended, full, at), usd("0.00"));
        assert_eq!(refund(&running, full, at), usd("9.90"));
        assert_eq!(refund(&pending, full, at), usd("9.90"));
        let partial = RefundType::PartialRefund;
        assert_eq!(refund(&ended, partial, at), usd("0.00"));
        // 3 of 30 days is a tenth, 100 of 500 GB a fifth: 1.98 consumed.
        assert_eq!(refund(&running, partial, at), usd("7.92"));
        assert_eq!(refund(&pending, partial, at), usd("9.90"));
    }

    #[test]
    fn a_partial_refund_is_cash_minus_the_used_share_rounded_against_the_customer() {
        // 10 of 30 days used of 100.00: 33.333… consumed, rounded up to 33.34.
        assert_eq!(
            refund(
                &month("100.00"),
                RefundType::PartialRefund,
                Millis(10 * DAY)
            ),
            usd("66.66")
        );
        assert_eq!(
            refund(&month("90.00"), RefundType::PartialRefund, Millis(10 * DAY)),
            usd("60.00")
        );
    }

    #[test]
    fn at_the_first_instant_everything_and_at_the_last_nothing_is_refunded() {
        let p = month("100.00");
        assert_eq!(
            refund(&p, RefundType::PartialRefund, Millis(0)),
            usd("100.00")
        );
        // One millisecond in, a sliver is used: rounded up, it costs a cent.
        assert_eq!(
            refund(&p, RefundType::PartialRefund, Millis(1)),
            usd("99.99")
        );
        assert_eq!(
            refund(&p, RefundType::PartialRefund, Millis(30 * DAY - 1)),
            usd("0.00")
        );
        assert_eq!(
            refund(&p, RefundType::PartialRefund, Millis(30 * DAY)),
            usd("0.00")
        );
        assert_eq!(
            refund(&p, RefundType::PartialRefund, Millis(31 * DAY)),
            usd("0.00")
        );
    }

    #[test]
    fn a_leap_day_is_a_day_like_any_other() {
        // February 2028 has 29 days; after 28 of them, one day of 29 is left.
        let feb = PaidPeriod {
            cash: usd("29.00"),
            starts_at: Millis(0),
            ends_at: Millis(29 * DAY),
            drawn: Drawn::NOTHING,
        };
        assert_eq!(
            refund(&feb, RefundType::PartialRefund, Millis(28 * DAY)),
            usd("1.00")
        );
    }

    #[test]
    fn a_renewal_that_has_not_started_is_refunded_in_full_whatever_its_type() {
        let renewal = PaidPeriod {
            cash: usd("50.00"),
            starts_at: Millis(30 * DAY),
            ends_at: Millis(60 * DAY),
            drawn: Drawn::NOTHING,
        };
        for t in [RefundType::PartialRefund, RefundType::Nonrefundable] {
            assert_eq!(refund(&renewal, t, Millis(29 * DAY)), usd("50.00"));
        }
    }

    #[test]
    fn nonrefundable_refunds_nothing_and_unused_plans_refund_everything() {
        assert_eq!(
            refund(&month("100.00"), RefundType::Nonrefundable, Millis(DAY)),
            usd("0.00")
        );
        assert_eq!(
            refund(
                &month("100.00"),
                RefundType::UnactivatedSubscriptionRefund,
                Millis(20 * DAY)
            ),
            usd("100.00")
        );
        assert_eq!(
            refund(
                &month("100.00"),
                RefundType::FullRefundForUnusedResources,
                Millis(20 * DAY)
            ),
            usd("100.00")
        );
    }

    #[test]
    fn an_order_paid_only_with_credit_refunds_no_cash() {
        assert_eq!(
            refund(&month("0.00"), RefundType::PartialRefund, Millis(DAY)),
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
        assert_eq!(
            refund_destination(PaidWith::Card, Millis(0), Millis(150 * DAY)),
            Card
        );
        assert_eq!(
            refund_destination(PaidWith::Card, Millis(0), Millis(150 * DAY + 1)),
            Balance
        );
        assert_eq!(
            refund_destination(PaidWith::Paypal, Millis(0), Millis(180 * DAY)),
            Paypal
        );
        assert_eq!(
            refund_destination(PaidWith::Paypal, Millis(0), Millis(180 * DAY + 1)),
            Balance
        );
        assert_eq!(
            refund_destination(PaidWith::Balance, Millis(0), Millis(0)),
            Balance
        );
        assert_eq!(
            refund_destination(PaidWith::Paytm, Millis(0), Millis(DAY)),
            Paytm
        );
    }

    fn any_period() -> impl Strategy<Value = (PaidPeriod, Millis)> {
        (
            0i64..10_000_000,
            1i64..400,
            -5i64..500,
            0i64..DAY,
            prop_oneof![Just(0i64), 0i64..600_000],
        )
            .prop_map(|(cents, days, at_day, at_ms, drawn)| {
                let period = PaidPeriod {
                    cash: Money::from_minor(cents, Currency::USD),
                    starts_at: Millis(0),
                    ends_at: Millis(days * DAY),
                    drawn: Drawn {
                        amount: drawn,
                        quota: 500_000,
                    },
                };
                (period, Millis(at_day * DAY + at_ms))
            })
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
            let after = refund(&period, RefundType::PartialRefund, now + DurationMs(later));
            prop_assert!(after.amount <= earlier.amount);
        }

        #[test]
        fn more_drawn_never_refunds_more((period, now) in any_period(), more in 0i64..600_000) {
            let before = refund(&period, RefundType::PartialRefund, now);
            let drawn = Drawn { amount: period.drawn.amount + more, ..period.drawn };
            let after = refund(&PaidPeriod { drawn, ..period }, RefundType::PartialRefund, now);
            prop_assert!(after.amount <= before.amount);
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
