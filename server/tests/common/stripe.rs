//! A stand-in of Stripe's API on 127.0.0.1 for the Stripe tests (`tests/stripe.rs`,
//! `tests/stripe_webhook.rs`): it answers as Stripe's API reference says (the pages are named
//! in `tests/stripe.rs`), keeps each idempotency key's first answer, and records every request
//! it received for the tests to read. Also: a server whose cards go through it, and deliveries
//! to our webhook signed as Stripe signs them.

use super::*;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as Status};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The signing secret of the test server's webhook endpoint.
pub const WEBHOOK_SECRET: &str = "whsec_standin";

pub const SECRET_KEY: &str = "sk_test_standin";

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: &'static str,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub form: Vec<(String, String)>,
}

impl Received {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request's form fields, in order.
pub type Fields = Vec<(String, String)>;

#[derive(Default)]
pub struct Books {
    received: Vec<Received>,
    /// Each key's parameters and first answer, replayed for the same key.
    answers: HashMap<String, (Fields, u16, Value)>,
    /// The last id made, by prefix: `cus_1`, `pi_1`, `pi_2`, …
    made: HashMap<&'static str, u32>,
    /// Every Refund object made, as Stripe keeps it: what a webhook event about it carries.
    refunds: Vec<Value>,
    /// Refuse every refund as Stripe refuses one of a charge too old to refund.
    refuse_refunds: bool,
}

#[derive(Clone, Default)]
pub struct StandIn(Arc<Mutex<Books>>);

impl StandIn {
    pub fn received(&self) -> Vec<Received> {
        self.0.lock().unwrap().received.clone()
    }

    pub fn posts_to(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .collect()
    }

    /// The Refund objects made, oldest first.
    pub fn refunds(&self) -> Vec<Value> {
        self.0.lock().unwrap().refunds.clone()
    }

