//! Payment methods (SPEC §3): cards with the verification hold, refusals, the simulated
//! gateway's outcomes, the free credit, idempotency, PayPal, Paytm, default and removal.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::ErrorCode;
use shared::api::{
    LedgerKind, LedgerView, MethodAdded, PaymentMethodKind, PaymentMethodsView, PaypalStarted,
};
use shared::money::{Currency, Money};

const VISA: &str = "4111 1111 1111 1111";
const MASTERCARD: &str = "5555555555554444";

/// A signed-up Singapore account with its billing address.
async fn ready(app: &mut TestApp, tag: &str) {
    app.signed_up(tag).await;
    app.with_billing_address("81234567").await;
}

async fn add_card(app: &TestApp, number: &str) -> reqwest::Response {
    app.post_once(
        "/api/payment-methods/cards",
        &uuid::Uuid::new_v4().to_string(),
        &card_form(number, "123"),
    )
    .await
}

async fn ledger(app: &TestApp) -> LedgerView {
    app.get_as("/api/ledger").await
}

async fn methods(app: &TestApp) -> PaymentMethodsView {
    app.get_as("/api/payment-methods").await
}

/// The answer to adding a method, which must have been added.
async fn added(response: reqwest::Response) -> MethodAdded {
    assert_eq!(response.status(), StatusCode::CREATED);
    body_as(response).await
}

#[tokio::test]
async fn a_card_needs_a_billing_address_first() {
    let mut app = spawn_app().await;
    app.signed_up("noaddr").await;
    let (status, code, _) = refusal(add_card(&app, VISA).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::BillingAddressRequired)
    );
    let (_, code, _) = refusal(app.post("/api/payment-methods/paypal", &json!({})).await).await;
    assert_eq!(code, ErrorCode::BillingAddressRequired);
}

#[tokio::test]
async fn adding_a_card_holds_and_releases_one_dollar_and_grants_the_free_credit() {
    let mut app = spawn_app().await;
    ready(&mut app, "card").await;
    let response = add_card(&app, VISA).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let added: MethodAdded = body_as(response).await;
    assert_eq!(added.method.label, "VISA •••• 1111");
    assert_eq!(added.method.expiry.as_deref(), Some("12/31"));
    assert!(added.method.is_default);
    assert_eq!(added.free_credit_granted, Some(usd("300.00")));

    let ledger = ledger(&app).await;
    let kinds: Vec<(LedgerKind, Money)> =
        ledger.entries.iter().map(|e| (e.kind, e.amount)).collect();
    assert!(
        kinds.contains(&(LedgerKind::PreauthHold, usd("1.00"))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(LedgerKind::PreauthRelease, usd("-1.00"))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(LedgerKind::FreeCredit, usd("300.00"))),
        "{kinds:?}"
    );
    assert_eq!(ledger.credit_balance, usd("300.00"));
    let hold_sum: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM ledger_entries WHERE bucket = 'hold'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(hold_sum, 0, "the hold is released");

    let session: shared::api::SessionInfo = app.get_as("/api/session").await;
    assert_eq!(session.account.credit_balance, usd("300.00"));
    let list = methods(&app).await;
    assert_eq!(list.methods.len(), 1);
    assert!(list.free_credit_granted);
}

#[tokio::test]
async fn the_free_credit_comes_once_per_account() {
    let mut app = spawn_app().await;
    ready(&mut app, "twice").await;
    add_card(&app, VISA).await;
    let second = added(add_card(&app, MASTERCARD).await).await;
    assert!(!second.method.is_default);
    assert!(second.free_credit_granted.is_none());
    assert_eq!(ledger(&app).await.credit_balance, usd("300.00"));
}

#[tokio::test]
async fn the_free_credit_comes_once_per_card_across_accounts() {
    let mut first = spawn_app().await;
    ready(&mut first, "first").await;
    let id = added(add_card(&first, VISA).await).await.method.id;
    assert_eq!(
        first
            .delete(&format!("/api/payment-methods/{id}"))
            .await
            .status(),
        StatusCode::OK
    );

    let mut second = first.another_client();
    ready(&mut second, "second").await;
    let again = added(add_card(&second, VISA).await).await;
    assert_eq!(
        again.method.label, "VISA •••• 1111",
        "the freed card can be bound again"
    );
    assert!(
        again.free_credit_granted.is_none(),
        "but it earned its credit already"
    );
    assert_eq!(ledger(&second).await.credit_balance, usd("0.00"));
}

