//! Each test gets its own server: the real router on 127.0.0.1 port 0, a fresh SQLite file in
//! a temp folder, dev mode (inbox, movable clock), and a cookie-keeping HTTP client.

#![allow(dead_code)] // each test file uses its own share of these helpers

use clap::Parser;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use server::Application;
use server::config::Config;
use server::state::AppState;
use std::time::Duration;
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    /// Signed-in state of the default client lives in its cookie jar.
    pub client: Client,
    pub csrf: Option<String>,
    _data: std::sync::Arc<TempDir>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().to_str().unwrap().to_owned();
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
    ];
    args.extend_from_slice(extra);
    let config = Config::try_parse_from(args).expect("test config");
    let app = Application::build(config).await.expect("server builds");
    let base = format!("http://{}", app.local_addr());
    let state = app.state();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        base,
        state,
        client: new_client(),
        csrf: None,
        _data: std::sync::Arc::new(data),
    }
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
    json!({
        "country": "SG",
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
            state: self.state.clone(),
            client: new_client(),
            csrf: None,
            _data: self._data.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
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
        let body: Value = response.json().await.unwrap();
        body["signup_id"].as_str().unwrap().to_owned()
    }

    /// The newest code the dev inbox holds for `to`.
    pub async fn code_for(&self, to: &str) -> String {
        let messages: Value = self
            .client
            .get(self.url("/api/dev/inbox"))
            .query(&[("to", to)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let body = messages[0]["body"]
            .as_str()
            .unwrap_or_else(|| panic!("no message to {to}: {messages}"));
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {body}"))
            .to_owned()
    }

    /// Signs up by email code and keeps the session; returns the account's email.
    pub async fn signed_up(&mut self, tag: &str) -> String {
        let email = email(tag);
        let id = self.start_signup(&email).await;
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
        let session: Value = verified.json().await.unwrap();
        self.csrf = Some(session["csrf_token"].as_str().unwrap().to_owned());
        email
    }

    /// Signs up a new account in this client, which then holds its session; returns the email.
    pub async fn signed_up_email(mut self, tag: &str) -> String {
        self.signed_up(tag).await
    }

    pub fn advance(&self, seconds: i64) {
        self.state.clock.advance(chrono::Duration::seconds(seconds));
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.state.db)
            .await
            .unwrap()
    }
}

/// Reads an error body, checking the shape every error shares.
pub async fn error_of(response: Response) -> (StatusCode, String, Option<String>) {
    let status = response.status();
    let body: Value = response.json().await.expect("errors are JSON");
    let code = body["code"]
        .as_str()
        .expect("an error has a code")
        .to_owned();
    assert!(
        !body["message"].as_str().unwrap_or("").is_empty(),
        "an error has a message: {body}"
    );
    (status, code, body["field"].as_str().map(str::to_owned))
}
