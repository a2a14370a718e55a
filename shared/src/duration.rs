//! A wait in words, as people say it: `50 min`, never `2966 s`.

/// `45` → `45 s`, `2966` → `50 min` (rounded up: the wait is never shorter than said),
/// `7500` → `2 h 5 min`, `90000` → `1 d 1 h`. Under a minute the seconds are worth counting.
pub fn wait_words(seconds: u64) -> String {
    if seconds < 60 {
        return format!("{seconds} s");
    }
    let minutes = seconds.div_ceil(60);
    if minutes < 60 {
        return format!("{minutes} min");
    }
    let (hours, minutes) = (minutes / 60, minutes % 60);
    if hours < 24 {
        return match minutes {
            0 => format!("{hours} h"),
            m => format!("{hours} h {m} min"),
        };
    }
    let (days, hours) = (hours / 24, hours % 24);
    match hours {
        0 => format!("{days} d"),
        h => format!("{days} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::wait_words;

    #[test]
    fn waits_read_in_the_largest_sensible_units() {
        assert_eq!(wait_words(0), "0 s");
        assert_eq!(wait_words(45), "45 s");
        assert_eq!(wait_words(60), "1 min");
        assert_eq!(wait_words(61), "2 min");
        assert_eq!(wait_words(2966), "50 min");
        assert_eq!(wait_words(3600), "1 h");
        assert_eq!(wait_words(7500), "2 h 5 min");
        assert_eq!(wait_words(86_400), "1 d");
        assert_eq!(wait_words(90_000), "1 d 1 h");
    }
}
