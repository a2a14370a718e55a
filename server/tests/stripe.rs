//! Cards through Stripe, against a stand-in that speaks Stripe's API on 127.0.0.1 (never our
//! simulator): the card is tokenized in the browser, so our API gets a PaymentMethod id, asks
//! Stripe what card it is, verifies it with a manual-capture PaymentIntent it then cancels,
//! charges it with off-session PaymentIntents and refunds them. Every call that creates
//! something carries our intent's key as `Idempotency-Key`.
//!
//! The stand-in follows Stripe's API reference:
//! - authentication, form encoding, errors: <https://docs.stripe.com/api/authentication>,
//!   <https://docs.stripe.com/api/errors> (`{"error": {"type", "code", "decline_code", "message"}}`;
//!   402 for a card's refusal)
//! - idempotent requests: <https://docs.stripe.com/api/idempotent_requests> (the same key and
//!   parameters replay the first answer; other parameters are an `idempotency_error`)
//! - customers: <https://docs.stripe.com/api/customers/create>
//! - payment methods: <https://docs.stripe.com/api/payment_methods/retrieve>,
//!   <https://docs.stripe.com/api/payment_methods/attach> (`card.brand`, `funding`, `country`,
//!   `last4`, `exp_month`, `exp_year`, `fingerprint`)
//! - payment intents: <https://docs.stripe.com/api/payment_intents/create> (`amount` in the
//!   currency's smallest unit, `capture_method=manual` → `requires_capture`, `off_session`),
//!   <https://docs.stripe.com/api/payment_intents/cancel>
//! - refunds: <https://docs.stripe.com/api/refunds/create>

mod common;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as Status};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::ErrorCode;
use shared::api::{CardEntry, PaymentMethodKind, PaymentMethodsView, WithdrawalsView};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const SECRET_KEY: &str = "sk_test_standin";

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
struct Received {
    method: &'static str,
    path: String,
    idempotency_key: Option<String>,
    form: Vec<(String, String)>,
}

impl Received {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request's form fields, in order.
type Fields = Vec<(String, String)>;

#[derive(Default)]
struct Books {
    received: Vec<Received>,
    /// Each key's parameters and first answer, replayed for the same key.
    answers: HashMap<String, (Fields, u16, Value)>,
    /// The last id made, by prefix: `cus_1`, `pi_1`, `pi_2`, …
    made: HashMap<&'static str, u32>,
}

#[derive(Clone, Default)]
struct StandIn(Arc<Mutex<Books>>);

impl StandIn {
    fn received(&self) -> Vec<Received> {
        self.0.lock().unwrap().received.clone()
    }

