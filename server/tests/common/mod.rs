//! Each test gets its own server: the real router on 127.0.0.1 port 0, a fresh database, dev
//! mode (inbox, movable clock), and a cookie-keeping HTTP client. The database is an SQLite file
//! in a temp folder, or with `TEST_DB=postgres` a new database in the PostgreSQL cluster named
//! by `TEST_POSTGRES_URL` (`bash .ci/with-postgres` starts a throw-away one).

#![allow(dead_code)] // each test file uses its own share of these helpers

pub mod catalog;
pub mod outage;
pub mod process;
pub mod smtp;
pub mod stripe;

use clap::Parser;
use reqwest::{Client, Response, StatusCode};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use server::Application;
use server::config::Config;
use server::state::AppState;
use shared::api::{
    AccountView, BillView, BillingAddressView, LedgerEntryView, OperationEntry, OrderStatus,
    Purchased, SessionInfo, SignupStarted,
};
use shared::billing::BillingAddress;
use shared::money::{Currency, Money};
use shared::{ErrorBody, ErrorCode};
use std::time::Duration;
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    /// The metrics listener's base URL, for a server started with `--metrics-bind`
    /// (`127.0.0.1:0` picks a free port).
    pub metrics_base: Option<String>,
    pub state: AppState,
    /// Signed-in state of the default client lives in its cookie jar.
    pub client: Client,
    pub csrf: Option<String>,
    server_dir: std::sync::Arc<ServerDir>,
}

/// The test server's data folder and database, shared by every client of the server; when the
/// last one goes, the test is over, and its end is checked: no timed job may be left failing
/// unless the test said it expects one ([`TestApp::expect_failing_jobs`]). A job's error
/// otherwise shows only in a log line nobody reads, and the test that caused it passes.
struct ServerDir {
    _data: TempDir,
    database_url: String,
    failing_jobs_expected: std::sync::atomic::AtomicBool,
}

impl Drop for ServerDir {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        if std::thread::panicking() || self.failing_jobs_expected.load(Ordering::Relaxed) {
            return;
        }
        // On a connection of its own, in a runtime of its own: the test's runtime is the one
        // running this drop.
        let url = self.database_url.clone();
        let failing = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                use sqlx::Connection;
                // A database the test took away (the readiness test drops it) has nothing
                // left to check.
                let Ok(mut db) = sqlx::AnyConnection::connect(&url).await else {
                    return Ok(Vec::new());
                };
                sqlx::query_scalar::<_, String>(
                    "SELECT kind || ' ' || subject || ': ' || status || ' after ' || attempts
                            || ' attempts: ' || COALESCE(last_error, '')
                     FROM jobs
                     WHERE status = 'failed' OR (status <> 'done' AND last_error IS NOT NULL)",
                )
                .fetch_all(&mut db)
                .await
            })
        })
        .join()
        .expect("the check of the jobs ran");
        let failing = failing.expect("the jobs of the test's database are readable");
        assert!(
            failing.is_empty(),
            "jobs left failing at the end of the test (call expect_failing_jobs if it means \
             to leave them): {failing:#?}"
        );
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// True when this run's servers use PostgreSQL (`TEST_DB=postgres`).
pub fn on_postgres() -> bool {
    match std::env::var("TEST_DB").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("TEST_DB={other}: use sqlite or postgres"),
    }
}

/// The PostgreSQL cluster's URL (a URL to its `postgres` database).
pub fn postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .expect("TEST_POSTGRES_URL names a PostgreSQL server: run under `bash .ci/with-postgres`")
}

