//! With an SMTP URL configured, queued emails are delivered over SMTP and marked sent.
//! The SMTP server here is a minimal sink on 127.0.0.1 that records what it is given.

mod common;

use common::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
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

#[tokio::test]
async fn queued_emails_are_delivered_over_smtp_and_marked_sent() {
    let (port, received) = smtp_sink().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(&[
        "--smtp-url",
        &url,
        "--smtp-from",
        "Account Center <no-reply@example.com>",
    ])
    .await;
    let email = email("smtp");
    let id = app.start_signup(&email).await;
    app.post(&format!("/api/signup/{id}/code"), &json!({}))
        .await;
    let code = app.code_for(&email).await;

    let mut status = String::new();
    for _ in 0..100 {
        status = sqlx::query_scalar("SELECT status FROM outbox")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        if status == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "sent");
    let messages = received.lock().unwrap().clone();
    assert_eq!(messages.len(), 1, "delivered exactly once");
    assert!(
        messages[0].contains(&format!("To: {email}")),
        "{}",
        messages[0]
    );
    assert!(messages[0].contains(&code), "the email carries the code");
}

#[tokio::test]
async fn an_unreachable_smtp_server_leaves_the_email_pending_for_a_retry() {
    // Nothing listens on this port once the listener is dropped.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(&["--smtp-url", &url]).await;
    let id = app.start_signup(&email("down")).await;
    app.post(&format!("/api/signup/{id}/code"), &json!({}))
        .await;
    let mut attempts = 0i64;
    for _ in 0..100 {
        attempts = sqlx::query_scalar("SELECT attempts FROM outbox")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        if attempts > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(attempts, 1);
    let mut row: (String, Option<String>) = (String::new(), None);
    for _ in 0..100 {
        row = sqlx::query_as("SELECT status, last_error FROM outbox")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        if row.0 != "sending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, error) = row;
    assert_eq!(status, "pending");
    assert!(error.is_some());
}
