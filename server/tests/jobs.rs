//! The timed jobs' retry policy (SPEC §9): a job that moves money or decides a closure is
//! retried until it succeeds, never abandoned; waits grow to an hour and stay there; a job
//! that keeps failing is listed by `account-center stuck-jobs`.

mod common;

use common::outage::{Down, Outage};
use common::*;
use reqwest::StatusCode;
use serde_json::json;
use server::clock::Millis;
use server::db;
use server::domain::closure::decision::DecideClosure;
use server::domain::expiry::Expire;
use server::domain::refund::SettleRefund;
use server::domain::usage::BillUsage;
use server::error::ApiError;
use server::jobs;
use server::queue::{self, Claimed, Job, Outcome};

#[derive(Debug, sqlx::FromRow)]
struct JobRow {
    id: String,
    status: String,
    attempts: i64,
    due_at: Millis,
    last_error: Option<String>,
}

async fn settlement_of(app: &TestApp, refund_id: &str) -> JobRow {
    sqlx::query_as(
        "SELECT id, status, attempts, due_at, last_error FROM jobs WHERE kind = $1 AND subject = $2",
    )
    .bind(SettleRefund::KIND)
    .bind(refund_id)
    .fetch_one(&app.state.db)
    .await
    .unwrap()
}

async fn refund_status(app: &TestApp, refund_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM refunds WHERE id = $1")
        .bind(refund_id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// Moves the test clock to `at`, if it is not there yet.
fn move_clock_to(app: &TestApp, at: Millis) {
    let by = at - app.state.clock.now();
    if by > DurationMs::ZERO {
        app.state.clock.advance(by);
    }
}

/// A card refund whose gateway is down for 15 tries, over five hours. Fails on the old code,
/// which marked the job `failed` at its tenth failure (some 1.4 hours in) and never ran it
/// again, leaving the refund in Processing for good.
#[tokio::test]
async fn a_refund_is_retried_through_a_long_gateway_outage_and_settles_after_it() {
    let mut app = spawn_app().await;
    app.ready_to_buy("outage").await;
    let instance = app.buy("ecs", 1, "default_method").await;
    let unsubscribed = app
        .post_once(
            "/api/unsubscribe",
            &uuid::Uuid::new_v4().to_string(),
            &json!({"instance_ids": [instance], "confirm_refund_amount": true, "confirm_data_backed_up": true}),
        )
        .await;
    assert_eq!(unsubscribed.status(), StatusCode::OK);
    let refund_id: String = sqlx::query_scalar("SELECT id FROM refunds")
        .fetch_one(&app.state.db)
        .await
        .unwrap();

    // The gateway's refunds are down when the card refund falls due.
    let (state, outage) = Outage::of(&app.state, Down::Refunds);
    app.advance(DurationMs::days(3));
    for attempts in 1..=15 {
        let before = app.state.clock.now();
        assert_eq!(jobs::run_due(&state).await.unwrap(), 1, "try {attempts}");
        let after = app.state.clock.now();
        let job = settlement_of(&app, &refund_id).await;
        assert_eq!((job.status.as_str(), job.attempts), ("pending", attempts));
        assert!(
            job.last_error
                .as_deref()
                .unwrap()
                .contains("refunds are down"),
            "{job:?}"
        );
        // 5 s after the first failure, twice as long after each next one, an hour at most.
        let wait = DurationMs::millis((5_000_i64 << (attempts - 1)).min(3_600_000));
        assert!(
            (before + wait..=after + wait).contains(&job.due_at),
            "after failure {attempts} the next try waits {wait:?}: {job:?}"
        );
        move_clock_to(&app, job.due_at);
    }
    assert_eq!(refund_status(&app, &refund_id).await, "processing");

    // The operator sees it: in the listing, and through the command.
    let job = settlement_of(&app, &refund_id).await;
    let stuck = queue::stuck(&app.state.db, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(stuck.len(), 1, "{stuck:?}");
    assert_eq!(
        (
            stuck[0].id.as_str(),
            stuck[0].kind.as_str(),
            stuck[0].subject.as_str(),
            stuck[0].attempts,
            stuck[0].due_at
        ),
        (
            job.id.as_str(),
            SettleRefund::KIND,
            refund_id.as_str(),
            15,
            job.due_at
        )
    );
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_account-center"))
        .args([
            "--database-url",
            &app.state.config.database_url(),
            "stuck-jobs",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{listed:?}");
    for shown in [&job.id, SettleRefund::KIND, &refund_id, "refunds are down"] {
        assert!(stdout.contains(shown), "{shown} in:\n{stdout}");
    }

    // The outage ends: the next try, within the hour, settles the refund once.
    outage.end();
    move_clock_to(&app, job.due_at);
    assert_eq!(jobs::run_due(&state).await.unwrap(), 1);
    assert_eq!(settlement_of(&app, &refund_id).await.status, "done");
    assert_eq!(refund_status(&app, &refund_id).await, "refunded");
    assert!(
        queue::stuck(&app.state.db, app.state.clock.now())
            .await
            .unwrap()
            .is_empty()
    );
    // Nothing else is queued but the released instance's expiry, which then just ends.
    let open: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, subject FROM jobs WHERE status <> 'done'")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(open, [(Expire::KIND.to_owned(), instance)]);
}

/// The pending job of kind `J` for `subject`, claimed with a minute's lease as `run_due`
/// would, so a test can finish it by hand.
async fn claim_by_hand<J: Job>(app: &TestApp, subject: &str) -> Claimed {
    let id: String = sqlx::query_scalar(
        "UPDATE jobs SET status = 'running', attempts = 1, lease_until = $1
         WHERE kind = $2 AND subject = $3 RETURNING id",
    )
    .bind(app.state.clock.now() + DurationMs::minutes(1))
    .bind(J::KIND)
    .bind(subject)
    .fetch_one(app.state.db.writer())
    .await
    .unwrap();
    Claimed {
        id,
        kind: J::KIND.into(),
        subject: subject.into(),
        attempts: 1,
    }
}

/// Pay-as-you-go billing finishes its job (the hour billed, the next one scheduled) and then
/// charges the bill: an error from the charge must not put the finished job back for a retry
/// in seconds, which would bill the next hour ahead of its time. Fails on the old code, which
/// wrote the retry over whatever the row held.
#[tokio::test]
async fn a_failure_after_the_job_finished_leaves_it_finished() {
    let app = spawn_app().await;
    let now = app.state.clock.now();
    let next_hour = now + DurationMs::hours(1);
    let mut tx = db::begin_write(&app.state.db).await.unwrap();
    queue::schedule::<BillUsage>(&mut tx, "instance-1", now, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Claimed (as `run_due` does), then finished in the transaction of its effect.
    let job = claim_by_hand::<BillUsage>(&app, "instance-1").await;
    let mut tx = db::begin_write(&app.state.db).await.unwrap();
    queue::finish(&mut tx, &job, Outcome::Again(next_hour), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let error = ApiError::Internal(anyhow::anyhow!("the charge failed"));
    let mut tx = db::begin_write(&app.state.db).await.unwrap();
    queue::retry_later(&mut tx, &job, &error, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let row: (String, i64, Millis, Option<String>) =
        sqlx::query_as("SELECT status, attempts, due_at, last_error FROM jobs")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(row, ("pending".to_owned(), 0, next_hour, None));
}

/// A recurring job put back at a time already past (pay-as-you-go billing catching up one
/// hour per run after days without a scheduler) is due now, not then: the scheduler takes the
/// oldest due time first, so it queues behind the jobs already waiting instead of being taken
/// again ahead of them until it has caught up, and is not listed as stuck meanwhile. Fails on
/// the old code, which kept the time it was given.
#[tokio::test]
async fn a_job_catching_up_queues_behind_the_jobs_already_due() {
    let app = spawn_app().await;
    let now = app.state.clock.now();
    let mut tx = db::begin_write(&app.state.db).await.unwrap();
    queue::schedule::<BillUsage>(&mut tx, "instance-behind", now - DurationMs::hours(10), now)
        .await
        .unwrap();
    queue::schedule::<SettleRefund>(&mut tx, "refund-waiting", now - DurationMs::minutes(1), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let job = claim_by_hand::<BillUsage>(&app, "instance-behind").await;
    // One hour billed; the next one was due nine hours ago.
    let mut tx = db::begin_write(&app.state.db).await.unwrap();
    queue::finish(
        &mut tx,
        &job,
        Outcome::Again(now - DurationMs::hours(9)),
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let due: Vec<(String, Millis)> =
        sqlx::query_as("SELECT subject, due_at FROM jobs WHERE status = 'pending' ORDER BY due_at")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        due,
        [
            ("refund-waiting".to_owned(), now - DurationMs::minutes(1)),
            ("instance-behind".to_owned(), now),
        ]
    );
    let stuck: Vec<String> = queue::stuck(&app.state.db, now + DurationMs::minutes(5))
        .await
        .unwrap()
        .into_iter()
        .map(|job| job.subject)
        .collect();
    assert_eq!(stuck, Vec::<String>::new());
}

/// One pass over the due jobs at a time in a process: a pass called while another is under
/// way (dev mode's `run-jobs` beside the scheduler's own) runs nothing until that one ends, so
/// when it returns no job due at its call is still in the other's hands. A closure decided
/// right after would otherwise find that pass's charge in flight and wait an hour (the e2e
/// `@server-clock` closure test failed so on CI).
#[tokio::test]
async fn a_pass_over_the_due_jobs_waits_for_the_one_under_way() {
    let app = spawn_app().await;
    let now = app.state.clock.now();
    let mut tx = db::begin_write(&app.state.db).await.unwrap();
    queue::schedule::<SettleRefund>(&mut tx, "refund-due", now, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let status = || async {
        sqlx::query_scalar::<_, String>("SELECT status FROM jobs WHERE subject = 'refund-due'")
            .fetch_one(&app.state.db)
            .await
            .unwrap()
    };

    let under_way = app.state.job_pass.clone().lock_owned().await;
    let state = app.state.clone();
    let mut second = tokio::spawn(async move { jobs::run_due(&state).await });
    let waited = tokio::time::timeout(std::time::Duration::from_millis(300), &mut second).await;
    assert!(waited.is_err(), "the second pass ran beside the first");
    assert_eq!(status().await, "pending");

    drop(under_way);
    // A refund that does not exist leaves its job nothing to do.
    assert_eq!(second.await.unwrap().unwrap(), 1);
    assert_eq!(status().await, "done");
}

/// An install upgraded from a version that abandoned jobs after ten failures gets them back:
/// the migration makes them pending, due at once, and they keep their failure count (so the
/// listing shows them until they succeed). Finished and scheduled jobs are left as they were.
#[tokio::test]
async fn jobs_an_older_version_abandoned_run_again_after_the_upgrade() {
    let data = tempfile::tempdir().unwrap();
    let db = database_before(data.path(), "_jobs_never_abandoned.sql").await;

    let now = Millis(1_800_000_000_000);
    let day = DurationMs::days(1);
    for (id, kind, status, attempts, due_at) in [
        (
            "abandoned-refund",
            SettleRefund::KIND,
            "failed",
            10,
            now - day,
        ),
        (
            "abandoned-closure",
            DecideClosure::KIND,
            "failed",
            10,
            now - DurationMs::seconds(5),
        ),
        ("finished", SettleRefund::KIND, "done", 1, now - day),
        ("scheduled", Expire::KIND, "pending", 0, now + day),
    ] {
        sqlx::query(
            "INSERT INTO jobs (id, kind, subject, due_at, status, attempts, last_error, created_at)
             VALUES ($1, $2, $1, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(kind)
        .bind(due_at)
        .bind(status)
        .bind(attempts)
        .bind((status == "failed").then_some("gateway refund: network down"))
        .bind(now - day * 2)
        .execute(db.writer())
        .await
        .unwrap();
    }

    db::migrate(&db).await.unwrap();
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT id, status, attempts FROM jobs ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    let expected = [
        ("abandoned-closure", "pending", 10),
        ("abandoned-refund", "pending", 10),
        ("finished", "done", 1),
        ("scheduled", "pending", 0),
    ];
    assert_eq!(
        rows,
        expected.map(|(id, status, attempts)| (id.to_owned(), status.to_owned(), attempts))
    );
    let stuck: Vec<String> = queue::stuck(&db, now)
        .await
        .unwrap()
        .into_iter()
        .map(|job| job.id)
        .collect();
    assert_eq!(stuck, ["abandoned-refund", "abandoned-closure"]);
}
