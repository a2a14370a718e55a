//! Times as the server keeps them: milliseconds since the Unix epoch, UTC ([`Millis`]), and
//! lengths of time in milliseconds ([`DurationMs`]). Two types, so that a deadline cannot be
//! passed where a wait is meant: a time plus a length is a time, a time minus a time a length.
//!
//! The arithmetic saturates at the ends of `i64` rather than overflowing: a time far past any
//! real one (`Millis::MAX`, "never") plus a wait stays "never", where a wrapped sum would be a
//! date before 1970 that everything is due after. Real times (±292 million years) never reach
//! the ends, so for them this is plain addition.
//!
//! No date crate here: the browser app links this module. Calendars and RFC 3339 are the
//! server's (`server/src/clock.rs`).

use serde::{Deserialize, Serialize};
use std::ops::{Add, Div, Mul, Sub};

/// A point in time: milliseconds since 1970-01-01T00:00:00Z. In JSON and in the database it is
/// that number, a BIGINT column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[repr(transparent)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
pub struct Millis(pub i64);

impl Millis {
    /// Later than any real time: what an open end ("not yet released") is compared as.
    pub const MAX: Millis = Millis(i64::MAX);

    /// Whole seconds since the epoch, rounded down (the Unix time of Stripe's signatures and
    /// of authenticator codes).
    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1_000)
    }
}

/// A length of time in milliseconds; negative when the second time of a difference was the
/// later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct DurationMs(pub i64);

impl DurationMs {
    pub const ZERO: DurationMs = DurationMs(0);

    pub const fn millis(ms: i64) -> DurationMs {
        DurationMs(ms)
    }

    pub const fn seconds(s: i64) -> DurationMs {
        DurationMs(s.saturating_mul(1_000))
    }

    pub const fn minutes(m: i64) -> DurationMs {
        DurationMs(m.saturating_mul(60_000))
    }

    pub const fn hours(h: i64) -> DurationMs {
        DurationMs(h.saturating_mul(3_600_000))
    }

    pub const fn days(d: i64) -> DurationMs {
        DurationMs(d.saturating_mul(86_400_000))
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// In whole seconds, the part second dropped (towards zero).
    pub const fn as_secs(self) -> i64 {
        self.0 / 1_000
    }
}

impl From<std::time::Duration> for DurationMs {
    /// To whole milliseconds (a part millisecond dropped), saturating at `i64::MAX`.
    fn from(length: std::time::Duration) -> DurationMs {
        DurationMs(i64::try_from(length.as_millis()).unwrap_or(i64::MAX))
    }
}

impl Add<DurationMs> for Millis {
    type Output = Millis;

    fn add(self, by: DurationMs) -> Millis {
        Millis(self.0.saturating_add(by.0))
    }
}

impl Sub<DurationMs> for Millis {
    type Output = Millis;

    fn sub(self, by: DurationMs) -> Millis {
        Millis(self.0.saturating_sub(by.0))
    }
}

impl Sub for Millis {
    type Output = DurationMs;

    /// How long after `earlier` this is.
    fn sub(self, earlier: Millis) -> DurationMs {
        DurationMs(self.0.saturating_sub(earlier.0))
    }
}

impl Add for DurationMs {
    type Output = DurationMs;

    fn add(self, other: DurationMs) -> DurationMs {
        DurationMs(self.0.saturating_add(other.0))
    }
}

impl Sub for DurationMs {
    type Output = DurationMs;

    fn sub(self, other: DurationMs) -> DurationMs {
        DurationMs(self.0.saturating_sub(other.0))
    }
}

impl Mul<i64> for DurationMs {
    type Output = DurationMs;

    fn mul(self, times: i64) -> DurationMs {
        DurationMs(self.0.saturating_mul(times))
    }
}

impl Div for DurationMs {
    type Output = i64;