/// A new, empty PostgreSQL database for one test; returns its URL.
pub async fn new_postgres_database() -> String {
    use sqlx::Connection;
    let admin = postgres_url();
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("the PostgreSQL cluster answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("a test database");
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database name");
    format!("{base}/{name}")
}

/// The `--database-url` for a new test server: `None` means the SQLite file in its data folder.
pub async fn test_database_url() -> Option<String> {
    if on_postgres() {
        Some(new_postgres_database().await)
    } else {
        None
    }
}

/// The database URL of the server that keeps its state in `data`, made on first asking: for
/// tests that start, kill and restart the real binary on one database.
pub async fn database_for(data: &std::path::Path) -> String {
    let remembered = data.join("database-url");
    if let Ok(url) = std::fs::read_to_string(&remembered) {
        return url;
    }
    let url = match test_database_url().await {
        Some(url) => url,
        None => format!("sqlite://{}", data.join("account-center.db").display()),
    };
    std::fs::write(&remembered, &url).unwrap();
    url
}

/// A database of this run's kind, kept in `data`, with the schema of the version before the
/// migration whose file name ends in `migration`: every migration before it applied. An
/// upgrade test writes the older version's rows into it, then runs `db::migrate`.
pub async fn database_before(data: &std::path::Path, migration: &str) -> server::db::Db {
    let url = match test_database_url().await {
        Some(url) => url,
        None => format!("sqlite://{}", data.join("old.db").display()),
    };
    let db = server::db::open(&url).await.unwrap();
    let backend = if on_postgres() { "postgres" } else { "sqlite" };
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut files: Vec<_> = std::fs::read_dir(&all)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    let this = files
        .iter()
        .position(|f| f.to_string_lossy().ends_with(migration))
        .expect("the migration under test");
    let older = data.join("older-migrations");
    std::fs::create_dir(&older).unwrap();
    for file in &files[..this] {
        std::fs::copy(file, older.join(file.file_name().unwrap())).unwrap();
    }
    sqlx::migrate::Migrator::new(older.as_path())
        .await
        .unwrap()
        .run(db.writer())
        .await
        .unwrap();
    db
}

/// An account row `id` as the schema of every version since the first could hold it: for an
/// upgrade test's older rows to belong to ([`database_before`]).
pub async fn insert_old_account(db: &server::db::Db, id: &str) {
    sqlx::query(
        "INSERT INTO accounts (id, email, password_hash, country, verified_channel, created_at)
         VALUES ($1, $2, 'x', 'SG', 'email', 0)",
    )
    .bind(id)
    .bind(format!("{id}@example.com"))
    .execute(db.writer())
    .await
    .unwrap();
}

/// Server warnings and errors go to the test's captured output: shown when a test fails.
fn log_to_test_output() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
    });
}

pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    log_to_test_output();
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().to_str().unwrap().to_owned();
    let database = if extra.contains(&"--database-url") {
        None
    } else {
        test_database_url().await
    };
    let mut args = vec![
        "account-center",
        "--mode",
        "dev",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
        "--site-dir",
        &data_dir,
        "--simulator-latency-ms",
        "5",
        "--gateway-timeout-ms",
        "3000",
        // Jobs run when a test says so (`run_jobs`), never behind its back.
        "--run-scheduler",
        "false",
    ];
    if let Some(url) = &database {
        args.extend_from_slice(&["--database-url", url]);
    }
    args.extend_from_slice(extra);
    let config = Config::try_parse_from(args).expect("test config");
    let app = Application::build(config).await.expect("server builds");
    let base = format!("http://{}", app.local_addr());
    let metrics_base = app
        .metrics_addr()
        .map(|address| format!("http://{address}"));
    let state = app.state();
    tokio::spawn(app.run_until(std::future::pending()));
    let database_url = state.config.database_url();
    TestApp {
        base,
        metrics_base,
        state,
        client: new_client(),
        csrf: None,
        server_dir: std::sync::Arc::new(ServerDir {
            _data: data,
            database_url,
            failing_jobs_expected: Default::default(),
        }),
    }
}

/// One message of the dev inbox (`GET /api/dev/inbox`), the server's own type.
pub use server::clock::DurationMs;
pub use server::notify::InboxMessage;

