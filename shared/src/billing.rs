//! The billing address (SPEC §2): used for tax, settlement and invoices only.

use crate::country::Country;
use crate::error::{ErrorCode, FieldError, Invalid, collect_errors};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AccountType {
    #[default]
    Individual,
    Corporate,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "individual" => Some(AccountType::Individual),
            "corporate" => Some(AccountType::Corporate),
            _ => None,
        }
    }
}

/// A postal address as typed: the billing address's, or a card's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct AddressForm {
    /// ISO 3166-1 alpha-2.
    #[cfg_attr(feature = "openapi", schema(value_type = Country))]
    pub country: String,
    /// Street, P.O. box, company name.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::address_line))]
    pub address_line1: String,
    /// Apartment, suite, unit, building.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::address_line))]
    pub address_line2: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::place_name))]
    pub city: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::place_name))]
    pub state: String,
    pub postal_code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    pub country: String,
    pub address_line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    pub city: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

/// The names of an address's fields in a request, for its errors.
pub struct AddressFields {
    pub country: &'static str,
    pub address_line1: &'static str,
    pub address_line2: &'static str,
    pub city: &'static str,
    pub state: &'static str,
    pub postal_code: &'static str,
}

impl AddressFields {
    /// At the top of the request, as in the billing address.
    pub const TOP: AddressFields = AddressFields {
        country: "country",
        address_line1: "address_line1",
        address_line2: "address_line2",
        city: "city",
        state: "state",
        postal_code: "postal_code",
    };
}

/// `PUT /api/billing-address`, as typed. Individual accounts give their own name; corporate
/// accounts give the company's name and a contact person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BillingAddressForm {
    pub account_type: AccountType,
    /// Individual: the account holder. Corporate: the contact person.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::person_name))]
    pub last_name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::person_name))]
    pub first_name: String,
    /// Corporate only.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::company_name))]
    pub company_name: String,
    #[serde(flatten)]
    pub address: AddressForm,
}

/// A billing address whose every field passed its rule. Fields are trimmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BillingAddress {
    pub account_type: AccountType,
    pub last_name: String,
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(flatten)]
    pub address: Address,
}

/// The longest street line (`address_line1`, `address_line2`), in characters once trimmed.
pub const ADDRESS_LINE_MAX_CHARS: usize = 128;
/// The longest city or state name.
pub const PLACE_MAX_CHARS: usize = 64;
/// The longest first, middle or last name.
pub const PERSON_NAME_MAX_CHARS: usize = 64;
pub const COMPANY_NAME_MAX_CHARS: usize = 128;

fn text(raw: &str, max: usize, what: &str) -> Result<String, Invalid> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Invalid::new(
            ErrorCode::FieldRequired,
            format!("Enter the {what}."),
        ));
    }
    optional(value, max, what).map(|v| v.unwrap_or_default())
}

