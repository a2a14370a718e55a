//! The timed jobs' retry policy (SPEC §9): a job that moves money or decides a closure is
//! retried until it succeeds, never abandoned.

mod common;

use common::*;
use server::db;
use server::error::ApiError;
use server::jobs::{self, Job, Outcome};

/// Pay-as-you-go billing finishes its job (the hour billed, the next one scheduled) and then
/// charges the bill: an error from the charge must not put the finished job back for a retry
/// in seconds, which would bill the next hour ahead of its time. Fails on the old code, which
/// wrote the retry over whatever the row held.
#[tokio::test]
async fn a_failure_after_the_job_finished_leaves_it_finished() {
    let app = spawn_app().await;
    let now = app.state.clock.now_ms();
    let next_hour = now + 3_600_000;
    let mut tx = db::begin_write(&app.state.db).await.unwrap();
    jobs::schedule(&mut tx, "payg_usage", "instance-1", now, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Claimed (as `run_due` does), then finished in the transaction of its effect.
    let id: String = sqlx::query_scalar(
        "UPDATE jobs SET status = 'running', attempts = 1, lease_until = $1 RETURNING id",
    )
    .bind(now + 60_000)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    let job = Job {
        id,
        kind: "payg_usage".into(),
        subject: "instance-1".into(),
        attempts: 1,
    };
    let mut tx = db::begin_write(&app.state.db).await.unwrap();
    jobs::finish(&mut tx, &job, Outcome::Again(next_hour), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let error = ApiError::Internal(anyhow::anyhow!("the charge failed"));
    let mut tx = db::begin_write(&app.state.db).await.unwrap();
    jobs::retry_later(&mut tx, &job, &error, now).await.unwrap();
    tx.commit().await.unwrap();

    let row: (String, i64, i64, Option<String>) =
        sqlx::query_as("SELECT status, attempts, due_at, last_error FROM jobs")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(row, ("pending".to_owned(), 0, next_hour, None));
}
