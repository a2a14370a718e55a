//! With an SMTP URL configured, each queued email is a `deliver_message` job: delivered over
//! SMTP and marked sent, retried while the server cannot be reached, given up after its tries.
//! Without one (dev mode), messages stay in the outbox for /dev/inbox and no job is queued.
//! The SMTP server is aiosmtpd ([`common::smtp`]); what it received is read back and parsed as
//! a mail client would: every email has a plain-text and an HTML part worded from its notice.

mod common;

use common::smtp::SmtpServer;
use common::*;
use mail_parser::MimeHeaders;
use serde_json::json;

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
    let smtp = SmtpServer::start().await;
    let app = smtp_app(smtp.port).await;
    let email = email("smtp");
    send_signup_code(&app, &email).await;
    let code = app.code_for(&email).await;
    assert_eq!(outbox_row(&app).await.0, "pending", "queued, not yet sent");
    assert!(smtp.received().is_empty());

    assert_eq!(app.run_jobs().await, 1, "one delivery job");
    assert_eq!(outbox_row(&app).await, ("sent".to_owned(), 1, None));
    let received = smtp.received();
    assert_eq!(received.len(), 1, "delivered once");
    let message = received[0].parsed();
    assert_eq!(
        message.to().unwrap().first().unwrap().address(),
        Some(email.as_str())
    );
    assert_eq!(
        message.from().unwrap().first().unwrap().address(),
        Some("no-reply@example.com")
    );
    assert_eq!(
        message.subject(),
        Some("Your Account Center verification code")
    );
    assert!(
        message.body_text(0).unwrap().contains(&code),
        "the text part carries the code"
    );

    assert_eq!(app.run_jobs().await, 0, "nothing left to deliver");
    app.assert_no_unexpected_jobs(&[]).await;
}

/// What a mail client shows: a `multipart/alternative` of a plain-text part and an HTML part
/// (the richer last), both worded from the notice's templates, with the product's name and
/// colour in the HTML and the facts escaped there.
#[tokio::test]
async fn an_email_arrives_with_a_plain_text_and_an_html_part_of_the_same_notice() {
    let smtp = SmtpServer::start().await;
    let mut app = smtp_app(smtp.port).await;
    let email = app.signed_up("parts").await;
    let code = app.code_for(&email).await;
    let changed = app
        .put(
            "/api/account/password",
            &json!({
                "current_password": PASSWORD, "password": "Turbine9Blue",
                "password_confirmation": "Turbine9Blue",
            }),
        )
        .await;
    assert_eq!(changed.status(), reqwest::StatusCode::NO_CONTENT);
    assert_eq!(app.run_jobs().await, 2, "the code's email and the notice's");

    let received = smtp.received();
    let subjects: Vec<String> = received
        .iter()
        .map(|r| r.parsed().subject().unwrap().to_owned())
        .collect();
    assert_eq!(
        subjects,
        [
            "Your Account Center verification code",
            "Your Account Center password was changed"
        ]
    );
    for (received, facts) in received.iter().zip([&code, &"127.0.0.1".to_owned()]) {
        let message = received.parsed();
        let root = message.root_part();
        assert_eq!(
            root.content_type().map(|t| (t.ctype(), t.subtype())),
            Some(("multipart", Some("alternative"))),
            "{}",
            String::from_utf8_lossy(&received.raw)
        );
        assert_eq!(message.text_body.len(), 1, "one text part");
        assert_eq!(message.html_body.len(), 1, "one HTML part");
        let text = message.body_text(0).unwrap();
        let html = message.body_html(0).unwrap();
        assert!(!text.contains('<'), "the text part has no markup: {text}");
        assert!(text.contains(facts.as_str()) && html.contains(facts.as_str()));
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("Account Center") && html.contains("#ff6a00"));
        assert!(html.contains(&format!("<title>{}</title>", message.subject().unwrap())));
    }
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_retried_with_the_queues_backoff_then_given_up() {
    let port = free_port().await;
    let app = smtp_app(port).await;
    send_signup_code(&app, &email("down")).await;

    assert_eq!(app.run_jobs().await, 1);
    let (status, attempts, error) = outbox_row(&app).await;
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.is_some(), "the failure is kept for the operator");
    assert_eq!(app.run_jobs().await, 0, "the retry waits");
    app.assert_no_unexpected_jobs(&[job_kinds::DELIVER]).await;

    // Each later try comes after the queue's wait; the eighth failure gives up.
    for tries in 2..=8 {
        app.advance(DurationMs::hours(1));
        assert_eq!(app.run_jobs().await, 1, "try {tries}");
        assert_eq!(outbox_row(&app).await.1, tries);
    }
    let (status, attempts, error) = outbox_row(&app).await;
    assert_eq!((status.as_str(), attempts), ("failed", 8));
    assert!(error.is_some());
    app.advance(DurationMs::hours(1));
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
    let smtp = SmtpServer::start().await;
    let app = smtp_app(smtp.port).await;
    // As a server without a postman left it: an email in the outbox, no job.
    let now = app.state.clock.now();
    sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, subject, body, created_at)
         VALUES ('early', 'email', 'early@example.com', 'Hello', 'Queued earlier.', $1)",
    )
    .bind(now)
    .execute(app.state.db.writer())
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
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let early = received[0].parsed();
    assert_eq!(early.subject(), Some("Hello"));
    assert_eq!(
        early.parts.len(),
        1,
        "queued without an HTML part: one plain-text part, no multipart"
    );
    assert_eq!(early.body_text(0).unwrap().trim_end(), "Queued earlier.");
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
