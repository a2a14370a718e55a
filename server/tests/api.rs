//! The API as a whole: health, its OpenAPI document, errors for unknown routes, the app
//! fallback, headers, and what only dev mode has.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::ErrorCode;
use shared::api::{DatabaseState, Health, Serving};

#[tokio::test]
async fn liveness_answers_and_readiness_reports_the_database() {
    let app = spawn_app().await;
    let live: Health = app.get_as("/api/health").await;
    assert_eq!(
        live,
        Health {
            status: Serving::Ok,
            database: None,
        },
        "liveness leaves the database out"
    );
    let ready: Health = app.get_as("/api/ready").await;
    assert_eq!(
        ready,
        Health {
            status: Serving::Ok,
            database: Some(DatabaseState::Ok),
        }
    );
}

/// The document served is the one committed in tests/snapshots/api__openapi.snap: a change to
/// the API fails this test and shows up in review. After a deliberate change, accept the new
/// document with `cargo insta review` (cargo-insta), or write it at once with
/// `INSTA_UPDATE=always cargo test -p server --test api`. A plain `cargo test` never writes
/// the snapshot: on a mismatch it fails (leaving a `.snap.new` beside it to review, except
/// under `CI=true`).
#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() {
    let app = spawn_app().await;
    let served: Value = app.get_as("/api/openapi.json").await;
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));
    insta::assert_json_snapshot!("openapi", served);
}

/// The document states the rules of the shared validators, read from the same constants the
/// validators check, so that a generated request can be valid (without them the API fuzzer
/// mostly hits the validation).
#[tokio::test]
async fn the_openapi_document_states_the_shared_validation_rules() {
    use shared::account::{Email, Password};
    let app = spawn_app().await;
    let doc: Value = app.get_as("/api/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    let email_ref = json!({"$ref": "#/components/schemas/Email"});
    assert_eq!(schemas["SignupForm"]["properties"]["email"], email_ref);
    assert_eq!(schemas["SignInForm"]["properties"]["email"], email_ref);
    assert_eq!(schemas["Email"]["maxLength"], json!(Email::MAX_LEN));
    assert_eq!(schemas["Password"]["minLength"], json!(Password::MIN_CHARS));
    assert_eq!(schemas["Password"]["maxLength"], json!(Password::MAX_CHARS));
    let countries: Vec<&str> = shared::country::COUNTRIES.iter().map(|c| c.code).collect();
    assert_eq!(schemas["Country"]["enum"], json!(countries));
    assert_eq!(
        schemas["AddressForm"]["properties"]["address_line1"]["pattern"],
        json!(shared::openapi::line_of_text_pattern(
            shared::billing::ADDRESS_LINE_MAX_CHARS
        ))
    );
    assert_eq!(
        schemas["ConfirmClosureForm"]["properties"]["reason_detail"]["maxLength"],
        json!(shared::api::REASON_DETAIL_MAX_CHARS)
    );
    let products: Vec<&str> = shared::catalog::PRODUCTS.iter().map(|p| p.code).collect();
    assert_eq!(
        schemas["PurchaseForm"]["properties"]["product"]["enum"],
        json!(products)
    );
    assert_eq!(schemas["Password"]["pattern"], json!(Password::PATTERN));
    assert_eq!(
        schemas["UnsubscribeForm"]["properties"]["instance_ids"]["maxItems"],
        json!(shared::api::MAX_BATCH)
    );
    let key = &doc["paths"]["/api/orders"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap()["schema"]["pattern"];
    let inner = server::idempotency::KEY_MAX_BYTES - 2;
    assert!(key.as_str().unwrap().contains(&format!("{{0,{inner}}}")));
}

/// The answers link to the operations that take what they made (the fuzzer's
/// stateful phase follows them): a sign-up to its code and verification, an order to its
/// instance, an unsubscription to its record, a card to its removal.
#[tokio::test]
async fn the_openapi_document_links_what_an_answer_makes_to_where_it_is_used() {
    let app = spawn_app().await;
    let doc: Value = app.get_as("/api/openapi.json").await;
    let links = |path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["links"].clone()
    };
    let signup = links("/api/signup", "post", "201");
    assert_eq!(
        signup["SendCode"],
        json!({"operationRef": "#/paths/~1api~1signup~1{id}~1code/post",
               "parameters": {"path.id": "$response.body#/signup_id"}})
    );
    assert_eq!(
        links("/api/signup/{id}/code", "post", "200")["Verify"]["operationRef"],
        "#/paths/~1api~1signup~1{id}~1verify/post"
    );
    assert_eq!(
        links("/api/orders", "post", "201")["Renew"]["parameters"]["path.id"],
        "$response.body#/instance/id"
    );
    assert_eq!(
        links("/api/unsubscribe", "post", "200")["Record"]["operationRef"],
        "#/paths/~1api~1unsubscribe~1records~1{id}/get"
    );
    assert_eq!(
        links("/api/payment-methods/cards", "post", "201")["Remove"]["operationRef"],
        "#/paths/~1api~1payment-methods~1{id}/delete"
    );
}

/// A sign-up made of the document's own examples of each field is accepted.
#[tokio::test]
async fn a_sign_up_from_the_documents_examples_is_accepted() {
    let app = spawn_app().await;
    let doc: Value = app.get_as("/api/openapi.json").await;
    let example = |schema: &str| doc["components"]["schemas"][schema]["examples"][0].clone();
    let password = example("Password");
    let answer = app
        .post(
            "/api/signup",
            &json!({
                "country": example("Country"),
                "email": example("Email"),
                "password": password,
                "password_confirmation": password,
                "accept_agreement": true,
            }),
        )
        .await;
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap()
    );
}

