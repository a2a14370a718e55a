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
//! - refunds: <https://docs.stripe.com/api/refunds/create> (`metadata[…]`: our key, which a
//!   webhook about the refund carries back; see `tests/stripe_webhook.rs`)
//!
//! The stand-in itself is `tests/common/stripe.rs`.

mod common;

use common::stripe::*;
use common::*;
use reqwest::StatusCode;
use serde_json::json;
use shared::ErrorCode;
use shared::api::{CardEntry, PaymentMethodKind, PaymentMethodsView, WithdrawalsView};

/// A Stripe server's account with a billing address and a VISA card tokenized by Stripe.js,
/// bound (`pm_card_visa`: Stripe's customer `cus_1`, the hold's PaymentIntent `pi_1`).
async fn with_bound_card(api: &str, name: &str) -> TestApp {
    let mut app = stripe_app(api).await;
    app.signed_up(name).await;
    app.with_billing_address("81234567").await;
    let added = add_token(&app, "pm_card_visa").await;
    assert_eq!(
        added.status(),
        StatusCode::CREATED,
        "{}",
        added.text().await.unwrap()
    );
    app
}

#[tokio::test]
async fn a_tokenized_card_is_verified_by_a_cancelled_hold_under_our_key() {
    let (api, stripe) = start_stand_in().await;
    let app = with_bound_card(&api, "stripe-bind").await;

    // Stripe says what card it is; a customer, the method attached, a 1.00 hold placed with
    // manual capture and cancelled.
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
}

#[tokio::test]
async fn a_purchase_charges_the_bound_card_off_session_under_our_key() {
    let (api, stripe) = start_stand_in().await;
    let app = with_bound_card(&api, "stripe-charge").await;

    // A month of ECS with the card: an off-session PaymentIntent of 20.00 USD.
    app.buy("ecs", 1, "default_method").await;
    let charges = stripe.posts_to("/v1/payment_intents");
    assert_eq!(charges.len(), 2, "the hold's, then the charge's");
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
}

#[tokio::test]
async fn an_unsubscription_refunds_the_cards_charge_once_under_our_refunds_id() {
    let (api, stripe) = start_stand_in().await;
    let app = with_bound_card(&api, "stripe-refund").await;
    let id = app.buy("ecs", 1, "default_method").await;

    // Unsubscribed at once: the refund goes back to the card, a Refund of the charge's
    // PaymentIntent (`pi_2`; the hold's was `pi_1`).
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
        app.advance(DurationMs::days(1));
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
    assert_eq!(
        refunds[0].field("metadata[idempotency_key]"),
        Some(refund_id.as_str()),
        "named in its metadata, which a webhook about it carries back"
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

/// A refund Stripe refuses outright (a charge too old for its card network to refund) is not
/// asked for forever, nor lost: it is credited to the balance, once, and the owner is told so.
#[tokio::test]
async fn a_refund_stripe_refuses_goes_to_the_balance_once() {
    let (api, stripe) = start_stand_in().await;
    let mut app = stripe_app(&api).await;
    let email = app.signed_up("refused-refund").await;
    app.with_billing_address("81234567").await;
    assert_eq!(
        add_token(&app, "pm_card_visa").await.status(),
        StatusCode::CREATED
    );
    let id = app.buy("ecs", 1, "default_method").await;
    let unsubscribed = app
        .post_once(
            "/api/unsubscribe",
            "unsubscribe-refused",
            &json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true}),
        )
        .await;
    assert_eq!(unsubscribed.status(), StatusCode::OK);
    let before: WithdrawalsView = app.get_as("/api/withdrawals").await;
    stripe.refuse_refunds();
    for _ in 0..3 {
        app.advance(DurationMs::days(1));
        app.run_jobs().await;
    }

    assert_eq!(
        stripe.posts_to("/v1/refunds").len(),
        1,
        "asked once, not again"
    );
    let (refund_id, minor, destination, status): (String, i64, String, String) =
        sqlx::query_as("SELECT id, amount_minor, destination, status FROM refunds")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        (destination.as_str(), status.as_str()),
        ("balance", "refunded")
    );
    app.sign_in_again(&email).await;
    let after: WithdrawalsView = app.get_as("/api/withdrawals").await;
    assert_eq!(
        after.withdrawable.checked_sub(before.withdrawable).unwrap(),
        usd_minor(minor),
        "the refund's amount credited to the cash balance"
    );
    let credits: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'refund' AND reference = $1",
    )
    .bind(&refund_id)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(credits, 1);
    let told: String =
        sqlx::query_scalar("SELECT body FROM outbox WHERE subject = 'Your refund has arrived'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(told.contains("Account Center balance"), "{told}");
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY]).await;
}
