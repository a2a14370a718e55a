//! Exchange rates to CNY, for the closure limits (SPEC §6). Shipped as `data/cny_rates.csv`.

use rust_decimal::Decimal;
use shared::money::{Currency, Money};
use std::collections::HashMap;
use std::str::FromStr;

pub struct CnyRates(HashMap<Currency, Decimal>);

impl CnyRates {
    pub fn shipped() -> anyhow::Result<Self> {
        Self::from_csv(include_str!("../data/cny_rates.csv"))
    }

    pub fn from_csv(csv: &str) -> anyhow::Result<Self> {
        let mut rates = HashMap::new();
        for line in csv
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .skip(1)
        {
            let (code, rate) = line
                .split_once(',')
                .ok_or_else(|| anyhow::anyhow!("bad rate line {line}"))?;
            let currency = Currency::parse(code.trim())
                .ok_or_else(|| anyhow::anyhow!("unknown currency {code}"))?;
            let rate = Decimal::from_str(rate.trim())?;
            anyhow::ensure!(rate > Decimal::ZERO, "rate for {code} must be positive");
            rates.insert(currency, rate);
        }
        Ok(CnyRates(rates))
    }

    /// The amount in CNY, rounded up to the fen. A currency without a rate is an error.
    pub fn to_cny(&self, amount: Money) -> anyhow::Result<Money> {
        let rate = self
            .0
            .get(&amount.currency)
            .ok_or_else(|| anyhow::anyhow!("no CNY rate for {}", amount.currency.code()))?;
        Ok(shared::closure::to_cny(amount, *rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rates_cover_every_currency() {
        let rates = CnyRates::shipped().unwrap();
        for c in [
            Currency::USD,
            Currency::CNY,
            Currency::MYR,
            Currency::INR,
            Currency::EUR,
        ] {
            assert!(
                rates.to_cny(Money::from_minor(100, c)).is_ok(),
                "{}",
                c.code()
            );
        }
        assert_eq!(
            rates.to_cny(Money::from_minor(100, Currency::USD)).unwrap(),
            Money::from_minor(710, Currency::CNY)
        );
    }

    #[test]
    fn bad_rate_tables_are_refused() {
        assert!(CnyRates::from_csv("currency,cny_per_unit\nXYZ,1\n").is_err());
        assert!(CnyRates::from_csv("currency,cny_per_unit\nUSD,0\n").is_err());
        assert!(CnyRates::from_csv("currency,cny_per_unit\nUSD\n").is_err());
    }
}