/// The messages the dev inbox of the server at `base` holds, for `to` or for everyone, newest
/// first.
pub async fn inbox_at(client: &Client, base: &str, to: Option<&str>) -> Vec<InboxMessage> {
    let mut request = client.get(format!("{base}/api/dev/inbox"));
    if let Some(to) = to {
        request = request.query(&[("to", to)]);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET /api/dev/inbox");
    body_as(response).await
}

/// The six-digit code in the newest message the dev inbox of the server at `base` holds for `to`.
pub async fn newest_code(client: &Client, base: &str, to: &str) -> String {
    let messages = inbox_at(client, base, Some(to)).await;
    let body = &messages
        .first()
        .unwrap_or_else(|| panic!("no message to {to}"))
        .body;
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {body}"))
        .to_owned()
}

/// A port on 127.0.0.1 that nothing listens on (taken and let go): a server that is down, or
/// the port for one started outside the tests (as every server of the tests binds port 0,
/// nothing takes it in between).
pub async fn free_port() -> u16 {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A unique, valid email for this test.
pub fn email(tag: &str) -> String {
    format!("{tag}.{}@example.com", uuid::Uuid::new_v4().simple())
}

pub const PASSWORD: &str = "Harbour7Lights";

pub fn signup_form(email: &str) -> Value {
    signup_form_in(email, "SG")
}

pub fn signup_form_in(email: &str, country: &str) -> Value {
    json!({
        "country": country,
        "email": email,
        "password": PASSWORD,
        "password_confirmation": PASSWORD,
        "accept_agreement": true,
    })
}

impl TestApp {
    /// Another browser on the same server: its own cookie jar, not signed in.
    pub fn another_client(&self) -> TestApp {
        TestApp {
            base: self.base.clone(),
            metrics_base: self.metrics_base.clone(),
            state: self.state.clone(),
            client: new_client(),
            csrf: None,
            server_dir: self.server_dir.clone(),
        }
    }

    /// This test leaves timed jobs failing on purpose (a gateway that stays down, a crash):
    /// its end is not checked for them.
    pub fn expect_failing_jobs(&self) {
        self.server_dir
            .failing_jobs_expected
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// GET `path`, answered 200 with a `T`.
    pub async fn get_as<T: DeserializeOwned>(&self, path: &str) -> T {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        body_as(response).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send().await.unwrap()
    }

    pub async fn start_signup(&self, email: &str) -> String {
        let response = self.post("/api/signup", &signup_form(email)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        body_as::<SignupStarted>(response).await.signup_id
    }

    /// The newest code the dev inbox holds for `to`.
    pub async fn code_for(&self, to: &str) -> String {
        newest_code(&self.client, &self.base, to).await
    }

    /// The messages the dev inbox holds for `to` (an email or an E.164 number), newest first.
    pub async fn inbox(&self, to: &str) -> Vec<InboxMessage> {
        inbox_at(&self.client, &self.base, Some(to)).await
    }

    /// Every message the dev inbox holds, newest first.
    pub async fn whole_inbox(&self) -> Vec<InboxMessage> {
        inbox_at(&self.client, &self.base, None).await
    }

    /// Signs up by email code and keeps the session; returns the account's email.
    pub async fn signed_up(&mut self, tag: &str) -> String {
        self.signed_up_in(tag, "SG").await
    }

    pub async fn signed_up_in(&mut self, tag: &str, country: &str) -> String {
        let email = email(tag);
        let response = self
            .post("/api/signup", &signup_form_in(&email, country))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let id = body_as::<SignupStarted>(response).await.signup_id;
        let sent = self
            .post(
                &format!("/api/signup/{id}/code"),
                &json!({"channel": "email"}),
            )
            .await;
        assert_eq!(sent.status(), StatusCode::OK);
        let code = self.code_for(&email).await;
        let verified = self
            .post(&format!("/api/signup/{id}/verify"), &json!({"code": code}))
            .await;
        assert_eq!(verified.status(), StatusCode::OK);
        let session: SessionInfo = body_as(verified).await;
        self.csrf = Some(session.csrf_token);
        email
    }

    /// Signs up a new account in this client, which then holds its session; returns the email.
    pub async fn signed_up_email(mut self, tag: &str) -> String {
        self.signed_up(tag).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        let mut request = self.client.put(self.url(path)).json(body);
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send().await.unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        let mut request = self.client.delete(self.url(path));
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send().await.unwrap()
    }

    /// POST with an `Idempotency-Key`.
    pub async fn post_once(&self, path: &str, key: &str, body: &Value) -> Response {
        let request = self
            .client
            .post(self.url(path))
            .json(body)
            .header("idempotency-key", key);
        request
            .header("x-csrf-token", self.csrf.clone().unwrap_or_default())
            .send()
            .await
            .unwrap()
    }

    /// Verifies a mobile number (the channel an email sign-up lacks) and saves a billing
    /// address in the account's country.
    pub async fn with_billing_address(&self, national_phone: &str) {
        let sent = self
            .post(
                "/api/account/contact/code",
                &json!({"channel": "phone", "phone": national_phone}),
            )
            .await;
        assert_eq!(
            sent.status(),
            StatusCode::OK,
            "{}",
            sent.text().await.unwrap()
        );
        let me: SessionInfo = self.get_as("/api/session").await;
        let country = me.account.country;
        let view: BillingAddressView = self.get_as("/api/billing-address").await;
        let calling = view.calling_code;
        let e164 = format!(
            "+{calling}{}",
            national_phone.replace(' ', "").trim_start_matches('0')
        );
        let code = self.code_for(&e164).await;
        let verified = self
            .post("/api/account/contact/verify", &json!({"code": code}))
            .await;
        assert_eq!(verified.status(), StatusCode::OK);
        let saved = self
            .put("/api/billing-address", &address_in(&country))
            .await;
        assert_eq!(
            saved.status(),
            StatusCode::OK,
            "{}",
            saved.text().await.unwrap()
        );
    }

    pub fn advance(&self, by: DurationMs) {
        self.state.clock.advance(by);
    }

    /// The id of the account whose email is `email`.
    pub async fn account_id(&self, email: &str) -> String {
        sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
            .bind(email)
            .fetch_one(&self.state.db)
            .await
            .unwrap()
    }

    pub async fn delete_rows(&self, table: &str) {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(self.state.db.writer())
            .await
            .unwrap();
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.state.db)
            .await
            .unwrap()
    }
}

/// A body read as the `shared` type the server answers with. One that does not fit the type
/// fails with the status and the text, which `Response::json` would not show.
pub async fn body_as<T: DeserializeOwned>(response: Response) -> T {
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{status} {text}\nis not a {}: {e}",
            std::any::type_name::<T>()
        )
    })
}