fn optional(raw: &str, max: usize, what: &str) -> Result<Option<String>, Invalid> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(Invalid::new(
            ErrorCode::FieldTooLong,
            format!("The {what} has at most {max} characters."),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid::new(
            ErrorCode::InvalidText,
            format!("The {what} cannot hold control characters."),
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// How postal codes look where we know. A postal code is never required (seed 000's form marks
/// it optional, SPEC §2): an empty one is always accepted, a given one must look right.
enum PostalRule {
    /// No postal codes in use: the field must stay empty.
    None,
    /// The country's format; anything given must match it.
    Format(fn(&str) -> bool),
}

fn digits(n: usize) -> impl Fn(&str) -> bool {
    move |s: &str| s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn postal_rule(country: &str) -> PostalRule {
    match country {
        "HK" | "MO" | "AE" => PostalRule::None,
        "US" => PostalRule::Format(|s| {
            let (five, rest) = s.split_at(s.len().min(5));
            digits(5)(five)
                && (rest.is_empty()
                    || (rest.len() == 5 && rest.starts_with('-') && digits(4)(&rest[1..])))
        }),
        "CN" | "IN" | "SG" => PostalRule::Format(|s| digits(6)(s)),
        "JP" => PostalRule::Format(|s| {
            s.len() == 8 && digits(3)(&s[..3]) && &s[3..4] == "-" && digits(4)(&s[4..])
        }),
        "CA" => PostalRule::Format(|s| {
            let b = s.as_bytes();
            b.len() == 7
                && b[3] == b' '
                && [0, 2, 5].iter().all(|&i| b[i].is_ascii_uppercase())
                && [1, 4, 6].iter().all(|&i| b[i].is_ascii_digit())
        }),
        "GB" => PostalRule::Format(|s| {
            // Outward code (2–4) + space + inward code (digit, two letters).
            let Some((outward, inward)) = s.split_once(' ') else {
                return false;
            };
            let i = inward.as_bytes();
            (2..=4).contains(&outward.len())
                && outward.as_bytes()[0].is_ascii_uppercase()
                && outward.bytes().all(|b| b.is_ascii_alphanumeric())
                && i.len() == 3
                && i[0].is_ascii_digit()
                && i[1..].iter().all(u8::is_ascii_uppercase)
        }),
        "DE" | "FR" | "ES" | "IT" | "MY" | "TH" | "ID" | "KR" | "FI" | "SA" | "TR" | "MX" => {
            PostalRule::Format(|s| digits(5)(s))
        }
        "AU" | "AT" | "BE" | "CH" | "DK" | "NO" | "NZ" | "PH" | "ZA" => {
            PostalRule::Format(|s| digits(4)(s))
        }
        "NL" => PostalRule::Format(|s| {
            s.len() == 7
                && digits(4)(&s[..4])
                && &s[4..5] == " "
                && s[5..].bytes().all(|b| b.is_ascii_uppercase())
        }),
        _ => PostalRule::Format(|s| {
            (3..=10).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
        }),
    }
}

/// Checks a postal code for `country`; returns it normalised (upper case) or `None` when empty.
/// Empty is always fine; a given code must follow the country's format where we know it.
pub fn parse_postal_code(country: Country, raw: &str) -> Result<Option<String>, Invalid> {
    let code = raw.trim().to_uppercase();
    if code.is_empty() {
        return Ok(None);
    }
    match postal_rule(country.code()) {
        PostalRule::None => Err(Invalid::new(
            ErrorCode::InvalidPostalCode,
            format!(
                "{} does not use postal codes: leave this empty.",
                country.name()
            ),
        )),
        // The rules index by byte, which only ASCII makes safe; no postal code we know of is
        // anything else.
        PostalRule::Format(ok) if code.is_ascii() && ok(&code) => Ok(Some(code)),
        PostalRule::Format(_) => Err(Invalid::new(
            ErrorCode::InvalidPostalCode,
            format!("Enter a postal code as used in {}.", country.name()),
        )),
    }
}

/// Countries where addresses carry no state or province line.
fn state_optional(country: &str) -> bool {
    matches!(country, "SG" | "HK" | "MO")
}

/// A required line of text, trimmed, at most `max` characters.
pub fn required_text(raw: &str, max: usize, what: &str) -> Result<String, Invalid> {
    text(raw, max, what)
}

/// An optional line of text, trimmed; `None` when empty.
pub fn optional_text(raw: &str, max: usize, what: &str) -> Result<Option<String>, Invalid> {
    optional(raw, max, what)
}

impl AddressForm {
    pub fn parse(&self, names: &AddressFields) -> Result<Address, Vec<FieldError>> {
        let country = Country::parse(&self.country);
        let line1 = text(&self.address_line1, ADDRESS_LINE_MAX_CHARS, "address");
        let line2 = optional(
            &self.address_line2,
            ADDRESS_LINE_MAX_CHARS,
            "apartment, suite or unit",
        );
        let city = text(&self.city, PLACE_MAX_CHARS, "city");
        let state = match country {
            Ok(c) if state_optional(c.code()) => {
                optional(&self.state, PLACE_MAX_CHARS, "state or province")
                    .map(|s| s.unwrap_or_else(|| c.name().to_owned()))
            }
            _ => text(&self.state, PLACE_MAX_CHARS, "state or province"),
        };
        let postal = match country {
            Ok(c) => parse_postal_code(c, &self.postal_code),
            Err(_) => Ok(None),
        };
        match (country, line1, line2, city, state, postal) {
            (
                Ok(country),
                Ok(address_line1),
                Ok(address_line2),
                Ok(city),
                Ok(state),
                Ok(postal_code),
            ) => Ok(Address {
                country: country.code().to_owned(),
                address_line1,
                address_line2,
                city,
                state,
                postal_code,
            }),
            (country, line1, line2, city, state, postal) => Err(collect_errors([
                country.err().map(|e| e.at(names.country)),
                line1.err().map(|e| e.at(names.address_line1)),
                line2.err().map(|e| e.at(names.address_line2)),
                city.err().map(|e| e.at(names.city)),
                state.err().map(|e| e.at(names.state)),
                postal.err().map(|e| e.at(names.postal_code)),
            ])),
        }
    }
}

impl Address {
    pub fn to_form(&self) -> AddressForm {
        AddressForm {
            country: self.country.clone(),
            address_line1: self.address_line1.clone(),
            address_line2: self.address_line2.clone().unwrap_or_default(),
            city: self.city.clone(),
            state: self.state.clone(),
            postal_code: self.postal_code.clone().unwrap_or_default(),
        }
    }
}

impl BillingAddressForm {
    pub fn parse(&self) -> Result<BillingAddress, Vec<FieldError>> {
        let corporate = self.account_type == AccountType::Corporate;
        let company = if corporate {
            text(&self.company_name, COMPANY_NAME_MAX_CHARS, "company name").map(Some)
        } else {
            Ok(None)
        };
        let last = text(&self.last_name, PERSON_NAME_MAX_CHARS, "last name");
        let first = text(&self.first_name, PERSON_NAME_MAX_CHARS, "first name");
        let address = self.address.parse(&AddressFields::TOP);
        match (company, last, first, address) {
            (Ok(company_name), Ok(last_name), Ok(first_name), Ok(address)) => Ok(BillingAddress {
                account_type: self.account_type,
                last_name,
                first_name,
                company_name,
                address,
            }),
            (company, last, first, address) => {
                let mut errors = collect_errors([
                    company.err().map(|e| e.at("company_name")),
                    last.err().map(|e| e.at("last_name")),
                    first.err().map(|e| e.at("first_name")),
                ]);
                errors.extend(address.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

impl BillingAddress {
    /// The form this address came from, for editing it.
    pub fn to_form(&self) -> BillingAddressForm {
        BillingAddressForm {
            account_type: self.account_type,
            last_name: self.last_name.clone(),
            first_name: self.first_name.clone(),
            company_name: self.company_name.clone().unwrap_or_default(),
            address: self.address.to_form(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn individual() -> BillingAddressForm {
        BillingAddressForm {
            account_type: AccountType::Individual,
            last_name: "Tan".into(),
            first_name: "Mei".into(),
            company_name: String::new(),
            address: AddressForm {
                country: "SG".into(),
                address_line1: "1 Raffles Place".into(),
                city: "Singapore".into(),
                postal_code: "048616".into(),
                ..Default::default()
            },
        }
    }

    fn fields(form: &BillingAddressForm) -> Vec<(&'static str, ErrorCode)> {
        form.parse()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn an_individual_address_parses_with_state_defaulted_where_none_is_used() {
        let a = individual().parse().unwrap();
        assert_eq!(a.address.state, "Singapore");
        assert_eq!(a.company_name, None);
        assert_eq!(a.address.postal_code.as_deref(), Some("048616"));
    }

    #[test]
    fn a_corporate_address_needs_the_company_name() {
        let form = BillingAddressForm {
            account_type: AccountType::Corporate,
            ..individual()
        };
        assert_eq!(
            fields(&form),
            vec![("company_name", ErrorCode::FieldRequired)]
        );
        let form = BillingAddressForm {
            company_name: " Acme Pte Ltd ".into(),
            ..form
        };
        assert_eq!(
            form.parse().unwrap().company_name.as_deref(),
            Some("Acme Pte Ltd")
        );
    }

    #[test]
    fn an_individual_ignores_a_company_name() {
        let form = BillingAddressForm {
            company_name: "ignored".into(),
            ..individual()
        };
        assert_eq!(form.parse().unwrap().company_name, None);
    }

    /// The rules slice by byte: a cut inside a letter beyond ASCII (`Ì𝑾` at byte 5) would panic.
    #[test]
    fn a_postal_code_with_letters_beyond_ascii_is_refused_not_a_panic() {
        for country in ["US", "JP", "NL", "SG", "GB", "ZZ"] {
            let Ok(country) = Country::parse(country) else {
                continue;
            };
            for raw in [
                "Ì\u{1d47e}",
                "12345\u{e9}6789",
                "123\u{e9}4567",
                "1234 \u{e9}B",
            ] {
                assert_eq!(
                    parse_postal_code(country, raw).unwrap_err().code,
                    ErrorCode::InvalidPostalCode,
                    "{raw:?} in {}",
                    country.code()
                );
            }
        }
    }

    #[test]
    fn required_fields_are_reported_together() {
        let mut form = BillingAddressForm {
            last_name: " ".into(),
            ..individual()
        };
        form.address.city = "".into();
        form.address.address_line1 = "".into();
        assert_eq!(
            fields(&form),
            vec![
                ("last_name", ErrorCode::FieldRequired),
                ("address_line1", ErrorCode::FieldRequired),
                ("city", ErrorCode::FieldRequired)
            ]
        );
    }

    #[test]
    fn lengths_are_checked_at_their_edges() {
        let ok = BillingAddressForm {
            last_name: "x".repeat(64),
            ..individual()
        };
        assert!(ok.parse().is_ok());
        let long = BillingAddressForm {
            last_name: "x".repeat(65),
            ..individual()
        };
        assert_eq!(fields(&long), vec![("last_name", ErrorCode::FieldTooLong)]);
    }

    #[test]
    fn postal_codes_follow_their_country() {
        let p = |c: &str, code: &str| {
            parse_postal_code(Country::parse(c).unwrap(), code).map_err(|e| e.code)
        };
        assert_eq!(p("US", "94105"), Ok(Some("94105".into())));
        assert_eq!(p("US", "94105-1234"), Ok(Some("94105-1234".into())));
        assert_eq!(p("US", "9410"), Err(ErrorCode::InvalidPostalCode));
        assert_eq!(p("US", "ABCDE"), Err(ErrorCode::InvalidPostalCode));
        assert_eq!(p("CN", "100000"), Ok(Some("100000".into())));
        assert_eq!(p("CN", "10000"), Err(ErrorCode::InvalidPostalCode));
        assert_eq!(p("GB", "sw1a 1aa"), Ok(Some("SW1A 1AA".into())));
        assert_eq!(p("GB", "SW1A1AA"), Err(ErrorCode::InvalidPostalCode));
        assert_eq!(p("CA", "K1A 0B1"), Ok(Some("K1A 0B1".into())));
        assert_eq!(p("JP", "100-0001"), Ok(Some("100-0001".into())));
        assert_eq!(p("DE", ""), Ok(None));
        assert_eq!(p("DE", "1011"), Err(ErrorCode::InvalidPostalCode));
        assert_eq!(p("HK", ""), Ok(None));
        assert_eq!(p("HK", "999077"), Err(ErrorCode::InvalidPostalCode));
    }

    /// Seed 000's form marks the postal code optional: in every country, including those whose
    /// format we check, an empty code is accepted and stored as none.
    #[test]
    fn a_postal_code_is_optional_in_every_country() {
        for info in crate::country::COUNTRIES {
            let country = Country::parse(info.code).unwrap();
            assert_eq!(parse_postal_code(country, ""), Ok(None), "{}", info.code);
            assert_eq!(parse_postal_code(country, "  "), Ok(None), "{}", info.code);
        }
        let mut form = individual();
        form.address.country = "US".into();
        form.address.state = "CA".into();
        form.address.postal_code = String::new();
        assert_eq!(form.parse().unwrap().address.postal_code, None);
    }

    /// Where the format is known, a code that is given is still checked.
    #[test]
    fn a_given_postal_code_is_checked_where_the_format_is_known() {
        let p = |c: &str, code: &str| {
            parse_postal_code(Country::parse(c).unwrap(), code).map_err(|e| e.code)
        };
        for (country, bad) in [
            ("US", "941"),
            ("CN", "1000000"),
            ("IN", "40001"),
            ("SG", "04861"),
            ("JP", "1000001"),
            ("CA", "K1A0B1"),
            ("GB", "SW1A"),
        ] {
            assert_eq!(
                p(country, bad),
                Err(ErrorCode::InvalidPostalCode),
                "{country}"
            );
        }
        assert_eq!(p("IN", "400001"), Ok(Some("400001".into())));
        assert_eq!(p("SG", "048616"), Ok(Some("048616".into())));
    }

    #[test]
    fn state_is_required_where_addresses_use_one() {
        let mut form = individual();
        form.address.country = "US".into();
        form.address.postal_code = "94105".into();
        assert_eq!(fields(&form), vec![("state", ErrorCode::FieldRequired)]);
    }

    #[test]
    fn the_billing_address_travels_flat_in_json() {
        let json = serde_json::to_value(individual()).unwrap();
        assert_eq!(json["city"], "Singapore");
        assert_eq!(
            serde_json::from_value::<BillingAddressForm>(json).unwrap(),
            individual()
        );
    }

    #[test]
    fn an_address_round_trips_through_its_form() {
        let a = individual().parse().unwrap();
        assert_eq!(a.to_form().parse().unwrap(), a);
    }
}
