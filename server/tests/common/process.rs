//! The real server binary as a child process, for tests that kill it, restart it, or run two
//! of it on one database.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A server binary running as a child process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary in dev mode (one-day cool-down) on the database of `data` (see
/// `database_for`), logging to `data/log_name`, and waits for its address.
pub async fn start(data: &Path, log_name: &str, extra: &[&str]) -> Server {
    start_with_env(data, log_name, extra, &[]).await
}

/// Starts the binary as `start` does, without waiting for it to announce its address: for a
/// server expected to die before or soon after it does.
pub async fn spawn(data: &Path, log_name: &str, extra: &[&str], env: &[(&str, &str)]) -> Child {
    let log = std::fs::File::create(data.join(log_name)).unwrap();
    Command::new(env!("CARGO_BIN_EXE_account-center"))
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
        .arg(super::database_for(data).await)
        .arg("--site-dir")
        .arg(data)
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the server binary starts")
}

/// `start`, with environment variables for the process (`RUST_LOG`, …).
pub async fn start_with_env(
    data: &Path,
    log_name: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let child = spawn(data, log_name, extra, env).await;
    let log_path: PathBuf = data.join(log_name);

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

/// A cookie-keeping client of one server, with its CSRF token.
pub struct Browser {
    pub client: Client,
    pub base: String,
    pub csrf: String,
}

impl Browser {
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn code_for(&self, to: &str) -> String {
        super::newest_code(&self.client, &self.base, to).await
    }
}

/// Signs up, proves the phone, and confirms the closure of a fresh account: it is then cooling
/// down for one day.
pub async fn close_an_account(base: &str) -> String {
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