#[tokio::test]
async fn a_card_belongs_to_one_account_at_a_time() {
    let mut first = spawn_app().await;
    ready(&mut first, "owner").await;
    add_card(&first, VISA).await;
    let (status, code, field) = refusal(add_card(&first, VISA).await).await;
    assert_eq!(
        (status, code, field.as_deref()),
        (
            StatusCode::CONFLICT,
            ErrorCode::CardAlreadyBound,
            Some("number")
        )
    );
    let mut second = first.another_client();
    ready(&mut second, "other").await;
    let (_, code, _) = refusal(add_card(&second, VISA).await).await;
    assert_eq!(code, ErrorCode::CardAlreadyBound);
    assert_eq!(second.count("payment_methods").await, 1);
}

#[tokio::test]
async fn two_accounts_racing_for_one_card_bind_it_once() {
    let mut first = spawn_app().await;
    ready(&mut first, "racer1").await;
    let mut second = first.another_client();
    ready(&mut second, "racer2").await;
    let (a, b) = tokio::join!(add_card(&first, MASTERCARD), add_card(&second, MASTERCARD));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    assert_eq!(first.count("payment_methods").await, 1);
    let credits: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'free_credit'")
            .fetch_one(&first.state.db)
            .await
            .unwrap();
    assert_eq!(credits, 1);
}

#[tokio::test]
async fn prepaid_virtual_gift_and_other_brands_are_refused() {
    let mut app = spawn_app().await;
    ready(&mut app, "refused").await;
    for (number, code) in [
        ("4532750000000009", ErrorCode::CardTypeNotAccepted),
        ("5374100000000005", ErrorCode::CardTypeNotAccepted),
        ("3569990000000009", ErrorCode::CardTypeNotAccepted),
        ("6011111111111117", ErrorCode::UnsupportedCardBrand),
        ("4111111111111112", ErrorCode::InvalidCardNumber),
    ] {
        let (status, got, field) = refusal(add_card(&app, number).await).await;
        assert_eq!(
            (status, got, field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some("number")),
            "{number}"
        );
    }
    assert_eq!(app.count("payment_methods").await, 0);
    assert_eq!(app.count("ledger_entries").await, 0);
    // A debit card is fine.
    assert_eq!(
        add_card(&app, "4000056655665556").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn bad_card_fields_are_refused_by_name() {
    let mut app = spawn_app().await;
    ready(&mut app, "fields").await;
    let cases = [
        (
            "exp_year",
            json!("2025"),
            ErrorCode::CardExpired,
            "exp_month",
        ),
        (
            "exp_month",
            json!("13"),
            ErrorCode::InvalidExpiry,
            "exp_month",
        ),
        ("cvv", json!("12"), ErrorCode::InvalidCvv, "cvv"),
        (
            "first_name",
            json!(""),
            ErrorCode::FieldRequired,
            "first_name",
        ),
    ];
    for (field, value, code, at) in cases {
        let mut form = card_form(VISA, "123");
        form[field] = value;
        let response = app
            .post_once(
                "/api/payment-methods/cards",
                &uuid::Uuid::new_v4().to_string(),
                &form,
            )
            .await;
        let (status, got, got_field) = refusal(response).await;
        assert_eq!(
            (status, got, got_field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(at))
        );
    }
    let mut form = card_form("378282246310005", "123");
    form["billing_address"]["postal_code"] = json!("1");
    let (_, code, field) = refusal(
        app.post_once("/api/payment-methods/cards", "k-addr", &form)
            .await,
    )
    .await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::InvalidCvv, Some("cvv")),
        "Amex wants 4 digits"
    );
    form["cvv"] = json!("1234");
    let (_, code, field) = refusal(
        app.post_once("/api/payment-methods/cards", "k-addr2", &form)
            .await,
    )
    .await;
    assert_eq!(
        (code, field.as_deref()),
        (
            ErrorCode::InvalidPostalCode,
            Some("billing_address.postal_code")
        )
    );
    assert_eq!(app.count("payment_methods").await, 0);
}

