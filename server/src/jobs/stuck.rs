//! Jobs an operator should look at: those that keep failing (a refund the gateway keeps
//! refusing, a closure decision the database keeps rejecting) and those due long ago that no
//! scheduler has taken (`queue::stuck` reads them). Listed by `account-center stuck-jobs`;
//! the scheduler also logs each failure of a stuck job at error level.

use crate::clock::rfc3339;
use crate::queue::StuckJob;
use std::fmt::Write;

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
    use crate::clock::Millis;
    use crate::db::Stored;
    use crate::queue::JobStatus;

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
