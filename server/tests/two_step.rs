//! Two-step verification by an authenticator app (SPEC §1 "Account security"): set-up with a
//! first code, sign-in after the password, recovery codes, the ±1 step window, replays, the
//! throttle, turning it off, and the closure's identity check.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::domain::two_step::{STEP_SECS, code_at};
use shared::ErrorCode;
use shared::api::{ClosureStatus, TwoStepEnabled, TwoStepSetup, TwoStepStatus};

/// One step of the authenticator's codes.
const STEP: DurationMs = DurationMs::seconds(STEP_SECS as i64);

/// An account with two-step verification on: its email, secret and recovery codes.
async fn with_two_step(app: &mut TestApp, tag: &str) -> (String, Vec<u8>, Vec<String>) {
    let email = app.signed_up(tag).await;
    let setup: TwoStepSetup = app
        .post("/api/account/two-step/setup", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        setup
            .otpauth_uri
            .starts_with("otpauth://totp/Account%20Center:")
    );
    assert!(
        setup
            .otpauth_uri
            .contains(&format!("secret={}", setup.secret))
    );
    assert!(setup.qr_svg.contains("<svg"), "{}", &setup.qr_svg[..80]);
    let secret = totp_rs::Secret::Encoded(setup.secret.clone())
        .to_bytes()
        .unwrap();
    let wrong = app
        .post(
            "/api/account/two-step/enable",
            &json!({"code": other_than(&code_now(app, &secret))}),
        )
        .await;
    assert_eq!(refusal(wrong).await.1, ErrorCode::CodeIncorrect);
    let enabled: TwoStepEnabled = app
        .post(
            "/api/account/two-step/enable",
            &json!({"code": code_now(app, &secret)}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(enabled.recovery_codes.len(), 10);
    (email, secret, enabled.recovery_codes)
}

fn now_secs(app: &TestApp) -> u64 {
    app.state.clock.now().unix_secs() as u64
}

fn code_now(app: &TestApp, secret: &[u8]) -> String {
    code_at(secret, now_secs(app))
}

fn other_than(code: &str) -> String {
    if code == "000000" { "111111" } else { "000000" }.to_owned()
}

/// Signs in with the password, which asks for the second step; returns the answer to the code.
async fn sign_in_with(client: &TestApp, email: &str, code: &str) -> reqwest::Response {
    let first = client
        .post(
            "/api/session",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    let cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("ac_two_step=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert_eq!(
        refusal(first).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::TwoStepRequired, None)
    );
    assert_eq!(
        client.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    client
        .post("/api/session/two-step", &json!({"code": code}))
        .await
}

#[tokio::test]
async fn signing_in_asks_for_the_authenticators_code_after_the_password() {
    let mut owner = spawn_app().await;
    let (email, secret, _) = with_two_step(&mut owner, "asks").await;
    let status: TwoStepStatus = owner
        .get("/api/account/two-step")
        .await
        .json()
        .await
        .unwrap();
    assert!(status.enabled);
    assert_eq!(status.recovery_codes_left, 10);
    let inbox = owner.inbox(&email).await;
    assert_eq!(inbox[0].subject, "Two-step verification is on");

    // The code the set-up used cannot sign in: its step is spent.
    let browser = owner.another_client();
    let replay = sign_in_with(&browser, &email, &code_now(&owner, &secret)).await;
    assert_eq!(refusal(replay).await.1, ErrorCode::CodeIncorrect);
    owner.advance(STEP);
    let signed_in = sign_in_with(&browser, &email, &code_now(&owner, &secret)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookies: Vec<&str> = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("ac_two_step=;")),
        "{cookies:?}"
    );
    assert_eq!(browser.get("/api/session").await.status(), StatusCode::OK);
    let log: shared::api::OperationLog = owner
        .get("/api/operation-log?category=security")
        .await
        .json()
        .await
        .unwrap();
    use shared::api::{OperationAction as A, OperationDetail, SignInRefusal};
    let actions: Vec<A> = log.entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions[..5],
        [
            A::SignIn,
            A::SignInPasswordAccepted,
            A::SignInFailed,
            A::SignInPasswordAccepted,
            A::TwoStepOn
        ]
    );
    assert!(
        matches!(
            log.entries[0].detail,
            OperationDetail::SignIn { two_step: true, .. }
        ),
        "{:?}",
        log.entries[0]
    );
    assert_eq!(
        log.entries[2].detail,
        OperationDetail::SignInRefused {
            reason: SignInRefusal::WrongTwoStepCode
        }
    );
}

/// RFC 6238 with the movable clock: the code of one step either side is taken, of two is not,
/// and no step is taken twice.
#[tokio::test]
async fn a_code_one_step_off_is_taken_two_steps_off_is_not_and_none_twice() {
    let mut owner = spawn_app().await;
    let (email, secret, _) = with_two_step(&mut owner, "window").await;
    owner.advance(STEP * 10);
    // To the start of a step: the codes below are reckoned from `now`, and every request must
    // reach the server within the same step, however slow the machine (crossing into the next
    // one made "two steps ahead" one step ahead, and accepted).
    let into_step = now_secs(&owner) % STEP_SECS;
    owner.advance(DurationMs::seconds((STEP_SECS - into_step) as i64));
    let now = now_secs(&owner);
    let at = |steps: i64| code_at(&secret, (now as i64 + steps * STEP_SECS as i64) as u64);
    for off in [-2, 2] {
        let code = at(off);
        // A code that happens to equal the current one's is no test of the window.
        if code == at(-1) || code == at(0) || code == at(1) {
            continue;
        }
        let answer = sign_in_with(&owner.another_client(), &email, &code).await;
        assert_eq!(
            refusal(answer).await.1,
            ErrorCode::CodeIncorrect,
            "{off} steps"
        );
    }
    for off in [-1, 0, 1] {
        let answer = sign_in_with(&owner.another_client(), &email, &at(off)).await;
        assert_eq!(answer.status(), StatusCode::OK, "{off} steps");
    }
    for off in [-1, 0, 1] {
        let again = sign_in_with(&owner.another_client(), &email, &at(off)).await;
        assert_eq!(
            refusal(again).await.1,
            ErrorCode::CodeIncorrect,
            "{off} steps, again"
        );
    }
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let mut owner = spawn_app().await;
    let (email, secret, codes) = with_two_step(&mut owner, "recover").await;
    let browser = owner.another_client();
    let typed = codes[3].to_uppercase().replace('-', " ");
    assert_eq!(
        sign_in_with(&browser, &email, &typed).await.status(),
        StatusCode::OK
    );
    let other = owner.another_client();
    let again = sign_in_with(&other, &email, &codes[3]).await;
    assert_eq!(refusal(again).await.1, ErrorCode::CodeIncorrect);
    let status: TwoStepStatus = owner
        .get("/api/account/two-step")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status.recovery_codes_left, 9);
    let stored: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(&owner.state.db)
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .all(|h| !codes.iter().any(|c| h.contains(&c.replace('-', ""))))
    );
    let sealed: String = sqlx::query_scalar("SELECT secret_sealed FROM two_step")
        .fetch_one(&owner.state.db)
        .await
        .unwrap();
    assert!(!sealed.contains(&hex_of(&secret)), "the secret is sealed");
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SPEC §1: attempts sent at the same moment count too.
#[tokio::test]
async fn thirty_codes_at_once_are_five_tries_and_twenty_five_refusals() {
    let mut owner = spawn_app().await;
    let (email, secret, _) = with_two_step(&mut owner, "burst").await;
    let browser = owner.another_client();
    let first = browser
        .post(
            "/api/session",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(refusal(first).await.1, ErrorCode::TwoStepRequired);
    let wrong = other_than(&code_now(&owner, &secret));
    let bodies: Vec<Value> = (0..30).map(|_| json!({"code": wrong})).collect();
    let answers = join_all(bodies.iter().map(|body| {
        let browser = &browser;
        async move {
            refusal(browser.post("/api/session/two-step", body).await)
                .await
                .1
        }
    }))
    .await;
    let tried = answers
        .iter()
        .filter(|c| **c == ErrorCode::CodeIncorrect)
        .count();
    let refused = answers
        .iter()
        .filter(|c| **c == ErrorCode::SignInThrottled)
        .count();
    assert_eq!((tried, refused), (5, 25), "{answers:?}");
}

#[tokio::test]
async fn a_sign_in_waits_five_minutes_for_its_code_and_needs_its_cookie() {
    let mut owner = spawn_app().await;
    let (email, secret, _) = with_two_step(&mut owner, "late").await;
    let stranger = owner.another_client();
    let no_cookie = stranger
        .post(
            "/api/session/two-step",
            &json!({"code": code_now(&owner, &secret)}),
        )
        .await;
    assert_eq!(refusal(no_cookie).await.1, ErrorCode::TwoStepExpired);
    let browser = owner.another_client();
    let first = browser
        .post(
            "/api/session",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(refusal(first).await.1, ErrorCode::TwoStepRequired);
    owner.advance(DurationMs::minutes(5) + DurationMs::seconds(1));
    let late = browser
        .post(
            "/api/session/two-step",
            &json!({"code": code_now(&owner, &secret)}),
        )
        .await;
    assert_eq!(refusal(late).await.1, ErrorCode::TwoStepExpired);
}

#[tokio::test]
async fn turning_it_off_needs_the_password_and_a_code() {
    let mut owner = spawn_app().await;
    let (email, secret, _) = with_two_step(&mut owner, "off").await;
    let again = owner.post("/api/account/two-step/setup", &json!({})).await;
    assert_eq!(refusal(again).await.1, ErrorCode::TwoStepAlreadyOn);
    owner.advance(STEP);
    let wrong_password = owner
        .post(
            "/api/account/two-step/disable",
            &json!({"password": "Wrong7Password", "code": code_now(&owner, &secret)}),
        )
        .await;
    assert_eq!(
        refusal(wrong_password).await,
        (
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidCredentials,
            Some("password".to_owned())
        )
    );
    let wrong_code = owner
        .post(
            "/api/account/two-step/disable",
            &json!({"password": PASSWORD, "code": other_than(&code_now(&owner, &secret))}),
        )
        .await;
    assert_eq!(refusal(wrong_code).await.2.as_deref(), Some("code"));
    let status: TwoStepStatus = owner
        .get("/api/account/two-step")
        .await
        .json()
        .await
        .unwrap();
    assert!(status.enabled, "a refused turn-off changes nothing");

    let off = owner
        .post(
            "/api/account/two-step/disable",
            &json!({"password": PASSWORD, "code": code_now(&owner, &secret)}),
        )
        .await;
    assert_eq!(off.status(), StatusCode::NO_CONTENT);
    assert_eq!(owner.count("recovery_codes").await, 0);
    let browser = owner.another_client();
    let plain = browser
        .post(
            "/api/session",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(plain.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_authenticator_proves_the_owners_identity_for_closure() {
    let mut owner = spawn_app().await;
    let (_, secret, _) = with_two_step(&mut owner, "closure").await;
    let status: ClosureStatus = owner.get_as("/api/closure").await;
    assert!(status.authenticator_available);
    assert!(!status.identity_verified);
    owner.advance(STEP);
    let proved = owner
        .post(
            "/api/closure/identity/authenticator",
            &json!({"code": code_now(&owner, &secret)}),
        )
        .await;
    assert_eq!(proved.status(), StatusCode::NO_CONTENT);
    let status: ClosureStatus = owner.get_as("/api/closure").await;
    assert!(status.identity_verified);
}

#[tokio::test]
async fn an_account_without_it_is_not_offered_the_authenticator() {
    let mut owner = spawn_app().await;
    owner.signed_up("plain").await;
    let status: ClosureStatus = owner.get_as("/api/closure").await;
    assert!(!status.authenticator_available);
    let refused = owner
        .post(
            "/api/closure/identity/authenticator",
            &json!({"code": "123456"}),
        )
        .await;
    assert_eq!(refusal(refused).await.1, ErrorCode::CodeIncorrect);
    let enable = owner
        .post("/api/account/two-step/enable", &json!({"code": "123456"}))
        .await;
    assert_eq!(refusal(enable).await.1, ErrorCode::TwoStepNotSetUp);
}
