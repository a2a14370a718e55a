//! Dates from the API (RFC 3339) in the browser's language and time zone, through
//! `Intl.DateTimeFormat`: one format for every page, with a short month name so that
//! `11/12/2026` never leaves the reader guessing which is the month.

/// Calendar dates (`2026-11-23`, no time) are days, not instants: shown as the same day in
/// every zone.
fn is_calendar_date(value: &str) -> bool {
    value.len() == 10 && value.as_bytes().get(4) == Some(&b'-')
}

/// The options for a date; `with_time` adds the hour, the minute and the zone's name.
fn date_options(value: &str, with_time: bool) -> Vec<(&'static str, &'static str)> {
    let mut pairs = vec![("year", "numeric"), ("month", "short"), ("day", "numeric")];
    if with_time {
        pairs.extend([
            ("hour", "2-digit"),
            ("minute", "2-digit"),
            ("timeZoneName", "short"),
        ]);
    } else if is_calendar_date(value) {
        pairs.push(("timeZone", "UTC"));
    }
    pairs
}

/// `2026-11-23T08:05:00Z` → `Nov 23, 2026` (en-US) or `23 Nov 2026` (en-GB), in the
/// browser's time zone; anything unreadable is shown as it came.
pub fn long_date(rfc3339: &str) -> String {
    crate::components::intl::date(rfc3339, &date_options(rfc3339, false))
        .unwrap_or_else(|| rfc3339.to_owned())
}

/// `2026-11-23T08:05:00Z` → `Nov 23, 2026, 04:05 PM GMT+8` (en-US in Singapore): the
/// browser's time zone, named.
pub fn date_time(rfc3339: &str) -> String {
    if is_calendar_date(rfc3339) {
        return long_date(rfc3339);
    }
    crate::components::intl::date(rfc3339, &date_options(rfc3339, true))
        .unwrap_or_else(|| rfc3339.to_owned())
}

/// `2026-11` → `Nov 2026` (en-US): a calendar month, the same in every zone.
pub fn month_year(year_month: &str) -> String {
    crate::components::intl::date(
        &format!("{year_month}-01"),
        &[("year", "numeric"), ("month", "short"), ("timeZone", "UTC")],
    )
    .unwrap_or_else(|| year_month.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_dates_stay_on_their_day_and_instants_name_their_zone() {
        assert!(date_options("2026-11-03", false).contains(&("timeZone", "UTC")));
        assert!(!date_options("2026-11-03T08:05:00Z", false).contains(&("timeZone", "UTC")));
        let with_time = date_options("2026-11-03T08:05:00Z", true);
        assert!(with_time.contains(&("timeZoneName", "short")));
        assert!(with_time.contains(&("month", "short")));
    }
}
