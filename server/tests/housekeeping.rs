//! The hourly housekeeping job: rows past their use are deleted, rows still in use are not,
//! and the job keeps exactly one schedule of itself.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use server::clock::Millis;
use server::domain::housekeeping::{self, Housekeeping};
use server::queue::Job;

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// The pass's own schedule: `(status, due_at)` of every housekeeping job row.
async fn schedule(app: &TestApp) -> Vec<(String, Millis)> {
    sqlx::query_as("SELECT status, due_at FROM jobs WHERE kind = $1")
        .bind(Housekeeping::KIND)
        .fetch_all(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn expired_rows_go_and_rows_in_use_stay() {
    let mut app = spawn_app().await;
    // What visitors leave behind: an account that bought something (an idempotency key), a
    // failed sign-in (rate-limit events), a sign-up never verified.
    let email = app.ready_to_buy("sweep").await;
    app.buy("ecs", 1, "default_method").await;
    let failed = app
        .post(
            "/api/session",
            &json!({"email": email, "password": "Wrong7Password"}),
        )
        .await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    app.another_client()
        .start_signup("never-verified@example.com")
        .await;
    let before = [
        ("idempotency_keys", count(&app, "idempotency_keys").await),
        ("rate_events", count(&app, "rate_events").await),
        ("sessions", count(&app, "sessions").await),
        ("signups", count(&app, "signups").await),
    ];
    assert!(before.iter().all(|(_, n)| *n > 0), "{before:?}");

    // A pass now finds everything still in use.
    housekeeping::ensure_scheduled(&app.state).await.unwrap();
    app.run_jobs().await;
    for (table, n) in before {
        assert_eq!(count(&app, table).await, n, "{table} kept while in use");
    }
    assert_eq!(app.get("/api/session").await.status(), StatusCode::OK);

    // Two days on, the keys, events and sessions are past their use, and the sign-up a day
    // past its expiry; the verified account's sign-up row stays (it names the account).
    app.advance(DurationMs::hours(49));
    app.run_jobs().await;
    assert_eq!(count(&app, "idempotency_keys").await, 0);
    assert_eq!(count(&app, "rate_events").await, 0);
    assert_eq!(count(&app, "sessions").await, 0);
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signups WHERE account_id IS NULL")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        pending, 0,
        "the unverified sign-up and its password hash are gone"
    );
    assert_eq!(count(&app, "signups").await, 1);

    // A session made now survives the next pass; the job stays one row, due an hour on.
    app.sign_in_again(&email).await;
    housekeeping::ensure_scheduled(&app.state).await.unwrap();
    app.advance(DurationMs::hours(1));
    let pass_from = app.state.clock.now();
    app.run_jobs().await;
    let pass_to = app.state.clock.now();
    assert_eq!(count(&app, "sessions").await, 1);
    assert_eq!(app.get("/api/session").await.status(), StatusCode::OK);
    let schedule = schedule(&app).await;
    assert_eq!(schedule.len(), 1, "{schedule:?}");
    let (status, due_at) = &schedule[0];
    assert_eq!(status, "pending");
    let next_from = *due_at - housekeeping::EVERY;
    assert!(
        (pass_from..=pass_to).contains(&next_from),
        "the next pass is due an hour after this one ran"
    );
}

/// `(outbox, verification_codes, jobs done, jobs pending)` row counts, the housekeeping pass's
/// own row left out.
async fn delivered_and_finished(app: &TestApp) -> [i64; 4] {
    let jobs = |status: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM jobs WHERE status = $1 AND kind <> $2")
            .bind(status)
            .bind(Housekeeping::KIND)
            .fetch_one(&app.state.db)
            .await
            .unwrap()
    };
    [
        count(app, "outbox").await,
        count(app, "verification_codes").await,
        jobs("done").await,
        jobs("pending").await,
    ]
}

