//! Writers on PostgreSQL: one account's writes are serialised by the lock on its
//! row, and no one else's; checks of rows several accounts share are serialised by key locks
//! across instances; a deadlock is answered "try again", not as a server error. Every test here
//! runs on a PostgreSQL database of its own, whatever `TEST_DB` says: SQLite has one writer
//! for the whole database, and none of this can differ there.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use server::db;
use server::domain::account;
use server::error::ApiError;
use shared::ErrorCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

async fn on_its_own_postgres() -> TestApp {
    spawn_app_with(&["--database-url", &new_postgres_database().await]).await
}

/// Two instances of the server on one new PostgreSQL database, with the same keys (as
/// "Secret keys" in the README asks); the folder holding the key file comes back with them.
async fn two_instances() -> (TestApp, TestApp, tempfile::TempDir) {
    let url = new_postgres_database().await;
    let folder = tempfile::tempdir().unwrap();
    let keys = folder.path().join("secrets.key");
    let instance = [
        "--database-url",
        &url,
        "--secrets-file",
        keys.to_str().unwrap(),
    ];
    let one = spawn_app_with(&instance).await;
    let two = spawn_app_with(&instance).await;
    (one, two, folder)
}

/// Starts a sign-up of `email` on `app` and sends its email code: the sign-up's id and the code.
async fn signup_with_code(app: &TestApp, email: &str) -> (String, String) {
    let id = app.start_signup(email).await;
    let sent = app
        .post(&format!("/api/signup/{id}/code"), &json!({}))
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    (id, app.code_for(email).await)
}

/// Backends of this database waiting for a lock another transaction holds.
async fn waiting(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap()
}

