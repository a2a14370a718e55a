//! The rules of the validators, stated in the server's OpenAPI document (feature `openapi`).
//!
//! Each schema here is built from the same constants the parsing constructors check, so the
//! document cannot drift from the code. Where a constructor trims before it checks, the pattern
//! allows the spaces too: the API fuzzer counts a request the server accepts against a document
//! that calls it invalid. Two known gaps remain where the document is the stricter one, kept
//! because they state the rule as users should follow it: `Email`'s `maxLength` counts spaces
//! the server trims, and `Country` lists its codes in upper case though the server also takes
//! lower case.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

pub(crate) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
}

/// A line of text as `billing::required_text` / `optional_text` check it: at most `max_chars`
/// characters once trimmed, none of them a control character (`char::is_control`). The limit
/// is of the trimmed text, so it is stated in the pattern rather than as a `maxLength`, which
/// would refuse the surrounding spaces the server forgives.
pub fn line_of_text_pattern(max_chars: usize) -> String {
    format!(r"^\s*[^\u0000-\u001f\u007f-\u009f]{{0,{max_chars}}}\s*$")
}

pub(crate) fn line_of_text(max_chars: usize) -> Object {
    string()
        .pattern(Some(line_of_text_pattern(max_chars)))
        .build()
}

macro_rules! text_schemas {
    ($($name:ident = $max:expr;)*) => {
        $(
            #[doc = concat!("A line of text of at most `", stringify!($max), "` characters.")]
            pub fn $name() -> Object {
                line_of_text($max)
            }
        )*
    };
}

text_schemas! {
    address_line = crate::billing::ADDRESS_LINE_MAX_CHARS;
    place_name = crate::billing::PLACE_MAX_CHARS;
    person_name = crate::billing::PERSON_NAME_MAX_CHARS;
    company_name = crate::billing::COMPANY_NAME_MAX_CHARS;
}

/// Free words on a closure's reason, counted as typed (nothing is trimmed).
pub fn closure_reason_detail() -> Object {
    string()
        .max_length(Some(crate::api::REASON_DETAIL_MAX_CHARS))
        .build()
}

/// A product code of [`crate::catalog::PRODUCTS`], matched exactly.
pub fn product_code() -> Object {
    string()
        .enum_values(Some(crate::catalog::PRODUCTS.iter().map(|p| p.code)))
        .build()
}

/// A region code of [`crate::catalog::REGIONS`], matched exactly.
pub fn region_code() -> Object {
    string()
        .enum_values(Some(crate::catalog::REGIONS.iter().map(|r| r.code)))
        .build()
}

/// A subscription length some product offers; which ones the instance's product offers is
/// checked against the instance.
pub fn offered_period() -> Object {
    let mut periods: Vec<u32> = crate::catalog::PRODUCTS
        .iter()
        .flat_map(|p| p.periods.iter().copied())
        .collect();
    periods.sort_unstable();
    periods.dedup();
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .enum_values(Some(periods))
        .build()
}

/// A box the form refuses unticked ("I agree", "I have confirmed the refund amount"): only
/// `true` passes.
pub fn ticked() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Boolean))
        .enum_values(Some([true]))
        .build()
}

/// The instances of one unsubscription as `UnsubscribeForm::check` takes them: at least one,
/// at most [`crate::api::MAX_BATCH`].
pub fn instance_batch() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(string())
        .min_items(Some(1))
        .max_items(Some(crate::api::MAX_BATCH))
        .build()
}

/// A RAM user name as `RamUserForm::parse` checks it, spaces around forgiven.
pub fn ram_username() -> Object {
    use crate::api::{USERNAME_MAX_CHARS, USERNAME_MIN_CHARS};
    string()
        .pattern(Some(format!(
            r"^\s*[A-Za-z0-9._-]{{{USERNAME_MIN_CHARS},{USERNAME_MAX_CHARS}}}\s*$"
        )))
        .build()
}

#[cfg(test)]
mod tests {
    use crate::account::{Email, Password, VerificationCode};
    use crate::country::Country;
    use utoipa::PartialSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;

    fn first_example<T: PartialSchema>() -> String {
        match T::schema() {
            RefOr::T(Schema::Object(object)) => object.examples[0].as_str().unwrap().to_owned(),
            _ => panic!("not an object schema"),
        }
    }

    #[test]
    fn each_documented_example_passes_its_own_parser() {
        let email = Email::parse(&first_example::<Email>()).unwrap();
        Password::parse(&first_example::<Password>(), Some(&email)).unwrap();
        VerificationCode::parse(&first_example::<VerificationCode>()).unwrap();
        Country::parse(&first_example::<Country>()).unwrap();
    }

    #[test]
    fn a_line_of_text_pattern_bounds_the_trimmed_length() {
        assert_eq!(
            super::line_of_text_pattern(64),
            r"^\s*[^\u0000-\u001f\u007f-\u009f]{0,64}\s*$"
        );
    }
}
