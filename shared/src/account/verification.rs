use crate::error::{ErrorCode, Invalid};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

/// Where a verification code goes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Channel {
    Email,
    Phone,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How a phone code reaches the phone.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Default,
    IntoStaticStr,
    VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Delivery {
    #[default]
    Sms,
    Voice,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A six-digit one-time code as typed by a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCode(String);

/// Spaces anywhere are dropped before the check (`123 456` is a code as typed).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for VerificationCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::string()
            .pattern(Some(format!(
                r"^\s*(?:[0-9]\s*){{{}}}$",
                VerificationCode::LEN
            )))
            .examples(["012345"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for VerificationCode {}

impl VerificationCode {
    pub const LEN: usize = 6;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() == Self::LEN && code.chars().all(|c| c.is_ascii_digit()) {
            Ok(VerificationCode(code))
        } else {
            Err(Invalid::new(
                ErrorCode::InvalidCode,
                "Enter the 6-digit code we sent you.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_exactly_six_digits() {
        assert!(VerificationCode::parse("012345").is_ok());
        assert_eq!(
            VerificationCode::parse("123 456").unwrap().as_str(),
            "123456"
        );
        for bad in ["", "12345", "1234567", "12a456", "１２３４５６"] {
            assert_eq!(
                VerificationCode::parse(bad).unwrap_err().code,
                ErrorCode::InvalidCode,
                "{bad}"
            );
        }
    }
}
