//! Sign-up and verification (SPEC §1) through the HTTP API.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::account::{Channel, Delivery};
use shared::api::{CodeSent, SessionInfo};
use shared::{ErrorBody, ErrorCode};

async fn send_code(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/signup/{id}/code"), &body).await
}

async fn verify(app: &TestApp, id: &str, code: &str) -> reqwest::Response {
    app.post(
        &format!("/api/signup/{id}/verify"),
        &json!({ "code": code }),
    )
    .await
}

/// A code that is certainly not `code`.
fn other_than(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn signup_by_email_code_creates_a_signed_in_account() {
    let app = spawn_app().await;
    let email = email("ada");
    let id = app.start_signup(&email).await;
    assert_eq!(
        app.count("accounts").await,
        0,
        "no account before the code is verified"
    );

    let sent = send_code(&app, &id, json!({})).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let sent: CodeSent = body_as(sent).await;
    assert_eq!(sent.channel, Channel::Email);
    assert_eq!(sent.resend_after_seconds, 60);
    assert_eq!(sent.expires_in_seconds, 600);
    assert!(sent.sent_to.starts_with("a***@"), "{sent:?}");

    let verified = verify(&app, &id, &app.code_for(&email).await).await;
    assert_eq!(verified.status(), StatusCode::OK);
    let cookie = verified.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session: SessionInfo = body_as(verified).await;
    assert_eq!(session.account.email, email);
    assert_eq!(session.account.verified_channel, Channel::Email);
    assert_eq!(session.account.country, "SG");
    assert!(session.csrf_token.len() >= 32);

    let me: SessionInfo = app.get_as("/api/session").await;
    assert_eq!(me.account.email, email);
}

#[tokio::test]
async fn signup_by_phone_records_the_phone_as_the_verified_channel() {
    let app = spawn_app().await;
    for (delivery, number, medium) in [
        (Delivery::Sms, "8123 4567", "sms"),
        (Delivery::Voice, "9123 4567", "voice"),
    ] {
        let client_app = app.another_client();
        let email = email(delivery.as_str());
        let id = client_app.start_signup(&email).await;
        let sent = send_code(
            &client_app,
            &id,
            json!({"channel": "phone", "phone": number, "delivery": delivery}),
        )
        .await;
        assert_eq!(sent.status(), StatusCode::OK);
        let sent: CodeSent = body_as(sent).await;
        assert_eq!(sent.channel, Channel::Phone);
        assert_eq!(sent.delivery, Some(delivery));

        let e164 = format!("+65{}", number.replace(' ', ""));
        let inbox = client_app.inbox(&e164).await;
        assert_eq!(inbox[0].channel, medium);
        assert_eq!(inbox[0].to, e164);
        assert!(inbox.iter().all(|m| m.to != email), "no email was sent");

        let verified = verify(&client_app, &id, &client_app.code_for(&e164).await).await;
        assert_eq!(verified.status(), StatusCode::OK);
        let session: SessionInfo = body_as(verified).await;
        assert_eq!(session.account.verified_channel, Channel::Phone);
        assert_eq!(session.account.phone, Some(e164));
    }
    let (email_verified, phone_verified): (i64, i64) =
        sqlx::query_as("SELECT COUNT(email_verified_at), COUNT(phone_verified_at) FROM accounts")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!((email_verified, phone_verified), (0, 2));
}

#[tokio::test]
async fn every_bad_signup_field_is_refused_with_its_code_and_leaves_nothing() {
    let app = spawn_app().await;
    let good = signup_form(&email("bad"));
    let cases: Vec<(&str, Value, ErrorCode)> = vec![
        ("email", json!("not-an-email"), ErrorCode::InvalidEmail),
        ("email", json!(""), ErrorCode::InvalidEmail),
        ("email", json!("ada@bücher.de"), ErrorCode::InvalidEmail),
        ("password", json!("short1"), ErrorCode::InvalidPassword),
        ("password", json!("onlyletters"), ErrorCode::InvalidPassword),
        ("password", json!("password1"), ErrorCode::InvalidPassword),
        (
            "password_confirmation",
            json!("Harbour7Lightz"),
            ErrorCode::PasswordMismatch,
        ),
        ("country", json!("XX"), ErrorCode::InvalidCountry),
        (
            "accept_agreement",
            json!(false),
            ErrorCode::AgreementRequired,
        ),
    ];
    for (field, value, code) in cases {
        let mut form = good.clone();
        form[field] = value;
        if field == "password" {
            form["password_confirmation"] = form["password"].clone();
        }
        let (status, got, got_field) = refusal(app.post("/api/signup", &form).await).await;
        assert_eq!(
            (status, got, got_field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }
    // The password may not contain the email's local part.
    let mut form = signup_form("harbour.master@example.com");
    form["password"] = json!("Harbour.Master7");
    form["password_confirmation"] = json!("Harbour.Master7");
    let (_, code, field) = refusal(app.post("/api/signup", &form).await).await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::InvalidPassword, Some("password"))
    );

    assert_eq!(app.count("signups").await, 0);
    assert_eq!(app.count("accounts").await, 0);
}

#[tokio::test]
async fn a_malformed_body_is_a_json_bad_request() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/signup"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    let (status, code, _) = refusal(response).await;
    assert_eq!(
        (status, code),
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );
    let response = app
        .client
        .post(app.url("/api/signup"))
        .body("country=SG")
        .send()
        .await
        .unwrap();
    let (status, code, _) = refusal(response).await;
    assert_eq!(
        (status, code),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::BadRequest)
    );
    assert_eq!(app.count("signups").await, 0);
}

