//! Payment methods (SPEC §3): bank cards checked before any gateway sees them, PayPal, Paytm.

use crate::billing::{Address, AddressFields, AddressForm, optional_text, required_text};
use crate::error::{ErrorCode, FieldError, Invalid, collect_errors};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CardBrand {
    Visa,
    Mastercard,
    Amex,
    Jcb,
}

impl CardBrand {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            CardBrand::Visa,
            CardBrand::Mastercard,
            CardBrand::Amex,
            CardBrand::Jcb,
        ]
        .into_iter()
        .find(|b| b.as_str() == raw)
    }

    pub fn display_name(self) -> &'static str {
        match self {
            CardBrand::Visa => "VISA",
            CardBrand::Mastercard => "MasterCard",
            CardBrand::Amex => "American Express",
            CardBrand::Jcb => "JCB",
        }
    }

    /// The brand by issuer number range, and the lengths that brand issues.
    pub fn detect(digits: &str) -> Option<(CardBrand, &'static [usize])> {
        let prefix = |n: usize| {
            digits
                .get(..n)
                .and_then(|p| p.parse::<u32>().ok())
                .unwrap_or(0)
        };
        if digits.starts_with('4') {
            Some((CardBrand::Visa, &[13, 16, 19]))
        } else if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) {
            Some((CardBrand::Mastercard, &[16]))
        } else if matches!(prefix(2), 34 | 37) {
            Some((CardBrand::Amex, &[15]))
        } else if (3528..=3589).contains(&prefix(4)) {
            Some((CardBrand::Jcb, &[16, 17, 18, 19]))
        } else {
            None
        }
    }

    pub fn cvv_len(self) -> usize {
        if self == CardBrand::Amex { 4 } else { 3 }
    }
}

/// A card number that passed the brand, length and Luhn checks. Its `Debug` shows only the
/// last four digits: it must never reach a log or the database.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    digits: String,
    brand: CardBrand,
}

impl CardNumber {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.is_empty() {
            return Err(Invalid::new(
                ErrorCode::FieldRequired,
                "Enter the card number.",
            ));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) || !(12..=19).contains(&digits.len()) {
            return Err(Invalid::new(
                ErrorCode::InvalidCardNumber,
                "A card number has 12 to 19 digits.",
            ));
        }
        let Some((brand, lengths)) = CardBrand::detect(&digits) else {
            return Err(Invalid::new(
                ErrorCode::UnsupportedCardBrand,
                "We accept JCB, VISA, MasterCard and American Express cards.",
            ));
        };
        if !lengths.contains(&digits.len()) || !luhn_valid(&digits) {
            return Err(Invalid::new(
                ErrorCode::InvalidCardNumber,
                "This card number is not valid: check for a typo.",
            ));
        }
        Ok(CardNumber { digits, brand })
    }

    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    /// The issuer identification number (first six digits), for the BIN table.
    pub fn bin(&self) -> &str {
        &self.digits[..6]
    }

    /// The full number, for the gateway and the keyed fingerprint only.
    pub fn expose(&self) -> &str {
        &self.digits
    }
}

impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CardNumber({} ****{})",
            self.brand.as_str(),
            self.last4()
        )
    }
}

/// The Luhn (mod 10) check every card number carries in its last digit.
pub fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// The month a card stops working after: valid through its last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Expiry {
    pub month: u32,
    pub year: i32,
}

