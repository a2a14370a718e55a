//! Account security self-service (SPEC §1 "Account security"): a forgotten password's reset by
//! email or phone, a password change, and the account's signed-in sessions.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::ErrorCode;
use shared::api::{PasswordResetStarted, SessionList, SignedOut};

const NEW_PASSWORD: &str = "Turbine9Blue";

fn new_password_form(code: &str, password: &str) -> Value {
    json!({"code": code, "password": password, "password_confirmation": password})
}

async fn start_reset(app: &TestApp, form: &Value) -> PasswordResetStarted {
    let response = app.post("/api/password-reset", form).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    body_as(response).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.post(
        "/api/session",
        &json!({"email": email, "password": password}),
    )
    .await
    .status()
}

async fn password_hash(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar("SELECT password_hash FROM accounts WHERE email = $1")
        .bind(email)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reset_by_email_sets_the_password_ends_every_session_and_tells_the_owner() {
    let mut owner = spawn_app().await;
    let email = owner.signed_up("forgot").await;
    let mut elsewhere = owner.another_client();
    elsewhere.sign_in_again(&email).await;

    let anonymous = owner.another_client();
    let started = start_reset(&anonymous, &json!({"email": email})).await;
    assert_eq!(
        started.code.sent_to,
        shared::account::Email::parse(&email).unwrap().masked()
    );
    let code = anonymous.code_for(&email).await;
    let done = anonymous
        .post(
            &format!("/api/password-reset/{}", started.reset_id),
            &new_password_form(&code, NEW_PASSWORD),
        )
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);

    for client in [&owner, &elsewhere] {
        assert_eq!(
            client.get("/api/session").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in(&anonymous, &email, PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&anonymous, &email, NEW_PASSWORD).await,
        StatusCode::OK
    );
    let notice = &owner.inbox(&email).await[0];
    assert_eq!(notice.subject, "Your Account Center password was reset");

    // The reset is spent: its code cannot set another password.
    let again = anonymous
        .post(
            &format!("/api/password-reset/{}", started.reset_id),
            &new_password_form(&code, "Another7Password"),
        )
        .await;
    assert_eq!(
        refusal(again).await,
        (StatusCode::GONE, ErrorCode::ResetExpired, None)
    );
}

#[tokio::test]
async fn a_reset_by_phone_goes_by_sms_to_the_verified_number() {
    let mut owner = spawn_app().await;
    let email = owner.signed_up("phone").await;
    owner.with_billing_address("81234567").await;
    let anonymous = owner.another_client();
    let started = start_reset(
        &anonymous,
        &json!({"channel": "phone", "country": "SG", "phone": "8123 4567"}),
    )
    .await;
    assert_eq!(started.code.sent_to, "+65****4567");
    assert_eq!(started.code.delivery, Some(shared::account::Delivery::Sms));
    let code = anonymous.code_for("+6581234567").await;
    let done = anonymous
        .post(
            &format!("/api/password-reset/{}", started.reset_id),
            &new_password_form(&code, NEW_PASSWORD),
        )
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        sign_in(&anonymous, &email, NEW_PASSWORD).await,
        StatusCode::OK
    );
    let sms = &owner.inbox("+6581234567").await[0];
    assert_eq!(sms.channel, "sms");
    assert!(sms.body.contains("password was reset"), "{sms:?}");
}

