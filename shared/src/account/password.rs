use super::Email;
use crate::error::{ErrorCode, Invalid};

/// The passwords people pick most often, lower-cased, that would otherwise pass the rules
/// below (8+ characters with letters and digits): the first thousand of that kind from the
/// common-password list Django ships (see README, "Data we ship"). No network look-up.
static COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// A new password that meets the rules of SPEC §1. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// The length rule only: "letters and digits, not the email name, not a common password" are
/// checked by the server and told in its answer.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Password {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::string()
            .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                utoipa::openapi::schema::KnownFormat::Password,
            )))
            .min_length(Some(Password::MIN_CHARS))
            .max_length(Some(Password::MAX_CHARS))
            .pattern(Some(Password::PATTERN))
            .description(Some(
                "8 to 64 characters with letters and digits; not the email's name, not a common password.",
            ))
            .examples(["Harbour7Lights"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Password {}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 64;
    /// What [`Password::parse`] checks of the characters, for the OpenAPI document: a letter
    /// and a digit somewhere, no control character. (The email's name and the list of common
    /// passwords are not stated: a generated password is rarely either.)
    pub const PATTERN: &str = concat!(
        r"^[^\u0000-\u001f\u007f-\u009f]*",
        r"(?:[^\W\d_][^\u0000-\u001f\u007f-\u009f]*[0-9]|[0-9][^\u0000-\u001f\u007f-\u009f]*[^\W\d_])",
        r"[^\u0000-\u001f\u007f-\u009f]*$"
    );

    /// Checks a new password against the account's email. The confirmation is a separate
    /// field of its own: see [`Password::confirm`].
    pub fn parse(raw: &str, email: Option<&Email>) -> Result<Self, Invalid> {
        let invalid = |message: &str| Err(Invalid::new(ErrorCode::InvalidPassword, message));
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return invalid("Use 8 to 64 characters.");
        }
        if raw.chars().any(char::is_control) {
            return invalid("Use letters, digits and symbols only.");
        }
        if !raw.chars().any(|c| c.is_alphabetic()) || !raw.chars().any(|c| c.is_ascii_digit()) {
            return invalid("Use both letters and digits.");
        }
        let lower = raw.to_lowercase();
        // A local part of one or two letters would forbid half the alphabet; from three on it
        // is a real name worth keeping out.
        if let Some(local) = email
            .map(Email::local_part)
            .filter(|l| l.chars().count() >= 3)
            && lower.contains(local)
        {
            return invalid("Do not use your email name in the password.");
        }
        if COMMON_PASSWORDS.lines().any(|common| common == lower) {
            return invalid("This password is one of the most common ones. Choose another.");
        }
        Ok(Password(raw.to_owned()))
    }

    /// The confirmation field must repeat the password exactly.
    pub fn confirm(password: &str, confirmation: &str) -> Result<(), Invalid> {
        if password == confirmation {
            Ok(())
        } else {
            Err(Invalid::new(
                ErrorCode::PasswordMismatch,
                "The two passwords do not match.",
            ))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("grace.hopper@example.com").unwrap()
    }

    fn code_of(raw: &str) -> Option<ErrorCode> {
        Password::parse(raw, Some(&email())).err().map(|e| e.code)
    }

    #[test]
    fn length_edges_are_8_and_64_characters() {
        assert_eq!(code_of("abc1234"), Some(ErrorCode::InvalidPassword));
        assert_eq!(code_of("abcx1234"), None);
        let at_max = format!("{}1", "q".repeat(63));
        assert_eq!(code_of(&at_max), None);
        let over_max = format!("{}1", "q".repeat(64));
        assert_eq!(code_of(&over_max), Some(ErrorCode::InvalidPassword));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 8 characters, 15 bytes.
        assert_eq!(code_of("ééééééé1"), None);
    }

    #[test]
    fn needs_letters_and_digits() {
        assert_eq!(code_of("onlyletters"), Some(ErrorCode::InvalidPassword));
        assert_eq!(code_of("1234567890"), Some(ErrorCode::InvalidPassword));
        assert_eq!(code_of("!!!!!!!!1"), Some(ErrorCode::InvalidPassword));
    }

    #[test]
    fn refuses_the_email_local_part_in_any_case() {
        assert_eq!(
            code_of("xxGRACE.HOPPER99"),
            Some(ErrorCode::InvalidPassword)
        );
        assert_eq!(code_of("grace.hopper1"), Some(ErrorCode::InvalidPassword));
        // Without an email to compare with, the same password is fine.
        assert!(Password::parse("grace.hopper1", None).is_ok());
    }

    #[test]
    fn a_short_local_part_does_not_forbid_its_letters() {
        let short = Email::parse("al@example.com").unwrap();
        assert!(Password::parse("balance2026", Some(&short)).is_ok());
    }

    #[test]
    fn refuses_common_passwords_in_any_case() {
        assert_eq!(code_of("password1"), Some(ErrorCode::InvalidPassword));
        assert_eq!(code_of("Qwerty123"), Some(ErrorCode::InvalidPassword));
        assert_eq!(code_of("1q2w3e4r5t"), Some(ErrorCode::InvalidPassword));
    }

    #[test]
    fn common_list_holds_only_passwords_the_other_rules_let_through() {
        let mut count = 0;
        for common in COMMON_PASSWORDS.lines() {
            count += 1;
            assert_eq!(common, common.to_lowercase());
            assert!(common.chars().count() >= Password::MIN_CHARS, "{common}");
        }
        assert!(count >= 500, "the list shrank to {count}");
    }

    #[test]
    fn refuses_control_characters() {
        assert_eq!(code_of("abcd\u{0}1234"), Some(ErrorCode::InvalidPassword));
    }

    #[test]
    fn confirmation_must_match_exactly() {
        assert!(Password::confirm("Abcdef123", "Abcdef123").is_ok());
        assert_eq!(
            Password::confirm("Abcdef123", "abcdef123")
                .unwrap_err()
                .code,
            ErrorCode::PasswordMismatch
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let p = Password::parse("Zebra-4711-x", None).unwrap();
        assert!(!format!("{p:?}").contains("Zebra"));
    }
}