    fn posts_to(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .collect()
    }
}

/// The cards the stand-in knows, by PaymentMethod id (Stripe's own test ids where they exist).
fn card_of(pm: &str) -> Option<Value> {
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

fn stripe_error(status: u16, kind: &str, code: &str, decline: Option<&str>) -> (u16, Value) {
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

fn next_id(books: &mut Books, prefix: &'static str) -> String {
    let n = books.made.entry(prefix).or_default();
    *n += 1;
    format!("{prefix}_{n}")
}

async fn start_stand_in() -> (String, StandIn) {
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
                    record(&s, &headers, "POST", "/v1/refunds".into(), form, |b| {
                        (200, json!({"id": next_id(b, "re"), "object": "refund", "status": "succeeded"}))
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
async fn stripe_app(api: &str) -> TestApp {
    spawn_app_with(&[
        "--stripe-api-url",
        api,
        "--stripe-secret-key",
        SECRET_KEY,
        "--stripe-publishable-key",
        "pk_test_standin",
        "--stripe-webhook-secret",
        "whsec_standin",
    ])
    .await
}

fn token_form(token: &str) -> Value {
    json!({
        "token": token,
        "first_name": "Mei",
        "last_name": "Tan",
        "billing_address": address_in("SG"),
    })
}

async fn add_token(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_once(
        "/api/payment-methods/card-tokens",
        &uuid::Uuid::new_v4().to_string(),
        &token_form(token),
    )
    .await
}

/// The intents our side recorded, oldest first: (id, operation, amount in minor units).
async fn intents(app: &TestApp) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT id, operation, amount_minor FROM gateway_intents ORDER BY created_at, id",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_tokenized_card_is_verified_charged_and_refunded_through_stripe_under_our_keys() {
    let (api, stripe) = start_stand_in().await;
    let mut app = stripe_app(&api).await;
    app.signed_up("stripe").await;
    app.with_billing_address("81234567").await;

    // Bind: Stripe says what card it is; a customer, the method attached, a 1.00 hold
    // placed with manual capture and cancelled.
    let added = add_token(&app, "pm_card_visa").await;
    assert_eq!(
        added.status(),
        StatusCode::CREATED,
        "{}",
        added.text().await.unwrap()
    );
    let methods: PaymentMethodsView = app.get_as("/api/payment-methods").await;
    assert_eq!(methods.methods.len(), 1);
    assert_eq!(
        methods.card_entry,
        CardEntry::Stripe {
            publishable_key: "pk_test_standin".into(),
            script_url: "https://js.stripe.com/v3/".into()
        },
        "the console tokenizes with Stripe.js"
    );
    assert_eq!(
        methods.available,
        [PaymentMethodKind::Card],
        "no PayPal through Stripe"
    );
    assert_eq!(methods.methods[0].label, "VISA •••• 4242");
    let (hold_key, operation, minor) = intents(&app).await.remove(0);
    assert_eq!((operation.as_str(), minor), ("hold", 100));

    let customers = stripe.posts_to("/v1/customers");
    assert_eq!(customers.len(), 1);
    assert_eq!(
        customers[0].idempotency_key,
        Some(format!("{hold_key}-customer"))
    );
    let attach = stripe.posts_to("/v1/payment_methods/pm_card_visa/attach");
    assert_eq!(attach[0].field("customer"), Some("cus_1"));
    let holds = stripe.posts_to("/v1/payment_intents");
    assert_eq!(holds.len(), 1);
    let hold = &holds[0];
    assert_eq!(hold.idempotency_key.as_deref(), Some(hold_key.as_str()));
    assert_eq!(
        [
            hold.field("amount"),
            hold.field("currency"),
            hold.field("capture_method")
        ],
        [Some("100"), Some("usd"), Some("manual")]
    );
    assert_eq!(hold.field("off_session"), None, "the owner is at the page");
    let cancels = stripe.posts_to("/v1/payment_intents/pi_1/cancel");
    assert_eq!(
        cancels.len(),
        1,
        "the hold released: {:?}",
        stripe.received()
    );
    assert!(cancels[0].idempotency_key.is_some());

    // What we keep: Stripe's customer and method to charge later, a keyed fingerprint.
    let (token, fingerprint, last4): (String, String, String) =
        sqlx::query_as("SELECT gateway_token, fingerprint, last4 FROM payment_methods")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(token, "stripe:cus_1:pm_card_visa");
    assert_eq!(last4, "4242");
    assert!(
        !fingerprint.contains("fpVisa4242"),
        "Stripe's fingerprint is keyed, not kept"
    );

    // Buy a month of ECS with the card: an off-session PaymentIntent of 20.00 USD.
    let id = app.buy("ecs", 1, "default_method").await;
    let charges = stripe.posts_to("/v1/payment_intents");
    assert_eq!(charges.len(), 2);
    let charge = &charges[1];
    let (charge_key, operation, minor) = intents(&app).await.remove(1);
    assert_eq!((operation.as_str(), minor), ("charge", 2000));
    assert_eq!(charge.idempotency_key.as_deref(), Some(charge_key.as_str()));
    assert_eq!(
        [
            charge.field("amount"),
            charge.field("currency"),
            charge.field("customer"),
            charge.field("payment_method"),
            charge.field("capture_method"),
            charge.field("off_session"),
        ],
        [
            Some("2000"),
            Some("usd"),
            Some("cus_1"),
            Some("pm_card_visa"),
            Some("automatic"),
            Some("true")
        ]
    );

    // Unsubscribe at once: the refund goes back to the card, a Refund of that PaymentIntent.
    let unsubscribed = app
        .post_once(
            "/api/unsubscribe",
            "unsubscribe-1",
            &json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true}),
        )
        .await;
    assert_eq!(
        unsubscribed.status(),
        StatusCode::OK,
        "{}",
        unsubscribed.text().await.unwrap()
    );
    for _ in 0..3 {
        app.advance(86_400);
        app.run_jobs().await;
    }
    let refunds = stripe.posts_to("/v1/refunds");
    assert_eq!(refunds.len(), 1, "refunded once: {refunds:?}");
    let (refund_id, refund_minor, status): (String, i64, String) =
        sqlx::query_as("SELECT id, amount_minor, status FROM refunds")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(status, "refunded");
    assert_eq!(
        refunds[0].field("payment_intent"),
        Some("pi_2"),
        "the charge's"
    );
    assert_eq!(
        refunds[0].field("amount"),
        Some(refund_minor.to_string().as_str())
    );
    assert_eq!(
        refunds[0].idempotency_key.as_deref(),
        Some(refund_id.as_str()),
        "keyed by our refund's id"
    );
    assert!(
        stripe
            .received()
            .iter()
            .all(|r| r.method == "GET" || r.idempotency_key.is_some()),
        "every creating call carries a key"
    );
}

#[tokio::test]
async fn stripes_card_facts_meet_the_same_rules_and_nothing_is_held_for_a_refused_card() {
    let (api, stripe) = start_stand_in().await;
    let mut app = stripe_app(&api).await;
    app.signed_up("rules").await;
    app.with_billing_address("81234567").await;

    let (status, code, _) = refusal(add_token(&app, "pm_card_visa_prepaid").await).await;
    assert_eq!(
        (status, code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::CardTypeNotAccepted
        )
    );
    let (_, code, _) = refusal(add_token(&app, "pm_card_discover").await).await;
    assert_eq!(code, ErrorCode::UnsupportedCardBrand);
    assert!(
        stripe.received().iter().all(|r| r.method == "GET"),
        "Stripe asked what card it is, and then no customer, no hold: {:?}",
        stripe.received()
    );

    let (status, code, _) = refusal(add_token(&app, "pm_card_chargeDeclined").await).await;
    assert_eq!(
        (status, code),
        (StatusCode::PAYMENT_REQUIRED, ErrorCode::PaymentDeclined)
    );
    let (_, code, field) = refusal(add_token(&app, "4111111111111111").await).await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::InvalidText, Some("token")),
        "a number is no token"
    );
    assert_eq!(app.count("payment_methods").await, 0);

    // The number form is not this server's way, and Stripe takes no PayPal.
    let (_, code, _) = refusal(
        app.post_once(
            "/api/payment-methods/cards",
            "number",
            &card_form(&unique_visa(), "123"),
        )
        .await,
    )
    .await;
    assert_eq!(code, ErrorCode::PaymentMethodNotAvailable);
    let (_, code, _) = refusal(app.post("/api/payment-methods/paypal", &json!({})).await).await;
    assert_eq!(code, ErrorCode::PaymentMethodNotAvailable);

    // One card, one account: Stripe's fingerprint says it is the same card.
    assert_eq!(
        add_token(&app, "pm_card_visa").await.status(),
        StatusCode::CREATED
    );
    // Stripe (without Connect) pays nothing out to a card: no withdrawal can take the balance.
    let withdrawals: WithdrawalsView = app.get_as("/api/withdrawals").await;
    assert!(
        withdrawals.destinations.is_empty(),
        "{:?}",
        withdrawals.destinations
    );
    let mut other = app.another_client();
    other.signed_up("rules-other").await;
    other.with_billing_address("81234568").await;
    let (_, code, _) = refusal(add_token(&other, "pm_card_visa").await).await;
    assert_eq!(code, ErrorCode::CardAlreadyBound);
}

#[tokio::test]
async fn a_retry_under_the_same_key_asks_stripe_nothing_more() {
    let (api, stripe) = start_stand_in().await;
    let mut app = stripe_app(&api).await;
    app.signed_up("retry").await;
    app.with_billing_address("81234567").await;
    let form = token_form("pm_card_mastercard");
    let first = app
        .post_once("/api/payment-methods/card-tokens", "k-1", &form)
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let calls = stripe.received().len();
    let again = app
        .post_once("/api/payment-methods/card-tokens", "k-1", &form)
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        stripe.received().len(),
        calls,
        "answered from the key, not from Stripe"
    );
    assert_eq!(app.count("payment_methods").await, 1);
}