/// Every documented operation is routed, and every route we know of is documented.
#[tokio::test]
async fn the_openapi_document_and_the_router_agree() {
    let app = spawn_app().await;
    let doc: Value = app.get_as("/api/openapi.json").await;
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let expected = [
        "DELETE /api/payment-methods/{id}",
        "DELETE /api/ram-users/{id}",
        "DELETE /api/relationships/{id}",
        "DELETE /api/reseller-partnership",
        "DELETE /api/session",
        "DELETE /api/sessions/{id}",
        "GET /api/account/two-step",
        "GET /api/billing-address",
        "GET /api/closure",
        "GET /api/closure/check",
        "GET /api/closure/export",
        "GET /api/closure/system-check/{id}",
        "GET /api/closure/ties",
        "GET /api/coupons",
        "GET /api/dev/inbox",
        "GET /api/health",
        "GET /api/instances",
        "GET /api/ledger",
        "GET /api/operation-log",
        "GET /api/payment-methods",
        "GET /api/ram-users",
        "GET /api/ready",
        "GET /api/real-name",
        "GET /api/session",
        "GET /api/sessions",
        "GET /api/signup/{id}",
        "GET /api/spending",
        "GET /api/spending/export.csv",
        "GET /api/unsubscribe",
        "GET /api/unsubscribe/records/{id}",
        "GET /api/withdrawals",
        "POST /api/account/contact/code",
        "POST /api/account/contact/verify",
        "POST /api/account/two-step/disable",
        "POST /api/account/two-step/enable",
        "POST /api/account/two-step/setup",
        "POST /api/bills/{id}/pay",
        "POST /api/closure",
        "POST /api/closure/identity/alipay",
        "POST /api/closure/identity/authenticator",
        "POST /api/closure/identity/code",
        "POST /api/closure/identity/verify",
        "POST /api/closure/renounce",
        "POST /api/closure/system-check",
        "POST /api/dev/clock",
        "POST /api/dev/run-jobs",
        "POST /api/dev/seed-demo",
        "POST /api/icp-filings/{id}/cancel",
        "POST /api/instances/{id}/activate",
        "POST /api/instances/{id}/auto-renew",
        "POST /api/instances/{id}/release",
        "POST /api/instances/{id}/renew",
        "POST /api/instances/{id}/transfer-out",
        "POST /api/orders",
        "POST /api/password-reset",
        "POST /api/password-reset/{id}",
        "POST /api/password-reset/{id}/code",
        "POST /api/payment-methods/card-tokens",
        "POST /api/payment-methods/cards",
        "POST /api/payment-methods/paypal",
        "POST /api/payment-methods/paypal/complete",
        "POST /api/payment-methods/paytm",
        "POST /api/payment-methods/paytm/code",
        "POST /api/payment-methods/{id}/default",
        "POST /api/ram-users",
        "POST /api/real-name",
        "POST /api/session",
        "POST /api/session/ram",
        "POST /api/session/reauth",
        "POST /api/session/two-step",
        "POST /api/sessions/sign-out-others",
        "POST /api/signup",
        "POST /api/signup/{id}/code",
        "POST /api/signup/{id}/verify",
        "POST /api/unsubscribe",
        "POST /api/unsubscribe/renewals",
        "POST /api/unsubscribe/renewals/batch",
        "POST /api/webhooks/stripe",
        "POST /api/webhooks/twilio",
        "POST /api/withdrawals",
        "PUT /api/account/password",
        "PUT /api/billing-address",
    ];
    assert_eq!(documented, expected);
    for operation in &documented {
        let (method, path) = operation.split_once(' ').unwrap();
        let url = app.url(&path.replace("{id}", "some-id"));
        let response = app
            .client
            .request(Method::from_bytes(method.as_bytes()).unwrap(), url)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_ne!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{operation}"
        );
        let body = response.text().await.unwrap_or_default();
        if operation == "POST /api/webhooks/stripe" {
            // Answers not_found on a server without Stripe, as this one is; it is routed
            // where Stripe is configured (`tests/stripe_webhook.rs`).
            continue;
        }
        let code = serde_json::from_str::<shared::ErrorBody>(&body).map(|e| e.code);
        assert_ne!(
            code.ok(),
            Some(ErrorCode::NotFound),
            "{operation} is documented but not routed: {body}"
        );
    }
}

