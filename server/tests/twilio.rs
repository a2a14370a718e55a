//! SMS and voice codes through Twilio. With Twilio configured, each queued SMS or voice message
//! is a `deliver_message` job that posts it to Twilio's REST API and keeps the SID Twilio gives
//! it; Twilio's signed status callbacks then say whether it arrived. Every test drives the real
//! flow (a sign-up's code by phone) against a stand-in for Twilio started on 127.0.0.1 by the
//! test, which follows Twilio's published references:
//!
//! - Messages resource (create: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
//!   form-encoded `To`, `From` or `MessagingServiceSid`, `Body`, `StatusCallback`; answered
//!   201 with the message's `sid`, `SM…`, and its `status`):
//!   <https://www.twilio.com/docs/messaging/api/message-resource>
//! - Call resource (create: `…/Calls.json` with `To`, `From`, `Twiml`, `StatusCallback`;
//!   the call's `sid` is `CA…`): <https://www.twilio.com/docs/voice/api/call-resource>
//! - Errors (`{"code": 21211, "message": "…", "more_info": "…", "status": 400}`, HTTP basic
//!   auth with the account SID and auth token, 401 with code 20003 otherwise):
//!   <https://www.twilio.com/docs/usage/twilios-response>
//! - Webhook security (`X-Twilio-Signature`: base64 of the HMAC-SHA1, under the auth token,
//!   of the URL followed by each POST parameter's name and value, sorted by name):
//!   <https://www.twilio.com/docs/usage/webhooks/webhooks-security>

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::json;
use server::clock::Millis;
use sha1::Sha1;
use shared::ErrorCode;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN: &str = "stand-in-auth-token-0123456789ab";
const FROM: &str = "+15005550006";
const SERVICE_SID: &str = "MG0123456789abcdef0123456789abcdef";
const PUBLIC_URL: &str = "https://console.example.com";
/// The callback every message names, and the URL its reports are signed for.
const CALLBACK: &str = "https://console.example.com/api/webhooks/twilio";

/// One request the stand-in received, and how it answered.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    form: Vec<(String, String)>,
    answered: u16,
    /// The SID it gave, when it accepted the message or call.
    sid: Option<String>,
}