#[tokio::test]
async fn each_gateway_failure_is_explained_and_binds_nothing() {
    let mut app = spawn_app_with(&["--gateway-timeout-ms", "300"]).await;
    ready(&mut app, "gateway").await;
    for (number, status, code) in [
        (
            "4000000000000002",
            StatusCode::PAYMENT_REQUIRED,
            ErrorCode::PaymentDeclined,
        ),
        (
            "4000000000009995",
            StatusCode::PAYMENT_REQUIRED,
            ErrorCode::InsufficientFunds,
        ),
        (
            "4000000000000119",
            StatusCode::BAD_GATEWAY,
            ErrorCode::GatewayError,
        ),
        (
            "4000000000000127",
            StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::GatewayTimeout,
        ),
    ] {
        let (got_status, got, _) = refusal(add_card(&app, number).await).await;
        assert_eq!((got_status, got), (status, code), "{number}");
    }
    let wrong_cvv = app
        .post_once(
            "/api/payment-methods/cards",
            "k-cvv",
            &card_form(VISA, "000"),
        )
        .await;
    assert_eq!(refusal(wrong_cvv).await.1, ErrorCode::PaymentDeclined);
    assert_eq!(app.count("payment_methods").await, 0);
    assert_eq!(app.count("ledger_entries").await, 0);
}

#[tokio::test]
async fn a_retry_with_the_same_key_gets_the_first_answer() {
    let mut app = spawn_app().await;
    ready(&mut app, "idem").await;
    let form = card_form(VISA, "123");
    let first = app
        .post_once("/api/payment-methods/cards", "key-1", &form)
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    // A replay is the same answer, every field of it: compared whole, not as the shared type.
    let first: Value = first.json().await.unwrap();
    let retry = app
        .post_once("/api/payment-methods/cards", "key-1", &form)
        .await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    assert_eq!(app.count("payment_methods").await, 1);
    let holds: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'preauth_hold'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(holds, 1, "the retry placed no second hold");

    let other = app
        .post_once(
            "/api/payment-methods/cards",
            "key-1",
            &card_form(MASTERCARD, "123"),
        )
        .await;
    assert_eq!(
        refusal(other).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::IdempotencyKeyReused,
            None
        )
    );
    let no_key = app.post("/api/payment-methods/cards", &form).await;
    assert_eq!(
        refusal(no_key).await,
        (
            StatusCode::BAD_REQUEST,
            ErrorCode::IdempotencyKeyMissing,
            None
        )
    );
    // Keys are per account: another account's key of the same name is its own.
    let mut second = app.another_client();
    ready(&mut second, "idem2").await;
    let theirs = second
        .post_once(
            "/api/payment-methods/cards",
            "key-1",
            &card_form(MASTERCARD, "123"),
        )
        .await;
    assert_eq!(theirs.status(), StatusCode::CREATED);
}

/// A key remembers its card by the card's fingerprint and without its CVV, so a retry of the
/// same card matches however the number was spaced, and another card does not (a hash of the
/// form as typed, CVV included, would refuse these retries as other requests).
#[tokio::test]
async fn a_key_knows_its_card_by_fingerprint_and_not_by_its_cvv() {
    let mut app = spawn_app().await;
    ready(&mut app, "attempt").await;
    let first = app
        .post_once(
            "/api/payment-methods/cards",
            "key-card",
            &card_form(VISA, "123"),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    // Each replay is the first answer whole, as above.
    let first: Value = first.json().await.unwrap();
    for (number, cvv) in [("4111111111111111", "123"), (VISA, "456")] {
        let retry = app
            .post_once(
                "/api/payment-methods/cards",
                "key-card",
                &card_form(number, cvv),
            )
            .await;
        assert_eq!(retry.status(), StatusCode::CREATED, "{number} {cvv}");
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
        assert_eq!(retry.json::<Value>().await.unwrap(), first);
    }
    let other = app
        .post_once(
            "/api/payment-methods/cards",
            "key-card",
            &card_form(MASTERCARD, "123"),
        )
        .await;
    assert_eq!(
        refusal(other).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::IdempotencyKeyReused,
            None
        )
    );
    assert_eq!(app.count("payment_methods").await, 1);
    // What the key keeps: the hash of the card's stand-in, the same whatever the CVV.
    let kept: String =
        sqlx::query_scalar("SELECT request_hash FROM idempotency_keys WHERE idem_key = 'key-card'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let attempt = server::domain::payment::card_attempt(
        &app.state.secrets,
        &serde_json::from_value(card_form(VISA, "000")).unwrap(),
    );
    assert_eq!(
        kept,
        app.state
            .secrets
            .request_hash(&serde_json::to_vec(&attempt).unwrap())
    );
}

