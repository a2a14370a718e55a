//! Countries and regions an account can be registered in, with their calling codes.

use crate::error::{ErrorCode, Invalid};
use serde::{Deserialize, Serialize};

/// A country or region from [`COUNTRIES`], by its ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country(&'static CountryInfo);

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CountryInfo {
    pub code: &'static str,
    pub name: &'static str,
    /// Without the leading `+`.
    pub calling_code: &'static str,
}

macro_rules! countries {
    ($(($code:literal, $name:literal, $calling:literal)),* $(,)?) => {
        /// Sorted by name, as the sign-up list shows them.
        pub static COUNTRIES: &[CountryInfo] = &[
            $(CountryInfo { code: $code, name: $name, calling_code: $calling }),*
        ];
    };
}

countries![
    ("AU", "Australia", "61"),
    ("AT", "Austria", "43"),
    ("BE", "Belgium", "32"),
    ("BR", "Brazil", "55"),
    ("CA", "Canada", "1"),
    ("CN", "China (mainland)", "86"),
    ("DK", "Denmark", "45"),
    ("FI", "Finland", "358"),
    ("FR", "France", "33"),
    ("DE", "Germany", "49"),
    ("HK", "Hong Kong (China)", "852"),
    ("IN", "India", "91"),
    ("ID", "Indonesia", "62"),
    ("IE", "Ireland", "353"),
    ("IL", "Israel", "972"),
    ("IT", "Italy", "39"),
    ("JP", "Japan", "81"),
    ("KR", "Korea (South)", "82"),
    ("MO", "Macao (China)", "853"),
    ("MY", "Malaysia", "60"),
    ("MX", "Mexico", "52"),
    ("NL", "Netherlands", "31"),
    ("NZ", "New Zealand", "64"),
    ("NO", "Norway", "47"),
    ("PH", "Philippines", "63"),
    ("PL", "Poland", "48"),
    ("PT", "Portugal", "351"),
    ("SA", "Saudi Arabia", "966"),
    ("SG", "Singapore", "65"),
    ("ZA", "South Africa", "27"),
    ("ES", "Spain", "34"),
    ("SE", "Sweden", "46"),
    ("CH", "Switzerland", "41"),
    ("TW", "Taiwan (China)", "886"),
    ("TH", "Thailand", "66"),
    ("TR", "Türkiye", "90"),
    ("AE", "United Arab Emirates", "971"),
    ("GB", "United Kingdom", "44"),
    ("US", "United States", "1"),
    ("VN", "Vietnam", "84"),
];

impl Country {
    pub fn parse(code: &str) -> Result<Self, Invalid> {
        let code = code.trim();
        COUNTRIES
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(code))
            .map(Country)
            .ok_or_else(|| {
                Invalid::new(
                    ErrorCode::InvalidCountry,
                    "Choose your country or region from the list.",
                )
            })
    }

    pub fn code(self) -> &'static str {
        self.0.code
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    pub fn calling_code(self) -> &'static str {
        self.0.calling_code
    }
}

/// The codes of [`COUNTRIES`]. The server also takes them in lower case and with spaces around,
/// as a user might type them; the document names each once, as the app sends it.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Country {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::string()
            .enum_values(Some(COUNTRIES.iter().map(|c| c.code)))
            .examples(["SG"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Country {}

impl TryFrom<String> for Country {
    type Error = Invalid;
    fn try_from(code: String) -> Result<Self, Invalid> {
        Country::parse(&code)
    }
}

impl From<Country> for String {
    fn from(c: Country) -> String {
        c.code().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_two_upper_case_letters() {
        let mut seen = std::collections::HashSet::new();
        for c in COUNTRIES {
            assert!(
                c.code.len() == 2 && c.code.chars().all(|ch| ch.is_ascii_uppercase()),
                "{}",
                c.code
            );
            assert!(seen.insert(c.code), "duplicate {}", c.code);
            assert!(c.calling_code.chars().all(|ch| ch.is_ascii_digit()));
        }
    }

    #[test]
    fn parses_a_known_code_in_any_case() {
        assert_eq!(Country::parse("sg").unwrap().name(), "Singapore");
        assert_eq!(Country::parse(" CN ").unwrap().calling_code(), "86");
    }

    #[test]
    fn refuses_an_unknown_or_empty_code() {
        for bad in ["", "XX", "SGP", "1"] {
            assert_eq!(
                Country::parse(bad).unwrap_err().code,
                ErrorCode::InvalidCountry,
                "{bad}"
            );
        }
    }

    #[test]
    fn round_trips_through_json_as_its_code() {
        let c = Country::parse("IN").unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"IN\"");
        assert_eq!(serde_json::from_str::<Country>(&json).unwrap(), c);
        assert!(serde_json::from_str::<Country>("\"ZZ\"").is_err());
    }
}
