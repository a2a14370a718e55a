//! The one source of "now" for business rules. In dev mode it can be moved forward, so demos
//! and tests can reach a code's expiry or a cool-down's end without waiting.

use crate::config::Config;
use crate::db::Db;
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Milliseconds since the epoch, as times are stored.
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// A clock already moved by `offset_ms`.
    pub fn with_offset(offset_ms: i64) -> Self {
        Clock {
            offset_ms: AtomicI64::new(offset_ms),
        }
    }

    /// The clock of a server run with `config` on `db`: real time, or in dev mode real time
    /// moved as far as the database says ([`DEV_OFFSET_KEY`]).
    pub async fn of_server(config: &Config, db: &Db) -> sqlx::Result<Self> {
        if !config.is_dev() {
            return Ok(Clock::default());
        }
        let offset: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(DEV_OFFSET_KEY)
                .fetch_optional(db)
                .await?;
        Ok(Clock::with_offset(
            offset.and_then(|o| o.parse().ok()).unwrap_or(0),
        ))
    }
}

/// Dev mode keeps how far its clock was moved in the database, so a restarted server (or a
/// second one) sees the same time: jobs scheduled by the moved clock stay due.
pub const DEV_OFFSET_KEY: &str = "dev_clock_offset_ms";

/// A time as it is stored: milliseconds since the epoch, UTC, in a BIGINT column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Millis(pub i64);

impl Millis {
    /// As RFC 3339, for API bodies and exports.
    pub fn rfc3339(self) -> String {
        rfc3339(self.0)
    }
}

impl std::ops::Add<Duration> for Millis {
    type Output = Millis;

    fn add(self, by: Duration) -> Millis {
        Millis(self.0 + by.num_milliseconds())
    }
}

impl std::ops::Sub for Millis {
    type Output = Duration;

    fn sub(self, earlier: Millis) -> Duration {
        Duration::milliseconds(self.0 - earlier.0)
    }
}

/// A stored time as RFC 3339, for API bodies.
pub fn rfc3339(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward_by_that_much() {
        let clock = Clock::default();
        let before = clock.now_ms();
        clock.advance(Duration::minutes(10));
        let moved = clock.now_ms() - before;
        assert!(
            (600_000..600_000 + 5_000).contains(&moved),
            "moved {moved} ms"
        );
    }

    #[test]
    fn a_time_plus_a_duration_is_that_much_later() {
        let at = Millis(1_700_000_000_000);
        let later = at + Duration::days(1);
        assert_eq!(later - at, Duration::days(1));
        assert_eq!(later.rfc3339(), "2023-11-15T22:13:20Z");
        assert!(at < later);
    }

    #[tokio::test]
    async fn a_time_reads_from_a_bigint_column() {
        let (_dir, db) = crate::db::scratch().await;
        let at: Millis = sqlx::query_scalar("SELECT CAST(1700000000000 AS BIGINT)")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(at, Millis(1_700_000_000_000));
    }

    #[test]
    fn formats_stored_times_as_utc_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }
}
