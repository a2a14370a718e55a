//! The closure decision runs exactly once even when the server is down at the deadline (it
//! catches up at start) or is killed in the middle of deciding (SPEC §6.4). These run the real
//! binary as a child process, kill it, and start it again on the same database.

mod common;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::db::Db;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    base: String,
}

async fn start(data: &Path, log_name: &str, extra: &[&str]) -> Server {
    let log_path: PathBuf = data.join(log_name);
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_account-center"))
        .args([
            "--mode",
            "dev",
            "--bind",
            "127.0.0.1:0",
            "--simulator-latency-ms",
            "1",
            "--cool-down-days",
            "1",
        ])
        .arg("--data-dir")
        .arg(data)
        .arg("--database-url")
        .arg(common::database_for(data).await)
        .arg("--site-dir")
        .arg(data)
        .args(extra)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the server binary starts");
    for _ in 0..200 {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find(|l| l.starts_with("Account Center is running at "))
        {
            let base = line
                .trim_start_matches("Account Center is running at ")
                .split('/')
                .take(3)
                .collect::<Vec<_>>()
                .join("/");
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the server did not start: {}",
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );
}

struct Browser {
    client: Client,
    base: String,
    csrf: String,
}

impl Browser {
    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn code_for(&self, to: &str) -> String {
        let inbox: Value = self
            .client
            .get(format!("{}/api/dev/inbox", self.base))
            .query(&[("to", to)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let body = inbox[0]["body"]
            .as_str()
            .unwrap_or_else(|| panic!("no message to {to}"));
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap()
            .to_owned()
    }
}

/// Signs up, proves the phone, and confirms the closure of a fresh account: it is then cooling
/// down for one day.
async fn close_an_account(base: &str) -> String {
    let client = Client::builder().cookie_store(true).build().unwrap();
    let mut browser = Browser {
        client,
        base: base.to_owned(),
        csrf: String::new(),
    };
    let email = format!("restart.{}@example.com", uuid::Uuid::new_v4().simple());
    let form = json!({"country": "SG", "email": email, "password": "Harbour7Lights", "password_confirmation": "Harbour7Lights", "accept_agreement": true});
    let started: Value = browser
        .post("/api/signup", form)
        .await
        .json()
        .await
        .unwrap();
    let id = started["signup_id"].as_str().unwrap().to_owned();
    browser
        .post(&format!("/api/signup/{id}/code"), json!({}))
        .await;
    let code = browser.code_for(&email).await;
    let session: Value = browser
        .post(&format!("/api/signup/{id}/verify"), json!({"code": code}))
        .await
        .json()
        .await
        .unwrap();
    browser.csrf = session["csrf_token"].as_str().unwrap().to_owned();
    browser
        .post(
            "/api/account/contact/code",
            json!({"channel": "phone", "phone": "81234567"}),
        )
        .await;
    let code = browser.code_for("+6581234567").await;
    assert_eq!(
        browser
            .post("/api/account/contact/verify", json!({"code": code}))
            .await
            .status(),
        StatusCode::OK
    );
    // Codes to one address are 60 s apart.
    browser
        .post("/api/dev/clock", json!({"advance_seconds": 61}))
        .await;
    browser.post("/api/closure/identity/code", json!({})).await;
    let code = browser.code_for("+6581234567").await;
    assert_eq!(
        browser
            .post("/api/closure/identity/verify", json!({"code": code}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let check: Value = browser
        .post("/api/closure/system-check", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let check_id = check["id"].as_str().unwrap().to_owned();
    for _ in 0..20 {
        browser
            .post("/api/dev/clock", json!({"advance_seconds": 1}))
            .await;
        browser.post("/api/dev/run-jobs", json!({})).await;
        if browser
            .get(&format!("/api/closure/system-check/{check_id}"))
            .await["status"]
            == "done"
        {
            break;
        }
    }
    let confirm = json!({"system_check_id": check_id, "agreement_accepted": true, "renounce": [], "risk_acknowledged": false, "reason": "other"});
    let response = browser.post("/api/closure", confirm).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    // The session ended with the confirmation; the dev clock needs none.
    browser.csrf.clear();
    email
}

async fn database(data: &Path) -> Db {
    server::db::open(&common::database_for(data).await)
        .await
        .unwrap()
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// Waits (at most 20 s) until the account is gone.
async fn wait_until_deleted(db: &Db) {
    for _ in 0..200 {
        if count(db, "SELECT COUNT(*) FROM accounts").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the account was not deleted");
}

#[tokio::test]
async fn a_server_down_at_the_deadline_decides_when_it_starts_again() {
    let data = tempfile::tempdir().unwrap();
    let mut first = start(data.path(), "first.log", &[]).await;
    let email = close_an_account(&first.base).await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    // A day passes while no server runs.
    let db = database(data.path()).await;
    let offset: String =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'dev_clock_offset_ms'")
            .fetch_one(&db)
            .await
            .unwrap();
    let later = offset.parse::<i64>().unwrap() + 86_401_000;
    sqlx::query("UPDATE settings SET value = $1 WHERE key = 'dev_clock_offset_ms'")
        .bind(later.to_string())
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM accounts").await, 1);

    let mut second = start(data.path(), "second.log", &[]).await;
    wait_until_deleted(&db).await;
    let closed: Vec<String> = sqlx::query_scalar(
        "SELECT recipient FROM outbox WHERE subject = 'Account closed' ORDER BY channel",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        closed,
        vec![email, "+6581234567".to_owned()],
        "one email and one SMS"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'done'"
        )
        .await,
        1
    );
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

#[tokio::test]
async fn a_server_killed_while_deciding_decides_exactly_once_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let mut first = start(data.path(), "first.log", &["--crash-at", "closure_decide"]).await;
    let email = close_an_account(&first.base).await;
    let client = Client::new();
    client
        .post(format!("{}/api/dev/clock", first.base))
        .json(&json!({"advance_seconds": 86_401}))
        .send()
        .await
        .unwrap();
    // The scheduler claims the decision within a second and dies inside it, before committing.
    let mut exit = None;
    for _ in 0..100 {
        exit = first.child.try_wait().unwrap();
        if exit.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exit = exit.expect("the server died in the decision");
    assert!(!exit.success(), "{exit:?}");

    let db = database(data.path()).await;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM accounts").await,
        1,
        "nothing of the decision was committed"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM closures WHERE status = 'cooling_down'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'running'"
        )
        .await,
        1,
        "claimed, leased, unfinished"
    );

    let mut second = start(data.path(), "second.log", &[]).await;
    // The dead server's lease on the job runs out after a minute.
    client
        .post(format!("{}/api/dev/clock", second.base))
        .json(&json!({"advance_seconds": 61}))
        .send()
        .await
        .unwrap();
    wait_until_deleted(&db).await;
    let closed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE subject = 'Account closed' AND recipient = $1",
    )
    .bind(&email)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(closed, 1, "notified exactly once");
    let (status, attempts): (String, i64) =
        sqlx::query_as("SELECT status, attempts FROM jobs WHERE kind = 'closure_decide'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("done", 2));
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}