impl Expiry {
    /// `today` is (year, month) by the server's clock (or the browser's, before sending).
    pub fn parse(month: &str, year: &str, today: (i32, u32)) -> Result<Self, Invalid> {
        let bad = || {
            Invalid::new(
                ErrorCode::InvalidExpiry,
                "Enter the expiry date as MM and YY.",
            )
        };
        let month: u32 = month.trim().parse().map_err(|_| bad())?;
        let year_text = year.trim();
        let year: i32 = match year_text.len() {
            2 => 2000 + year_text.parse::<i32>().map_err(|_| bad())?,
            4 => year_text.parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        if (year, month) < today {
            return Err(Invalid::new(
                ErrorCode::CardExpired,
                "This card has expired. Use a card that is still valid.",
            ));
        }
        if year > today.0 + 20 {
            return Err(Invalid::new(
                ErrorCode::InvalidExpiry,
                "This expiry date is too far ahead: check the year.",
            ));
        }
        Ok(Expiry { month, year })
    }
}

/// The security code: used once for the verification hold, never stored, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Cvv(String);

impl Cvv {
    pub fn parse(raw: &str, brand: Option<CardBrand>) -> Result<Self, Invalid> {
        let cvv = raw.trim();
        let len = brand.map_or(3, CardBrand::cvv_len);
        let shape_ok = cvv.bytes().all(|b| b.is_ascii_digit());
        let len_ok = if brand.is_some() {
            cvv.len() == len
        } else {
            (3..=4).contains(&cvv.len())
        };
        if shape_ok && len_ok {
            Ok(Cvv(cvv.to_owned()))
        } else {
            let message = match brand {
                Some(CardBrand::Amex) => "Enter the 4-digit code on the front of the card.",
                Some(_) => "Enter the 3-digit code on the back of the card.",
                None => "Enter the card's 3- or 4-digit security code.",
            };
            Err(Invalid::new(ErrorCode::InvalidCvv, message))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Cvv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cvv(***)")
    }
}

/// `POST /api/payment-methods/cards`, as typed.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CardForm {
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub number: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub exp_month: String,
    /// Two or four digits.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub exp_year: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub cvv: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::person_name))]
    pub first_name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::person_name))]
    pub middle_name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::person_name))]
    pub last_name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::company_name))]
    pub company_name: String,
    /// Prefilled from the account's billing address; editable.
    pub billing_address: AddressForm,
}

impl std::fmt::Debug for CardForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardForm")
            .field("number", &"***")
            .field("cvv", &"***")
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct Card {
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvv: Cvv,
    pub holder: CardHolder,
}

/// The card's billing address travels inside the card form, and its errors are named so.
pub const CARD_ADDRESS: AddressFields = AddressFields {
    country: "billing_address.country",
    address_line1: "billing_address.address_line1",
    address_line2: "billing_address.address_line2",
    city: "billing_address.city",
    state: "billing_address.state",
    postal_code: "billing_address.postal_code",
};

impl CardForm {
    pub fn parse(&self, today: (i32, u32)) -> Result<Card, Vec<FieldError>> {
        let number = CardNumber::parse(&self.number);
        let expiry = Expiry::parse(&self.exp_month, &self.exp_year, today);
        let cvv = Cvv::parse(&self.cvv, number.as_ref().ok().map(CardNumber::brand));
        let holder = CardHolder::parse(
            [
                &self.first_name,
                &self.middle_name,
                &self.last_name,
                &self.company_name,
            ],
            &self.billing_address,
        );
        match (number, expiry, cvv, holder) {
            (Ok(number), Ok(expiry), Ok(cvv), Ok(holder)) => Ok(Card {
                number,
                expiry,
                cvv,
                holder,
            }),
            (number, expiry, cvv, holder) => {
                let mut errors = collect_errors([
                    number.err().map(|e| e.at("number")),
                    expiry.err().map(|e| e.at("exp_month")),
                    cvv.err().map(|e| e.at("cvv")),
                ]);
                errors.extend(holder.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

/// A card tokenized in the browser by the payment gateway's own script (production with
/// Stripe): its token stands for the number, expiry and CVV, which only the gateway sees; the
/// holder's fields are the card form's.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CardTokenForm {
    /// The gateway's token of the card (Stripe: a PaymentMethod id, `pm_…`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub token: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::person_name))]
    pub first_name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::person_name))]
    pub middle_name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::person_name))]
    pub last_name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::company_name))]
    pub company_name: String,
    /// Prefilled from the account's billing address; editable.
    pub billing_address: AddressForm,
}

