//! Money: a decimal amount with its currency, never a float. Amounts of different currencies
//! never add up silently; rounding rules live here, named for what they do.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Currency {
    USD,
    CNY,
    MYR,
    INR,
    EUR,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::USD => "USD",
            Currency::CNY => "CNY",
            Currency::MYR => "MYR",
            Currency::INR => "INR",
            Currency::EUR => "EUR",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            Currency::USD,
            Currency::CNY,
            Currency::MYR,
            Currency::INR,
            Currency::EUR,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }

    /// Digits after the decimal point of the currency's smallest unit.
    pub fn minor_digits(self) -> u32 {
        2
    }
}

/// An amount in a currency. In JSON: `{"amount": "12.34", "currency": "USD"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    #[serde(
        serialize_with = "amount_to_cents_string",
        deserialize_with = "rust_decimal::serde::str::deserialize"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "300.00"))]
    pub amount: Decimal,
    pub currency: Currency,
}

/// Amounts travel with exactly the currency's two decimals: `"0.00"`, never `"0"`.
fn amount_to_cents_string<S: serde::Serializer>(
    amount: &Decimal,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut scaled = *amount;
    scaled.rescale(2);
    serializer.serialize_str(&scaled.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrencyMismatch(pub Currency, pub Currency);

impl fmt::Display for CurrencyMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot combine {} with {}", self.0.code(), self.1.code())
    }
}

impl std::error::Error for CurrencyMismatch {}

/// An amount that cannot be kept as a whole number of minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotStorable {
    /// Finer than the currency's smallest unit: a rounding rule must be applied first.
    FinerThanMinorUnit(Money),
    /// Too large for the integer the database keeps.
    TooLarge(Money),
}

impl fmt::Display for NotStorable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotStorable::FinerThanMinorUnit(m) => write!(f, "{m} is finer than one cent"),
            NotStorable::TooLarge(m) => write!(f, "{m} is too large"),
        }
    }
}

impl std::error::Error for NotStorable {}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money {
            amount: Decimal::ZERO,
            currency,
        }
    }

    /// From the integer of minor units the database keeps (`100` USD cents = 1.00 USD).
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Money {
            amount: Decimal::new(minor, currency.minor_digits()),
            currency,
        }
    }

    /// To minor units, for storage. Refuses an amount finer than the currency's smallest
    /// unit: rounding must be decided by a named rule before anything is stored.
    pub fn to_minor(self) -> Result<i64, NotStorable> {
        let scaled = self.amount * Decimal::from(10i64.pow(self.currency.minor_digits()));
        if scaled.fract() != Decimal::ZERO {
            return Err(NotStorable::FinerThanMinorUnit(self));
        }
        i64::try_from(scaled).map_err(|_| NotStorable::TooLarge(self))
    }

    pub fn checked_add(self, other: Money) -> Result<Money, CurrencyMismatch> {
        if self.currency != other.currency {
            return Err(CurrencyMismatch(self.currency, other.currency));
        }
        Ok(Money {
            amount: self.amount + other.amount,
            currency: self.currency,
        })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, CurrencyMismatch> {
        self.checked_add(Money {
            amount: -other.amount,
            currency: other.currency,
        })
    }

    /// The sum of `amounts`, as a total shown beside a list of them: none when the list is
    /// empty or mixes currencies (a total of two currencies is no amount at all).
    pub fn total(amounts: impl IntoIterator<Item = Money>) -> Option<Money> {
        let mut amounts = amounts.into_iter();
        let first = amounts.next()?;
        amounts.try_fold(first, |sum, m| sum.checked_add(m).ok())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.amount.round_dp_with_strategy(
            self.currency.minor_digits(),
            RoundingStrategy::MidpointAwayFromZero,
        );
        write!(f, "{} {:.2}", self.currency.code(), shown)
    }
}

/// Rounds up to the cent (toward +∞): for what the customer consumed, so a refund computed as
/// "paid minus consumed" is never more than it should be.
pub fn round_up_to_cent(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::ToPositiveInfinity)
}

/// Rounds down to the cent (toward −∞).
pub fn round_down_to_cent(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::ToNegativeInfinity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn minor_units_round_trip_exactly() {
        for minor in [0, 1, 99, 100, 12_345, -250, i64::from(i32::MAX)] {
            assert_eq!(
                Money::from_minor(minor, Currency::USD).to_minor().unwrap(),
                minor
            );
        }
        assert_eq!(Money::from_minor(100, Currency::MYR).amount, d("1.00"));
    }

    #[test]
    fn storing_refuses_fractions_of_a_cent() {
        assert!(Money::new(d("0.001"), Currency::USD).to_minor().is_err());
        assert_eq!(Money::new(d("0.010"), Currency::USD).to_minor().unwrap(), 1);
    }

    #[test]
    fn different_currencies_never_add() {
        let usd = Money::from_minor(100, Currency::USD);
        let cny = Money::from_minor(100, Currency::CNY);
        assert_eq!(
            usd.checked_add(cny),
            Err(CurrencyMismatch(Currency::USD, Currency::CNY))
        );
        assert_eq!(
            usd.checked_add(usd).unwrap(),
            Money::from_minor(200, Currency::USD)
        );
        assert_eq!(usd.checked_sub(usd).unwrap(), Money::zero(Currency::USD));
    }

    #[test]
    fn a_total_is_of_one_currency_or_none() {
        let usd = |minor| Money::from_minor(minor, Currency::USD);
        assert_eq!(Money::total([]), None);
        assert_eq!(Money::total([usd(150)]), Some(usd(150)));
        assert_eq!(Money::total([usd(150), usd(250)]), Some(usd(400)));
        let cny = Money::from_minor(100, Currency::CNY);
        assert_eq!(Money::total([usd(150), cny, usd(250)]), None);
    }

    #[test]
    fn rounding_up_goes_toward_positive_infinity_at_the_cent() {
        assert_eq!(round_up_to_cent(d("1.001")), d("1.01"));
        assert_eq!(round_up_to_cent(d("1.009")), d("1.01"));
        assert_eq!(round_up_to_cent(d("1.010")), d("1.01"));
        assert_eq!(round_up_to_cent(d("0.0000001")), d("0.01"));
        assert_eq!(round_up_to_cent(d("-1.019")), d("-1.01"));
        assert_eq!(round_up_to_cent(Decimal::ZERO), Decimal::ZERO);
    }

    #[test]
    fn rounding_down_goes_toward_negative_infinity_at_the_cent() {
        assert_eq!(round_down_to_cent(d("1.019")), d("1.01"));
        assert_eq!(round_down_to_cent(d("-1.011")), d("-1.02"));
    }

    #[test]
    fn json_carries_the_amount_as_a_string() {
        let m = Money::from_minor(30_000, Currency::USD);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"300.00","currency":"USD"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        assert_eq!(m.to_string(), "USD 300.00");
        let zero = serde_json::to_value(Money::new(Decimal::ZERO, Currency::USD)).unwrap();
        assert_eq!(zero["amount"], "0.00");
    }
}