impl Received {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the stand-in is told to answer next, before it goes back to accepting.
enum Trouble {
    /// 500, Twilio's error shape.
    ServerError,
    /// 400 with code 21211: the `To` number is not valid.
    InvalidTo,
    /// Accepts the message, but first reports its `status` to the server at `app`, signed:
    /// Twilio may report before the sender has taken in the SID it answers with.
    ReportsFirst { app: String, status: &'static str },
}

#[derive(Clone, Default)]
struct StandIn {
    received: Arc<Mutex<Vec<Received>>>,
    troubles: Arc<Mutex<VecDeque<Trouble>>>,
}

impl StandIn {
    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn next_answers(&self, trouble: Trouble) {
        self.troubles.lock().unwrap().push_back(trouble);
    }
}

/// Starts the stand-in on 127.0.0.1; returns its base URL (for `--twilio-api-base`).
async fn stand_in() -> (String, StandIn) {
    let standin = StandIn::default();
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(standin.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, standin)
}

fn twilio_error(status: u16, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    });
    (AxumStatus::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

async fn answer(
    State(standin): State<StandIn>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut received = Received {
        path: uri.path().to_owned(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        form: url::form_urlencoded::parse(&body).into_owned().collect(),
        answered: 0,
        sid: None,
    };
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    let account = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/");
    let prefix = match received.path.strip_prefix(&account) {
        Some("Messages.json") => Some("SM"),
        Some("Calls.json") => Some("CA"),
        _ => None,
    };
    let trouble = standin.troubles.lock().unwrap().pop_front();
    let response = if received.authorization.as_deref() != Some(expected_auth.as_str()) {
        twilio_error(401, 20003, "Authenticate")
    } else if let Some(prefix) = prefix {
        match trouble {
            Some(Trouble::ServerError) => {
                twilio_error(500, 20500, "An internal server error has occurred")
            }
            Some(Trouble::InvalidTo) => {
                let to = received.field("To").unwrap_or_default().to_owned();
                twilio_error(
                    400,
                    21211,
                    &format!("The 'To' number {to} is not a valid phone number."),
                )
            }
            Some(Trouble::ReportsFirst { app, status }) => {
                let sid = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
                let params = [("MessageSid", sid.as_str()), ("MessageStatus", status)];
                let body: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params)
                    .finish();
                let reported = reqwest::Client::new()
                    .post(format!("{app}/api/webhooks/twilio"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header(
                        "x-twilio-signature",
                        signature(AUTH_TOKEN, CALLBACK, &params),
                    )
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reported.status(), StatusCode::OK, "the early report");
                accepted(&mut received, sid)
            }
            None => {
                let sid = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
                accepted(&mut received, sid)
            }
        }
    } else {
        twilio_error(404, 20404, "The requested resource was not found")
    };
    received.answered = response.status().as_u16();
    standin.received.lock().unwrap().push(received);
    response
}

/// Twilio's 201 for a message or call it took, under `sid`.
fn accepted(received: &mut Received, sid: String) -> Response {
    received.sid = Some(sid.clone());
    let body = json!({
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "to": received.field("To"),
        "from": received.field("From"),
        "status": "queued",
        "api_version": "2010-04-01",
    });
    (AxumStatus::CREATED, axum::Json(body)).into_response()
}

/// The Twilio flags of a server using the stand-in at `api`, with `token` as its auth token.
fn twilio_flags(api: &str, token: &str) -> Vec<String> {
    [
        "--twilio-account-sid",
        ACCOUNT_SID,
        "--twilio-auth-token",
        token,
        "--twilio-from",
        FROM,
        "--twilio-api-base",
        api,
        "--public-url",
        PUBLIC_URL,
    ]
    .map(str::to_owned)
    .to_vec()
}

async fn spawn_with(flags: &[String]) -> TestApp {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    spawn_app_with(&flags).await
}

async fn twilio_app(api: &str) -> TestApp {
    spawn_with(&twilio_flags(api, AUTH_TOKEN)).await
}

/// Starts a sign-up and asks for its code by phone (`delivery`: `sms` or `voice`) to the
/// Singapore number `national`; returns the number as sent (E.164) and the code.
async fn send_phone_code(app: &TestApp, national: &str, delivery: &str) -> (String, String) {
    let id = app.start_signup(&email("twilio")).await;
    let sent = app
        .post(
            &format!("/api/signup/{id}/code"),
            &json!({"channel": "phone", "phone": national, "delivery": delivery}),
        )
        .await;
    assert_eq!(
        sent.status(),
        StatusCode::OK,
        "{}",
        sent.text().await.unwrap()
    );
    let e164 = format!("+65{}", national.replace(' ', ""));
    let code = app.code_for(&e164).await;
    (e164, code)
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Row {
    id: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    provider_id: Option<String>,
    provider_status: Option<String>,
    delivered_at: Option<Millis>,
}

/// The outbox's one message to `to`.
async fn outbox_row(app: &TestApp, to: &str) -> Row {
    sqlx::query_as(
        "SELECT id, status, CAST(attempts AS BIGINT) AS attempts, last_error, provider_id,
         provider_status, delivered_at FROM outbox WHERE recipient = $1",
    )
    .bind(to)
    .fetch_one(&app.state.db)
    .await
    .unwrap()
}

/// Twilio's signature of a report of `params` to `url`, made here from its description
/// (checked against Twilio's own example below), not with the server's code.
fn signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort_by_key(|(name, _)| *name);
    let mut signed = url.to_owned();
    for (name, value) in sorted {
        signed.push_str(name);
        signed.push_str(value);
    }
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Posts a status callback of `params` with `signature` (none when `None`).
async fn report(app: &TestApp, params: &[(&str, &str)], signature: Option<&str>) -> StatusCode {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut request = app
        .client
        .post(app.url("/api/webhooks/twilio"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("x-twilio-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    if status == StatusCode::FORBIDDEN {
        assert_eq!(refusal(response).await.1, ErrorCode::SignatureInvalid);
    }
    status
}

/// A report as Twilio sends it, signed for the configured callback URL.
async fn signed_report(app: &TestApp, params: &[(&str, &str)]) -> StatusCode {
    let signed = signature(AUTH_TOKEN, CALLBACK, params);
    report(app, params, Some(&signed)).await
}

/// The example of Twilio's webhook-security page (auth token `12345`): the signing the tests
/// below use is Twilio's.
#[test]
fn the_tests_sign_reports_as_twilios_published_example_does() {
    let params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675310"),
        ("Digits", "1234"),
        ("From", "+14158675310"),
        ("To", "+18005551212"),
    ];
    assert_eq!(
        signature(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &params
        ),
        "GvWf1cFY/Q7PnoempGyD5oXAezc="
    );
}

#[tokio::test]
async fn an_sms_code_is_posted_to_twilios_messages_resource_and_its_sid_kept() {
    let (api, standin) = stand_in().await;
    let app = twilio_app(&api).await;
    let (to, code) = send_phone_code(&app, "8123 4567", "sms").await;
    assert_eq!(outbox_row(&app, &to).await.status, "pending");
    assert!(standin.received().is_empty(), "queued, not yet sent");

    assert_eq!(app.run_jobs().await, 1, "one delivery job");
    let received = standin.received();
    assert_eq!(received.len(), 1, "posted once");
    let sms = &received[0];
    assert_eq!(
        sms.path,
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    assert_eq!(sms.authorization, Some(format!("Basic {basic}")));
    assert_eq!(
        sms.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(sms.answered, 201);
    assert_eq!(sms.field("To"), Some(to.as_str()));
    assert_eq!(sms.field("From"), Some(FROM));
    assert_eq!(sms.field("MessagingServiceSid"), None);
    assert!(
        sms.field("Body").unwrap().contains(&code),
        "{:?}",
        sms.field("Body")
    );
    assert_eq!(sms.field("StatusCallback"), Some(CALLBACK));

    let row = outbox_row(&app, &to).await;
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 1));
    assert_eq!(row.provider_id, sms.sid, "the SID Twilio gave");
    assert!(row.provider_id.as_deref().unwrap().starts_with("SM"));
    assert_eq!(row.last_error, None);

    assert_eq!(app.run_jobs().await, 0, "nothing left to deliver");
    assert_eq!(standin.received().len(), 1);
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn a_voice_code_is_a_call_that_reads_the_code_digit_by_digit_twice() {
    let (api, standin) = stand_in().await;
    let app = twilio_app(&api).await;
    let (to, code) = send_phone_code(&app, "9123 4567", "voice").await;

    assert_eq!(app.run_jobs().await, 1);
    let received = standin.received();
    assert_eq!(received.len(), 1);
    let call = &received[0];
    assert_eq!(
        call.path,
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json")
    );
    assert_eq!(call.field("To"), Some(to.as_str()));
    assert_eq!(call.field("From"), Some(FROM));
    assert_eq!(call.field("StatusCallback"), Some(CALLBACK));
    let twiml = call.field("Twiml").unwrap();
    assert!(
        twiml.starts_with("<Response><Say>") && twiml.ends_with("</Say></Response>"),
        "{twiml}"
    );
    let spelled: Vec<String> = code.chars().map(String::from).collect();
    let spelled = spelled.join(", ");
    assert_eq!(twiml.matches(&spelled).count(), 2, "{twiml}");
    assert!(!twiml.contains(&code), "never read as one number: {twiml}");

    let row = outbox_row(&app, &to).await;
    assert_eq!(row.status, "sent");
    assert_eq!(row.provider_id, call.sid);
    assert!(row.provider_id.as_deref().unwrap().starts_with("CA"));
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn with_a_messaging_service_sms_go_through_it_and_calls_still_come_from_the_number() {
    let (api, standin) = stand_in().await;
    let mut flags = twilio_flags(&api, AUTH_TOKEN);
    flags.extend([
        "--twilio-messaging-service-sid".to_owned(),
        SERVICE_SID.to_owned(),
    ]);
    let app = spawn_with(&flags).await;
    send_phone_code(&app, "8123 4568", "sms").await;
    send_phone_code(&app, "9123 4568", "voice").await;

    assert_eq!(app.run_jobs().await, 2);
    let received = standin.received();
    let sms = received
        .iter()
        .find(|r| r.path.ends_with("/Messages.json"))
        .unwrap();
    assert_eq!(sms.field("MessagingServiceSid"), Some(SERVICE_SID));
    assert_eq!(sms.field("From"), None, "one sender, the service");
    let call = received
        .iter()
        .find(|r| r.path.ends_with("/Calls.json"))
        .unwrap();
    assert_eq!(call.field("From"), Some(FROM));
    assert_eq!(call.field("MessagingServiceSid"), None);
}

#[tokio::test]
async fn a_twilio_server_error_is_retried_and_the_message_then_sent_once() {
    let (api, standin) = stand_in().await;
    let app = twilio_app(&api).await;
    standin.next_answers(Trouble::ServerError);
    let (to, code) = send_phone_code(&app, "8123 4569", "sms").await;

    assert_eq!(app.run_jobs().await, 1);
    let row = outbox_row(&app, &to).await;
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    let error = row.last_error.unwrap();
    assert!(error.contains("500") && error.contains("20500"), "{error}");
    assert_eq!(row.provider_id, None);
    assert_eq!(app.run_jobs().await, 0, "the retry waits");
    app.assert_no_unexpected_jobs(&[job_kinds::DELIVER]).await;

    app.advance(DurationMs::minutes(1));
    assert_eq!(app.run_jobs().await, 1, "retried");
    let received = standin.received();
    let answered: Vec<u16> = received.iter().map(|r| r.answered).collect();
    assert_eq!(
        answered,
        [500, 201],
        "one message at Twilio after the retry"
    );
    assert!(received[1].field("Body").unwrap().contains(&code));
    let row = outbox_row(&app, &to).await;
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 2));
    assert_eq!(row.provider_id, received[1].sid);
    assert_eq!(row.last_error, None);
    app.advance(DurationMs::hours(1));
    assert_eq!(app.run_jobs().await, 0);
    assert_eq!(standin.received().len(), 2);
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn an_invalid_number_fails_at_once_and_is_never_tried_again() {
    let (api, standin) = stand_in().await;
    let app = twilio_app(&api).await;
    standin.next_answers(Trouble::InvalidTo);
    let (to, _) = send_phone_code(&app, "8123 4570", "sms").await;

    assert_eq!(app.run_jobs().await, 1);
    let row = outbox_row(&app, &to).await;
    assert_eq!(
        (row.status.as_str(), row.attempts),
        ("failed", 1),
        "no retries used"
    );
    let error = row.last_error.unwrap();
    assert!(error.contains("21211") && error.contains(&to), "{error}");
    assert_eq!(row.provider_id, None);

    for _ in 0..3 {
        app.advance(DurationMs::hours(1));
        assert_eq!(app.run_jobs().await, 0, "not tried again");
    }
    assert_eq!(
        standin.received().len(),
        1,
        "Twilio saw exactly one request"
    );
    app.assert_no_unexpected_jobs(&[]).await;
}

/// A refusal of our credentials is about the configuration, not the message: it is retried
/// (an operator fixes the token and the message still goes), and the stand-in does check them.
#[tokio::test]
async fn a_refused_auth_token_is_retried_not_given_up_at_once() {
    let (api, standin) = stand_in().await;
    let app = spawn_with(&twilio_flags(&api, "not-the-auth-token")).await;
    // The refused message stays to be tried again: what this test checks.
    app.expect_failing_jobs();
    let (to, _) = send_phone_code(&app, "8123 4571", "sms").await;

    assert_eq!(app.run_jobs().await, 1);
    let received = standin.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].answered, 401);
    let row = outbox_row(&app, &to).await;
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    let error = row.last_error.unwrap();
    assert!(
        error.contains("20003") && error.contains("auth token"),
        "{error}"
    );
    assert!(
        !error.contains("not-the-auth-token"),
        "the token is never shown: {error}"
    );
    app.assert_no_unexpected_jobs(&[job_kinds::DELIVER]).await;
}

#[tokio::test]
async fn the_auth_token_may_come_from_a_file() {
    let (api, standin) = stand_in().await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("twilio-token");
    std::fs::write(&file, format!("{AUTH_TOKEN}\n")).unwrap();
    let mut flags = twilio_flags(&api, AUTH_TOKEN);
    let token = flags
        .iter()
        .position(|f| f == "--twilio-auth-token")
        .unwrap();
    flags.drain(token..token + 2);
    flags.extend([
        "--twilio-auth-token-file".to_owned(),
        file.display().to_string(),
    ]);
    let app = spawn_with(&flags).await;
    let (to, _) = send_phone_code(&app, "8123 4572", "sms").await;

    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(
        standin.received()[0].answered,
        201,
        "the file's token was used"
    );
    assert_eq!(outbox_row(&app, &to).await.status, "sent");
}

#[tokio::test]
async fn a_signed_undelivered_report_marks_the_message_failed_and_nothing_else_does() {
    let (api, _standin) = stand_in().await;
    let app = twilio_app(&api).await;
    let (to, _) = send_phone_code(&app, "8123 4573", "sms").await;
    app.run_jobs().await;
    let sent = outbox_row(&app, &to).await;
    assert_eq!(sent.status, "sent");
    let sid = sent.provider_id.clone().unwrap();
    let params = [
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
        ("To", to.as_str()),
    ];

    // Unsigned, signed with another token, signed for the address the request reached rather
    // than the configured one, or signed for other values: refused, and nothing changes.
    assert_eq!(report(&app, &params, None).await, StatusCode::FORBIDDEN);
    let other_token = signature("another-token", CALLBACK, &params);
    assert_eq!(
        report(&app, &params, Some(&other_token)).await,
        StatusCode::FORBIDDEN
    );
    let reached = signature(AUTH_TOKEN, &app.url("/api/webhooks/twilio"), &params);
    assert_eq!(
        report(&app, &params, Some(&reached)).await,
        StatusCode::FORBIDDEN
    );
    let mut delivered = params;
    delivered[2] = ("MessageStatus", "delivered");
    let signed_for_delivered = signature(AUTH_TOKEN, CALLBACK, &delivered);
    assert_eq!(
        report(&app, &params, Some(&signed_for_delivered)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        report(&app, &params, Some("not base64!")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(outbox_row(&app, &to).await, sent, "unchanged");

    assert_eq!(signed_report(&app, &params).await, StatusCode::OK);
    let failed = outbox_row(&app, &to).await;
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.provider_status.as_deref(), Some("undelivered"));
    let error = failed.last_error.clone().unwrap();
    assert!(
        error.contains("undelivered") && error.contains("30003"),
        "{error}"
    );
    assert_eq!(failed.delivered_at, None);
    // Twilio may post a report again: the same answer, the same row.
    assert_eq!(signed_report(&app, &params).await, StatusCode::OK);
    assert_eq!(outbox_row(&app, &to).await, failed);
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn reports_record_delivery_and_a_failed_call_and_ignore_unknown_sids() {
    let (api, _standin) = stand_in().await;
    let app = twilio_app(&api).await;
    let (sms_to, _) = send_phone_code(&app, "8123 4574", "sms").await;
    let (call_to, _) = send_phone_code(&app, "9123 4574", "voice").await;
    assert_eq!(app.run_jobs().await, 2);
    let sms = outbox_row(&app, &sms_to).await;
    let call = outbox_row(&app, &call_to).await;
    let sms_sid = sms.provider_id.clone().unwrap();
    let call_sid = call.provider_id.clone().unwrap();

    let on_the_way = [("MessageSid", sms_sid.as_str()), ("MessageStatus", "sent")];
    assert_eq!(signed_report(&app, &on_the_way).await, StatusCode::OK);
    assert_eq!(
        outbox_row(&app, &sms_to).await.provider_status.as_deref(),
        Some("sent")
    );
    let arrived = [
        ("MessageSid", sms_sid.as_str()),
        ("MessageStatus", "delivered"),
    ];
    let before = app.state.clock.now();
    assert_eq!(signed_report(&app, &arrived).await, StatusCode::OK);
    let delivered = outbox_row(&app, &sms_to).await;
    assert_eq!(delivered.status, "sent");
    assert_eq!(delivered.provider_status.as_deref(), Some("delivered"));
    let at = delivered.delivered_at.expect("the delivery is recorded");
    assert!((before..=app.state.clock.now()).contains(&at));
    // A late `sent` (reports may cross) does not hide the delivery.
    assert_eq!(signed_report(&app, &on_the_way).await, StatusCode::OK);
    assert_eq!(outbox_row(&app, &sms_to).await, delivered);

    let unanswered = [("CallSid", call_sid.as_str()), ("CallStatus", "no-answer")];
    assert_eq!(signed_report(&app, &unanswered).await, StatusCode::OK);
    let call = outbox_row(&app, &call_to).await;
    assert_eq!(call.status, "failed");
    assert!(call.last_error.unwrap().contains("no-answer"));

    // A SID of no message here: 200 (Twilio would retry anything else), no message changes;
    // the report is kept for a message that may yet be given that SID (swept a day on).
    let before: Vec<(String, String)> = sqlx::query_as("SELECT id, status FROM outbox ORDER BY id")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    let unknown = format!("SM{}", uuid::Uuid::new_v4().simple());
    let stranger = [
        ("MessageSid", unknown.as_str()),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30005"),
    ];
    assert_eq!(signed_report(&app, &stranger).await, StatusCode::OK);
    let after: Vec<(String, String)> = sqlx::query_as("SELECT id, status FROM outbox ORDER BY id")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(before, after);
    let kept: Vec<String> = sqlx::query_scalar("SELECT provider_id FROM early_provider_reports")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(kept, [unknown]);
    app.assert_no_unexpected_jobs(&[]).await;
}

/// Twilio may report on a message before the sender has taken in the SID it answered with:
/// the report is kept for that SID and applied when the message gets it, not dropped.
#[tokio::test]
async fn a_report_that_comes_before_the_sid_is_kept_applied_with_it_and_forgotten() {
    let (api, standin) = stand_in().await;
    let app = twilio_app(&api).await;
    standin.next_answers(Trouble::ReportsFirst {
        app: app.base.clone(),
        status: "delivered",
    });
    let (to, _) = send_phone_code(&app, "8123 4576", "sms").await;

    let before = app.state.clock.now();
    assert_eq!(app.run_jobs().await, 1);
    let row = outbox_row(&app, &to).await;
    assert_eq!(
        row.provider_id,
        standin.received()[0].sid,
        "the SID Twilio gave"
    );
    assert_eq!(row.status, "sent");
    assert_eq!(row.provider_status.as_deref(), Some("delivered"));
    let at = row
        .delivered_at
        .expect("the early report's delivery is recorded");
    assert!((before..=app.state.clock.now()).contains(&at));
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM early_provider_reports")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(kept, 0, "applied, then forgotten");
    app.assert_no_unexpected_jobs(&[]).await;
}

/// A report that comes while the message's SID is being recorded waits for that transaction,
/// then finds the message: it is neither applied to nothing nor kept for a SID whose early
/// reports were already looked for. The sender's transaction is the one `deliver_message`
/// makes (`notify.rs`), held open here with the report sent in the middle of it.
#[tokio::test]
async fn a_report_during_the_sids_hand_over_waits_for_it_and_then_finds_the_message() {
    use server::twilio::reports;
    let (api, _standin) = stand_in().await;
    let app = twilio_app(&api).await;
    let (to, _) = send_phone_code(&app, "8123 4577", "sms").await;
    let id: String = sqlx::query_scalar("SELECT id FROM outbox WHERE recipient = $1")
        .bind(&to)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());

    // The sender records the SID and looks for early reports (none yet), not yet committed.
    let now = app.state.clock.now();
    let mut tx = server::db::begin_write(&app.state.db).await.unwrap();
    reports::lock_sid(&mut tx, &sid).await.unwrap();
    sqlx::query("UPDATE outbox SET status = 'sent', provider_id = $1 WHERE id = $2")
        .bind(&sid)
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
    reports::apply_early(&mut tx, &sid, now).await.unwrap();
    let reporter = app.another_client();
    let params = [
        ("MessageSid".to_owned(), sid.clone()),
        ("MessageStatus".to_owned(), "delivered".to_owned()),
    ];
    let report = tokio::spawn(async move {
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        signed_report(&reporter, &params).await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    tx.commit().await.unwrap();

    assert_eq!(report.await.unwrap(), StatusCode::OK);
    let row = outbox_row(&app, &to).await;
    assert_eq!(row.provider_status.as_deref(), Some("delivered"));
    assert!(row.delivered_at.is_some(), "the report found its message");
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM early_provider_reports")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(kept, 0, "nothing kept for no one");
}

/// Dev mode without Twilio: SMS and voice messages stay in the outbox for /dev/inbox, no job
/// is queued, and the webhook has no token to check a signature with: every report is refused.
#[tokio::test]
async fn without_twilio_texts_stay_in_the_outbox_and_reports_are_refused() {
    let app = spawn_app().await;
    let (to, _) = send_phone_code(&app, "8123 4575", "sms").await;
    assert_eq!(outbox_row(&app, &to).await.status, "pending");
    app.assert_no_unexpected_jobs(&[]).await;
    assert_eq!(app.run_jobs().await, 0);
    let params = [("MessageSid", "SM0"), ("MessageStatus", "delivered")];
    let signed = signature(AUTH_TOKEN, CALLBACK, &params);
    assert_eq!(
        report(&app, &params, Some(&signed)).await,
        StatusCode::FORBIDDEN
    );
}

/// Builds a server with `flags` on a fresh database; the refusal, if it does not start.
async fn start_with(flags: &[String]) -> Result<(), String> {
    use clap::Parser;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let mut args: Vec<String> = [
        "account-center",
        "--mode",
        "dev",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
        "--site-dir",
        &data_dir,
        "--run-scheduler",
        "false",
    ]
    .map(str::to_owned)
    .to_vec();
    if let Some(url) = test_database_url().await {
        args.extend(["--database-url".to_owned(), url]);
    }
    args.extend_from_slice(flags);
    let config = server::config::Config::try_parse_from(args).expect("the flags parse");
    server::Application::build(config)
        .await
        .map(drop)
        .map_err(|e| format!("{e:#}"))
}

#[tokio::test]
async fn partial_twilio_settings_refuse_to_start_and_say_what_is_missing() {
    let all = twilio_flags("https://api.twilio.com", AUTH_TOKEN);
    let without = |flag: &str| -> Vec<String> {
        let at = all.iter().position(|f| f == flag).unwrap();
        let mut flags = all.clone();
        flags.drain(at..at + 2);
        flags
    };
    start_with(&all)
        .await
        .expect("a whole configuration starts");

    let refused = start_with(&without("--public-url")).await.unwrap_err();
    assert!(
        refused.contains(
            "Twilio is partly configured: --public-url (ACCOUNT_CENTER_PUBLIC_URL) missing"
        ),
        "{refused}"
    );
    let refused = start_with(&without("--twilio-from")).await.unwrap_err();
    assert!(
        refused.contains("configured: --twilio-from (ACCOUNT_CENTER_TWILIO_FROM) missing"),
        "{refused}"
    );
    let refused = start_with(&without("--twilio-auth-token"))
        .await
        .unwrap_err();
    assert!(
        refused.contains("configured: --twilio-auth-token"),
        "{refused}"
    );

    let sid_only = ["--twilio-account-sid".to_owned(), ACCOUNT_SID.to_owned()];
    let refused = start_with(&sid_only).await.unwrap_err();
    for missing in ["--twilio-auth-token", "--twilio-from", "--public-url"] {
        assert!(refused.contains(missing), "{missing}: {refused}");
    }
    let service_only = [
        "--twilio-messaging-service-sid".to_owned(),
        SERVICE_SID.to_owned(),
    ];
    let refused = start_with(&service_only).await.unwrap_err();
    assert!(
        refused.contains("partly configured: --twilio-account-sid"),
        "{refused}"
    );

    let mut no_file = without("--twilio-auth-token");
    no_file.extend([
        "--twilio-auth-token-file".to_owned(),
        "/nonexistent/twilio-token".to_owned(),
    ]);
    let refused = start_with(&no_file).await.unwrap_err();
    assert!(
        refused.contains("cannot read the Twilio auth token file /nonexistent/twilio-token"),
        "{refused}"
    );

    let mut bad_from = without("--twilio-from");
    bad_from.extend(["--twilio-from".to_owned(), "5550006".to_owned()]);
    let refused = start_with(&bad_from).await.unwrap_err();
    assert!(
        refused.contains("--twilio-from 5550006 is not a phone number"),
        "{refused}"
    );
    assert!(
        !refused.contains(AUTH_TOKEN),
        "the token is never shown: {refused}"
    );
}
