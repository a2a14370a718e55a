//! What the console sells (SPEC §4): a small catalog and its regions.

use crate::error::{ErrorCode, Invalid};
use crate::money::{Currency, Money};
use crate::refund::ResourceKind;
use crate::time::DurationMs;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

#[derive(Debug, PartialEq, Eq)]
pub struct Product {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: ResourceKind,
    /// Whether a started subscription refunds its unused part.
    pub refundable: bool,
    /// USD cents per month of subscription.
    pub monthly_cents: i64,
    /// USD per hour of pay-as-you-go use, in hundredths of a cent; `None` when not sold so.
    pub hourly_centi_cents: Option<i64>,
    /// Subscription lengths offered, in months.
    pub periods: &'static [u32],
    /// What pay-as-you-go use of the product is measured in, and (for a resource plan) how much
    /// of it each paid period of the plan holds (SPEC §5); `None` when nothing draws on a plan.
    pub quota: Option<Quota>,
}

/// A resource plan's quota of its product's pay-as-you-go usage (SPEC §5: "500 GB of OSS
/// storage"), and how much of it an hour of pay-as-you-go use takes. Amounts are kept in
/// thousandths of the unit, so that part of an hour draws its part.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Quota {
    /// Each paid period of a plan holds this many units.
    pub units: i64,
    pub unit: &'static str,
    /// Units one hour of pay-as-you-go use meters. The simulator has no storage to measure,
    /// so a pay-as-you-go OSS bucket is taken to store this much an hour.
    pub units_per_hour: i64,
}

/// Thousandths of a quota's unit in one unit.
pub const MILLI: i64 = 1_000;

/// Thousandths of a unit as people read them: `1500` is "1.5", `500000` is "500".
pub fn milli_units(milli: i64) -> String {
    Decimal::new(milli, 3).normalize().to_string()
}

/// The domain name registration's product code: the closure asks for its own kind of tie
/// (seed 001: unexpired domain names are transferred out, not unsubscribed).
pub const DOMAIN: &str = "domain";

pub static PRODUCTS: &[Product] = &[
    Product {
        code: "ecs",
        name: "Elastic Compute Service (ECS)",
        kind: ResourceKind::RegularCloudResource,
        refundable: true,
        monthly_cents: 20_00,
        hourly_centi_cents: Some(5_00),
        periods: &[1, 3, 6, 12],
        quota: None,
    },
    Product {
        code: "rds",
        name: "ApsaraDB RDS",
        kind: ResourceKind::RegularCloudResource,
        refundable: true,
        monthly_cents: 35_00,
        hourly_centi_cents: Some(8_00),
        periods: &[1, 3, 6, 12],
        quota: None,
    },
    Product {
        code: "oss",
        name: "OSS storage plan (500 GB)",
        kind: ResourceKind::ResourcePlan,
        refundable: true,
        monthly_cents: 9_90,
        // Pay-as-you-go storage: 2 cents an hour, for the GB it meters in that hour.
        hourly_centi_cents: Some(2_00),
        periods: &[1, 6, 12],
        quota: Some(Quota {
            units: 500,
            unit: "GB",
            units_per_hour: 1,
        }),
    },
    Product {
        code: DOMAIN,
        name: "Domain name registration",
        kind: ResourceKind::RegularCloudResource,
        refundable: false,
        monthly_cents: 1_00,
        hourly_centi_cents: None,
        periods: &[12],
        quota: None,
    },
];