/// Reads an error as the one error shape (`shared::ErrorBody`): its status, stable code and
/// field. The code must be one this build of `shared` knows, and every error has a message.
pub async fn refusal(response: Response) -> (StatusCode, ErrorCode, Option<String>) {
    let status = response.status();
    let body: ErrorBody = body_as(response).await;
    assert_ne!(body.code, ErrorCode::Unknown, "a known code: {body:?}");
    assert!(!body.message.is_empty(), "an error has a message: {body:?}");
    (status, body.code, body.field)
}

/// An amount in US dollars, as written: `usd("20.00")`.
pub fn usd(amount: &str) -> Money {
    Money::new(amount.parse::<Decimal>().unwrap(), Currency::USD)
}

/// An amount in US dollars from the integer of cents the database keeps (or a gateway sends):
/// `usd_minor(20_00)`, to compare with what the API answers as `Money`.
pub fn usd_minor(cents: i64) -> Money {
    Money::from_minor(cents, Currency::USD)
}

/// A valid individual billing address in `country`.
pub fn address_in(country: &str) -> Value {
    let (city, state, postal) = match country {
        "SG" => ("Singapore", "", "048616"),
        "IN" => ("Mumbai", "Maharashtra", "400001"),
        "MY" => ("Kuala Lumpur", "Wilayah Persekutuan", "50450"),
        "CN" => ("Hangzhou", "Zhejiang", "310000"),
        _ => ("San Francisco", "California", "94105"),
    };
    json!({
        "account_type": "individual",
        "last_name": "Tan",
        "first_name": "Mei",
        "country": country,
        "address_line1": "1 Main Street",
        "city": city,
        "state": state,
        "postal_code": postal,
    })
}

