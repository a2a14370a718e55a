//! Which cards we take: the BIN table (prepaid, virtual and gift cards refused) and the brands
//! each country accepts. Both ship as CSV files in `server/data/` and are read at start.

use shared::payment::CardBrand;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardType {
    Credit,
    Debit,
    Prepaid,
    Virtual,
    Gift,
}

impl CardType {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "credit" => CardType::Credit,
            "debit" => CardType::Debit,
            "prepaid" => CardType::Prepaid,
            "virtual" => CardType::Virtual,
            "gift" => CardType::Gift,
            _ => return None,
        })
    }

    pub fn accepted(self) -> bool {
        matches!(self, CardType::Credit | CardType::Debit)
    }

    pub fn name(self) -> &'static str {
        match self {
            CardType::Credit => "credit",
            CardType::Debit => "debit",
            CardType::Prepaid => "prepaid",
            CardType::Virtual => "virtual",
            CardType::Gift => "gift",
        }
    }
}

pub struct CardAcceptance {
    bins: HashMap<String, CardType>,
    brands: HashMap<String, Vec<CardBrand>>,
}

/// Data lines of a small CSV with a header: comments (`#`) and blank lines skipped.
fn rows(csv: &str) -> impl Iterator<Item = Vec<&str>> {
    csv.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').map(str::trim).collect())
}

impl CardAcceptance {
    pub fn shipped() -> anyhow::Result<Self> {
        Self::from_csv(
            include_str!("../data/bin_table.csv"),
            include_str!("../data/card_brands.csv"),
        )
    }

    pub fn from_csv(bin_table: &str, card_brands: &str) -> anyhow::Result<Self> {
        let mut bins = HashMap::new();
        for row in rows(bin_table) {
            let (bin, kind) = (row[0], row.get(1).copied().unwrap_or(""));
            anyhow::ensure!(
                bin.len() == 6 && bin.bytes().all(|b| b.is_ascii_digit()),
                "bad BIN {bin}"
            );
            let kind = CardType::parse(kind)
                .ok_or_else(|| anyhow::anyhow!("bad card type {kind} for {bin}"))?;
            bins.insert(bin.to_owned(), kind);
        }
        let mut brands = HashMap::new();
        for row in rows(card_brands) {
            let list = row.get(1).copied().unwrap_or("");
            let parsed: Option<Vec<_>> = list.split_whitespace().map(CardBrand::parse).collect();
            let parsed =
                parsed.ok_or_else(|| anyhow::anyhow!("bad brand list {list} for {}", row[0]))?;
            brands.insert(row[0].to_owned(), parsed);
        }
        anyhow::ensure!(brands.contains_key("*"), "card_brands.csv needs a `*` row");
        Ok(CardAcceptance { bins, brands })
    }

    /// The card's type by its first six digits; unknown ranges count as ordinary cards.
    pub fn card_type(&self, bin: &str) -> CardType {
        self.bins.get(bin).copied().unwrap_or(CardType::Credit)
    }

    pub fn brands_for(&self, country: &str) -> &[CardBrand] {
        self.brands
            .get(country)
            .or_else(|| self.brands.get("*"))
            .map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_tables_refuse_prepaid_virtual_and_gift_ranges() {
        let a = CardAcceptance::shipped().unwrap();
        assert!(!a.card_type("453275").accepted());
        assert!(!a.card_type("537410").accepted());
        assert!(!a.card_type("356999").accepted());
        assert_eq!(a.card_type("400005"), CardType::Debit);
        assert!(
            a.card_type("999999").accepted(),
            "unknown ranges are ordinary cards"
        );
    }

    #[test]
    fn brands_follow_the_country_with_a_default() {
        let a = CardAcceptance::shipped().unwrap();
        assert!(!a.brands_for("IN").contains(&CardBrand::Jcb));
        assert!(a.brands_for("SG").contains(&CardBrand::Jcb));
    }

    #[test]
    fn malformed_tables_are_refused_at_start() {
        assert!(
            CardAcceptance::from_csv("bin,type\n12345,credit\n", "country,brands\n*,visa\n")
                .is_err()
        );
        assert!(
            CardAcceptance::from_csv("bin,type\n123456,plastic\n", "country,brands\n*,visa\n")
                .is_err()
        );
        assert!(CardAcceptance::from_csv("bin,type\n", "country,brands\nUS,visa\n").is_err());
        assert!(CardAcceptance::from_csv("bin,type\n", "country,brands\n*,diners\n").is_err());
    }
}