impl Product {
    pub fn find(code: &str) -> Option<&'static Product> {
        PRODUCTS.iter().find(|p| p.code == code)
    }

    /// A subscription period, in months, that the product is sold for (buying or renewing).
    pub fn check_period(&self, months: u32) -> Result<(), crate::FieldError> {
        if self.periods.contains(&months) {
            Ok(())
        } else {
            Err(Invalid::new(
                ErrorCode::InvalidProduct,
                format!("Choose a period of {} months.", join(self.periods)),
            )
            .at("period_months"))
        }
    }

    pub fn price(&self, months: u32) -> Money {
        Money::from_minor(self.monthly_cents * i64::from(months), Currency::USD)
    }

    /// The charge for `used` of pay-as-you-go use, rounded up to the cent.
    pub fn usage_charge(&self, used: DurationMs) -> Option<Money> {
        self.usage_charge_after_plan(used, 0)
    }

    /// The usage `used` of pay-as-you-go use meters, in thousandths of the quota's unit,
    /// rounded up (a started thousandth counts); 0 for a product without a quota.
    pub fn metered_milli(&self, used: DurationMs) -> i64 {
        let Some(quota) = self.quota else { return 0 };
        let per_hour = quota.units_per_hour * MILLI;
        // i128: a long outage's catch-up must not overflow.
        let hour = i128::from(DurationMs::hours(1).as_millis());
        let metered =
            (i128::from(per_hour) * i128::from(used.as_millis().max(0)) + hour - 1) / hour;
        i64::try_from(metered).unwrap_or(i64::MAX)
    }

    /// The charge for `used` of pay-as-you-go use of which plans covered `drawn_milli`: the
    /// part left over, at the hourly price, rounded up to the cent (SPEC §5: usage draws on an
    /// active plan before it is billed).
    pub fn usage_charge_after_plan(&self, used: DurationMs, drawn_milli: i64) -> Option<Money> {
        let hourly = Decimal::new(self.hourly_centi_cents?, 4);
        let full = hourly * Decimal::from(used.as_millis())
            / Decimal::from(DurationMs::hours(1).as_millis());
        let metered = self.metered_milli(used);
        let left = if metered > 0 {
            let billed = (metered - drawn_milli).clamp(0, metered);
            full * Decimal::from(billed) / Decimal::from(metered)
        } else {
            full
        };
        Some(Money::new(
            crate::money::round_up_to_cent(left),
            Currency::USD,
        ))
    }

    /// A plan's quota for one paid period, in thousandths of its unit; 0 without a quota.
    pub fn quota_milli(&self) -> i64 {
        self.quota.map_or(0, |q| q.units * MILLI)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
    /// Buying here needs real-name registration.
    pub mainland_china: bool,
}

pub static REGIONS: &[Region] = &[
    Region {
        code: "ap-southeast-1",
        name: "Singapore",
        mainland_china: false,
    },
    Region {
        code: "us-west-1",
        name: "US (Silicon Valley)",
        mainland_china: false,
    },
    Region {
        code: "eu-central-1",
        name: "Germany (Frankfurt)",
        mainland_china: false,
    },
    Region {
        code: "cn-hongkong",
        name: "China (Hong Kong)",
        mainland_china: false,
    },
    Region {
        code: "cn-hangzhou",
        name: "China (Hangzhou)",
        mainland_china: true,
    },
    Region {
        code: "cn-beijing",
        name: "China (Beijing)",
        mainland_china: true,
    },
];

impl Region {
    pub fn find(code: &str) -> Option<&'static Region> {
        REGIONS.iter().find(|r| r.code == code)
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Billing {
    #[default]
    Subscription,
    Payg,
}

impl Billing {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PayWith {
    /// The default payment method.
    #[default]
    DefaultMethod,
    /// The account's cash balance.
    Balance,
    /// The free credit.
    Credit,
}

/// `POST /api/orders`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PurchaseForm {
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::product_code, required = true)
    )]
    pub product: String,
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::openapi::region_code, required = true)
    )]
    pub region: String,
    pub billing: Billing,
    /// Subscription length; ignored for pay-as-you-go.
    pub period_months: u32,
    pub auto_renew: bool,
    pub pay_with: PayWith,
    /// A coupon of the account to take off the price first (subscriptions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Purchase {
    pub product: &'static Product,
    pub region: &'static Region,
    pub billing: Billing,
    pub period_months: u32,
    pub auto_renew: bool,
    pub pay_with: PayWith,
    pub coupon_id: Option<String>,
}

impl PurchaseForm {
    pub fn parse(&self) -> Result<Purchase, crate::FieldError> {
        let product = Product::find(&self.product).ok_or_else(|| {
            Invalid::new(
                ErrorCode::InvalidProduct,
                "Choose a product from the catalog.",
            )
            .at("product")
        })?;
        let region = Region::find(&self.region).ok_or_else(|| {
            Invalid::new(ErrorCode::InvalidProduct, "Choose a region from the list.").at("region")
        })?;
        let billing = self.billing;
        if billing == Billing::Payg && product.hourly_centi_cents.is_none() {
            return Err(Invalid::new(
                ErrorCode::InvalidProduct,
                format!("{} is sold by subscription only.", product.name),
            )
            .at("billing"));
        }
        if billing == Billing::Subscription {
            product.check_period(self.period_months)?;
        }
        Ok(Purchase {
            product,
            region,
            billing,
            period_months: if billing == Billing::Payg {
                0
            } else {
                self.period_months
            },
            auto_renew: self.auto_renew && billing == Billing::Subscription,
            pay_with: self.pay_with,
            coupon_id: self
                .coupon_id
                .clone()
                .filter(|c| !c.is_empty() && billing == Billing::Subscription),
        })
    }
}

