//! Money as people read it: the currency code, thousands grouped, always two decimals.

use shared::money::Money;

/// `USD 1,234.50`. The code rather than a symbol: `$` alone is several currencies.
pub fn money(m: &Money) -> String {
    let text = m.to_string(); // "USD 1234.50", rounded to the cent by `shared`
    let Some((code, amount)) = text.split_once(' ') else {
        return text;
    };
    let (sign, digits) = match amount.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", amount),
    };
    let (whole, cents) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{code} {sign}{grouped}.{cents}")
}

/// `$300` for a whole number of US dollars (the banner's wording), else as [`money`].
pub fn headline(m: &Money) -> String {
    if m.currency == shared::money::Currency::USD && m.amount.fract().is_zero() {
        format!("${}", m.amount.trunc())
    } else {
        money(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::money::Currency;

    #[test]
    fn groups_thousands_and_keeps_cents() {
        assert_eq!(
            money(&Money::from_minor(123_456_78, Currency::USD)),
            "USD 123,456.78"
        );
        assert_eq!(money(&Money::from_minor(100, Currency::MYR)), "MYR 1.00");
        assert_eq!(
            money(&Money::from_minor(-1_000_00, Currency::USD)),
            "USD -1,000.00"
        );
        assert_eq!(money(&Money::from_minor(0, Currency::USD)), "USD 0.00");
    }

    #[test]
    fn whole_dollars_read_as_the_banner_says() {
        assert_eq!(headline(&Money::from_minor(300_00, Currency::USD)), "$300");
        assert_eq!(
            headline(&Money::from_minor(300_50, Currency::USD)),
            "USD 300.50"
        );
    }
}