#[tokio::test]
async fn an_address_no_account_verified_gets_the_same_answer_and_no_message() {
    let mut owner = spawn_app().await;
    let email = owner.signed_up("known").await;
    let anonymous = owner.another_client();
    let known = start_reset(&anonymous, &json!({"email": email})).await;
    let stranger = email.replace("known.", "unknown.");
    let unknown = start_reset(&anonymous, &json!({"email": stranger})).await;
    assert_eq!(
        unknown.code.resend_after_seconds,
        known.code.resend_after_seconds
    );
    assert_eq!(
        unknown.code.expires_in_seconds,
        known.code.expires_in_seconds
    );
    assert_eq!(
        unknown.code.sent_to,
        shared::account::Email::parse(&stranger).unwrap().masked()
    );
    assert!(owner.inbox(&stranger).await.is_empty());
    // A guess at the code it never sent is answered as at a real one.
    for id in [&known.reset_id, &unknown.reset_id] {
        let guess = anonymous
            .post(
                &format!("/api/password-reset/{id}"),
                &new_password_form("000000", NEW_PASSWORD),
            )
            .await;
        let (status, code, field) = refusal(guess).await;
        assert_eq!(
            (status, code, field.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::CodeIncorrect,
                Some("code")
            )
        );
    }
    // Resending waits the same minute for both.
    for id in [&known.reset_id, &unknown.reset_id] {
        let resend = anonymous
            .post(&format!("/api/password-reset/{id}/code"), &json!({}))
            .await;
        assert_eq!(refusal(resend).await.1, ErrorCode::ResendTooSoon);
    }
    owner.advance(DurationMs::seconds(61));
    for id in [&known.reset_id, &unknown.reset_id] {
        let resend = anonymous
            .post(&format!("/api/password-reset/{id}/code"), &json!({}))
            .await;
        assert_eq!(resend.status(), StatusCode::OK);
    }
    assert!(owner.inbox(&stranger).await.is_empty());
    assert_eq!(
        owner.inbox(&email).await.len(),
        3,
        "sign-up and two reset codes"
    );
}

#[tokio::test]
async fn a_number_two_accounts_verified_resets_neither() {
    let mut first = spawn_app().await;
    first.signed_up("first").await;
    first.with_billing_address("81234567").await;
    let mut second = first.another_client();
    second.signed_up("second").await;
    second.with_billing_address("81234567").await;
    let texts_before = first.inbox("+6581234567").await.len();
    start_reset(
        &first.another_client(),
        &json!({"channel": "phone", "country": "SG", "phone": "81234567"}),
    )
    .await;
    assert_eq!(first.inbox("+6581234567").await.len(), texts_before);
}

#[tokio::test]
async fn a_refused_new_password_or_a_wrong_code_changes_nothing() {
    let mut owner = spawn_app().await;
    let email = owner.signed_up("careful").await;
    let before = password_hash(&owner, &email).await;
    let anonymous = owner.another_client();
    let started = start_reset(&anonymous, &json!({"email": email})).await;
    let path = format!("/api/password-reset/{}", started.reset_id);
    let code = anonymous.code_for(&email).await;

    let weak = anonymous
        .post(&path, &new_password_form(&code, "short"))
        .await;
    assert_eq!(
        refusal(weak).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidPassword,
            Some("password".to_owned())
        )
    );
    // The email's name is refused only once the code proved the account; the code stays good.
    let local: String = email.split('@').next().unwrap().to_owned();
    let named = anonymous
        .post(&path, &new_password_form(&code, &format!("{local}9")))
        .await;
    assert_eq!(refusal(named).await.1, ErrorCode::InvalidPassword);
    let mismatch = anonymous
        .post(
            &path,
            &json!({"code": code, "password": NEW_PASSWORD, "password_confirmation": "Other9Password"}),
        )
        .await;
    assert_eq!(
        refusal(mismatch).await.2.as_deref(),
        Some("password_confirmation")
    );
    assert_eq!(password_hash(&owner, &email).await, before);
    assert_eq!(
        owner.get("/api/session").await.status(),
        StatusCode::OK,
        "nothing ended"
    );

    let wrong = if code == "111111" { "222222" } else { "111111" };
    for left in (1..=4).rev() {
        let response = anonymous
            .post(&path, &new_password_form(wrong, NEW_PASSWORD))
            .await;
        let body: shared::ErrorBody = body_as(response).await;
        assert_eq!(body.code, ErrorCode::CodeIncorrect);
        assert!(body.message.contains(&left.to_string()), "{body:?}");
    }
    let fifth = anonymous
        .post(&path, &new_password_form(wrong, NEW_PASSWORD))
        .await;
    assert_eq!(refusal(fifth).await.1, ErrorCode::CodeAttemptsExceeded);
    let right_too_late = anonymous
        .post(&path, &new_password_form(&code, NEW_PASSWORD))
        .await;
    assert_eq!(
        refusal(right_too_late).await.1,
        ErrorCode::CodeAttemptsExceeded
    );
    assert_eq!(password_hash(&owner, &email).await, before);
    assert_eq!(sign_in(&anonymous, &email, PASSWORD).await, StatusCode::OK);
}

