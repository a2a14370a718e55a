//! Sign-in, sessions, sign-out and CSRF (SPEC §1).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::domain::session::begin_attempt;
use shared::ErrorCode;
use shared::api::SessionInfo;

async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post(
        "/api/session",
        &json!({ "email": email, "password": password }),
    )
    .await
}

#[tokio::test]
async fn signing_in_gives_a_session_cookie_and_the_account() {
    let app = spawn_app().await;
    let email = app.another_client().signed_up_email("in").await;
    let fresh = app.another_client();
    assert_eq!(
        fresh.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let response = sign_in(&fresh, &email.to_uppercase(), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Max-Age=86400"),
        "{cookie}"
    );
    let me: SessionInfo = fresh.get_as("/api/session").await;
    assert_eq!(me.account.email, email);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let email = app.another_client().signed_up_email("same").await;
    let wrong = refusal(sign_in(&app, &email, "Wrong7Password").await).await;
    let unknown = refusal(sign_in(&app, "nobody@example.com", PASSWORD).await).await;
    assert_eq!(
        wrong,
        (
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidCredentials,
            None
        )
    );
    assert_eq!(unknown, wrong);
}

#[tokio::test]
async fn sign_in_fields_are_checked_first() {
    let app = spawn_app().await;
    let (status, code, field) = refusal(sign_in(&app, "not-an-email", "x").await).await;
    assert_eq!(
        (status, code, field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidEmail,
            Some("email")
        )
    );
    let (_, code, field) = refusal(sign_in(&app, "a@example.com", "").await).await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::InvalidPassword, Some("password"))
    );
}

#[tokio::test]
async fn re_authentication_needs_a_password_entered_and_does_not_count_none_as_a_failure() {
    let mut app = spawn_app().await;
    let email = app.signed_up("reauth-empty").await;
    // None entered is refused by the shared rule, at its field, before any password is checked:
    // six such tries leave the sign-in throttle (five failures) untouched.
    for _ in 0..6 {
        let empty = app
            .post("/api/session/reauth", &json!({"password": ""}))
            .await;
        assert_eq!(
            refusal(empty).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidPassword,
                Some("password".to_owned())
            )
        );
    }
    let right = app
        .post("/api/session/reauth", &json!({"password": PASSWORD}))
        .await;
    assert_eq!(right.status(), StatusCode::OK, "{email}");
}

