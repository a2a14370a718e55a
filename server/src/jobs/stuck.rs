//! Jobs an operator should look at: those that keep failing (a refund the gateway keeps
//! refusing, a closure decision the database keeps rejecting) and those due long ago that no
//! scheduler has taken. Listed by `account-center stuck-jobs`; the scheduler also logs each
//! failure of a stuck job at error level.

use crate::clock::{Millis, rfc3339};
use crate::db::{Db, Stored};
use crate::queue::{JobStatus, STUCK_AFTER_ATTEMPTS, STUCK_OVERDUE};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StuckJob {
    pub id: String,
    pub kind: String,
    pub subject: String,
    /// Pending, running, or failed (a row an older version abandoned).
    pub status: Stored<JobStatus>,
    /// Failed tries in a row, counting a try under way.
    pub attempts: i64,
    /// When the scheduler may take it next: its due time, or the end of a running try's lease.
    pub due_at: Millis,
    pub last_error: Option<String>,
}

/// The stuck jobs at `now`, those that failed most often first: [`STUCK_AFTER_ATTEMPTS`]
/// failures in a row or more, or claimable for [`STUCK_OVERDUE`] and still not taken.
pub async fn stuck(db: &Db, now: Millis) -> sqlx::Result<Vec<StuckJob>> {
    sqlx::query_as(
        "SELECT id, kind, subject, status, attempts, COALESCE(lease_until, due_at) AS due_at, last_error
         FROM jobs
         WHERE status IN ('pending', 'running', 'failed')
           AND (attempts >= $1 OR COALESCE(lease_until, due_at) <= $2)
         ORDER BY attempts DESC, due_at, id",
    )
    .bind(STUCK_AFTER_ATTEMPTS)
    .bind(now - STUCK_OVERDUE)
    .fetch_all(db)
    .await
}

/// `jobs` as a table for a terminal, one job a line, each error on its line's end.
pub fn stuck_table(jobs: &[StuckJob]) -> String {
    let mut out = format!(
        "{:<36}  {:<20}  {:<36}  {:<7}  {:>8}  {:<20}  last error\n",
        "id", "kind", "subject", "status", "attempts", "due"
    );
    for job in jobs {
        let error = job.last_error.as_deref().unwrap_or("-");
        let _ = writeln!(
            out,
            "{:<36}  {:<20}  {:<36}  {:<7}  {:>8}  {:<20}  {}",
            job.id,
            job.kind,
            job.subject,
            job.status.0.as_str(),
            job.attempts,
            rfc3339(job.due_at),
            error.replace('\n', " ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_header_and_one_line_per_job() {
        let job = StuckJob {
            id: "job-1".into(),
            kind: "refund_settle".into(),
            subject: "refund-1".into(),
            status: Stored(JobStatus::Pending),
            attempts: 12,
            due_at: Millis(1_700_000_000_000),
            last_error: Some("gateway refund:\nnetwork down".into()),
        };
        let table = stuck_table(&[job]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2, "{table}");
        assert!(lines[0].starts_with("id ") && lines[0].ends_with("last error"));
        for field in [
            "job-1",
            "refund_settle",
            "refund-1",
            " 12 ",
            "2023-11-14T22:13:20Z",
            "gateway refund: network down",
        ] {
            assert!(lines[1].contains(field), "{field} in {}", lines[1]);
        }
    }
}