/// SPEC §1: attempts sent at the same moment count too.
#[tokio::test]
async fn thirty_guesses_at_once_are_five_tries_and_twenty_five_refusals() {
    let mut owner = spawn_app().await;
    let email = owner.signed_up("burst").await;
    let anonymous = owner.another_client();
    let started = start_reset(&anonymous, &json!({"email": email})).await;
    let code = anonymous.code_for(&email).await;
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let path = format!("/api/password-reset/{}", started.reset_id);
    let bodies: Vec<Value> = (0..30)
        .map(|_| new_password_form(wrong, NEW_PASSWORD))
        .collect();
    let answers = join_all(bodies.iter().map(|body| {
        let anonymous = &anonymous;
        let path = &path;
        async move { refusal(anonymous.post(path, body).await).await.1 }
    }))
    .await;
    let incorrect = answers
        .iter()
        .filter(|c| **c == ErrorCode::CodeIncorrect)
        .count();
    // The fifth try says so itself; the rest are refused untried (or, should the hasher's
    // queue fill, before they were hashed).
    let refused = answers
        .iter()
        .filter(|c| **c == ErrorCode::CodeAttemptsExceeded || **c == ErrorCode::ServerBusy)
        .count();
    assert_eq!((incorrect, refused), (4, 26), "{answers:?}");
    let attempts: i64 =
        sqlx::query_scalar("SELECT attempts FROM verification_codes WHERE subject = $1")
            .bind(format!("reset:{}", started.reset_id))
            .fetch_one(&owner.state.db)
            .await
            .unwrap();
    assert_eq!(attempts, 5, "five tried, twenty-five refused untried");
    assert_eq!(sign_in(&anonymous, &email, PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn the_right_code_sent_twice_at_once_resets_once() {
    let mut owner = spawn_app().await;
    let email = owner.signed_up("twice").await;
    let anonymous = owner.another_client();
    let started = start_reset(&anonymous, &json!({"email": email})).await;
    let code = anonymous.code_for(&email).await;
    let path = format!("/api/password-reset/{}", started.reset_id);
    let bodies = [
        new_password_form(&code, NEW_PASSWORD),
        new_password_form(&code, "Another7Password"),
    ];
    let answers = join_all(bodies.iter().map(|body| {
        let anonymous = &anonymous;
        let path = &path;
        async move { anonymous.post(path, body).await.status() }
    }))
    .await;
    let done = answers
        .iter()
        .filter(|s| **s == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(done, 1, "{answers:?}");
    let resets: Vec<InboxMessage> = owner
        .inbox(&email)
        .await
        .into_iter()
        .filter(|m| m.subject == "Your Account Center password was reset")
        .collect();
    assert_eq!(resets.len(), 1);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let mut owner = spawn_app().await;
    let email = owner.signed_up("change").await;
    let mut elsewhere = owner.another_client();
    elsewhere.sign_in_again(&email).await;
    let before = password_hash(&owner, &email).await;

    let wrong = owner
        .put(
            "/api/account/password",
            &json!({"current_password": "Not7ThePassword", "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(
        refusal(wrong).await,
        (
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidCredentials,
            Some("current_password".to_owned())
        )
    );
    let weak = owner
        .put(
            "/api/account/password",
            &json!({"current_password": PASSWORD, "password": "password", "password_confirmation": "password"}),
        )
        .await;
    assert_eq!(refusal(weak).await.2.as_deref(), Some("password"));
    assert_eq!(password_hash(&owner, &email).await, before);
    assert_eq!(elsewhere.get("/api/session").await.status(), StatusCode::OK);

    let changed = owner
        .put(
            "/api/account/password",
            &json!({"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        owner.get("/api/session").await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        elsewhere.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&elsewhere, &email, NEW_PASSWORD).await,
        StatusCode::OK
    );
    assert_eq!(
        owner.inbox(&email).await[0].subject,
        "Your Account Center password was changed"
    );
}

#[tokio::test]
async fn the_session_list_names_each_device_and_signs_out_one_or_all_others() {
    let mut owner = spawn_app().await;
    let email = owner.signed_up("devices").await;
    let mut firefox = owner.another_client();
    firefox.client = reqwest::Client::builder()
        .cookie_store(true)
        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
        .build()
        .unwrap();
    firefox.sign_in_again(&email).await;

    let list: SessionList = owner.get_as("/api/sessions").await;
    assert_eq!(list.sessions.len(), 2);
    assert!(list.sessions[0].current);
    let other = &list.sessions[1];
    assert!(!other.current);
    assert_eq!(other.ip, "127.0.0.1");
    let device = shared::device::describe(other.user_agent.as_deref());
    assert_eq!(device.label(), "Firefox on Linux");

    // Used ten minutes later: its last use moves, its start does not.
    owner.advance(DurationMs::minutes(10));
    assert_eq!(firefox.get("/api/instances").await.status(), StatusCode::OK);
    let later: SessionList = owner.get_as("/api/sessions").await;
    let moved = later.sessions.iter().find(|s| s.id == other.id).unwrap();
    assert_eq!(moved.started_at, other.started_at);
    assert!(moved.last_used_at > other.last_used_at, "{moved:?}");

    let signed_out = owner.delete(&format!("/api/sessions/{}", other.id)).await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        firefox.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let gone = owner.delete(&format!("/api/sessions/{}", other.id)).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    let mut second = owner.another_client();
    second.sign_in_again(&email).await;
    let mut third = owner.another_client();
    third.sign_in_again(&email).await;
    let answer: SignedOut = owner
        .post("/api/sessions/sign-out-others", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer.signed_out, 2);
    for client in [&second, &third] {
        assert_eq!(
            client.get("/api/session").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let left: SessionList = owner.get_as("/api/sessions").await;
    assert_eq!(left.sessions.len(), 1);

    // Signing out this session from the list ends it and clears its cookie.
    let this = left.sessions[0].id.clone();
    let response = owner.delete(&format!("/api/sessions/{this}")).await;
    assert!(
        response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        owner.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_ram_users_session_is_listed_for_the_owner_and_can_be_signed_out() {
    let mut owner = spawn_app().await;
    owner.signed_up("ramlist").await;
    let created = owner
        .post(
            "/api/ram-users",
            &json!({"username": "ops", "password": NEW_PASSWORD, "permissions": []}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let me: shared::api::SessionInfo = owner.get_as("/api/session").await;
    let ram = owner.another_client();
    let signed_in = ram
        .post(
            "/api/session/ram",
            &json!({"account_alias": me.account.uid, "username": "ops", "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert_eq!(
        ram.get("/api/sessions").await.status(),
        StatusCode::FORBIDDEN
    );

    let list: SessionList = owner.get_as("/api/sessions").await;
    let theirs = list
        .sessions
        .iter()
        .find(|s| s.ram_user.as_deref() == Some("ops"))
        .unwrap();
    // Signing out the owner's other sessions leaves the RAM user's.
    let answer: SignedOut = owner
        .post("/api/sessions/sign-out-others", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer.signed_out, 0);
    assert_eq!(ram.get("/api/session").await.status(), StatusCode::OK);
    let out = owner.delete(&format!("/api/sessions/{}", theirs.id)).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ram.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// SPEC §6.3: nothing of an account changes in its closure cool-down, its password neither.
#[tokio::test]
async fn an_account_cooling_down_before_closure_cannot_be_reset() {
    let mut owner = spawn_app().await;
    let email = owner.signed_up("closing").await;
    let anonymous = owner.another_client();
    let begun = start_reset(&anonymous, &json!({"email": email})).await;
    let code = anonymous.code_for(&email).await;
    // The closure flow's own tests reach this state through the API; here only the status
    // matters.
    sqlx::query("UPDATE accounts SET status = 'closing' WHERE email = $1")
        .bind(&email)
        .execute(owner.state.db.writer())
        .await
        .unwrap();
    let before = password_hash(&owner, &email).await;
    let late = anonymous
        .post(
            &format!("/api/password-reset/{}", begun.reset_id),
            &new_password_form(&code, NEW_PASSWORD),
        )
        .await;
    assert_eq!(refusal(late).await.1, ErrorCode::ResetExpired);
    assert_eq!(password_hash(&owner, &email).await, before);

    owner.advance(DurationMs::seconds(61));
    let messages = owner.inbox(&email).await.len();
    start_reset(&anonymous, &json!({"email": email})).await;
    assert_eq!(owner.inbox(&email).await.len(), messages, "nothing sent");
}
