//! `/metrics`: Prometheus text on the listener of `--metrics-bind` only; answers
//! counted by route template and status, 429s by code, the job backlog by the server's clock,
//! the outbox backlog by channel, and a scrape that still answers without its database.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use server::notices::Notice;
use server::notify::{Medium, Outgoing};
use shared::ErrorCode;

const DELIVER: &str = <server::notify::Deliver as server::queue::Job>::KIND;

/// A server with its metrics on a free port of 127.0.0.1, and `extra` flags.
async fn watched_app(extra: &[&str]) -> TestApp {
    let mut args = vec!["--metrics-bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    spawn_app_with(&args).await
}

/// A watched server whose emails go to an SMTP port nothing listens on: each queued email is a
/// delivery job that fails, as in `notify.rs`.
async fn app_with_unreachable_smtp() -> TestApp {
    let port = free_port().await;
    watched_app(&["--smtp-url", &format!("smtp://127.0.0.1:{port}")]).await
}

/// The metrics listener's answer to `GET /metrics`, which must be 200 in the text format.
async fn scrape(app: &TestApp) -> Scrape {
    let base = app
        .metrics_base
        .as_ref()
        .expect("started with --metrics-bind");
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    Scrape(response.text().await.unwrap())
}

/// One scrape's text.
struct Scrape(String);

impl Scrape {
    /// The value of the series `name` with exactly `labels`, if the scrape has it.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut wanted: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        wanted.sort();
        self.samples()
            .find(|(n, l, _)| n == name && *l == wanted)
            .map(|(_, _, value)| value)
    }

    /// [`Scrape::value`], 0 when the series is not there: a counter no event has made yet.
    fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or(0.0)
    }

    /// How many answers `http_requests_total` counted for `method route status`.
    fn answers(&self, method: &str, route: &str, status: &str) -> Option<f64> {
        let labels = [("method", method), ("route", route), ("status", status)];
        self.value(REQUESTS, &labels)
    }

    /// How many answers `http_request_duration_seconds` timed for `method route`.
    fn timed(&self, method: &str, route: &str) -> Option<f64> {
        self.value(DURATION_COUNT, &[("method", method), ("route", route)])
    }

    /// Every sample: its name, its labels sorted, its value.
    fn samples(&self) -> impl Iterator<Item = (String, Vec<(String, String)>, f64)> + '_ {
        self.0
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
                let value: f64 = value.parse().expect("a sample's value is a number");
                let (name, labels) = match series.split_once('{') {
                    Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'))),
                    None => (series, Vec::new()),
                };
                (name.to_owned(), labels, value)
            })
    }
}

/// `a="1",b="x\"y"` as sorted pairs, unescaping values.
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "a label value is quoted: {text}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("an escape at the end: {text}"),
                },
                c => value.push(c),
            }
        }
        labels.push((key.trim_start_matches(',').to_owned(), value));
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels.sort();
    labels
}

const REQUESTS: &str = "account_center_http_requests_total";
const DURATION_COUNT: &str = "account_center_http_request_duration_seconds_count";
const TOO_MANY: &str = "account_center_http_too_many_requests_total";
const JOBS_DUE: &str = "account_center_jobs_due";
const OLDEST_DUE: &str = "account_center_jobs_oldest_due_age_seconds";
const OUTBOX: &str = "account_center_outbox_messages";
const WRITE_WAITS: &str = "account_center_db_write_wait_seconds_count";