#[tokio::test]
async fn a_gateway_failure_frees_the_key_for_a_real_retry() {
    let mut app = spawn_app().await;
    ready(&mut app, "retry").await;
    let failing = card_form("4000000000000119", "123");
    let first = app
        .post_once("/api/payment-methods/cards", "key-net", &failing)
        .await;
    assert_eq!(first.status(), StatusCode::BAD_GATEWAY);
    let again = app
        .post_once("/api/payment-methods/cards", "key-net", &failing)
        .await;
    assert!(
        again.headers().get("idempotent-replayed").is_none(),
        "retried for real"
    );
}

#[tokio::test]
async fn changing_payment_methods_needs_a_recent_sign_in() {
    let mut app = spawn_app().await;
    ready(&mut app, "reauth").await;
    app.advance(DurationMs::seconds(3601));
    let (status, code, _) = refusal(add_card(&app, VISA).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::FORBIDDEN, ErrorCode::ReauthRequired)
    );
    let wrong = app
        .post(
            "/api/session/reauth",
            &json!({"password": "Wrong7Password"}),
        )
        .await;
    assert_eq!(refusal(wrong).await.1, ErrorCode::InvalidCredentials);
    let right = app
        .post("/api/session/reauth", &json!({"password": PASSWORD}))
        .await;
    assert_eq!(right.status(), StatusCode::OK);
    assert_eq!(add_card(&app, VISA).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_default_can_move_and_removing_it_promotes_another() {
    let mut app = spawn_app().await;
    ready(&mut app, "default").await;
    let visa = added(add_card(&app, VISA).await).await.method.id;
    let mc = added(add_card(&app, MASTERCARD).await).await.method.id;
    let list: PaymentMethodsView = body_as(
        app.post(&format!("/api/payment-methods/{mc}/default"), &json!({}))
            .await,
    )
    .await;
    let default: Vec<&str> = list
        .methods
        .iter()
        .filter(|m| m.is_default)
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(default, [mc.as_str()]);
    assert_eq!(
        list.card_entry,
        shared::api::CardEntry::Form,
        "the simulator takes the console's own card form"
    );
    let list: PaymentMethodsView =
        body_as(app.delete(&format!("/api/payment-methods/{mc}")).await).await;
    assert_eq!(list.methods[0].id, visa);
    assert!(list.methods[0].is_default);

    let mut stranger = app.another_client();
    stranger.signed_up("stranger").await;
    assert_eq!(
        stranger
            .delete(&format!("/api/payment-methods/{visa}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stranger
            .post(&format!("/api/payment-methods/{visa}/default"), &json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.count("payment_methods").await, 1);
}

/// Goes through the simulated PayPal page as a browser would; returns the approval token.
async fn approve_at_paypal(app: &TestApp, email: &str, country: &str) -> String {
    let started: PaypalStarted =
        body_as(app.post("/api/payment-methods/paypal", &json!({})).await).await;
    let token = started.token;
    let url = &started.approval_url;
    assert!(url.starts_with("/sim/paypal/checkout?token="), "{url}");
    let page = app.get(url).await.text().await.unwrap();
    assert!(page.contains("Agree and Continue") && page.contains("Cancel and return"));
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let consent = no_redirect
        .post(app.url("/sim/paypal/checkout"))
        .form(&[
            ("token", token.as_str()),
            ("email", email),
            ("password", "secret"),
            ("country", country),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        consent.headers()["location"],
        format!("/payment-methods/paypal/return?token={token}")
    );
    token
}

#[tokio::test]
async fn paypal_is_added_through_its_approval_page() {
    let mut app = spawn_app().await;
    ready(&mut app, "paypal").await;
    let token = approve_at_paypal(&app, "buyer@example.com", "US").await;
    let response = app
        .post(
            "/api/payment-methods/paypal/complete",
            &json!({"token": token}),
        )
        .await;
    let added = added(response).await;
    assert_eq!(added.method.kind, PaymentMethodKind::Paypal);
    assert_eq!(added.method.label, "PayPal b***@example.com");
    assert_eq!(added.free_credit_granted, Some(usd("300.00")));
    let (status, code, _) =
        refusal(app.post("/api/payment-methods/paypal", &json!({})).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::CardAlreadyBound),
        "one PayPal per account"
    );

    // The same PayPal account cannot be added to a second account.
    let mut other = app.another_client();
    ready(&mut other, "paypal2").await;
    let token = approve_at_paypal(&other, "buyer@example.com", "US").await;
    let (status, code, _) = refusal(
        other
            .post(
                "/api/payment-methods/paypal/complete",
                &json!({"token": token}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::CardAlreadyBound)
    );
}

/// Completing a PayPal binding makes the recent-sign-in check that starting it and every other
/// change of payment methods make: an hour after the password, PayPal is not bound.
#[tokio::test]
async fn completing_paypal_needs_a_recent_sign_in() {
    let mut app = spawn_app().await;
    ready(&mut app, "paypallate").await;
    let token = approve_at_paypal(&app, "late@example.com", "US").await;
    app.advance(DurationMs::seconds(3601));
    let body = json!({"token": token});
    let complete = || app.post("/api/payment-methods/paypal/complete", &body);
    let refused = complete().await;
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "nothing bound late"
    );
    assert_eq!(refusal(refused).await.1, ErrorCode::ReauthRequired);
    assert_eq!(app.count("payment_methods").await, 0);
    assert_eq!(ledger(&app).await.credit_balance, usd("0.00"));

    // The password again, and the same approval completes: the page carries on.
    let reauth = app
        .post("/api/session/reauth", &json!({"password": PASSWORD}))
        .await;
    assert_eq!(reauth.status(), StatusCode::OK);
    assert_eq!(complete().await.status(), StatusCode::CREATED);
    assert_eq!(app.count("payment_methods").await, 1);
}

#[tokio::test]
async fn mainland_china_paypal_is_refused_and_a_cancel_adds_nothing() {
    let mut app = spawn_app().await;
    ready(&mut app, "cnpaypal").await;
    let token = approve_at_paypal(&app, "cn@example.com", "CN").await;
    let (status, code, _) = refusal(
        app.post(
            "/api/payment-methods/paypal/complete",
            &json!({"token": token}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PaypalRegionNotSupported
        )
    );

    let started: PaypalStarted =
        body_as(app.post("/api/payment-methods/paypal", &json!({})).await).await;
    let (status, code, _) = refusal(
        app.post(
            "/api/payment-methods/paypal/complete",
            &json!({"token": started.token}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::PaypalCancelled)
    );
    assert_eq!(app.count("payment_methods").await, 0);

    let mut stranger = app.another_client();
    stranger.signed_up("notmine").await;
    let theirs = stranger
        .post(
            "/api/payment-methods/paypal/complete",
            &json!({"token": started.token}),
        )
        .await;
    assert_eq!(
        theirs.status(),
        StatusCode::NOT_FOUND,
        "a token works only for the account that started it"
    );
}

#[tokio::test]
async fn india_accounts_add_paytm_and_only_paytm() {
    let mut app = spawn_app().await;
    app.signed_up_in("india", "IN").await;
    app.with_billing_address("98765 43210").await;
    assert_eq!(methods(&app).await.available, [PaymentMethodKind::Paytm]);
    let (status, code, _) = refusal(add_card(&app, VISA).await).await;
    assert_eq!(
        (status, code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PaymentMethodNotAvailable
        )
    );

    let bad = app
        .post(
            "/api/payment-methods/paytm/code",
            &json!({"phone": "12345"}),
        )
        .await;
    assert_eq!(refusal(bad).await.2.as_deref(), Some("phone"));
    assert_eq!(
        app.post(
            "/api/payment-methods/paytm/code",
            &json!({"phone": "91234 56789"})
        )
        .await
        .status(),
        StatusCode::OK
    );
    let code = app.code_for("+919123456789").await;
    let response = app
        .post(
            "/api/payment-methods/paytm",
            &json!({"phone": "9123456789", "code": code}),
        )
        .await;
    let added = added(response).await;
    assert_eq!(added.method.kind, PaymentMethodKind::Paytm);
    assert_eq!(added.method.label, "Paytm +91****6789");
}

/// Paytm follows the billing-address rule every other method follows: an India account without
/// an address neither gets the code nor binds Paytm (and so takes no free credit).
#[tokio::test]
async fn paytm_needs_a_billing_address_first() {
    let mut app = spawn_app().await;
    app.signed_up_in("paytmnoaddr", "IN").await;
    let refused = app
        .post(
            "/api/payment-methods/paytm/code",
            &json!({"phone": "91234 56789"}),
        )
        .await;
    assert_eq!(
        refused.status(),
        StatusCode::CONFLICT,
        "no code without an address"
    );
    assert_eq!(refusal(refused).await.1, ErrorCode::BillingAddressRequired);
    let codes: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM verification_codes WHERE subject LIKE '%:paytm'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(codes, 0, "no code is sent");

    // "Add now" checks too: a code sent while the address was there, and the address then
    // removed behind the server's back, binds nothing.
    app.with_billing_address("98765 43210").await;
    let sent = app
        .post(
            "/api/payment-methods/paytm/code",
            &json!({"phone": "91234 56789"}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let code = app.code_for("+919123456789").await;
    app.delete_rows("billing_addresses").await;
    let refused = app
        .post(
            "/api/payment-methods/paytm",
            &json!({"phone": "9123456789", "code": code}),
        )
        .await;
    assert_eq!(
        refused.status(),
        StatusCode::CONFLICT,
        "no Paytm without an address"
    );
    assert_eq!(refusal(refused).await.1, ErrorCode::BillingAddressRequired);
    assert_eq!(app.count("payment_methods").await, 0);
    assert_eq!(ledger(&app).await.credit_balance, usd("0.00"));
}

#[tokio::test]
async fn other_accounts_cannot_use_paytm() {
    let mut app = spawn_app().await;
    ready(&mut app, "nopaytm").await;
    assert_eq!(
        methods(&app).await.available,
        [PaymentMethodKind::Card, PaymentMethodKind::Paypal]
    );
    let (status, code, _) = refusal(
        app.post(
            "/api/payment-methods/paytm/code",
            &json!({"phone": "81234567"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PaymentMethodNotAvailable
        )
    );
}

#[tokio::test]
async fn malaysian_accounts_are_verified_with_one_ringgit() {
    let mut app = spawn_app().await;
    app.signed_up_in("malaysia", "MY").await;
    app.with_billing_address("12 345 6789").await;
    let one_ringgit = Money::from_minor(1_00, Currency::MYR);
    assert_eq!(methods(&app).await.verification_hold, one_ringgit);
    assert_eq!(add_card(&app, VISA).await.status(), StatusCode::CREATED);
    let ledger = ledger(&app).await;
    let hold = ledger
        .entries
        .iter()
        .find(|e| e.kind == shared::api::LedgerKind::PreauthHold)
        .unwrap();
    assert_eq!(hold.amount, one_ringgit);
}

#[tokio::test]
async fn payment_routes_refuse_anonymous_callers() {
    let app = spawn_app().await;
    for path in ["/api/payment-methods", "/api/ledger"] {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    assert_eq!(
        add_card(&app, VISA).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_key_whose_first_request_died_can_be_retried_after_five_minutes() {
    let mut app = spawn_app().await;
    ready(&mut app, "abandoned").await;
    let form = card_form(VISA, "123");
    // What a server killed mid-request leaves: the key taken, no answer stored.
    let account: String = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let body = serde_json::to_vec(&server::domain::payment::card_attempt(
        &app.state.secrets,
        &serde_json::from_value(form.clone()).unwrap(),
    ))
    .unwrap();
    sqlx::query("INSERT INTO idempotency_keys (account_id, idem_key, request_hash, created_at) VALUES ($1, 'died', $2, $3)")
        .bind(&account)
        .bind(app.state.secrets.request_hash(&body))
        .bind(app.state.clock.now())
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let (status, code, _) = refusal(
        app.post_once("/api/payment-methods/cards", "died", &form)
            .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::IdempotencyInProgress)
    );
    app.advance(DurationMs::minutes(5));
    assert_eq!(
        app.post_once("/api/payment-methods/cards", "died", &form)
            .await
            .status(),
        StatusCode::CREATED
    );
}
