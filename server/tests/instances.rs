//! Several server processes on one PostgreSQL database (SPEC §9): whatever one instance knows,
//! the others know, because it lives in the database — sessions, a code's tries, the jobs.
//! These run the real binary. Needs `TEST_POSTGRES_URL` (`bash .ci/with-postgres`).

mod common;

use common::process::{Server, close_an_account, spawn, start, start_with_env};
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::db::Db;
use shared::api::{SessionInfo, SignupStarted};
use shared::{ErrorBody, ErrorCode};
use std::path::Path;
use std::time::{Duration, Instant};

/// A data folder whose servers all use one new PostgreSQL database.
async fn shared_postgres() -> (tempfile::TempDir, String) {
    let data = tempfile::tempdir().unwrap();
    let url = new_postgres_database().await;
    // `database_for` reads it back for every server started on this folder.
    std::fs::write(data.path().join("database-url"), &url).unwrap();
    (data, url)
}

async fn send(client: &Client, url: String, csrf: &str, body: Value) -> reqwest::Response {
    client
        .post(url)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Starts a sign-up on `base` and has it send an email code; returns the sign-up id.
async fn signup_with_code(client: &Client, base: &str, email: &str) -> String {
    let started = send(client, format!("{base}/api/signup"), "", signup_form(email)).await;
    assert_eq!(started.status(), StatusCode::CREATED);
    let id = body_as::<SignupStarted>(started).await.signup_id;
    let sent = send(
        client,
        format!("{base}/api/signup/{id}/code"),
        "",
        json!({"channel": "email"}),
    )
    .await;
    assert_eq!(sent.status(), StatusCode::OK);
    id
}

#[tokio::test]
async fn a_session_and_a_codes_tries_are_shared_by_two_instances() {
    let (data, _) = shared_postgres().await;
    let a = start(data.path(), "a.log", &[]).await;
    let b = start(data.path(), "b.log", &[]).await;
    let client = new_client();

    // Wrong codes alternate between the instances; each answer counts them all.
    let email = email("tries");
    let id = signup_with_code(&client, &a.base, &email).await;
    let code = newest_code(&client, &a.base, &email).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for (i, base) in [&a.base, &b.base, &a.base, &b.base].into_iter().enumerate() {
        let answer = send(
            &client,
            format!("{base}/api/signup/{id}/verify"),
            "",
            json!({"code": wrong}),
        )
        .await;
        let body: ErrorBody = body_as(answer).await;
        assert_eq!(body.code, ErrorCode::CodeIncorrect, "{body:?}");
        assert!(
            body.message.contains(&format!("{} tr", 4 - i)),
            "try {} leaves {} whichever instance counted the others: {body:?}",
            i + 1,
            4 - i
        );
    }
    let fifth = send(
        &client,
        format!("{}/api/signup/{id}/verify", a.base),
        "",
        json!({"code": wrong}),
    )
    .await;
    assert_eq!(refusal(fifth).await.1, ErrorCode::CodeAttemptsExceeded);
    // The right code is now refused by the other instance too.
    let late = send(
        &client,
        format!("{}/api/signup/{id}/verify", b.base),
        "",
        json!({"code": code}),
    )
    .await;
    assert_eq!(refusal(late).await.1, ErrorCode::CodeAttemptsExceeded);

    // A session made on A is good on B, and signing out on B ends it on A.
    let email = common::email("session");
    let id = signup_with_code(&client, &a.base, &email).await;
    let code = newest_code(&client, &a.base, &email).await;
    let verified = send(
        &client,
        format!("{}/api/signup/{id}/verify", a.base),
        "",
        json!({"code": code}),
    )
    .await;
    assert_eq!(verified.status(), StatusCode::OK);
    let csrf = body_as::<SessionInfo>(verified).await.csrf_token;
    let on_b = client
        .get(format!("{}/api/session", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(on_b.status(), StatusCode::OK);
    assert_eq!(body_as::<SessionInfo>(on_b).await.account.email, email);
    let out = client
        .delete(format!("{}/api/session", b.base))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    let on_a = client
        .get(format!("{}/api/session", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(on_a.status(), StatusCode::UNAUTHORIZED);
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// Moves the dev clock every server of this database starts with.
async fn move_stored_clock(db: &Db, seconds: i64) {
    let offset: i64 = sqlx::query_scalar::<_, String>(
        "SELECT value FROM settings WHERE key = 'dev_clock_offset_ms'",
    )
    .fetch_optional(db)
    .await
    .unwrap()
    .map(|v| v.parse().unwrap())
    .unwrap_or(0);
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('dev_clock_offset_ms', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind((offset + seconds * 1000).to_string())
    .execute(db.writer())
    .await
    .unwrap();
}

/// How long the test waits on the other processes' work (a start, a catch-up, a job) before it
/// gives up. Their work takes a second or two on a quiet machine; a loaded one (another build,
/// swapping) can stall a fresh process for far longer, and a short bound then fails the test
/// although nothing is wrong. The waits poll, so a passing run waits only as long as the work.
const PATIENCE: Duration = Duration::from_secs(180);

async fn wait_for(db: &Db, sql: &str, want: i64, what: &str) {
    let began = Instant::now();
    while began.elapsed() < PATIENCE {
        if count(db, sql).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{what}: {sql} never gave {want} in {PATIENCE:?} (now {})",
        count(db, sql).await
    );
}

/// Moves one running server's dev clock (and the stored offset later starts begin from).
async fn advance(base: &str, by: DurationMs) {
    let moved = Client::new()
        .post(format!("{base}/api/dev/clock"))
        .json(&json!({"advance_seconds": by.as_secs()}))
        .send()
        .await
        .unwrap();
    assert!(moved.status().is_success());
}

fn log(data: &Path, name: &str) -> String {
    std::fs::read_to_string(data.join(name)).unwrap_or_default()
}

#[tokio::test]
async fn refunds_and_closures_run_once_between_instances_even_when_one_dies_mid_job() {
    const CLOSURES: usize = 4;
    const REFUNDS: usize = 3;
    let (data, url) = shared_postgres().await;
    let db = server::db::open(&url).await.unwrap();

    // The work: accounts cooling down for a day, and card refunds settling in three days.
    let setup = start(data.path(), "setup.log", &["--run-scheduler", "false"]).await;
    let mut closing = Vec::new();
    for _ in 0..CLOSURES {
        // An hour apart: codes to one phone and from one client are limited per hour.
        advance(&setup.base, DurationMs::hours(1) + DurationMs::seconds(1)).await;
        closing.push(close_an_account(&setup.base).await);
    }
    drop(setup);
    let mut buyers = Vec::new();
    {
        // An instance of its own, with the others' keys: the database refuses any other.
        let keys = data.path().join("secrets.key");
        let mut app = spawn_app_with(&[
            "--database-url",
            &url,
            "--secrets-file",
            keys.to_str().unwrap(),
            "--cool-down-days",
            "1",
        ])
        .await;
        for i in 0..REFUNDS {
            if i > 0 {
                app = app.another_client();
            }
            app.advance(DurationMs::seconds(3601));
            let email = app.ready_to_buy("refund").await;
            let instance = app.buy("ecs", 1, "default_method").await;
            let form = json!({"instance_ids": [instance], "confirm_refund_amount": true, "confirm_data_backed_up": true});
            let answer = app
                .post_once("/api/unsubscribe", &format!("refund-{i}"), &form)
                .await;
            assert_eq!(answer.status(), StatusCode::OK);
            buyers.push(email);
        }
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM refunds WHERE status = 'processing'"
        )
        .await,
        REFUNDS as i64
    );
    move_stored_clock(&db, 4 * 86_400).await;

    // One instance dies inside its first closure decision, its job claimed and leased.
    // It may die before it even prints its address: the scheduler catches up at start.
    // Held as a `Server`: if it never dies, the failed test kills it.
    let mut dying = Server {
        child: spawn(
            data.path(),
            "dying.log",
            &["--crash-at", "closure_decide"],
            &[],
        )
        .await,
        base: String::new(),
    };
    let began = Instant::now();
    let mut exit = None;
    while exit.is_none() && began.elapsed() < PATIENCE {
        tokio::time::sleep(Duration::from_millis(100)).await;
        exit = dying.child.try_wait().unwrap();
    }
    assert!(
        exit.is_some_and(|e| !e.success()),
        "the crashing instance: {exit:?} after {:?} (None: still running); its log: {}",
        began.elapsed(),
        log(data.path(), "dying.log")
    );

    // Two instances share what is left, then the dead one's job once its lease runs out.
    let c = start(data.path(), "c.log", &[]).await;
    let d = start(data.path(), "d.log", &[]).await;
    wait_for(
        &db,
        "SELECT COUNT(*) FROM refunds WHERE status = 'refunded'",
        REFUNDS as i64,
        "every refund settles",
    )
    .await;
    advance(&c.base, DurationMs::seconds(61)).await;
    advance(&d.base, DurationMs::seconds(61)).await;
    wait_for(
        &db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'done'",
        CLOSURES as i64,
        "every closure is decided",
    )
    .await;

    for email in &closing {
        let closed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE subject = 'Account closed' AND recipient = $1",
        )
        .bind(email)
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(closed, 1, "{email} told once");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE email = $1")
            .bind(email)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(left, 0, "{email} deleted");
    }
    for email in &buyers {
        let told: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE subject = 'Your refund has arrived' AND recipient = $1",
        )
        .bind(email)
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(told, 1, "{email} told of its refund once");
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'refund_settle' AND status = 'done'"
        )
        .await,
        REFUNDS as i64
    );
    // The job the dead instance held was claimed twice: by it, then once more.
    assert_eq!(
        count(
            &db,
            "SELECT MAX(attempts) FROM jobs WHERE kind = 'closure_decide'"
        )
        .await,
        2
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM jobs WHERE status <> 'done' AND kind IN ('closure_decide', 'refund_settle')").await, 0);
}

/// nginx from the system (the Debian package .ci/setup installs).
fn nginx_binary() -> String {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is installed: run bash .ci/setup")
        .to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx running `deploy/nginx.conf` in front of two instances; stopped when dropped.
struct Nginx {
    child: std::process::Child,
    base: String,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn nginx_in_front_of(prefix: &Path, a: &str, b: &str) -> Nginx {
    let port = free_port();
    let template = include_str!("../../deploy/nginx.conf");
    let host = |base: &str| base.trim_start_matches("http://").to_owned();
    let config = template
        .replace("{{PREFIX}}", prefix.to_str().unwrap())
        .replace("{{INSTANCE_A}}", &host(a))
        .replace("{{INSTANCE_B}}", &host(b))
        .replace("{{LISTEN}}", &format!("127.0.0.1:{port}"));
    assert!(!config.contains("{{"), "every mark is filled");
    let file = prefix.join("nginx.conf");
    std::fs::write(&file, config).unwrap();
    let mut child = std::process::Command::new(nginx_binary())
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(&file)
        .arg("-e")
        .arg(prefix.join("error.log"))
        // One process, so that stopping it leaves no worker behind.
        .args(["-g", "daemon off; master_process off;"])
        .spawn()
        .expect("nginx starts");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/api/health")).await.is_ok() {
            return Nginx { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "nginx did not answer: {}",
        std::fs::read_to_string(prefix.join("error.log")).unwrap_or_default()
    );
}

/// Readiness probes an instance's log says it answered.
fn probes_answered(data: &Path, log_name: &str) -> usize {
    log(data, log_name)
        .lines()
        .filter(|l| l.contains("/api/ready") && l.contains("finished processing request"))
        .count()
}

#[tokio::test]
async fn behind_nginx_two_instances_share_the_traffic_and_one_can_go_away() {
    let (data, _) = shared_postgres().await;
    let logging = [("RUST_LOG", "info,tower_http=debug")];
    let a = start_with_env(data.path(), "a.log", &["--trust-proxy"], &logging).await;
    let mut b = start_with_env(data.path(), "b.log", &["--trust-proxy"], &logging).await;
    let proxy = nginx_in_front_of(data.path(), &a.base, &b.base).await;
    let client = new_client();

    for _ in 0..20 {
        let ready = client
            .get(format!("{}/api/ready", proxy.base))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), StatusCode::OK);
    }
    let (on_a, on_b) = (
        probes_answered(data.path(), "a.log"),
        probes_answered(data.path(), "b.log"),
    );
    assert_eq!(on_a + on_b, 20, "every probe reached an instance once");
    assert!(on_a > 0 && on_b > 0, "both took traffic: {on_a} and {on_b}");

    // nginx names each request; the instance that served it logs it under that id, and the
    // client gets the id back.
    let ready = client
        .get(format!("{}/api/ready", proxy.base))
        .send()
        .await
        .unwrap();
    let id = ready.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 32, "nginx's $request_id: {id}");
    let tagged = format!("id={id}");
    let logged_under_id = || {
        let logged = format!("{}{}", log(data.path(), "a.log"), log(data.path(), "b.log"));
        let access = std::fs::read_to_string(data.path().join("access.log")).unwrap_or_default();
        let by_instance = logged
            .lines()
            .any(|l| l.contains(&tagged) && l.contains("finished processing request"));
        (by_instance, access.contains(&tagged))
    };
    // A bound, not a timing: the lines are written as the answer leaves.
    for _ in 0..100 {
        if logged_under_id() == (true, true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        logged_under_id(),
        (true, true),
        "the instance and nginx logged the request under nginx's id {id}"
    );

    // Sign up through the proxy: the requests spread over both instances.
    let email = common::email("proxied");
    let id = signup_with_code(&client, &proxy.base, &email).await;
    let code = newest_code(&client, &proxy.base, &email).await;
    let verified = send(
        &client,
        format!("{}/api/signup/{id}/verify", proxy.base),
        "",
        json!({"code": code}),
    )
    .await;
    assert_eq!(verified.status(), StatusCode::OK);

    // One instance goes away; the proxy sends everything to the other, the session holds.
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    for _ in 0..10 {
        let session = client
            .get(format!("{}/api/session", proxy.base))
            .send()
            .await
            .unwrap();
        assert_eq!(session.status(), StatusCode::OK);
        assert_eq!(body_as::<SessionInfo>(session).await.account.email, email);
    }
    drop(a);
}