#[tokio::test]
async fn an_unknown_api_path_is_a_json_not_found() {
    let app = spawn_app().await;
    let (status, code, _) = refusal(app.get("/api/no/such/thing").await).await;
    assert_eq!((status, code), (StatusCode::NOT_FOUND, ErrorCode::NotFound));
}

#[tokio::test]
async fn other_paths_get_the_app_so_deep_links_work() {
    let app = spawn_app().await;
    // The test server's site folder is its data folder.
    let site = app.state.config.site_dir.clone();
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><title>Account Center</title>",
    )
    .unwrap();
    std::fs::write(site.join("main.css"), "body{}").unwrap();
    for path in ["/", "/signup", "/signup/verify/abc"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("<title>Account Center</title>"),
            "{path}"
        );
    }
    let css = app.get("/main.css").await;
    assert_eq!(css.headers()["content-type"], "text/css");
}

#[tokio::test]
async fn responses_carry_protective_headers() {
    let app = spawn_app().await;
    let response = app.get("/api/health").await;
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["referrer-policy"], "same-origin");
}

#[tokio::test]
async fn the_dev_clock_moves_business_time_forward() {
    let app = spawn_app().await;
    let before = app.state.clock.now();
    let response = app
        .post("/api/dev/clock", &json!({"advance_seconds": 3600}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let moved = app.state.clock.now() - before;
    assert!(
        moved >= DurationMs::seconds(3600) && moved < DurationMs::seconds(3660),
        "{moved:?}"
    );
    let (status, _, field) = refusal(
        app.post("/api/dev/clock", &json!({"advance_seconds": -5}))
            .await,
    )
    .await;
    assert_eq!(
        (status, field.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("advance_seconds"))
    );
}

#[tokio::test]
async fn the_dev_inbox_page_lists_messages_escaped() {
    let app = spawn_app().await;
    let email = email("inbox");
    let id = app.start_signup(&email).await;
    app.post(&format!("/api/signup/{id}/code"), &json!({}))
        .await;
    let page = app.get("/dev/inbox").await.text().await.unwrap();
    assert!(
        page.contains(&email) && page.contains("verification code is"),
        "{page}"
    );
}

#[tokio::test]
async fn production_mode_has_no_inbox_no_clock_and_secure_cookies() {
    let app = spawn_app_with(&["--mode", "prod"]).await;
    let site = app.state.config.site_dir.clone();
    std::fs::write(site.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    let (status, code, _) = refusal(app.get("/api/dev/inbox").await).await;
    assert_eq!((status, code), (StatusCode::NOT_FOUND, ErrorCode::NotFound));
    let (status, _, _) = refusal(
        app.post("/api/dev/clock", &json!({"advance_seconds": 60}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        !app.get("/dev/inbox")
            .await
            .text()
            .await
            .unwrap()
            .contains("Dev inbox")
    );
    let doc: Value = app.get_as("/api/openapi.json").await;
    assert!(doc["paths"].get("/api/dev/inbox").is_none());

    // Sign up by reading the code from the outbox table, as no inbox exists here.
    let email = email("prod");
    let id = app.start_signup(&email).await;
    app.post(&format!("/api/signup/{id}/code"), &json!({}))
        .await;
    let body: String = sqlx::query_scalar("SELECT body FROM outbox")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let code: String = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_owned();
    let verified = app
        .post(&format!("/api/signup/{id}/verify"), &json!({"code": code}))
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    assert!(
        verified.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}