    /// How many whole `unit`s this is, rounded towards zero: `wait / DurationMs::days(1)`.
    fn div(self, unit: DurationMs) -> i64 {
        self.0.saturating_div(unit.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOV_2023: Millis = Millis(1_700_000_000_000);

    #[test]
    fn a_std_duration_is_its_whole_milliseconds_and_the_longest_saturates() {
        use std::time::Duration;
        assert_eq!(
            DurationMs::from(Duration::from_micros(1_500_999)),
            DurationMs(1_500)
        );
        assert_eq!(DurationMs::from(Duration::MAX), DurationMs(i64::MAX));
        assert_eq!(NOV_2023 + DurationMs::from(Duration::MAX) * 2, Millis::MAX);
    }

    #[test]
    fn a_time_plus_a_length_is_that_much_later() {
        let later = NOV_2023 + DurationMs::days(1);
        assert_eq!(later, Millis(1_700_086_400_000));
        assert_eq!(later - NOV_2023, DurationMs::hours(24));
        assert_eq!(NOV_2023 - later, DurationMs::days(-1));
        assert_eq!(later - DurationMs::days(1), NOV_2023);
        assert!(NOV_2023 < later);
    }

    #[test]
    fn the_units_are_what_they_say() {
        assert_eq!(DurationMs::seconds(1), DurationMs::millis(1_000));
        assert_eq!(DurationMs::minutes(1), DurationMs::seconds(60));
        assert_eq!(DurationMs::hours(1), DurationMs::minutes(60));
        assert_eq!(DurationMs::days(1), DurationMs::hours(24));
        assert_eq!(DurationMs::seconds(5) * 3, DurationMs::seconds(15));
    }

    #[test]
    fn never_plus_a_wait_is_still_never() {
        assert_eq!(Millis::MAX + DurationMs::millis(1), Millis::MAX);
        assert_eq!(Millis::MAX + DurationMs::days(i64::MAX), Millis::MAX);
    }

    #[test]
    fn arithmetic_stops_at_the_ends_instead_of_wrapping() {
        assert_eq!(Millis(i64::MIN) - DurationMs::millis(1), Millis(i64::MIN));
        assert_eq!(Millis::MAX - Millis(i64::MIN), DurationMs(i64::MAX));
        assert_eq!(Millis(i64::MIN) - Millis::MAX, DurationMs(i64::MIN));
        assert_eq!(DurationMs::days(i64::MAX), DurationMs(i64::MAX));
        assert_eq!(DurationMs::seconds(i64::MIN), DurationMs(i64::MIN));
        assert_eq!(DurationMs(i64::MAX) * 2, DurationMs(i64::MAX));
        assert_eq!(DurationMs(i64::MAX) + DurationMs(1), DurationMs(i64::MAX));
        assert_eq!(DurationMs(i64::MIN) - DurationMs(1), DurationMs(i64::MIN));
    }

    #[test]
    fn whole_units_drop_the_part_unit() {
        assert_eq!(DurationMs::hours(47) / DurationMs::days(1), 1);
        assert_eq!(DurationMs::hours(-47) / DurationMs::days(1), -1);
        assert_eq!(DurationMs(i64::MIN) / DurationMs(-1), i64::MAX);
    }

    #[test]
    fn unix_seconds_round_down_before_1970_too() {
        assert_eq!(Millis(1_999).unix_secs(), 1);
        assert_eq!(Millis(-1).unix_secs(), -1);
    }

    #[test]
    fn whole_seconds_drop_the_part_second() {
        assert_eq!(DurationMs::millis(1_999).as_secs(), 1);
        assert_eq!(DurationMs::millis(999).as_secs(), 0);
        assert_eq!(DurationMs::millis(-1_999).as_secs(), -1);
    }

    #[test]
    fn a_time_is_a_plain_number_in_json() {
        assert_eq!(serde_json::to_string(&NOV_2023).unwrap(), "1700000000000");
        assert_eq!(
            serde_json::from_str::<Millis>("1700000000000").unwrap(),
            NOV_2023
        );
    }

    proptest! {
        #[test]
        fn adding_the_difference_of_two_times_gives_the_later_one(
            a in -(1i64 << 60)..(1i64 << 60),
            b in -(1i64 << 60)..(1i64 << 60),
        ) {
            let (a, b) = (Millis(a), Millis(b));
            prop_assert_eq!(a + (b - a), b);
            prop_assert_eq!(b - (b - a), a);
        }

        #[test]
        fn a_time_moves_the_way_the_length_points(at in any::<i64>(), by in any::<i64>()) {
            let (at, by) = (Millis(at), DurationMs(by));
            if by >= DurationMs::ZERO {
                prop_assert!(at + by >= at && at - by <= at);
            } else {
                prop_assert!(at + by <= at && at - by >= at);
            }
        }
    }
}
