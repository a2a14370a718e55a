use crate::error::{ErrorCode, Invalid};
use email_address::{EmailAddress, Options};
use serde::{Deserialize, Serialize};

/// An email address as accounts are keyed by it: ASCII, trimmed and lower-cased.
///
/// Internationalised addresses (RFC 6531) are refused, as the big consoles do: they need
/// SMTPUTF8 on every relay a code passes, and neither their local parts nor their domains
/// (IDNA) have a case rule a plain lower-casing gets right, so one mailbox could hold two
/// accounts. An internationalised domain is taken in its ASCII (`xn--`) form. Being ASCII,
/// the address is lower-cased without `core`'s Unicode case tables, about 6.5 KB brotli that the
/// first load (which checks the sign-in form) would otherwise carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// RFC 5321 caps a forward path at 256 octets including the angle brackets.
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim();
        if email.is_empty() {
            return Err(Invalid::new(
                ErrorCode::InvalidEmail,
                "Enter your email address.",
            ));
        }
        if email.len() > Self::MAX_LEN {
            return Err(Invalid::new(
                ErrorCode::InvalidEmail,
                "An email address has at most 254 characters.",
            ));
        }
        if !email.is_ascii() {
            return Err(Invalid::new(
                ErrorCode::InvalidEmail,
                "Use an email address in Latin letters, digits and symbols; for a domain in another script, its xn-- form.",
            ));
        }
        let email = email.to_ascii_lowercase();
        // A console account needs a mailbox on the internet: no display names, no IP
        // literals, and a domain with at least one dot.
        let options = Options::default()
            .without_display_text()
            .without_domain_literal()
            .with_required_tld();
        match EmailAddress::parse_with_options(&email, options) {
            Ok(_) if !email.contains('"') => Ok(Email(email)),
            _ => Err(Invalid::new(
                ErrorCode::InvalidEmail,
                "Enter an email address like name@example.com.",
            )),
        }
    }

    /// An address read back from storage, which was parsed before it was stored.
    pub fn from_stored(email: String) -> Self {
        Email(email)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`, which a password may not contain.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(&self.0, |(local, _)| local)
    }

    /// `a***@example.com`, for showing where a code went without revealing the address.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

/// Before trimming, as typed: the length bound is the rule's own, and an address with spaces
/// around it is still one the server takes.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Email {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, SchemaFormat};
        crate::openapi::string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .min_length(Some(1))
            .max_length(Some(Email::MAX_LEN))
            .examples(["ada@example.com"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Email {}

impl TryFrom<String> for Email {
    type Error = Invalid;
    fn try_from(raw: String) -> Result<Self, Invalid> {
        Email::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_surrounding_space() {
        assert_eq!(
            Email::parse("  Ada.Lovelace@Example.COM ")
                .unwrap()
                .as_str(),
            "ada.lovelace@example.com"
        );
    }

    #[test]
    fn takes_ascii_addresses_only_whatever_their_case() {
        assert_eq!(
            Email::parse("Ada@Example.com"),
            Email::parse("ADA@EXAMPLE.COM")
        );
        for international in ["äda@example.com", "ada@bücher.de", "ÄDA@BÜCHER.DE"] {
            assert_eq!(
                Email::parse(international).unwrap_err().code,
                ErrorCode::InvalidEmail,
                "{international}"
            );
        }
        // The same domain in its ASCII form.
        assert_eq!(
            Email::parse("Ada@XN--BCHER-KVA.de").unwrap().as_str(),
            "ada@xn--bcher-kva.de"
        );
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "x_y-z@example.museum",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@example.com",
            "a@[127.0.0.1]",
            "Ada <ada@example.com>",
            "\"a\"@example.com",
            "a@example..com",
        ] {
            assert_eq!(
                Email::parse(bad).unwrap_err().code,
                ErrorCode::InvalidEmail,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn length_limit_is_inclusive_at_254() {
        let label = "b".repeat(61);
        let at_limit = format!("{}@{label}.{label}.{label}.com", "a".repeat(64));
        assert_eq!(at_limit.len(), 254);
        assert!(Email::parse(&at_limit).is_ok());
        let over = format!("{}@b{label}.{label}.{label}.com", "a".repeat(64));
        assert_eq!(over.len(), 255);
        assert_eq!(
            Email::parse(&over).unwrap_err().code,
            ErrorCode::InvalidEmail
        );
    }

    #[test]
    fn masks_all_but_the_first_letter_of_the_local_part() {
        assert_eq!(
            Email::parse("ada@example.com").unwrap().masked(),
            "a***@example.com"
        );
    }
}