#[tokio::test]
async fn metrics_are_served_only_on_the_metrics_listener() {
    let app = watched_app(&["--database-pool-size", "3"]).await;
    let metrics_base = app.metrics_base.clone().unwrap();
    assert_ne!(metrics_base, app.base, "a listener of its own");

    let public = app.get("/metrics").await;
    assert_eq!(
        refusal(public).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound, None),
        "the public listener does not serve the metrics"
    );
    let other = reqwest::get(format!("{metrics_base}/api/health"))
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::NOT_FOUND,
        "the metrics listener serves nothing else"
    );

    let scraped = scrape(&app).await;
    assert!(
        scraped
            .0
            .contains("# TYPE account_center_http_requests_total counter"),
        "{}",
        scraped.0
    );
    // What is read when scraped: the pool as configured, the hashing queue at rest.
    assert_eq!(
        scraped.value("account_center_db_pool_max_connections", &[]),
        Some(3.0)
    );
    let in_use = scraped.value("account_center_db_pool_connections", &[("state", "in_use")]);
    let idle = scraped.value("account_center_db_pool_connections", &[("state", "idle")]);
    assert!(
        matches!((in_use, idle), (Some(u), Some(i)) if u + i <= 3.0),
        "{in_use:?} {idle:?}"
    );
    assert_eq!(
        scraped.value("account_center_db_writers_waiting", &[]),
        Some(0.0)
    );
    let cores = std::thread::available_parallelism().unwrap().get() as f64;
    assert_eq!(
        scraped.value("account_center_password_hash_limit", &[]),
        Some(16.0 * cores)
    );
    for state in ["running", "waiting"] {
        assert_eq!(
            scraped.value("account_center_password_hashes", &[("state", state)]),
            Some(0.0),
            "{state}"
        );
    }
    assert_eq!(
        scraped.value("account_center_metrics_database_read", &[]),
        Some(1.0)
    );

    let unwatched = spawn_app().await;
    assert_eq!(
        unwatched.metrics_base, None,
        "no metrics listener unless asked"
    );
    assert_eq!(
        unwatched.get("/metrics").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn answers_are_counted_by_route_template_and_status() {
    let app = watched_app(&[]).await;
    let before = scrape(&app).await;
    assert_eq!(before.count(WRITE_WAITS, &[]), 0.0, "no request wrote yet");

    app.start_signup(&email("counted")).await;
    for _ in 0..2 {
        let wrong = app
            .post(
                "/api/session",
                &json!({"email": email("nobody"), "password": "Wrong7Password"}),
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    for id in ["no-such-signup-a", "no-such-signup-b"] {
        let missing = app.get(&format!("/api/signup/{id}")).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{id}");
    }
    let page = app.get("/billing/overview").await.status();

    let scraped = scrape(&app).await;
    assert_eq!(scraped.answers("POST", "/api/signup", "201"), Some(1.0));
    assert_eq!(scraped.answers("POST", "/api/session", "401"), Some(2.0));
    assert_eq!(
        scraped.answers("GET", "/api/signup/{id}", "404"),
        Some(2.0),
        "both unknown ids under their route's template"
    );
    assert_eq!(
        scraped.answers("GET", "unmatched", page.as_str()),
        Some(1.0),
        "a page of the app is no route of the API"
    );
    assert_eq!(scraped.timed("POST", "/api/signup"), Some(1.0));
    assert_eq!(scraped.timed("POST", "/api/session"), Some(2.0));
    assert_eq!(scraped.timed("GET", "/api/signup/{id}"), Some(2.0));
    let every_bucket = scraped.value(
        "account_center_http_request_duration_seconds_bucket",
        &[
            ("method", "POST"),
            ("route", "/api/session"),
            ("le", "+Inf"),
        ],
    );
    assert_eq!(every_bucket, Some(2.0));
    assert!(
        !scraped.0.contains("no-such-signup"),
        "no series is named by a raw path"
    );
    assert!(
        scraped.count(WRITE_WAITS, &[]) >= 1.0,
        "the sign-up began a write transaction"
    );
}

#[tokio::test]
async fn a_429_is_counted_by_its_code() {
    let app = watched_app(&[]).await;
    let wrong = json!({"email": email("throttled"), "password": "Wrong7Password"});
    let sign_in = || app.post("/api/session", &wrong);
    // As in `session.rs`: five failures for one email, then the sixth attempt waits.
    for _ in 0..5 {
        assert_eq!(sign_in().await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        scrape(&app)
            .await
            .count(TOO_MANY, &[("code", "sign_in_throttled")]),
        0.0
    );

    let (status, code, _) = refusal(sign_in().await).await;
    assert_eq!(
        (status, code),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::SignInThrottled)
    );
    let scraped = scrape(&app).await;
    assert_eq!(
        scraped.value(TOO_MANY, &[("code", "sign_in_throttled")]),
        Some(1.0)
    );
    assert_eq!(scraped.count(TOO_MANY, &[("code", "server_busy")]), 0.0);
    assert_eq!(scraped.answers("POST", "/api/session", "429"), Some(1.0));
}

/// `(jobs due, seconds the oldest has been due)` of `kind`.
fn backlog(scraped: &Scrape, kind: &str) -> (f64, f64) {
    let due = scraped.value(JOBS_DUE, &[("kind", kind)]);
    let age = scraped.value(OLDEST_DUE, &[("kind", kind)]);
    (
        due.unwrap_or_else(|| panic!("no {JOBS_DUE} for {kind}")),
        age.unwrap_or_else(|| panic!("no {OLDEST_DUE} for {kind}")),
    )
}

async fn send_signup_code(app: &TestApp, email: &str) {
    let id = app.start_signup(email).await;
    let sent = app
        .post(&format!("/api/signup/{id}/code"), &json!({}))
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
}

/// The harness's own check at every test's end (`tests/common`): a test that leaves a job
/// failing without saying so does not pass.
#[tokio::test]
async fn a_test_that_leaves_a_job_failing_unannounced_fails_at_its_end() {
    let app = app_with_unreachable_smtp().await;
    send_signup_code(&app, &email("unannounced")).await;
    assert_eq!(app.run_jobs().await, 1);

    let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(app)));
    let refusal = ended.expect_err("the end of the test is refused");
    let message = refusal
        .downcast_ref::<String>()
        .expect("the refusal says why");
    assert!(
        message.contains("jobs left failing") && message.contains(DELIVER),
        "{message}"
    );
}

#[tokio::test]
async fn the_job_backlog_and_its_oldest_due_job_follow_the_servers_clock() {
    let app = app_with_unreachable_smtp().await;
    // The email cannot go: that is the backlog watched here.
    app.expect_failing_jobs();
    let idle = scrape(&app).await;
    for kind in server::jobs::kinds() {
        assert_eq!(backlog(&idle, kind), (0.0, 0.0), "{kind}: listed at 0");
    }

    send_signup_code(&app, &email("backlog")).await;
    let (due, age) = backlog(&scrape(&app).await, DELIVER);
    assert_eq!(due, 1.0, "the email's delivery is due at once");
    assert!((0.0..5.0).contains(&age), "due just now: {age}");

    app.advance(DurationMs::minutes(10));
    let (due, age) = backlog(&scrape(&app).await, DELIVER);
    assert_eq!(due, 1.0);
    assert!(
        (600.0..605.0).contains(&age),
        "ten minutes by the server's clock: {age}"
    );

    // The delivery fails and waits for its retry: nothing is due meanwhile.
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(backlog(&scrape(&app).await, DELIVER), (0.0, 0.0));

    // The first retry comes 5 s after the failure: due for the rest of the hour.
    app.advance(DurationMs::hours(1));
    let (due, age) = backlog(&scrape(&app).await, DELIVER);
    assert_eq!(due, 1.0);
    assert!((3_595.0..3_600.0).contains(&age), "{age}");
    app.assert_no_unexpected_jobs(&[DELIVER]).await;
}

#[tokio::test]
async fn the_outbox_backlog_counts_unsent_messages_by_channel() {
    let app = app_with_unreachable_smtp().await;
    let outbox = |scraped: &Scrape, channel: &str, status: &str| {
        scraped
            .value(OUTBOX, &[("channel", channel), ("status", status)])
            .unwrap_or_else(|| panic!("no {OUTBOX} for {channel} {status}"))
    };
    let empty = scrape(&app).await;
    for channel in ["email", "sms", "voice"] {
        for status in ["pending", "failed"] {
            assert_eq!(outbox(&empty, channel, status), 0.0, "{channel} {status}");
        }
    }

    send_signup_code(&app, &email("first")).await;
    send_signup_code(&app, &email("second")).await;
    // An SMS, which no postman here carries: it stays pending, with no job.
    let mut tx = server::db::begin_write(&app.state.db).await.unwrap();
    let now = app.state.clock.now();
    let sms = Outgoing {
        account_id: None,
        medium: Medium::Sms,
        recipient: "+6581234567",
        notice: Notice::VerificationCode {
            code: "123456",
            minutes: 10,
        },
    };
    app.state.outbox.enqueue(&mut tx, now, sms).await.unwrap();
    tx.commit().await.unwrap();

    let queued = scrape(&app).await;
    assert_eq!(outbox(&queued, "email", "pending"), 2.0);
    assert_eq!(outbox(&queued, "sms", "pending"), 1.0);
    assert_eq!(outbox(&queued, "email", "failed"), 0.0);
    assert_eq!(outbox(&queued, "voice", "pending"), 0.0);

    // Each email's eighth failed try gives it up (`notify.rs`).
    for _ in 0..8 {
        assert_eq!(app.run_jobs().await, 2);
        app.advance(DurationMs::hours(1));
    }
    let given_up = scrape(&app).await;
    assert_eq!(outbox(&given_up, "email", "pending"), 0.0);
    assert_eq!(outbox(&given_up, "email", "failed"), 2.0);
    assert_eq!(outbox(&given_up, "sms", "pending"), 1.0);
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn a_scrape_without_the_database_still_answers_what_is_in_memory() {
    let app = watched_app(&[]).await;
    let missing = app.get("/api/signup/no-such-signup").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    app.state.db.close().await;
    let scraped = scrape(&app).await;
    assert_eq!(
        scraped.value("account_center_metrics_database_read", &[]),
        Some(0.0)
    );
    assert_eq!(
        scraped.value(JOBS_DUE, &[("kind", DELIVER)]),
        None,
        "no backlog is made up"
    );
    assert_eq!(scraped.answers("GET", "/api/signup/{id}", "404"), Some(1.0));
}
