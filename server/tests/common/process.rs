//! The real server binary as a child process, for tests that kill it, restart it, or run two
//! of it on one database.

use reqwest::{Client, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shared::api::{SessionInfo, SignupStarted, SystemCheckView};
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
    // Held as a `Server` from the start: if it never comes up, the panic below kills it.
    let mut server = Server {
        child: spawn(data, log_name, extra, env).await,
        base: String::new(),
    };
    let log_path: PathBuf = data.join(log_name);
    // Up to 20 s: a restart after a SIGKILL may have a busy machine and a database to recover.
    for _ in 0..400 {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(url) = text
            .lines()
            .find_map(|l| l.strip_prefix("Account Center is running at "))
        {
            server.base = url.split('/').take(3).collect::<Vec<_>>().join("/");
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the server did not start: {}",
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );
}

impl Server {
    /// SIGKILL (`Child::kill`), and waits for the process to be gone: no shutdown runs.
    pub fn sigkill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// A cookie-keeping client of one server, with its CSRF token.
pub struct Browser {
    pub client: Client,
    pub base: String,
    pub csrf: String,
}

/// The Singapore mobile number [`Browser::verify_phone`] proves, as the dev inbox names it.
pub const PHONE: &str = "+6581234567";

impl Browser {
    /// A new visitor of the server at `base`: a cookie jar of its own, not signed in.
    pub fn new(base: &str) -> Browser {
        Browser {
            client: super::new_client(),
            base: base.to_owned(),
            csrf: String::new(),
        }
    }

    /// Signs up a new account by email code; the browser then holds its session. Returns the
    /// account's email.
    pub async fn sign_up(&mut self, tag: &str) -> String {
        let email = super::email(tag);
        let started = self.post("/api/signup", super::signup_form(&email)).await;
        assert_eq!(started.status(), StatusCode::CREATED);
        let id = super::body_as::<SignupStarted>(started).await.signup_id;
        self.post(&format!("/api/signup/{id}/code"), json!({}))
            .await;
        let code = self.code_for(&email).await;
        let verified = self
            .post(&format!("/api/signup/{id}/verify"), json!({"code": code}))
            .await;
        assert_eq!(verified.status(), StatusCode::OK);
        let session: SessionInfo = super::body_as(verified).await;
        self.csrf = session.csrf_token;
        email
    }

    /// Proves [`PHONE`] for the signed-in account, the channel an email sign-up lacks.
    pub async fn verify_phone(&self) {
        self.post(
            "/api/account/contact/code",
            json!({"channel": "phone", "phone": "81234567"}),
        )
        .await;
        let code = self.code_for(PHONE).await;
        assert_eq!(
            self.post("/api/account/contact/verify", json!({"code": code}))
                .await
                .status(),
            StatusCode::OK
        );
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// GET `path`, read as the `shared` type the server answers with.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        super::body_as(response).await
    }

    pub async fn code_for(&self, to: &str) -> String {
        super::newest_code(&self.client, &self.base, to).await
    }
}

/// Signs up, proves the phone, and confirms the closure of a fresh account: it is then cooling
/// down for one day.
pub async fn close_an_account(base: &str) -> String {
    let mut browser = Browser::new(base);
    let email = browser.sign_up("restart").await;
    browser.verify_phone().await;
    // Codes to one address are 60 s apart.
    browser
        .post("/api/dev/clock", json!({"advance_seconds": 61}))
        .await;
    browser.post("/api/closure/identity/code", json!({})).await;
    let code = browser.code_for(PHONE).await;
    assert_eq!(
        browser
            .post("/api/closure/identity/verify", json!({"code": code}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let check: SystemCheckView =
        super::body_as(browser.post("/api/closure/system-check", json!({})).await).await;
    let check_id = check.id;
    for _ in 0..20 {
        browser
            .post("/api/dev/clock", json!({"advance_seconds": 1}))
            .await;
        browser.post("/api/dev/run-jobs", json!({})).await;
        let view: SystemCheckView = browser
            .get(&format!("/api/closure/system-check/{check_id}"))
            .await;
        if view.status == shared::api::SystemCheckStatus::Done {
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