impl std::fmt::Debug for CardTokenForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardTokenForm")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// The longest gateway token taken: Stripe's ids are well under it.
pub const CARD_TOKEN_MAX_CHARS: usize = 255;

impl CardTokenForm {
    /// The token (plain printable text, not a card number) and the holder.
    pub fn parse(&self) -> Result<(String, CardHolder), Vec<FieldError>> {
        let token = self.token.trim();
        let token = if token.is_empty() {
            Err(Invalid::new(
                ErrorCode::FieldRequired,
                "The card was not read. Enter it again.",
            ))
        } else if token.chars().count() > CARD_TOKEN_MAX_CHARS
            || !token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || token.chars().all(|c| c.is_ascii_digit())
        {
            Err(Invalid::new(
                ErrorCode::InvalidText,
                "This is not a card token of the payment gateway.",
            ))
        } else {
            Ok(token.to_owned())
        };
        let holder = CardHolder::parse(
            [
                &self.first_name,
                &self.middle_name,
                &self.last_name,
                &self.company_name,
            ],
            &self.billing_address,
        );
        match (token, holder) {
            (Ok(token), Ok(holder)) => Ok((token, holder)),
            (token, holder) => {
                let mut errors = collect_errors([token.err().map(|e| e.at("token"))]);
                errors.extend(holder.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

/// Whose card it is and where it bills: what the card form asks besides the card itself.
#[derive(Debug, Clone, PartialEq)]
pub struct CardHolder {
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub company_name: Option<String>,
    pub billing_address: Address,
}

impl CardHolder {
    /// First, middle, last and company name, and the billing address; each error at its field.
    fn parse(names: [&str; 4], address: &AddressForm) -> Result<CardHolder, Vec<FieldError>> {
        use crate::billing::{COMPANY_NAME_MAX_CHARS, PERSON_NAME_MAX_CHARS};
        let [first, middle, last, company] = names;
        let first = required_text(first, PERSON_NAME_MAX_CHARS, "first name");
        let middle = optional_text(middle, PERSON_NAME_MAX_CHARS, "middle name");
        let last = required_text(last, PERSON_NAME_MAX_CHARS, "last name");
        let company = optional_text(company, COMPANY_NAME_MAX_CHARS, "company name");
        let address = address.parse(&CARD_ADDRESS);
        match (first, middle, last, company, address) {
            (
                Ok(first_name),
                Ok(middle_name),
                Ok(last_name),
                Ok(company_name),
                Ok(billing_address),
            ) => Ok(CardHolder {
                first_name,
                middle_name,
                last_name,
                company_name,
                billing_address,
            }),
            (first, middle, last, company, address) => {
                let mut errors = collect_errors([
                    first.err().map(|e| e.at("first_name")),
                    middle.err().map(|e| e.at("middle_name")),
                    last.err().map(|e| e.at("last_name")),
                    company.err().map(|e| e.at("company_name")),
                ]);
                errors.extend(address.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: (i32, u32) = (2026, 11);

    #[test]
    fn luhn_accepts_known_good_numbers_and_refuses_a_changed_digit() {
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn brands_are_recognised_by_their_ranges() {
        let brand = |n: &str| CardNumber::parse(n).map(|c| c.brand()).map_err(|e| e.code);
        assert_eq!(brand("4111 1111 1111 1111"), Ok(CardBrand::Visa));
        assert_eq!(brand("5555-5555-5555-4444"), Ok(CardBrand::Mastercard));
        assert_eq!(brand("2223003122003222"), Ok(CardBrand::Mastercard));
        assert_eq!(brand("378282246310005"), Ok(CardBrand::Amex));
        assert_eq!(brand("3530111333300000"), Ok(CardBrand::Jcb));
        // Discover and UnionPay are not among the accepted brands.
        assert_eq!(
            brand("6011111111111117"),
            Err(ErrorCode::UnsupportedCardBrand)
        );
        assert_eq!(
            brand("6200000000000005"),
            Err(ErrorCode::UnsupportedCardBrand)
        );
    }

    #[test]
    fn mastercard_range_edges() {
        let is_mc =
            |prefix: &str| CardBrand::detect(prefix).map(|b| b.0) == Some(CardBrand::Mastercard);
        assert!(!is_mc("2220000000000000"));
        assert!(is_mc("2221000000000000"));
        assert!(is_mc("2720000000000000"));
        assert!(!is_mc("2721000000000000"));
        assert!(!is_mc("5000000000000000"));
        assert!(is_mc("5100000000000000"));
        assert!(!is_mc("5600000000000000"));
    }

    #[test]
    fn a_number_must_have_its_brand_length_and_check_digit() {
        let code = |n: &str| CardNumber::parse(n).map(|_| ()).map_err(|e| e.code);
        assert_eq!(code("41111111111111111"), Err(ErrorCode::InvalidCardNumber)); // 17 digits Visa
        assert_eq!(code("4111111111111112"), Err(ErrorCode::InvalidCardNumber));
        assert_eq!(code("4111abcd11111111"), Err(ErrorCode::InvalidCardNumber));
        assert_eq!(code(""), Err(ErrorCode::FieldRequired));
    }

    #[test]
    fn debug_shows_only_the_last_four() {
        let n = CardNumber::parse("4111111111111111").unwrap();
        assert_eq!(format!("{n:?}"), "CardNumber(visa ****1111)");
        assert_eq!(n.bin(), "411111");
    }

    #[test]
    fn expiry_is_valid_through_its_month() {
        assert_eq!(
            Expiry::parse("11", "26", TODAY),
            Ok(Expiry {
                month: 11,
                year: 2026
            })
        );
        assert_eq!(
            Expiry::parse("10", "2026", TODAY).unwrap_err().code,
            ErrorCode::CardExpired
        );
        assert_eq!(
            Expiry::parse("12", "25", TODAY).unwrap_err().code,
            ErrorCode::CardExpired
        );
        assert!(Expiry::parse("01", "27", TODAY).is_ok());
        assert_eq!(
            Expiry::parse("13", "27", TODAY).unwrap_err().code,
            ErrorCode::InvalidExpiry
        );
        assert_eq!(
            Expiry::parse("0", "27", TODAY).unwrap_err().code,
            ErrorCode::InvalidExpiry
        );
        assert_eq!(
            Expiry::parse("1", "270", TODAY).unwrap_err().code,
            ErrorCode::InvalidExpiry
        );
        assert!(Expiry::parse("12", "2046", TODAY).is_ok());
        assert_eq!(
            Expiry::parse("12", "2047", TODAY).unwrap_err().code,
            ErrorCode::InvalidExpiry
        );
    }

    #[test]
    fn cvv_length_follows_the_brand() {
        assert!(Cvv::parse("123", Some(CardBrand::Visa)).is_ok());
        assert!(Cvv::parse("1234", Some(CardBrand::Visa)).is_err());
        assert!(Cvv::parse("1234", Some(CardBrand::Amex)).is_ok());
        assert!(Cvv::parse("123", Some(CardBrand::Amex)).is_err());
        assert!(Cvv::parse("12a", None).is_err());
        assert_eq!(
            format!("{:?}", Cvv::parse("123", None).unwrap()),
            "Cvv(***)"
        );
    }

    #[test]
    fn a_card_form_reports_every_field_including_its_address() {
        let form = CardForm {
            number: "4111111111111111".into(),
            exp_month: "11".into(),
            exp_year: "30".into(),
            ..Default::default()
        };
        let fields: Vec<_> = form
            .parse(TODAY)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec![
                "cvv",
                "first_name",
                "last_name",
                "billing_address.country",
                "billing_address.address_line1",
                "billing_address.city",
                "billing_address.state"
            ]
        );
        assert!(!format!("{form:?}").contains("4111"));
    }
}