fn join(periods: &[u32]) -> String {
    let all: Vec<String> = periods.iter().map(u32::to_string).collect();
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => all.join(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_multiply_by_months() {
        assert_eq!(
            Product::find("ecs").unwrap().price(12),
            Money::from_minor(240_00, Currency::USD)
        );
    }

    #[test]
    fn usage_is_charged_by_the_hour_rounded_up_to_the_cent() {
        let ecs = Product::find("ecs").unwrap();
        assert_eq!(
            ecs.usage_charge(DurationMs::hours(1)),
            Some(Money::from_minor(5, Currency::USD))
        );
        assert_eq!(
            ecs.usage_charge(DurationMs::millis(1)),
            Some(Money::from_minor(1, Currency::USD))
        );
        assert_eq!(
            ecs.usage_charge(DurationMs::ZERO),
            Some(Money::zero(Currency::USD))
        );
        assert_eq!(
            Product::find("domain")
                .unwrap()
                .usage_charge(DurationMs::hours(1)),
            None
        );
    }

    #[test]
    fn oss_usage_meters_a_gb_an_hour_and_bills_only_what_no_plan_covered() {
        let oss = Product::find("oss").unwrap();
        let hour = DurationMs::hours(1);
        assert_eq!(oss.quota_milli(), 500_000);
        assert_eq!(oss.metered_milli(hour), 1_000);
        assert_eq!(oss.metered_milli(DurationMs::ZERO), 0);
        // A started thousandth of a GB counts.
        assert_eq!(oss.metered_milli(DurationMs::millis(1)), 1);
        assert_eq!(Product::find("ecs").unwrap().metered_milli(hour), 0);
        let cents = |c| Some(Money::from_minor(c, Currency::USD));
        assert_eq!(oss.usage_charge(hour), cents(2));
        assert_eq!(oss.usage_charge_after_plan(hour, 1_000), cents(0));
        // Half drawn: a cent of the two left, exactly.
        assert_eq!(oss.usage_charge_after_plan(hour, 500), cents(1));
        // A sliver left over still costs a cent, rounded up.
        assert_eq!(oss.usage_charge_after_plan(hour, 999), cents(1));
        // Drawn past what was metered, or nothing: never below zero nor above the full price.
        assert_eq!(oss.usage_charge_after_plan(hour, 5_000), cents(0));
        assert_eq!(oss.usage_charge_after_plan(hour, -1), cents(2));
        assert_eq!(milli_units(1_500), "1.5");
        assert_eq!(milli_units(500_000), "500");
        assert_eq!(milli_units(1), "0.001");
    }

    #[test]
    fn a_purchase_needs_a_known_product_region_and_period() {
        let form = PurchaseForm {
            product: "ecs".into(),
            region: "ap-southeast-1".into(),
            period_months: 1,
            ..Default::default()
        };
        assert!(form.parse().is_ok());
        assert_eq!(
            PurchaseForm {
                product: "vm".into(),
                ..form.clone()
            }
            .parse()
            .unwrap_err()
            .field,
            "product"
        );
        assert_eq!(
            PurchaseForm {
                region: "mars-1".into(),
                ..form.clone()
            }
            .parse()
            .unwrap_err()
            .field,
            "region"
        );
        let bad_period = PurchaseForm {
            period_months: 2,
            ..form.clone()
        }
        .parse()
        .unwrap_err();
        assert_eq!(bad_period.field, "period_months");
        assert!(
            bad_period.message.contains("1, 3, 6 or 12"),
            "{}",
            bad_period.message
        );
        let payg_domain = PurchaseForm {
            product: "domain".into(),
            billing: Billing::Payg,
            ..form.clone()
        };
        assert_eq!(payg_domain.parse().unwrap_err().field, "billing");
        let payg = PurchaseForm {
            billing: Billing::Payg,
            auto_renew: true,
            period_months: 7,
            ..form
        }
        .parse()
        .unwrap();
        assert_eq!((payg.period_months, payg.auto_renew), (0, false));
    }
}
