//! With an SMTP URL configured, each queued email is a `deliver_message` job: delivered over
//! SMTP and marked sent, retried while the server cannot be reached, given up after its tries.
//! Without one (dev mode), messages stay in the outbox for /dev/inbox and no job is queued.
//! The SMTP server here is a minimal sink on 127.0.0.1 that records what it is given.

mod common;

use common::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Accepts connections and answers just enough SMTP for a client to hand over messages.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            store.lock().unwrap().push(std::mem::take(&mut message));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, received)
}

/// The outbox's one row: its status, tries and last error.
async fn outbox_row(app: &TestApp) -> (String, i64, Option<String>) {
    sqlx::query_as("SELECT status, CAST(attempts AS BIGINT), last_error FROM outbox")
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

async fn send_signup_code(app: &TestApp, email: &str) {
    let id = app.start_signup(email).await;
    app.post(&format!("/api/signup/{id}/code"), &json!({}))
        .await;
}

async fn smtp_app(port: u16) -> TestApp {
    let url = format!("smtp://127.0.0.1:{port}");
    spawn_app_with(&[
        "--smtp-url",
        &url,
        "--smtp-from",
        "Account Center <no-reply@example.com>",
    ])
    .await
}

#[tokio::test]
async fn a_queued_email_is_a_job_that_delivers_it_over_smtp_once() {
    let (port, received) = smtp_sink().await;
    let app = smtp_app(port).await;
    let email = email("smtp");
    send_signup_code(&app, &email).await;
    let code = app.code_for(&email).await;
    assert_eq!(outbox_row(&app).await.0, "pending", "queued, not yet sent");
    assert!(received.lock().unwrap().is_empty());

    assert_eq!(app.run_jobs().await, 1, "one delivery job");
    assert_eq!(outbox_row(&app).await, ("sent".to_owned(), 1, None));
    let messages = received.lock().unwrap().clone();
    assert_eq!(messages.len(), 1, "delivered once");
    assert!(
        messages[0].contains(&format!("To: {email}")),
        "{}",
        messages[0]
    );
    assert!(messages[0].contains(&code), "the email carries the code");

    assert_eq!(app.run_jobs().await, 0, "nothing left to deliver");
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_retried_with_the_queues_backoff_then_given_up() {
    // Nothing listens on this port once the listener is dropped.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = smtp_app(port).await;
    send_signup_code(&app, &email("down")).await;

    assert_eq!(app.run_jobs().await, 1);
    let (status, attempts, error) = outbox_row(&app).await;
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.is_some(), "the failure is kept for the operator");
    assert_eq!(app.run_jobs().await, 0, "the retry waits");
    app.assert_no_unexpected_jobs(&["deliver_message"]).await;

    // Each later try comes after the queue's wait; the eighth failure gives up.
    for tries in 2..=8 {
        app.advance(3_600);
        assert_eq!(app.run_jobs().await, 1, "try {tries}");
        assert_eq!(outbox_row(&app).await.1, tries);
    }
    let (status, attempts, error) = outbox_row(&app).await;
    assert_eq!((status.as_str(), attempts), ("failed", 8));
    assert!(error.is_some());
    app.advance(3_600);
    assert_eq!(
        app.run_jobs().await,
        0,
        "a failed message is not tried again"
    );
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn without_smtp_messages_stay_in_the_outbox_and_no_job_is_queued() {
    let app = spawn_app().await;
    let email = email("inbox");
    send_signup_code(&app, &email).await;
    app.code_for(&email).await;
    assert_eq!(outbox_row(&app).await.0, "pending");
    app.assert_no_unexpected_jobs(&[]).await;
    assert_eq!(app.run_jobs().await, 0);
}

#[tokio::test]
async fn a_message_queued_before_smtp_was_configured_is_delivered_once_it_is() {
    let (port, received) = smtp_sink().await;
    let app = smtp_app(port).await;
    // As a server without a postman left it: an email in the outbox, no job.
    let now = app.state.clock.now_ms();
    sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, subject, body, created_at)
         VALUES ('early', 'email', 'early@example.com', 'Hello', 'Queued earlier.', $1)",
    )
    .bind(now)
    .execute(&app.state.db)
    .await
    .unwrap();
    app.state
        .outbox
        .schedule_waiting(&app.state.db, now)
        .await
        .unwrap();
    // Scheduling again (a second start) adds nothing.
    app.state
        .outbox
        .schedule_waiting(&app.state.db, now)
        .await
        .unwrap();
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(outbox_row(&app).await.0, "sent");
    assert_eq!(received.lock().unwrap().len(), 1);
    app.state
        .outbox
        .schedule_waiting(&app.state.db, now)
        .await
        .unwrap();
    assert_eq!(
        app.run_jobs().await,
        0,
        "a sent message is not scheduled again"
    );
}