/// A card form for `number`, with the card address of a Singapore account.
pub fn card_form(number: &str, cvv: &str) -> Value {
    json!({
        "number": number,
        "exp_month": "12",
        "exp_year": "2031",
        "cvv": cvv,
        "first_name": "Mei",
        "last_name": "Tan",
        "billing_address": address_in("SG"),
    })
}

/// `GET /api/closure/export`, the file the owner keeps before closing. The server builds it as
/// JSON, with no `shared` type for the whole: the parts that are `shared` types are read as
/// those, and orders, invoices and refunds as far as the tests check them.
#[derive(Debug, Deserialize)]
pub struct Export {
    /// RFC 3339.
    pub exported_at: String,
    pub account: AccountView,
    pub billing_address: Option<BillingAddress>,
    pub orders: Vec<ExportedOrder>,
    pub invoices: Vec<ExportedInvoice>,
    pub refunds: Vec<ExportedRefund>,
    pub bills: Vec<BillView>,
    pub ledger: Vec<LedgerEntryView>,
    pub operation_log: Vec<OperationEntry>,
}

#[derive(Debug, Deserialize)]
pub struct ExportedOrder {
    pub id: String,
    pub instance_id: String,
    pub cash_paid: Money,
    pub credit_paid: Money,
    pub status: OrderStatus,
}

#[derive(Debug, Deserialize)]
pub struct ExportedInvoice {
    /// The order paid in cash.
    pub invoice_for: String,
    pub amount: Money,
}

#[derive(Debug, Deserialize)]
pub struct ExportedRefund {
    pub id: String,
    pub order_id: String,
    pub amount: Money,
}

impl TestApp {
    /// A signed-up Singapore account with a billing address and a Visa card (and its credit).
    pub async fn ready_to_buy(&mut self, tag: &str) -> String {
        let email = self.signed_up(tag).await;
        self.with_billing_address("81234567").await;
        let added = self
            .post_once(
                "/api/payment-methods/cards",
                &uuid::Uuid::new_v4().to_string(),
                &card_form(&unique_visa(), "123"),
            )
            .await;
        assert_eq!(
            added.status(),
            StatusCode::CREATED,
            "{}",
            added.text().await.unwrap()
        );
        email
    }

    /// Buys a subscription; returns the instance ID.
    pub async fn buy(&self, product: &str, months: u32, pay_with: &str) -> String {
        let form = json!({"product": product, "region": "ap-southeast-1", "billing": "subscription", "period_months": months, "pay_with": pay_with});
        let response = self
            .post_once("/api/orders", &uuid::Uuid::new_v4().to_string(), &form)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        body_as::<Purchased>(response).await.instance.id
    }

    /// Renews the instance `id` by `months` under a new Idempotency-Key; the answer as it came.
    pub async fn renew(&self, id: &str, months: u32) -> Response {
        self.post_once(
            &format!("/api/instances/{id}/renew"),
            &uuid::Uuid::new_v4().to_string(),
            &json!({"period_months": months}),
        )
        .await
    }

    /// [`TestApp::renew`], answered 201: a renewal bought.
    pub async fn renewed(&self, id: &str, months: u32) {
        let response = self.renew(id, months).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "renewal of {id}: {}",
            response.text().await.unwrap()
        );
    }

    /// Signs in again (after the clock moved past the session's 24 hours).
    pub async fn sign_in_again(&mut self, email: &str) {
        let response = self
            .post(
                "/api/session",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let session: SessionInfo = body_as(response).await;
        self.csrf = Some(session.csrf_token);
    }

    pub async fn run_jobs(&self) -> usize {
        server::jobs::run_due(&self.state).await.unwrap()
    }

    /// Fails if a job of a kind not in `expected` is left to run (pending, running or failed):
    /// a test ends by checking that nothing it did not ask for was queued behind its back
    /// (STYLE 16). Name the kinds from [`job_kinds`], so a renamed kind breaks the build rather
    /// than the check.
    pub async fn assert_no_unexpected_jobs(&self, expected: &[&str]) {
        let left: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT kind, subject, status FROM jobs \
             WHERE status IN ('pending', 'running', 'failed') ORDER BY kind, subject",
        )
        .fetch_all(&self.state.db)
        .await
        .unwrap();
        let unexpected: Vec<_> = left
            .iter()
            .filter(|(kind, _, _)| !expected.contains(&kind.as_str()))
            .collect();
        assert!(
            unexpected.is_empty(),
            "jobs left that the test did not expect (kind, subject, status): {unexpected:?}; \
             expected only {expected:?}"
        );
    }
}