#[tokio::test]
async fn an_email_with_a_live_account_cannot_sign_up_again() {
    let mut app = spawn_app().await;
    let email = app.signed_up("taken").await;
    let (status, code, field) = refusal(
        app.post("/api/signup", &signup_form(&email.to_uppercase()))
            .await,
    )
    .await;
    assert_eq!(
        (status, code, field.as_deref()),
        (StatusCode::CONFLICT, ErrorCode::EmailTaken, Some("email"))
    );
}

#[tokio::test]
async fn of_two_pending_signups_for_one_email_the_first_verified_wins() {
    let app = spawn_app().await;
    let email = email("race");
    let first = app.start_signup(&email).await;
    let second = app.start_signup(&email).await;
    send_code(&app, &first, json!({})).await;
    let first_code = app.code_for(&email).await;
    send_code(&app, &second, json!({})).await;
    let second_code = app.code_for(&email).await;

    assert_eq!(
        verify(&app, &second, &second_code).await.status(),
        StatusCode::OK
    );
    let (status, code, _) = refusal(verify(&app, &first, &first_code).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::EmailTaken)
    );
    assert_eq!(app.count("accounts").await, 1);
}

#[tokio::test]
async fn five_wrong_codes_kill_the_code() {
    let app = spawn_app().await;
    let email = email("guess");
    let id = app.start_signup(&email).await;
    send_code(&app, &id, json!({})).await;
    let right = app.code_for(&email).await;
    let wrong = other_than(&right);
    for left in (1..=4).rev() {
        let response = verify(&app, &id, &wrong).await;
        let body: ErrorBody = body_as(response).await;
        assert_eq!(body.code, ErrorCode::CodeIncorrect);
        assert_eq!(body.field.as_deref(), Some("code"));
        assert!(body.message.contains(&format!("{left} tr")), "{body:?}");
    }
    let (status, code, _) = refusal(verify(&app, &id, &wrong).await).await;
    assert_eq!(
        (status, code),
        (
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::CodeAttemptsExceeded
        )
    );
    // Dead means dead: the right code no longer works either.
    let (_, code, _) = refusal(verify(&app, &id, &right).await).await;
    assert_eq!(code, ErrorCode::CodeAttemptsExceeded);
    assert_eq!(app.count("accounts").await, 0);

    // A new code (after the resend wait) can be used.
    app.advance(DurationMs::minutes(1));
    send_code(&app, &id, json!({})).await;
    assert_eq!(
        verify(&app, &id, &app.code_for(&email).await)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let app = spawn_app().await;
    let email = email("late");
    let id = app.start_signup(&email).await;
    send_code(&app, &id, json!({})).await;
    let code = app.code_for(&email).await;
    app.advance(DurationMs::minutes(10));
    let (status, got, _) = refusal(verify(&app, &id, &code).await).await;
    assert_eq!((status, got), (StatusCode::GONE, ErrorCode::CodeExpired));
}

#[tokio::test]
async fn a_code_still_works_just_before_ten_minutes() {
    let app = spawn_app().await;
    let email = email("intime");
    let id = app.start_signup(&email).await;
    send_code(&app, &id, json!({})).await;
    let code = app.code_for(&email).await;
    app.advance(DurationMs::seconds(595));
    assert_eq!(verify(&app, &id, &code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_used_code_cannot_be_used_again() {
    let app = spawn_app().await;
    let email = email("reuse");
    let id = app.start_signup(&email).await;
    send_code(&app, &id, json!({})).await;
    let code = app.code_for(&email).await;
    assert_eq!(verify(&app, &id, &code).await.status(), StatusCode::OK);
    let (status, got, _) = refusal(verify(&app, &id, &code).await).await;
    assert_eq!((status, got), (StatusCode::CONFLICT, ErrorCode::CodeUsed));
    assert_eq!(app.count("accounts").await, 1);
}

#[tokio::test]
async fn a_new_code_replaces_the_old_one() {
    let app = spawn_app().await;
    let email = email("replace");
    let id = app.start_signup(&email).await;
    send_code(&app, &id, json!({})).await;
    let old = app.code_for(&email).await;
    app.advance(DurationMs::minutes(1));
    send_code(&app, &id, json!({})).await;
    let new = app.code_for(&email).await;
    if old != new {
        let (_, code, _) = refusal(verify(&app, &id, &old).await).await;
        assert_eq!(code, ErrorCode::CodeIncorrect);
    }
    assert_eq!(verify(&app, &id, &new).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn verifying_before_any_code_was_sent_is_refused() {
    let app = spawn_app().await;
    let id = app.start_signup(&email("nocode")).await;
    let (status, code, _) = refusal(verify(&app, &id, "123456").await).await;
    assert_eq!(
        (status, code),
        (StatusCode::BAD_REQUEST, ErrorCode::NoCodeSent)
    );
    let (status, code, field) = refusal(verify(&app, &id, "12ab").await).await;
    assert_eq!(
        (status, code, field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidCode,
            Some("code")
        )
    );
}

#[tokio::test]
async fn a_code_can_be_resent_only_after_sixty_seconds() {
    let app = spawn_app().await;
    let id = app.start_signup(&email("resend")).await;
    assert_eq!(
        send_code(&app, &id, json!({})).await.status(),
        StatusCode::OK
    );
    app.advance(DurationMs::seconds(30));
    let response = send_code(&app, &id, json!({})).await;
    assert_eq!(response.headers()["retry-after"], "30");
    let body: ErrorBody = body_as(response).await;
    assert_eq!(body.code, ErrorCode::ResendTooSoon);
    assert_eq!(body.retry_after_seconds, Some(30));
    // Switching channel does not skip the wait.
    let (_, code, _) =
        refusal(send_code(&app, &id, json!({"channel": "phone", "phone": "81234567"})).await).await;
    assert_eq!(code, ErrorCode::ResendTooSoon);
    app.advance(DurationMs::seconds(30));
    assert_eq!(
        send_code(&app, &id, json!({})).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn at_most_five_codes_an_hour_go_to_one_address() {
    let app = spawn_app().await;
    let email = email("flood");
    // Spread over several sign-ups of the same email: the limit is the address's.
    let first = app.start_signup(&email).await;
    let second = app.start_signup(&email).await;
    for i in 0..5 {
        let id = if i % 2 == 0 { &first } else { &second };
        assert_eq!(
            send_code(&app, id, json!({})).await.status(),
            StatusCode::OK,
            "code {i}"
        );
        app.advance(DurationMs::seconds(61));
    }
    let (status, code, _) = refusal(send_code(&app, &second, json!({})).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyCodes)
    );
    app.advance(DurationMs::hours(1));
    assert_eq!(
        send_code(&app, &second, json!({})).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn one_client_may_ask_for_at_most_twenty_codes_an_hour() {
    let app = spawn_app().await;
    for i in 0..20 {
        let id = app.start_signup(&email(&format!("c{i}"))).await;
        assert_eq!(
            send_code(&app, &id, json!({})).await.status(),
            StatusCode::OK,
            "code {i}"
        );
    }
    let id = app.start_signup(&email("c20")).await;
    let (status, code, _) = refusal(send_code(&app, &id, json!({})).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited)
    );
}

#[tokio::test]
async fn a_phone_of_another_country_or_malformed_is_refused() {
    let app = spawn_app().await;
    let id = app.start_signup(&email("phone")).await;
    for phone in ["+8613800138000", "12", "abc", ""] {
        let (status, code, field) =
            refusal(send_code(&app, &id, json!({"channel": "phone", "phone": phone})).await).await;
        assert_eq!(
            (status, code, field.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidPhone,
                Some("phone")
            ),
            "{phone}"
        );
    }
    assert_eq!(app.count("verification_codes").await, 0);
    assert_eq!(app.count("outbox").await, 0);
}

#[tokio::test]
async fn an_unknown_or_expired_signup_is_refused() {
    let app = spawn_app().await;
    let (status, code, _) = refusal(app.get("/api/signup/no-such-id").await).await;
    assert_eq!(
        (status, code),
        (StatusCode::NOT_FOUND, ErrorCode::SignupNotFound)
    );
    let id = app.start_signup(&email("old")).await;
    assert_eq!(
        app.get(&format!("/api/signup/{id}")).await.status(),
        StatusCode::OK
    );
    app.advance(DurationMs::days(1));
    let (status, code, _) = refusal(send_code(&app, &id, json!({})).await).await;
    assert_eq!((status, code), (StatusCode::GONE, ErrorCode::SignupExpired));
}

#[tokio::test]
async fn passwords_and_codes_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let email = email("hash");
    let id = app.start_signup(&email).await;
    send_code(&app, &id, json!({})).await;
    let code = app.code_for(&email).await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM signups")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PASSWORD));
    let code_hash: String = sqlx::query_scalar("SELECT code_hash FROM verification_codes")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(code_hash.len(), 64);
    assert!(!code_hash.contains(&code));
}
