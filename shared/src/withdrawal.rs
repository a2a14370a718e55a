//! Withdrawing the balance (SPEC §6.5): cash in the balance, never credit or coupons, paid out
//! to a verified card or PayPal of the account, as a refund-like payout (Processing → Paid).
//! The rule for the amount lives here once: the page checks it before sending, the server
//! again, and the server checks the balance a second time inside the transaction that debits it.

use crate::error::{ErrorCode, FieldError, Invalid, collect_errors};
use crate::money::{Currency, Money};
use rust_decimal::Decimal;
use std::str::FromStr;

/// An amount asked to be withdrawn: more than zero, whole cents of the currency, and not above
/// the cash that can be withdrawn. Only [`WithdrawalAmount::parse`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithdrawalAmount(Money);

impl WithdrawalAmount {
    /// `raw` as typed (`"12.30"`, `"12.3"`, `" 12 "`), in the currency of `withdrawable`.
    pub fn parse(raw: &str, withdrawable: Money) -> Result<WithdrawalAmount, Invalid> {
        let currency = withdrawable.currency;
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(Invalid::new(
                ErrorCode::FieldRequired,
                "Enter the amount to withdraw.",
            ));
        }
        let amount = Decimal::from_str(raw)
            .ok()
            .filter(|_| {
                raw.chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            })
            .ok_or_else(|| {
                Invalid::new(
                    ErrorCode::AmountInvalid,
                    "Enter an amount in figures, such as 120.50.",
                )
            })?;
        if amount <= Decimal::ZERO {
            return Err(Invalid::new(
                ErrorCode::AmountInvalid,
                "Enter an amount greater than zero.",
            ));
        }
        if amount.normalize().scale() > currency.minor_digits() {
            return Err(Invalid::new(
                ErrorCode::AmountInvalid,
                format!(
                    "Enter the amount in whole cents: at most {} digits after the point.",
                    currency.minor_digits()
                ),
            ));
        }
        let amount = Money::new(amount, currency);
        if amount.amount > withdrawable.amount {
            return Err(insufficient_balance(withdrawable));
        }
        Ok(WithdrawalAmount(amount))
    }

    pub fn money(self) -> Money {
        self.0
    }
}

/// The refusal of an amount above the cash that can be withdrawn.
pub fn insufficient_balance(withdrawable: Money) -> Invalid {
    Invalid::new(
        ErrorCode::InsufficientBalance,
        format!("You can withdraw at most {withdrawable}: credit and coupons cannot be withdrawn."),
    )
}

/// The refusal of a destination that is not a card or PayPal of the account.
pub fn destination_invalid() -> FieldError {
    Invalid::new(
        ErrorCode::PayoutDestinationInvalid,
        "Choose one of your bank cards or your PayPal account.",
    )
    .at("payment_method_id")
}

/// A checked withdrawal: its amount, and the payment method it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalRequest {
    pub amount: Money,
    pub payment_method_id: String,
}

/// Checks a withdrawal form against the cash that can be withdrawn and the account's
/// destinations (the ids of its cards and PayPal): every bad field at once.
pub fn check(
    amount: &str,
    payment_method_id: &str,
    withdrawable: Money,
    destinations: &[&str],
) -> Result<WithdrawalRequest, Vec<FieldError>> {
    let parsed = WithdrawalAmount::parse(amount, withdrawable).map_err(|e| e.at("amount"));
    let destination = if destinations.contains(&payment_method_id) {
        Ok(payment_method_id.to_owned())
    } else {
        Err(destination_invalid())
    };
    match (parsed, destination) {
        (Ok(amount), Ok(payment_method_id)) => Ok(WithdrawalRequest {
            amount: amount.money(),
            payment_method_id,
        }),
        (amount, destination) => Err(collect_errors([amount.err(), destination.err()])),
    }
}

/// The account's currency of cash, as the withdrawable amount is kept.
pub const WITHDRAWAL_CURRENCY: Currency = Currency::USD;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(s: &str) -> Money {
        Money::new(Decimal::from_str(s).unwrap(), Currency::USD)
    }

    fn code(raw: &str, withdrawable: &str) -> ErrorCode {
        WithdrawalAmount::parse(raw, usd(withdrawable))
            .unwrap_err()
            .code
    }

    #[test]
    fn zero_negative_and_words_are_not_amounts() {
        assert_eq!(code("0", "10"), ErrorCode::AmountInvalid);
        assert_eq!(code("0.00", "10"), ErrorCode::AmountInvalid);
        assert_eq!(code("-1", "10"), ErrorCode::AmountInvalid);
        assert_eq!(code("ten", "10"), ErrorCode::AmountInvalid);
        assert_eq!(code("1e3", "10000"), ErrorCode::AmountInvalid);
        assert_eq!(code("  ", "10"), ErrorCode::FieldRequired);
    }

    #[test]
    fn an_amount_finer_than_a_cent_is_refused_but_trailing_zeros_are_not() {
        assert_eq!(code("1.005", "10"), ErrorCode::AmountInvalid);
        assert_eq!(
            WithdrawalAmount::parse("1.500", usd("10")).unwrap().money(),
            usd("1.5")
        );
    }

    #[test]
    fn the_whole_balance_can_be_withdrawn_but_not_a_cent_more() {
        assert_eq!(
            WithdrawalAmount::parse("12.34", usd("12.34"))
                .unwrap()
                .money(),
            usd("12.34")
        );
        assert_eq!(code("12.35", "12.34"), ErrorCode::InsufficientBalance);
    }

    #[test]
    fn a_destination_not_of_the_account_is_refused_with_the_amount() {
        let errors = check("99", "pm-other", usd("10"), &["pm-mine"]).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            fields,
            [
                ("amount", ErrorCode::InsufficientBalance),
                ("payment_method_id", ErrorCode::PayoutDestinationInvalid)
            ]
        );
    }

    proptest! {
        #[test]
        fn a_withdrawal_is_never_more_than_the_withdrawable_cash(
            cents in 1i64..10_000_000, available in 0i64..10_000_000,
        ) {
            let asked = Money::from_minor(cents, Currency::USD);
            let withdrawable = Money::from_minor(available, Currency::USD);
            match WithdrawalAmount::parse(&asked.amount.to_string(), withdrawable) {
                Ok(amount) => {
                    prop_assert!(amount.money().amount <= withdrawable.amount);
                    prop_assert_eq!(amount.money(), asked);
                }
                Err(e) => {
                    prop_assert!(cents > available);
                    prop_assert_eq!(e.code, ErrorCode::InsufficientBalance);
                }
            }
        }
    }
}
