use crate::country::Country;
use crate::error::{ErrorCode, Invalid};
use serde::{Deserialize, Serialize};

/// A mobile number in E.164 form (`+8613800138000`), checked against its country's plan where
/// we know it and against the E.164 limits everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "+6581234567"))]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Parses a national number typed by a user of `country`: spaces, dashes, dots and
    /// brackets are ignored, a trunk `0` is dropped, and a leading `+<calling code>` is accepted.
    pub fn parse(country: Country, raw: &str) -> Result<Self, Invalid> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let calling = country.calling_code();
        let national = match compact.strip_prefix('+') {
            Some(intl) => intl.strip_prefix(calling).ok_or_else(|| {
                Invalid::new(
                    ErrorCode::InvalidPhone,
                    format!("Enter a number from {} (+{calling}).", country.name()),
                )
            })?,
            None => compact.as_str(),
        };
        if national.is_empty() {
            return Err(Invalid::new(
                ErrorCode::InvalidPhone,
                "Enter your mobile number.",
            ));
        }
        if !national.chars().all(|c| c.is_ascii_digit()) {
            return Err(Invalid::new(ErrorCode::InvalidPhone, "Use digits only."));
        }
        // Italy keeps its leading 0 on landlines, but mobiles start with 3: dropping a trunk 0
        // is right for every country we list.
        let national = national.strip_prefix('0').unwrap_or(national);
        if !fits_plan(country.code(), national) || calling.len() + national.len() > 15 {
            return Err(Invalid::new(
                ErrorCode::InvalidPhone,
                format!("This is not a valid mobile number for {}.", country.name()),
            ));
        }
        Ok(Phone(format!("+{calling}{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `+65****4567`, for showing where a code went.
    pub fn masked(&self) -> String {
        let digits = self.0.len();
        let tail = &self.0[digits.saturating_sub(4)..];
        let head = &self.0[..digits.min(3)];
        format!("{head}****{tail}")
    }

    /// A number read back from storage, which was parsed before it was stored.
    pub fn from_stored(e164: String) -> Self {
        Phone(e164)
    }
}

/// Mobile numbering plans for the countries whose accounts we see most; other countries get
/// the generic E.164 bounds.
fn fits_plan(country: &str, n: &str) -> bool {
    let first = n.as_bytes()[0];
    match country {
        "CN" => n.len() == 11 && first == b'1',
        "US" | "CA" => n.len() == 10 && !matches!(first, b'0' | b'1'),
        "IN" => n.len() == 10 && matches!(first, b'6'..=b'9'),
        "MY" => (9..=10).contains(&n.len()) && first == b'1',
        "SG" => n.len() == 8 && matches!(first, b'8' | b'9'),
        "GB" => n.len() == 10 && first == b'7',
        "JP" => n.len() == 10 && matches!(&n[..2], "70" | "80" | "90"),
        "HK" => n.len() == 8 && matches!(first, b'4'..=b'9'),
        _ => (6..=14).contains(&n.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(country: &str, raw: &str) -> Result<String, ErrorCode> {
        Phone::parse(Country::parse(country).unwrap(), raw)
            .map(|p| p.0)
            .map_err(|e| e.code)
    }

    #[test]
    fn formats_as_e164_with_the_calling_code() {
        assert_eq!(parse("CN", "138 0013 8000"), Ok("+8613800138000".into()));
        assert_eq!(parse("SG", "8123-4567"), Ok("+6581234567".into()));
        assert_eq!(parse("US", "(415) 555-0100"), Ok("+14155550100".into()));
        assert_eq!(parse("GB", "07700 900123"), Ok("+447700900123".into()));
    }

    #[test]
    fn accepts_the_international_form_of_its_own_country_only() {
        assert_eq!(parse("IN", "+91 98765 43210"), Ok("+919876543210".into()));
        assert_eq!(parse("IN", "+86 13800138000"), Err(ErrorCode::InvalidPhone));
    }

    #[test]
    fn refuses_wrong_lengths_at_the_edges() {
        assert_eq!(parse("CN", "1380013800"), Err(ErrorCode::InvalidPhone)); // 10
        assert_eq!(parse("CN", "138001380001"), Err(ErrorCode::InvalidPhone)); // 12
        assert_eq!(parse("SG", "812345678"), Err(ErrorCode::InvalidPhone));
        assert_eq!(parse("DE", "12345"), Err(ErrorCode::InvalidPhone));
        assert!(parse("DE", "123456").is_ok());
        // +49 and 13 digits is the 15-digit E.164 maximum.
        assert!(parse("DE", "1234567890123").is_ok());
        assert_eq!(parse("DE", "12345678901234"), Err(ErrorCode::InvalidPhone));
    }

    #[test]
    fn refuses_letters_empty_and_wrong_prefixes() {
        assert_eq!(parse("CN", ""), Err(ErrorCode::InvalidPhone));
        assert_eq!(parse("CN", "138abc38000"), Err(ErrorCode::InvalidPhone));
        assert_eq!(parse("CN", "23800138000"), Err(ErrorCode::InvalidPhone));
        assert_eq!(parse("US", "1155550100"), Err(ErrorCode::InvalidPhone));
        assert_eq!(parse("IN", "5876543210"), Err(ErrorCode::InvalidPhone));
    }

    #[test]
    fn masks_the_middle_digits() {
        let p = Phone::parse(Country::parse("SG").unwrap(), "81234567").unwrap();
        assert_eq!(p.masked(), "+65****4567");
    }
}