async fn until_waiting(app: &TestApp, writers: i64) {
    // A bound, not a timing: a writer that never queues fails the test after 10 s.
    for _ in 0..1000 {
        if waiting(app).await >= writers {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{writers} writers never queued for a lock");
}

fn address(city: &str) -> serde_json::Value {
    let mut form = address_in("SG");
    form["city"] = json!(city);
    form
}

/// A transaction holds account A's lock. A's billing-address update queues behind it; B's
/// goes through meanwhile (with the one lock every writer took before, it queued too). Once
/// A's holder commits, A's update is written.
#[tokio::test]
async fn a_held_account_delays_its_own_writes_and_no_one_elses() {
    let mut a = on_its_own_postgres().await;
    let a_email = a.signed_up("held").await;
    a.with_billing_address("8123 4567").await;
    let mut b = a.another_client();
    b.signed_up("free").await;
    b.with_billing_address("8123 4568").await;

    let holder = account::begin_write(
        &a.state.db,
        &a.account_id(&a_email).await,
        account::Writer::Member,
    )
    .await
    .unwrap();
    let a_done = AtomicBool::new(false);
    let a_update = async {
        let answer = a.put("/api/billing-address", &address("Jurong")).await;
        a_done.store(true, Ordering::SeqCst);
        answer
    };
    let meanwhile = async {
        until_waiting(&a, 1).await;
        let b_update = tokio::time::timeout(
            Duration::from_secs(30),
            b.put("/api/billing-address", &address("Bedok")),
        )
        .await
        .expect("B's write does not wait for A's lock");
        assert_eq!(b_update.status(), StatusCode::OK);
        assert!(
            !a_done.load(Ordering::SeqCst),
            "A's write waits for A's lock"
        );
        holder.commit().await.unwrap();
    };
    let (a_update, ()) = tokio::join!(a_update, meanwhile);
    assert_eq!(a_update.status(), StatusCode::OK);
    let cities: Vec<String> =
        sqlx::query_scalar("SELECT city FROM billing_addresses ORDER BY city")
            .fetch_all(&a.state.db)
            .await
            .unwrap();
    assert_eq!(cities, ["Bedok", "Jurong"]);
}

/// Two transactions lock two accounts in opposite orders: PostgreSQL aborts one of them, and
/// its error reaches the caller as "busy, retry in 1 s" (429 `server_busy` with
/// `Retry-After`), which a retry can pass, rather than as a 500. The other one commits.
#[tokio::test]
async fn a_deadlock_is_answered_as_busy_and_the_other_writer_commits() {
    let mut app = on_its_own_postgres().await;
    let email = app.signed_up("one").await;
    let first = app.account_id(&email).await;
    let email = app.another_client().signed_up_email("two").await;
    let second = app.account_id(&email).await;
    let db = app.state.db.clone();

    let mut one = account::begin_locked(&db, &first).await.unwrap();
    let mut two = account::begin_locked(&db, &second).await.unwrap();
    let crossing = tokio::spawn(async move {
        let locked = account::lock(&mut one, &second).await;
        (one, locked)
    });
    until_waiting(&app, 1).await;
    let locked_two = account::lock(&mut two, &first).await;
    let (one, locked_one) = crossing.await.unwrap();

    let (aborted, committed) = match (locked_one, locked_two) {
        (Err(e), Ok(_)) => (e, two),
        (Ok(_), Err(e)) => (e, one),
        other => panic!("exactly one of the two is aborted: {other:?}"),
    };
    assert!(db::is_retryable(&aborted), "{aborted:?}");
    let answered = ApiError::from(aborted);
    assert!(
        matches!(answered, ApiError::ServerBusy { retry_after: 1 }),
        "{answered:?}"
    );
    assert_eq!(answered.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answered.body().code, ErrorCode::ServerBusy);
    committed.commit().await.unwrap();
}

/// Ten wrong codes for one sign-up sent at once, half to each of two instances on the same
/// database: the code's tries are counted one after the other, so five are checked (the
/// fifth using up the last try), the others find none left, and the right code cannot follow.
/// Without the key lock on the code's subject, tries read the same count at once and more
/// than five are checked.
#[tokio::test]
async fn wrong_codes_at_once_on_two_instances_are_checked_five_times() {
    let (one, two, _keys) = two_instances().await;
    let email = email("two-instances");
    let (id, code) = signup_with_code(&one, &email).await;
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);

    let path = format!("/api/signup/{id}/verify");
    let body = json!({ "code": wrong });
    let answers = join_all((0..10).map(|n| {
        let app = if n % 2 == 0 { &one } else { &two };
        app.post(&path, &body)
    }))
    .await;
    let mut codes = Vec::new();
    for answer in answers {
        codes.push(refusal(answer).await.1);
    }
    let incorrect = codes
        .iter()
        .filter(|c| matches!(c, ErrorCode::CodeIncorrect))
        .count();
    let exceeded = codes
        .iter()
        .filter(|c| matches!(c, ErrorCode::CodeAttemptsExceeded))
        .count();
    // Four wrong tries leave one; the fifth uses the last; the rest find none left.
    assert_eq!((incorrect, exceeded), (4, 6), "{codes:?}");
    let tries: i64 = sqlx::query_scalar("SELECT attempts FROM verification_codes")
        .fetch_one(&one.state.db)
        .await
        .unwrap();
    assert_eq!(tries, 5);

    let right = one.post(&path, &json!({ "code": code })).await;
    assert_eq!(refusal(right).await.1, ErrorCode::CodeAttemptsExceeded);
    assert_eq!(one.count("accounts").await, 0);
}

/// Two sign-ups of one email, verified at the same moment on two instances: no lock spans the
/// two (neither has an account yet), and the unique index on live emails decides. One account
/// is made; the other verification is answered `email_taken`, as when it comes second.
#[tokio::test]
async fn two_sign_ups_of_one_email_verified_at_once_on_two_instances_make_one_account() {
    let (one, two, _keys) = two_instances().await;
    let email = email("same-email");
    let mut verifications = Vec::new();
    for app in [&one, &two] {
        let (id, code) = signup_with_code(app, &email).await;
        verifications.push((
            app,
            format!("/api/signup/{id}/verify"),
            json!({ "code": code }),
        ));
    }
    let answers = join_all(
        verifications
            .iter()
            .map(|(app, path, body)| app.post(path, body)),
    )
    .await;
    let mut made = 0;
    let mut taken = 0;
    for answer in answers {
        if answer.status() == StatusCode::OK {
            made += 1;
        } else {
            assert_eq!(
                refusal(answer).await,
                (
                    StatusCode::CONFLICT,
                    ErrorCode::EmailTaken,
                    Some("email".into())
                )
            );
            taken += 1;
        }
    }
    assert_eq!((made, taken), (1, 1));
    assert_eq!(one.count("accounts").await, 1);
}
