//! The one source of "now" for business rules. In dev mode it can be moved forward, so demos
//! and tests can reach a code's expiry or a cool-down's end without waiting.

use crate::config::Config;
use crate::db::Db;
use crate::tables::settings;
use chrono::{DateTime, Duration, TimeZone, Utc};
pub use shared::time::{DurationMs, Millis};
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Now, as times are stored and compared.
    pub fn now(&self) -> Millis {
        Millis(self.now_utc().timestamp_millis())
    }

    /// Now on the calendar, for what needs a date (a card's expiry month) or more than
    /// millisecond precision.
    pub fn now_utc(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    pub fn advance(&self, by: DurationMs) {
        self.offset_ms.fetch_add(by.as_millis(), Ordering::Relaxed);
    }

    /// How far this clock has been moved from real time.
    pub fn offset(&self) -> DurationMs {
        DurationMs::millis(self.offset_ms.load(Ordering::Relaxed))
    }

    /// A clock already moved by `offset`.
    pub fn with_offset(offset: DurationMs) -> Self {
        Clock {
            offset_ms: AtomicI64::new(offset.as_millis()),
        }
    }

    /// The clock of a server run with `config` on `db`: real time, or in dev mode real time
    /// moved as far as the database says ([`DEV_OFFSET_KEY`]).
    pub async fn of_server(config: &Config, db: &Db) -> sqlx::Result<Self> {
        if !config.is_dev() {
            return Ok(Clock::default());
        }
        let offset = settings::value(db, DEV_OFFSET_KEY).await?;
        Ok(Clock::with_offset(DurationMs::millis(
            offset.and_then(|o| o.parse().ok()).unwrap_or(0),
        )))
    }
}

/// Dev mode keeps how far its clock was moved in the database, so a restarted server (or a
/// second one) sees the same time: jobs scheduled by the moved clock stay due.
pub const DEV_OFFSET_KEY: &str = "dev_clock_offset_ms";

/// A stored time as RFC 3339, for API bodies and exports.
pub fn rfc3339(at: Millis) -> String {
    Utc.timestamp_millis_opt(at.0)
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
        let before = clock.now();
        clock.advance(DurationMs::minutes(10));
        let moved = clock.now() - before;
        assert!(
            (DurationMs::minutes(10)..DurationMs::minutes(10) + DurationMs::seconds(5))
                .contains(&moved),
            "moved {moved:?}"
        );
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
        assert_eq!(rfc3339(Millis(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(Millis(1_700_000_000_000)), "2023-11-14T22:13:20Z");
    }
}