#[tokio::test]
async fn sign_in_slows_down_after_five_failures_for_one_email() {
    let app = spawn_app().await;
    let email = app.another_client().signed_up_email("slow").await;
    for _ in 0..5 {
        assert_eq!(
            sign_in(&app, &email, "Wrong7Password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password waits now: the answer must not reveal it was right.
    let response = sign_in(&app, &email, PASSWORD).await;
    assert_eq!(response.headers()["retry-after"], "30");
    let (status, code, _) = refusal(response).await;
    assert_eq!(
        (status, code),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::SignInThrottled)
    );
    // An unknown email is throttled the same way.
    for _ in 0..5 {
        sign_in(&app, "ghost@example.com", "Wrong7Password").await;
    }
    assert_eq!(
        sign_in(&app, "ghost@example.com", "Wrong7Password")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    app.advance(DurationMs::seconds(30));
    assert_eq!(
        sign_in(&app, &email, "Wrong7Password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The sixth failure doubles the wait.
    app.advance(DurationMs::seconds(30));
    assert_eq!(
        sign_in(&app, &email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.advance(DurationMs::seconds(30));
    assert_eq!(
        sign_in(&app, &email, PASSWORD).await.status(),
        StatusCode::OK
    );
    // Success forgets the failures.
    assert_eq!(
        sign_in(&app, &email, "Wrong7Password").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn one_client_failing_on_many_emails_is_slowed_down_too() {
    let app = spawn_app().await;
    let email = app.another_client().signed_up_email("victim").await;
    for i in 0..20 {
        sign_in(&app, &format!("probe{i}@example.com"), "Wrong7Password").await;
    }
    let (status, code, _) = refusal(sign_in(&app, &email, PASSWORD).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::SignInThrottled)
    );
}

/// Thirty sign-in bodies for `email` sent at once: `right` of them (the last ones) with the
/// right password, the others wrong.
fn guesses(email: &str, right: usize) -> Vec<Value> {
    (0..30)
        .map(|n| {
            let password = if n >= 30 - right {
                PASSWORD
            } else {
                "Wrong7Password"
            };
            json!({ "email": email, "password": password })
        })
        .collect()
}

/// The throttle counts each check as it is made: were the failures read before any of the
/// thirty was checked, all thirty would be checked and answered 401.
#[tokio::test]
async fn thirty_wrong_passwords_at_once_are_five_failures_and_twenty_five_refusals() {
    let app = spawn_app().await;
    let email = app.another_client().signed_up_email("parallel").await;
    let burst = app.burst("/api/session", &guesses(&email, 0)).await;
    assert_eq!(
        burst,
        Burst {
            wrong: 5,
            throttled: 25,
            ..Burst::default()
        }
    );
    // The five failures make the wait, as five sent one after the other would.
    assert_eq!(
        sign_in(&app, &email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Were all thirty checked, the right password, sent last, would sign in after twenty-nine
/// wrong ones.
#[tokio::test]
async fn the_right_password_among_wrong_ones_sent_at_once_is_only_one_of_five_checked() {
    let app = spawn_app().await;
    let email = app.another_client().signed_up_email("needle").await;
    let burst = app.burst("/api/session", &guesses(&email, 1)).await;
    assert!(burst.other.is_empty(), "{burst:?}");
    assert_eq!((burst.checked(), burst.throttled), (5, 25), "{burst:?}");
}

/// Re-authentication counts its checks the same way: five of thirty, not all thirty.
#[tokio::test]
async fn thirty_re_authentications_at_once_check_five_passwords() {
    let mut app = spawn_app().await;
    app.signed_up("reauth-burst").await;
    let bodies: Vec<Value> = (0..30)
        .map(|n| json!({ "password": if n == 29 { PASSWORD } else { "Wrong7Password" } }))
        .collect();
    let burst = app.burst("/api/session/reauth", &bodies).await;
    assert!(burst.other.is_empty(), "{burst:?}");
    assert_eq!((burst.checked(), burst.throttled), (5, 25), "{burst:?}");
}

/// A success forgets the failures before it, not the attempts still under way beside it:
/// otherwise the right password in a burst would free the slots of the guesses beside it.
#[tokio::test]
async fn signing_in_does_not_forget_the_attempts_still_under_way() {
    let app = spawn_app().await;
    let email = app.another_client().signed_up_email("beside").await;
    let mut under_way = Vec::new();
    for _ in 0..4 {
        under_way.push(
            begin_attempt(&app.state, &email, "203.0.113.7")
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        sign_in(&app, &email, PASSWORD).await.status(),
        StatusCode::OK
    );
    // The four still count: one more wrong password makes five.
    assert_eq!(
        sign_in(&app, &email, "Wrong7Password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, &email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    for attempt in under_way {
        attempt.failed(&app.state).await.unwrap();
    }
}

#[tokio::test]
async fn signing_out_needs_the_csrf_token_and_ends_the_session_on_the_server() {
    let mut app = spawn_app().await;
    app.signed_up("out").await;
    let token = app.csrf.clone().unwrap();

    let no_token = app
        .client
        .delete(app.url("/api/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(no_token).await.1, ErrorCode::CsrfFailed);
    let bad_token = app
        .client
        .delete(app.url("/api/session"))
        .header("x-csrf-token", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(bad_token).await.1, ErrorCode::CsrfFailed);
    assert_eq!(
        app.get("/api/session").await.status(),
        StatusCode::OK,
        "a refused sign-out changes nothing"
    );

    let session_cookie: String = app
        .get("/api/session")
        .await
        .headers()
        .get("set-cookie")
        .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
    assert!(session_cookie.is_empty(), "reads do not reissue the cookie");
    assert_eq!(app.count("sessions").await, 1);

    let out = app
        .client
        .delete(app.url("/api/session"))
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        app.count("sessions").await,
        0,
        "the session row is gone, not just the cookie"
    );
    assert_eq!(
        app.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_stolen_cookie_stops_working_after_sign_out() {
    let mut app = spawn_app().await;
    let email = app.signed_up("stolen").await;
    let fresh = app.another_client();
    let response = sign_in(&fresh, &email, PASSWORD).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = body_as::<SessionInfo>(response).await.csrf_token;
    let replay = || {
        reqwest::Client::new()
            .get(app.url("/api/session"))
            .header("cookie", cookie.clone())
            .send()
    };
    assert_eq!(replay().await.unwrap().status(), StatusCode::OK);
    fresh
        .client
        .delete(app.url("/api/session"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(replay().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // The other session of the same account is untouched.
    assert_eq!(app.get("/api/session").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_session_expires_after_twenty_four_hours() {
    let mut app = spawn_app().await;
    app.signed_up("expiry").await;
    app.advance(DurationMs::days(1) - DurationMs::minutes(1));
    assert_eq!(app.get("/api/session").await.status(), StatusCode::OK);
    app.advance(DurationMs::minutes(1));
    let (status, code, _) = refusal(app.get("/api/session").await).await;
    assert_eq!(
        (status, code),
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated)
    );
}

#[tokio::test]
async fn cross_site_writes_are_refused_before_any_session_exists() {
    let app = spawn_app().await;
    let form = signup_form(&email("csrf"));
    let from_evil = app
        .client
        .post(app.url("/api/signup"))
        .header("origin", "https://evil.example")
        .json(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refusal(from_evil).await,
        (StatusCode::FORBIDDEN, ErrorCode::CsrfFailed, None)
    );
    let fetch_meta = app
        .client
        .post(app.url("/api/signup"))
        .header("sec-fetch-site", "cross-site")
        .json(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_meta.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("signups").await, 0);

    let host = app.base.trim_start_matches("http://").to_owned();
    let same_origin = app
        .client
        .post(app.url("/api/signup"))
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .json(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn each_session_sees_only_its_own_account() {
    let mut first = spawn_app().await;
    let first_email = first.signed_up("first").await;
    let mut second = first.another_client();
    let second_email = second.signed_up("second").await;
    let a: SessionInfo = first.get_as("/api/session").await;
    let b: SessionInfo = second.get_as("/api/session").await;
    assert_eq!(a.account.email, first_email);
    assert_eq!(b.account.email, second_email);
    assert_ne!(a.csrf_token, b.csrf_token);
    // One session's CSRF token does not open another's writes.
    let crossed = second
        .client
        .delete(second.url("/api/session"))
        .header("x-csrf-token", &a.csrf_token)
        .send()
        .await
        .unwrap();
    assert_eq!(crossed.status(), StatusCode::FORBIDDEN);
}

/// Many signed-in requests at once, of several accounts: each is answered with its own
/// session and account (on PostgreSQL their reads share statements, see `batched_reads`), and
/// a session signed out is refused on the next read.
#[tokio::test]
async fn concurrent_session_reads_each_get_their_own_account() {
    let first = spawn_app().await;
    let mut browsers = Vec::new();
    for n in 0..6 {
        let mut browser = first.another_client();
        let email = browser.signed_up(&format!("many-{n}")).await;
        browsers.push((browser, email));
    }
    let reads = browsers
        .iter()
        .cycle()
        .take(60)
        .map(|(browser, email)| async move {
            let me: SessionInfo = browser.get_as("/api/session").await;
            (me.account.email, email.clone())
        });
    for (read, own) in join_all(reads).await {
        assert_eq!(read, own, "a read answered with another account");
    }

    let (gone, _) = &browsers[2];
    assert_eq!(
        gone.delete("/api/session").await.status(),
        StatusCode::NO_CONTENT
    );
    let reads = browsers
        .iter()
        .map(|(browser, _)| browser.get("/api/session"));
    let statuses: Vec<StatusCode> = join_all(reads).await.iter().map(|r| r.status()).collect();
    for (n, status) in statuses.into_iter().enumerate() {
        let expected = if n == 2 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(status, expected, "browser {n}");
    }
}