    /// From now on, refunds are refused: 400 `charge_expired_for_refund`.
    pub fn refuse_refunds(&self) {
        self.0.lock().unwrap().refuse_refunds = true;
    }
}

/// The cards the stand-in knows, by PaymentMethod id (Stripe's own test ids where they exist).
pub fn card_of(pm: &str) -> Option<Value> {
    let (brand, funding, last4, fingerprint) = match pm {
        "pm_card_visa" => ("visa", "credit", "4242", "fpVisa4242"),
        "pm_card_mastercard" => ("mastercard", "credit", "4444", "fpMc4444"),
        "pm_card_chargeDeclined" => ("visa", "credit", "0002", "fpDeclined0002"),
        "pm_card_visa_prepaid" => ("visa", "prepaid", "5100", "fpPrepaid5100"),
        "pm_card_discover" => ("discover", "credit", "1117", "fpDiscover1117"),
        _ => return None,
    };
    Some(json!({
        "brand": brand, "funding": funding, "country": "SG", "last4": last4,
        "exp_month": 12, "exp_year": 2031, "fingerprint": fingerprint,
    }))
}

pub fn stripe_error(status: u16, kind: &str, code: &str, decline: Option<&str>) -> (u16, Value) {
    (
        status,
        json!({"error": {"type": kind, "code": code, "decline_code": decline,
            "message": format!("stand-in: {code}")}}),
    )
}

async fn record(
    stand_in: &StandIn,
    headers: &HeaderMap,
    method: &'static str,
    path: String,
    form: Vec<(String, String)>,
    act: impl FnOnce(&mut Books) -> (u16, Value),
) -> Response {
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {SECRET_KEY}"));
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut books = stand_in.0.lock().unwrap();
    books.received.push(Received {
        method,
        path: path.clone(),
        idempotency_key: key.clone(),
        form: form.clone(),
    });
    let (status, body) = if !authorized {
        stripe_error(401, "invalid_request_error", "api_key_invalid", None)
    } else {
        let keyed = key.map(|k| format!("{path} {k}"));
        match keyed.as_ref().and_then(|k| books.answers.get(k)) {
            Some((params, status, body)) if *params == form => (*status, body.clone()),
            Some(_) => stripe_error(400, "idempotency_error", "idempotency_key_in_use", None),
            None => {
                let answer = act(&mut books);
                if let Some(k) = keyed {
                    books.answers.insert(k, (form, answer.0, answer.1.clone()));
                }
                answer
            }
        }
    };
    (Status::from_u16(status).unwrap(), Json(body)).into_response()
}

pub fn next_id(books: &mut Books, prefix: &'static str) -> String {
    let n = books.made.entry(prefix).or_default();
    *n += 1;
    format!("{prefix}_{n}")
}

pub async fn start_stand_in() -> (String, StandIn) {
    let stand_in = StandIn::default();
    let app = Router::new()
        .route(
            "/v1/customers",
            post(
                |State(s): State<StandIn>, headers: HeaderMap, Form(form): Form<Vec<(String, String)>>| async move {
                    record(&s, &headers, "POST", "/v1/customers".into(), form, |b| {
                        (200, json!({"id": next_id(b, "cus"), "object": "customer"}))
                    })
                    .await
                },
            ),
        )
        .route(
            "/v1/payment_methods/{pm}",
            get(
                |State(s): State<StandIn>, headers: HeaderMap, Path(pm): Path<String>| async move {
                    let path = format!("/v1/payment_methods/{pm}");
                    record(&s, &headers, "GET", path, vec![], |_| match card_of(&pm) {
                        Some(card) => (200, json!({"id": pm, "object": "payment_method", "type": "card", "card": card})),
                        None => stripe_error(404, "invalid_request_error", "resource_missing", None),
                    })
                    .await
                },
            ),
        )
        .route(
            "/v1/payment_methods/{pm}/attach",
            post(
                |State(s): State<StandIn>, headers: HeaderMap, Path(pm): Path<String>, Form(form): Form<Vec<(String, String)>>| async move {
                    let path = format!("/v1/payment_methods/{pm}/attach");
                    record(&s, &headers, "POST", path, form, |_| {
                        (200, json!({"id": pm, "object": "payment_method"}))
                    })
                    .await
                },
            ),
        )
        .route(
            "/v1/payment_intents",
            post(
                |State(s): State<StandIn>, headers: HeaderMap, Form(form): Form<Vec<(String, String)>>| async move {
                    let field = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                    let pm = field("payment_method").unwrap_or_default();
                    let manual = field("capture_method").as_deref() == Some("manual");
                    record(&s, &headers, "POST", "/v1/payment_intents".into(), form.clone(), |b| {
                        if pm == "pm_card_chargeDeclined" {
                            return stripe_error(402, "card_error", "card_declined", Some("generic_decline"));
                        }
                        let status = if manual { "requires_capture" } else { "succeeded" };
                        (200, json!({"id": next_id(b, "pi"), "object": "payment_intent", "status": status}))
                    })
                    .await
                },
            ),
        )
        .route(
            "/v1/payment_intents/{pi}/cancel",
            post(
                |State(s): State<StandIn>, headers: HeaderMap, Path(pi): Path<String>, Form(form): Form<Vec<(String, String)>>| async move {
                    let path = format!("/v1/payment_intents/{pi}/cancel");
                    record(&s, &headers, "POST", path, form, |_| {
                        (200, json!({"id": pi, "object": "payment_intent", "status": "canceled"}))
                    })
                    .await
                },
            ),
        )
        .route(
            "/v1/refunds",
            post(
                |State(s): State<StandIn>, headers: HeaderMap, Form(form): Form<Vec<(String, String)>>| async move {
                    let field = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                    let refund = json!({
                        "object": "refund", "status": "succeeded",
                        "amount": field("amount").and_then(|a| a.parse::<i64>().ok()),
                        "currency": "usd", "payment_intent": field("payment_intent"),
                        "failure_reason": null,
                        "metadata": {"idempotency_key": field("metadata[idempotency_key]")},
                    });
                    record(&s, &headers, "POST", "/v1/refunds".into(), form.clone(), |b| {
                        if b.refuse_refunds {
                            return stripe_error(400, "invalid_request_error", "charge_expired_for_refund", None);
                        }
                        let mut refund = refund;
                        refund["id"] = json!(next_id(b, "re"));
                        b.refunds.push(refund.clone());
                        (200, refund)
                    })
                    .await
                },
            ),
        )
        .with_state(stand_in.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, stand_in)
}

/// A server whose cards go through the stand-in.
pub async fn stripe_app(api: &str) -> TestApp {
    spawn_app_with(&[
        "--stripe-api-url",
        api,
        "--stripe-secret-key",
        SECRET_KEY,
        "--stripe-publishable-key",
        "pk_test_standin",
        "--stripe-webhook-secret",
        WEBHOOK_SECRET,
    ])
    .await
}

pub fn token_form(token: &str) -> Value {
    json!({
        "token": token,
        "first_name": "Mei",
        "last_name": "Tan",
        "billing_address": address_in("SG"),
    })
}

pub async fn add_token(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_once(
        "/api/payment-methods/card-tokens",
        &uuid::Uuid::new_v4().to_string(),
        &token_form(token),
    )
    .await
}

/// The intents our side recorded, oldest first: (id, operation, amount in minor units).
pub async fn intents(app: &TestApp) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT id, operation, amount_minor FROM gateway_intents ORDER BY created_at, id",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap()
}

/// A `Stripe-Signature` header for `body` signed at `t` (unix seconds) with `secret`, as
/// Stripe makes it: `t=<t>,v1=<hex HMAC-SHA256 of "{t}.{body}">`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    format!("t={t},v1={}", v1(secret, t, body))
}

/// The hex `v1` signature alone.
pub fn v1(secret: &str, t: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// An Event (<https://docs.stripe.com/api/events/object>) of `kind` about `object`.
pub fn event(id: &str, kind: &str, object: Value) -> String {
    json!({
        "id": id, "object": "event", "api_version": "2025-09-30.clover", "created": 1_765_000_000,
        "livemode": false, "pending_webhooks": 1, "type": kind, "data": {"object": object},
    })
    .to_string()
}

impl TestApp {
    /// The server's time in unix seconds: what Stripe's clock reads, as far as the test goes.
    pub fn unix_now(&self) -> i64 {
        self.state.clock.now_utc().timestamp()
    }

    /// Delivers `body` to our webhook with `signature` as its `Stripe-Signature` (none: no
    /// header), as Stripe does: no session, no CSRF token.
    pub async fn deliver(&self, body: &str, signature: Option<&str>) -> reqwest::Response {
        let mut request = new_client()
            .post(self.url("/api/webhooks/stripe"))
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send().await.unwrap()
    }

    /// Delivers `body` signed now with the endpoint's secret.
    pub async fn deliver_signed(&self, body: &str) -> reqwest::Response {
        let signature = signature(WEBHOOK_SECRET, self.unix_now(), body);
        self.deliver(body, Some(&signature)).await
    }
}