/// Messages, codes and finished jobs go a day on (SPEC §6.4: a closed account's codes, notices
/// and jobs must not stay), pending jobs never.
#[tokio::test]
async fn messages_codes_and_finished_jobs_go_a_day_on_and_pending_jobs_stay() {
    let mut app = spawn_app().await;
    // Codes and their messages (sign-up, phone), a card's hold released by a job, a
    // subscription whose expiry is a pending job.
    app.ready_to_buy("day-old").await;
    app.buy("ecs", 1, "default_method").await;
    housekeeping::ensure_scheduled(&app.state).await.unwrap();
    app.run_jobs().await;
    let [messages, codes, done, pending] = delivered_and_finished(&app).await;
    assert!(messages > 0 && codes > 0 && done > 0 && pending > 0);

    // Not quite a day on, all stay; then a newcomer's code and message, which the next pass
    // keeps while it sweeps the day-old rows.
    app.advance(DurationMs::hours(23));
    app.run_jobs().await;
    assert_eq!(
        delivered_and_finished(&app).await,
        [messages, codes, done, pending]
    );
    app.another_client().signed_up_email("newcomer").await;
    app.advance(DurationMs::hours(2));
    app.run_jobs().await;
    let [messages, codes, done, still_pending] = delivered_and_finished(&app).await;
    assert_eq!(
        (messages, codes, done),
        (1, 1, 0),
        "only the newcomer's code and its message"
    );
    assert_eq!(still_pending, pending, "pending jobs are never swept");
}

/// Stripe's event ids are kept while Stripe may still redeliver their events (three days),
/// and a week on they go: the table does not grow with every event ever received.
#[tokio::test]
async fn stripe_event_ids_go_a_week_on() {
    let app = spawn_app().await;
    let now = app.state.clock.now();
    sqlx::query(
        "INSERT INTO stripe_events (id, type, received_at) VALUES ('evt_1', 'refund.failed', $1)",
    )
    .bind(now)
    .execute(app.state.db.writer())
    .await
    .unwrap();
    housekeeping::ensure_scheduled(&app.state).await.unwrap();
    app.advance(DurationMs::days(3));
    app.run_jobs().await;
    assert_eq!(
        count(&app, "stripe_events").await,
        1,
        "kept while Stripe may redeliver"
    );
    app.advance(DurationMs::days(4) + DurationMs::hours(1));
    app.run_jobs().await;
    assert_eq!(count(&app, "stripe_events").await, 0);
}

/// A provider's report on a SID no message has is kept for the message that may still get it,
/// and goes a day on, with the outbox's messages: then it was about no message of ours.
#[tokio::test]
async fn early_provider_reports_go_a_day_on() {
    let app = spawn_app().await;
    let now = app.state.clock.now();
    sqlx::query(
        "INSERT INTO early_provider_reports (provider_id, status, received_at)
         VALUES ('SM_stranger', 'undelivered', $1)",
    )
    .bind(now)
    .execute(app.state.db.writer())
    .await
    .unwrap();
    housekeeping::ensure_scheduled(&app.state).await.unwrap();
    app.advance(DurationMs::hours(23));
    app.run_jobs().await;
    assert_eq!(count(&app, "early_provider_reports").await, 1, "kept a day");
    app.advance(DurationMs::hours(2));
    app.run_jobs().await;
    assert_eq!(count(&app, "early_provider_reports").await, 0);
}

/// A pass that finds more expired rows than one of its transactions deletes goes on, chunk
/// after chunk, until they are all gone, and leaves the rows still in use.
#[tokio::test]
async fn a_pass_deletes_more_rows_than_one_chunk_and_keeps_those_in_use() {
    let app = spawn_app().await;
    let now = app.state.clock.now();
    let expired = 2 * housekeeping::CHUNK + 1;
    sqlx::query(
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO rate_events (scope, subject, at) SELECT 'chunks', 'old', $2 FROM n",
    )
    .bind(expired)
    .bind(now)
    .execute(app.state.db.writer())
    .await
    .unwrap();
    housekeeping::ensure_scheduled(&app.state).await.unwrap();
    app.advance(server::rate_limit::KEEP + DurationMs::hours(1));
    let fresh = app.state.clock.now();
    sqlx::query("INSERT INTO rate_events (scope, subject, at) VALUES ('chunks', 'new', $1)")
        .bind(fresh)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    assert_eq!(count(&app, "rate_events").await, expired + 1);
    app.run_jobs().await;
    let left: Vec<String> = sqlx::query_scalar("SELECT subject FROM rate_events")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(left, ["new"]);
    assert_eq!(
        schedule(&app).await.len(),
        1,
        "one schedule of the next pass"
    );
}
