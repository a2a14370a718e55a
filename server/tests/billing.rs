//! Billing address, second-channel verification and real-name registration (SPEC §2).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use shared::ErrorCode;
use shared::account::Channel;
use shared::api::{
    AccountView, BillingAddressView, CodeSent, NextStepKey, RealNameStatus, RealNameView,
    SessionInfo,
};
use shared::billing::{AccountType, BillingAddress};

async fn address_view(app: &TestApp) -> BillingAddressView {
    app.get_as("/api/billing-address").await
}

#[tokio::test]
async fn the_address_waits_for_the_mobile_number_of_an_email_signup() {
    let mut app = spawn_app().await;
    app.signed_up("addr").await;
    let view = address_view(&app).await;
    assert_eq!(view.address, None);
    assert_eq!(view.contact_to_verify, Some(Channel::Phone));
    assert_eq!(view.calling_code, "65");

    let (status, code, field) =
        refusal(app.put("/api/billing-address", &address_in("SG")).await).await;
    assert_eq!(
        (status, code, field.as_deref()),
        (
            StatusCode::CONFLICT,
            ErrorCode::ContactNotVerified,
            Some("contact")
        )
    );
    assert_eq!(app.count("billing_addresses").await, 0);

    // An email code is not what this account lacks.
    let (_, code, _) = refusal(
        app.post("/api/account/contact/code", &json!({"channel": "email"}))
            .await,
    )
    .await;
    assert_eq!(code, ErrorCode::ContactNotVerified);

    let sent = app
        .post(
            "/api/account/contact/code",
            &json!({"channel": "phone", "phone": "9123 4567", "delivery": "voice"}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let inbox = app.inbox("+6591234567").await;
    assert_eq!(inbox[0].channel, "voice");
    let code = app.code_for("+6591234567").await;
    let me: AccountView = body_as(
        app.post("/api/account/contact/verify", &json!({"code": code}))
            .await,
    )
    .await;
    assert_eq!(me.phone.as_deref(), Some("+6591234567"));

    let saved = app.put("/api/billing-address", &address_in("SG")).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let saved: BillingAddress = body_as(saved).await;
    assert_eq!(
        saved.address.state, "Singapore",
        "no state in Singapore: the country's name stands in"
    );
    let view = address_view(&app).await;
    assert_eq!(view.address.unwrap().address.city, "Singapore");
    assert_eq!(view.contact_to_verify, None);
    let session: SessionInfo = app.get_as("/api/session").await;
    let steps = &session.account.next_steps;
    assert!(
        steps
            .iter()
            .any(|s| s.key == NextStepKey::BillingAddress && s.done)
    );
    assert!(
        steps
            .iter()
            .any(|s| s.key == NextStepKey::VerifyContact && s.done)
    );
}

#[tokio::test]
async fn a_phone_signup_verifies_its_email_with_the_address() {
    let mut app = spawn_app().await;
    let email = email("phonefirst");
    let id = app.start_signup(&email).await;
    app.post(
        &format!("/api/signup/{id}/code"),
        &json!({"channel": "phone", "phone": "81234567"}),
    )
    .await;
    let code = app.code_for("+6581234567").await;
    let session: SessionInfo = body_as(
        app.post(&format!("/api/signup/{id}/verify"), &json!({"code": code}))
            .await,
    )
    .await;
    app.csrf = Some(session.csrf_token);

    assert_eq!(
        address_view(&app).await.contact_to_verify,
        Some(Channel::Email)
    );
    let sent: CodeSent = body_as(app.post("/api/account/contact/code", &json!({})).await).await;
    assert_eq!(sent.channel, Channel::Email);
    let code = app.code_for(&email).await;
    assert_eq!(
        app.post("/api/account/contact/verify", &json!({"code": code}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.put("/api/billing-address", &address_in("SG"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_wrong_contact_code_is_counted_and_changes_nothing() {
    let mut app = spawn_app().await;
    app.signed_up("wrongcontact").await;
    app.post(
        "/api/account/contact/code",
        &json!({"channel": "phone", "phone": "81234567"}),
    )
    .await;
    let right = app.code_for("+6581234567").await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, code, _) = refusal(
        app.post("/api/account/contact/verify", &json!({"code": wrong}))
            .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CodeIncorrect)
    );
    assert!(!address_view(&app).await.phone_verified);
}

#[tokio::test]
async fn bad_address_fields_are_refused_by_name_and_nothing_is_saved() {
    let mut app = spawn_app().await;
    app.signed_up("badaddr").await;
    app.with_billing_address("81234567").await;
    app.delete_rows("billing_addresses").await;
    let cases = [
        ("postal_code", json!("12345"), ErrorCode::InvalidPostalCode),
        ("city", json!("  "), ErrorCode::FieldRequired),
        ("last_name", json!("x".repeat(65)), ErrorCode::FieldTooLong),
        ("country", json!("XX"), ErrorCode::InvalidCountry),
    ];
    for (field, value, code) in cases {
        let mut form = address_in("SG");
        form[field] = value;
        let (status, got, got_field) = refusal(app.put("/api/billing-address", &form).await).await;
        assert_eq!(
            (status, got, got_field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }
    let mut corporate = address_in("SG");
    corporate["account_type"] = json!("corporate");
    let (_, code, field) = refusal(app.put("/api/billing-address", &corporate).await).await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::FieldRequired, Some("company_name"))
    );
    let mut us = address_in("US");
    us["postal_code"] = json!("941");
    let (_, code, field) = refusal(app.put("/api/billing-address", &us).await).await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::InvalidPostalCode, Some("postal_code"))
    );
    assert_eq!(app.count("billing_addresses").await, 0);
}

/// Seed 000 and SPEC §2: the postal code is optional, even where its format is known.
#[tokio::test]
async fn an_address_without_a_postal_code_is_saved() {
    let mut app = spawn_app().await;
    app.signed_up("nopostal").await;
    app.with_billing_address("81234567").await;
    for country in ["US", "IN", "SG"] {
        let mut form = address_in(country);
        form["postal_code"] = json!("");
        let response = app.put("/api/billing-address", &form).await;
        assert!(
            response.status().is_success(),
            "{country}: {}",
            response.status()
        );
        let address = address_view(&app).await.address.unwrap().address;
        assert_eq!(address.country, country, "{address:?}");
        assert_eq!(address.postal_code, None, "{address:?}");
    }
}

#[tokio::test]
async fn a_corporate_address_is_saved_and_can_be_edited() {
    let mut app = spawn_app().await;
    app.signed_up("corp").await;
    app.with_billing_address("81234567").await;
    let mut corporate = address_in("SG");
    corporate["account_type"] = json!("corporate");
    corporate["company_name"] = json!("Acme Cloud Pte Ltd");
    corporate["address_line2"] = json!("#12-01");
    let saved: BillingAddress = body_as(app.put("/api/billing-address", &corporate).await).await;
    assert_eq!(saved.company_name.as_deref(), Some("Acme Cloud Pte Ltd"));
    let address = address_view(&app).await.address.unwrap();
    assert_eq!(address.account_type, AccountType::Corporate);
    assert_eq!(address.address.address_line2.as_deref(), Some("#12-01"));
    assert_eq!(app.count("billing_addresses").await, 1);
}

#[tokio::test]
async fn one_account_never_sees_another_accounts_address() {
    let mut first = spawn_app().await;
    first.signed_up("mine").await;
    first.with_billing_address("81234567").await;
    let mut second = first.another_client();
    second.signed_up("theirs").await;
    assert_eq!(address_view(&second).await.address, None);
    let anonymous = first.another_client();
    assert_eq!(
        anonymous.get("/api/billing-address").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        anonymous
            .put("/api/billing-address", &address_in("SG"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn real_name_registration_checks_the_id_and_keeps_it_masked() {
    let mut app = spawn_app().await;
    app.signed_up("realname").await;
    let view: RealNameView = app.get_as("/api/real-name").await;
    assert_eq!(view.status, RealNameStatus::NotRegistered);

    let bad = json!({"kind": "individual", "name": "Wang Fang", "id_number": "110105194912310021"});
    let (status, code, field) = refusal(app.post("/api/real-name", &bad).await).await;
    assert_eq!(
        (status, code, field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidIdNumber,
            Some("id_number")
        )
    );
    let enterprise_with_person_id =
        json!({"kind": "enterprise", "name": "Acme", "id_number": "11010519491231002X"});
    assert_eq!(
        app.post("/api/real-name", &enterprise_with_person_id)
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let good =
        json!({"kind": "individual", "name": "Wang Fang", "id_number": "11010519491231002X"});
    let view: RealNameView = body_as(app.post("/api/real-name", &good).await).await;
    assert_eq!(view.status, RealNameStatus::Verified);
    assert_eq!(view.id_masked.as_deref(), Some("110105********002X"));
    let stored: String = sqlx::query_scalar("SELECT id_masked FROM real_name_registrations")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert!(!stored.contains("19491231"));
    let session: SessionInfo = app.get_as("/api/session").await;
    assert_eq!(session.account.real_name, RealNameStatus::Verified);

    let again = json!({"kind": "enterprise", "name": "Acme", "id_number": "91350100M000100Y43"});
    let (status, code, _) = refusal(app.post("/api/real-name", &again).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::RealNameAlreadyVerified)
    );
}
