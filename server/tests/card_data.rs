//! The full card number and the CVV never reach the database or the logs (SPEC §3). This runs
//! the real binary with debug logging, binds a card through HTTP, then scans the database
//! files (on PostgreSQL: every row of every table) and everything the process printed.

mod common;

use common::newest_code;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const NUMBER: &str = "378282246310005";
const CVV: &str = "8642";

/// Whether `needle` occurs in `haystack` not surrounded by other digits.
fn occurs_as_token(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).enumerate().any(|(i, w)| {
        w == needle
            && (i == 0 || !haystack[i - 1].is_ascii_digit())
            && haystack
                .get(i + needle.len())
                .is_none_or(|b| !b.is_ascii_digit())
    })
}

fn scan(path: &Path) -> Vec<String> {
    scan_bytes(
        &std::fs::read(path).unwrap_or_default(),
        &path.display().to_string(),
    )
}

fn scan_bytes(bytes: &[u8], place: &str) -> Vec<String> {
    let mut found = Vec::new();
    let spaced = "3782 822463 10005";
    if occurs_as_token(bytes, NUMBER.as_bytes()) || occurs_as_token(bytes, spaced.as_bytes()) {
        found.push(format!("card number in {place}"));
    }
    if occurs_as_token(bytes, CVV.as_bytes()) {
        found.push(format!("CVV in {place}"));
    }
    found
}

#[tokio::test]
async fn a_bound_card_leaves_no_number_or_cvv_in_the_database_or_logs() {
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("server.log");
    let database = common::database_for(data.path()).await;
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_account-center"))
        .args([
            "--mode",
            "dev",
            "--bind",
            "127.0.0.1:0",
            "--simulator-latency-ms",
            "1",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .arg("--database-url")
        .arg(&database)
        .arg("--site-dir")
        .arg(data.path())
        .env("RUST_LOG", "trace")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the server binary starts");

    let mut base = String::new();
    for _ in 0..200 {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find(|l| l.starts_with("Account Center is running at "))
        {
            base = line
                .trim_start_matches("Account Center is running at ")
                .split('/')
                .take(3)
                .collect::<Vec<_>>()
                .join("/");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!base.is_empty(), "the server printed its address");

    let client = Client::builder().cookie_store(true).build().unwrap();
    let email = format!("scan.{}@example.com", uuid::Uuid::new_v4().simple());
    let form = json!({"country": "SG", "email": email, "password": "Harbour7Lights", "password_confirmation": "Harbour7Lights", "accept_agreement": true});
    let started: Value = client
        .post(format!("{base}/api/signup"))
        .json(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["signup_id"].as_str().unwrap();
    client
        .post(format!("{base}/api/signup/{id}/code"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let code = newest_code(&client, &base, &email).await;
    let session: Value = client
        .post(format!("{base}/api/signup/{id}/verify"))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    post(
        "/api/account/contact/code",
        json!({"channel": "phone", "phone": "81234567"}),
    )
    .await
    .unwrap();
    let code = newest_code(&client, &base, "+6581234567").await;
    post("/api/account/contact/verify", json!({"code": code}))
        .await
        .unwrap();
    let address = json!({"account_type": "individual", "last_name": "Tan", "first_name": "Mei", "country": "SG", "address_line1": "1 Main Street", "city": "Singapore", "postal_code": "048616"});
    let saved = client
        .put(format!("{base}/api/billing-address"))
        .header("x-csrf-token", &csrf)
        .json(&address)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let card = json!({"number": "3782 822463 10005", "exp_month": "12", "exp_year": "31", "cvv": CVV, "first_name": "Mei", "last_name": "Tan", "billing_address": address});
    let added = client
        .post(format!("{base}/api/payment-methods/cards"))
        .header("x-csrf-token", &csrf)
        .header("idempotency-key", "scan-1")
        .json(&card)
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    // A refused attempt with the same details goes through the same code paths once more.
    let again = client
        .post(format!("{base}/api/payment-methods/cards"))
        .header("x-csrf-token", &csrf)
        .header("idempotency-key", "scan-2")
        .json(&card)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);

    server.kill().unwrap();
    server.wait().unwrap();
    let log_text = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log_text.contains("card added"),
        "the bind was logged at all: {log_text}"
    );
    let mut found = scan(&log_path);
    if common::on_postgres() {
        found.extend(scan_postgres(&database).await);
    } else {
        for file in [
            "account-center.db",
            "account-center.db-wal",
            "account-center.db-shm",
        ] {
            found.extend(scan(&data.path().join(file)));
        }
    }
    assert!(found.is_empty(), "{found:?}");
}

/// Every row of every table as JSON text, scanned like a file.
async fn scan_postgres(url: &str) -> Vec<String> {
    let db = server::db::open(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(tables.len() > 10, "the schema is there: {tables:?}");
    let mut found = Vec::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM {table} t"))
                .fetch_all(&db)
                .await
                .unwrap();
        found.extend(scan_bytes(
            rows.join("\n").as_bytes(),
            &format!("table {table}"),
        ));
    }
    found
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    assert!(occurs_as_token(b"x 8642 y", b"8642"));
    assert!(occurs_as_token(b"\"cvv\":\"8642\"", b"8642"));
    assert!(!occurs_as_token(b"12:08.864213", b"8642"));
}
