//! Real-name registration (SPEC §2), needed only to buy in mainland-China regions: an
//! individual's 18-digit resident identity number or an enterprise's 18-character unified
//! social credit code, each with its check character.

use crate::billing::required_text;
use crate::error::{ErrorCode, FieldError, Invalid, collect_errors};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, IntoStaticStr, VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RealNameKind {
    #[default]
    Individual,
    Enterprise,
}

impl RealNameKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// `POST /api/real-name`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RealNameForm {
    pub kind: RealNameKind,
    /// The person's or the enterprise's registered name.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: String,
    /// Resident identity number (individual) or unified social credit code (enterprise).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub id_number: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RealName {
    pub kind: RealNameKind,
    pub name: String,
    pub id_number: String,
}

impl RealNameForm {
    pub fn parse(&self) -> Result<RealName, Vec<FieldError>> {
        let name = required_text(&self.name, 128, "name");
        let id = match self.kind {
            RealNameKind::Individual => parse_resident_id(&self.id_number),
            RealNameKind::Enterprise => parse_credit_code(&self.id_number),
        };
        match (name, id) {
            (Ok(name), Ok(id_number)) => Ok(RealName {
                kind: self.kind,
                name,
                id_number,
            }),
            (name, id) => Err(collect_errors([
                name.err().map(|e| e.at("name")),
                id.err().map(|e| e.at("id_number")),
            ])),
        }
    }
}

/// A mainland-China resident identity number (GB 11643-1999): 17 digits, of which 7–14 are a
/// real birth date, then an ISO 7064 MOD 11-2 check character (a digit or `X`).
pub fn parse_resident_id(raw: &str) -> Result<String, Invalid> {
    let id = raw.trim().to_uppercase();
    let bad = |why: &str| Err(Invalid::new(ErrorCode::InvalidIdNumber, why));
    let b = id.as_bytes();
    if b.len() != 18
        || !b[..17].iter().all(u8::is_ascii_digit)
        || !(b[17].is_ascii_digit() || b[17] == b'X')
    {
        return bad("A resident identity number has 17 digits and a final digit or X.");
    }
    let number = |range: std::ops::Range<usize>| id[range].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(6..10), number(10..12), number(12..14));
    if !(1900..=2100).contains(&year) || !is_date(year, month, day) {
        return bad("The birth date inside this identity number is not a real date.");
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    if CHECK[(sum % 11) as usize] != b[17] {
        return bad("This identity number's check digit does not match: check for a typo.");
    }
    Ok(id)
}

fn is_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// A unified social credit code (GB 32100-2015): 18 characters from the 31-character set
/// without I, O, S, V and Z, the last a MOD 31 check character.
pub fn parse_credit_code(raw: &str) -> Result<String, Invalid> {
    const CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let code = raw.trim().to_uppercase();
    let bad = |why: &str| Err(Invalid::new(ErrorCode::InvalidIdNumber, why));
    let values: Option<Vec<usize>> = code
        .bytes()
        .map(|c| CHARS.iter().position(|&x| x == c))
        .collect();
    let Some(values) = values.filter(|v| v.len() == 18) else {
        return bad(
            "A unified social credit code has 18 digits and capital letters (no I, O, S, V or Z).",
        );
    };
    let sum: usize = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    if values[17] != check {
        return bad("This code's check character does not match: check for a typo.");
    }
    Ok(code)
}

/// `110105********002X`: enough to recognise, not enough to reuse.
pub fn mask_id(id: &str) -> String {
    let keep_head = id.len().min(6);
    let keep_tail = id.len().saturating_sub(keep_head).min(4);
    format!(
        "{}{}{}",
        &id[..keep_head],
        "*".repeat(id.len() - keep_head - keep_tail),
        &id[id.len() - keep_tail..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_resident_id_with_its_check_character() {
        // The example number of the standard's own documentation.
        assert_eq!(
            parse_resident_id("11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert!(parse_resident_id("440308199901010012").is_ok());
    }

    #[test]
    fn refuses_a_resident_id_with_a_wrong_check_character_or_date() {
        assert!(parse_resident_id("110105194912310021").is_err());
        assert!(parse_resident_id("440308199901010013").is_err());
        // 1999-02-29 does not exist; 2000-02-29 does (leap year by the 400 rule).
        let with_date = |date: &str| {
            let body = format!("440308{date}001");
            let check = (0..=10)
                .map(|i| format!("{body}{}", b"0123456789X"[i] as char))
                .find(|id| parse_resident_id(id).is_ok());
            check.is_some()
        };
        assert!(!with_date("19990229"));
        assert!(with_date("20000229"));
        assert!(!with_date("19991301"));
        assert!(!with_date("18991231"));
    }

    #[test]
    fn refuses_a_resident_id_of_the_wrong_shape() {
        for bad in [
            "",
            "1101051949123100",
            "1101051949123100211",
            "11010519491231002Y",
            "X10105194912310021",
        ] {
            assert_eq!(
                parse_resident_id(bad).unwrap_err().code,
                ErrorCode::InvalidIdNumber,
                "{bad}"
            );
        }
    }

    #[test]
    fn accepts_a_credit_code_with_its_check_character() {
        assert_eq!(
            parse_credit_code("91350100m000100y43").unwrap(),
            "91350100M000100Y43"
        );
        assert!(parse_credit_code("91110000600037341L").is_ok());
    }

    #[test]
    fn refuses_a_credit_code_with_a_wrong_check_or_forbidden_letters() {
        assert!(parse_credit_code("91350100M000100Y44").is_err());
        assert!(parse_credit_code("91350100M000100I43").is_err());
        assert!(parse_credit_code("91350100M000100Y4").is_err());
        assert!(parse_credit_code("").is_err());
    }

    #[test]
    fn a_form_reports_its_fields() {
        let form = RealNameForm {
            kind: RealNameKind::Enterprise,
            name: " ".into(),
            id_number: "11010519491231002X".into(),
        };
        let fields: Vec<_> = form
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["name", "id_number"]);
    }

    #[test]
    fn masks_the_middle() {
        assert_eq!(mask_id("11010519491231002X"), "110105********002X");
    }
}