/// A Luhn-valid Visa number no other test uses (the simulator approves any such number).
pub fn unique_visa() -> String {
    let body: String = format!("4111{:011}", rand_digits());
    let check = (0..10)
        .find(|d| shared::payment::luhn_valid(&format!("{body}{d}")))
        .unwrap();
    format!("{body}{check}")
}

fn rand_digits() -> u64 {
    let bytes = uuid::Uuid::new_v4().as_u128();
    (bytes % 100_000_000_000) as u64
}

/// The kinds of job a test may expect to find queued, for [`TestApp::assert_no_unexpected_jobs`].
/// Taken from the server's own names, so a renamed kind breaks the build; should those names
/// move, these lines are the one place to follow them.
pub mod job_kinds {
    use server::queue::Job;

    /// A subscription's end: stays queued for every subscription bought (a released instance
    /// ends it only when it next runs).
    pub const EXPIRY: &str = server::domain::expiry::Expire::KIND;
    /// A refund to a card or PayPal, settled days later.
    pub const REFUND: &str = server::domain::refund::SettleRefund::KIND;
    /// A pay-as-you-go instance's hourly usage.
    pub const USAGE: &str = server::domain::usage::BillUsage::KIND;
    /// A withdrawal's payout.
    pub const WITHDRAWAL: &str = server::domain::withdrawal::PayOut::KIND;
    /// An outbox message's delivery (SMTP, Twilio), retried until it goes or is given up.
    pub const DELIVER: &str = server::notify::Deliver::KIND;
}

/// Polls every future on this task until all are done.
pub async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (slot, future) in out.iter_mut().zip(pending.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

/// How a burst of password checks sent at once was answered (SPEC §1: the throttle counts
/// attempts sent at the same moment too).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Burst {
    /// 200: the password was checked and right.
    pub right: usize,
    /// 401 `invalid_credentials`: the password was checked and wrong.
    pub wrong: usize,
    /// 429 `sign_in_throttled` with `Retry-After`: refused before any check.
    pub throttled: usize,
    /// Anything else, as status and body.
    pub other: Vec<String>,
}

impl Burst {
    /// Attempts that reached the password check.
    pub fn checked(&self) -> usize {
        self.right + self.wrong
    }
}

impl TestApp {
    /// Posts every body to `path` at the same moment (one connection each) and tallies the answers.
    pub async fn burst(&self, path: &str, bodies: &[Value]) -> Burst {
        let answers = join_all(bodies.iter().map(|body| self.post(path, body))).await;
        let mut burst = Burst::default();
        for response in answers {
            let status = response.status();
            let retry_after = response.headers().contains_key("retry-after");
            let body = response.text().await.unwrap_or_default();
            let code = serde_json::from_str::<ErrorBody>(&body)
                .map(|e| e.code)
                .ok();
            match (status, code) {
                (StatusCode::OK, _) => burst.right += 1,
                (StatusCode::UNAUTHORIZED, Some(ErrorCode::InvalidCredentials)) => burst.wrong += 1,
                (StatusCode::TOO_MANY_REQUESTS, Some(ErrorCode::SignInThrottled))
                    if retry_after =>
                {
                    burst.throttled += 1
                }
                _ => burst.other.push(format!("{status} {body}")),
            }
        }
        burst
    }
}
