//! Money as people read it, through `Intl.NumberFormat` in the browser's language: the
//! currency's code (`$` alone is several currencies), digits grouped, the currency's decimals.

use shared::money::Money;

/// The exact decimal `shared` shows (rounded to the currency's minor unit), without the code:
/// `Intl` is given this string, never a float, so no cent is lost on the way.
fn decimal(m: &Money) -> String {
    let text = m.to_string(); // "USD 1234.50"
    match text.split_once(' ') {
        Some((_, amount)) => amount.to_owned(),
        None => text,
    }
}

/// `USD 1,234.50` in en-US, `1.234,50 USD` in de-DE.
pub fn money(m: &Money) -> String {
    let code = m.currency.code();
    crate::components::intl::number(
        &decimal(m),
        &[
            ("style", "currency"),
            ("currency", code),
            ("currencyDisplay", "code"),
        ],
    )
    .map(|text| plain_spaces(&text))
    .unwrap_or_else(|| m.to_string())
}

/// Intl joins the code and the digits with a no-break space (U+00A0, or U+202F in some
/// locales). A plain space instead: an amount copied into a search box, a spreadsheet or
/// `<option>` label matches what people type; where an amount must not break (table cells),
/// the page's style says so.
fn plain_spaces(text: &str) -> String {
    text.replace(['\u{a0}', '\u{202f}'], " ")
}

/// `$300` for a whole number of US dollars (the banner's wording), else as [`money`].
pub fn headline(m: &Money) -> String {
    if m.currency == shared::money::Currency::USD && m.amount.fract().is_zero() {
        crate::components::intl::number(
            &m.amount.trunc().to_string(),
            &[
                ("style", "currency"),
                ("currency", "USD"),
                ("currencyDisplay", "narrowSymbol"),
                ("minimumFractionDigits", "0"),
                ("maximumFractionDigits", "0"),
            ],
        )
        .unwrap_or_else(|| format!("${}", m.amount.trunc()))
    } else {
        money(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::money::Currency;

    #[test]
    fn no_break_spaces_become_plain_ones() {
        assert_eq!(plain_spaces("USD\u{a0}1,234.50"), "USD 1,234.50");
        assert_eq!(plain_spaces("1\u{202f}234,50\u{a0}USD"), "1 234,50 USD");
    }

    #[test]
    fn intl_is_given_the_exact_decimal() {
        assert_eq!(
            decimal(&Money::from_minor(123_456_78, Currency::USD)),
            "123456.78"
        );
        assert_eq!(
            decimal(&Money::from_minor(-1_000_00, Currency::USD)),
            "-1000.00"
        );
        assert_eq!(decimal(&Money::from_minor(0, Currency::USD)), "0.00");
        // Beyond f64's exact integers, the cents survive.
        assert_eq!(
            decimal(&Money::from_minor(9_007_199_254_740_993, Currency::USD)),
            "90071992547409.93"
        );
    }
}
