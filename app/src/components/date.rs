//! Dates from the API (RFC 3339) in words. Day-month-year with a short month name reads the
//! same in every locale, which `11/12/2026` does not.

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `2026-11-23T08:05:00Z` → `23 Nov 2026`; anything unreadable is shown as it came.
pub fn long_date(rfc3339: &str) -> String {
    parse_date(rfc3339)
        .map(|(year, month, day)| format!("{day} {} {year}", MONTHS[month - 1]))
        .unwrap_or_else(|| rfc3339.to_owned())
}

/// `2026-11-23T08:05:00Z` → `23 Nov 2026, 08:05 UTC`.
pub fn date_time(rfc3339: &str) -> String {
    let time = rfc3339
        .get(11..16)
        .filter(|t| t.as_bytes().get(2) == Some(&b':'));
    let zone = if rfc3339.ends_with('Z') || rfc3339.ends_with("+00:00") {
        "UTC".to_owned()
    } else {
        rfc3339
            .get(rfc3339.len().saturating_sub(6)..)
            .map(|offset| format!("UTC{offset}"))
            .unwrap_or_default()
    };
    match (parse_date(rfc3339), time) {
        (Some(_), Some(time)) => format!("{}, {time} {zone}", long_date(rfc3339)),
        _ => rfc3339.to_owned(),
    }
}

fn parse_date(rfc3339: &str) -> Option<(u32, usize, u32)> {
    let date = rfc3339.get(..10)?;
    let mut parts = date.split('-');
    let year = parts.next()?.parse().ok()?;
    let month: usize = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    (1..=12).contains(&month).then_some((year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_day_month_year() {
        assert_eq!(long_date("2026-11-03T08:05:00Z"), "3 Nov 2026");
        assert_eq!(date_time("2026-11-03T08:05:00Z"), "3 Nov 2026, 08:05 UTC");
        assert_eq!(
            date_time("2026-11-03T08:05:00+08:00"),
            "3 Nov 2026, 08:05 UTC+08:00"
        );
        assert_eq!(long_date("soon"), "soon");
    }
}
