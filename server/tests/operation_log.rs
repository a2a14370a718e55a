//! The operation log (SPEC §1 "Account security"): who did what, when, from which address,
//! written with the action itself; filtered by category; in the closure's export; the
//! account's alone.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use shared::ErrorCode;
use shared::api::{OperationCategory, OperationEntry, OperationLog, SessionInfo};

async fn log(app: &TestApp, query: &str) -> OperationLog {
    let response = app.get(&format!("/api/operation-log{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    body_as(response).await
}

fn actions(log: &OperationLog) -> Vec<&str> {
    log.entries.iter().map(|e| e.action.as_str()).collect()
}

#[tokio::test]
async fn security_and_money_actions_are_logged_with_who_and_from_where() {
    let mut owner = spawn_app().await;
    let email = owner.ready_to_buy("logged").await;
    let refused = owner
        .another_client()
        .post(
            "/api/session",
            &json!({"email": email, "password": "Wrong7Password"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let instance = owner.buy("ecs", 1, "default_method").await;
    let created = owner
        .post(
            "/api/ram-users",
            &json!({"username": "ops", "password": "Turbine9Blue", "permissions": ["BillingFullAccess"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let me: SessionInfo = owner.get_as("/api/session").await;
    let mut ram = owner.another_client();
    let session: SessionInfo = body_as(
        ram.post(
            "/api/session/ram",
            &json!({"account_alias": me.account.uid, "username": "ops", "password": "Turbine9Blue"}),
        )
        .await,
    )
    .await;
    ram.csrf = Some(session.csrf_token);
    let by_ram = ram.buy("oss", 1, "default_method").await;
    let changed = owner
        .put(
            "/api/account/password",
            &json!({"current_password": PASSWORD, "password": "Turbine9Blue", "password_confirmation": "Turbine9Blue"}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);

    let all = log(&owner, "").await;
    assert_eq!(
        actions(&all),
        [
            "password_changed",
            "purchase",
            "sign_in",
            "ram_user_created",
            "purchase",
            "sign_in_failed",
            "payment_method_added",
            "billing_address_saved",
        ],
        "newest first: {all:?}"
    );
    assert_eq!(all.total, 8);
    let ram_purchase = &all.entries[1];
    assert_eq!(ram_purchase.actor, "ram:ops");
    assert!(ram_purchase.detail.contains(&by_ram), "{ram_purchase:?}");
    assert_eq!(all.entries[2].actor, "ram:ops");
    let own_purchase = &all.entries[4];
    assert_eq!(own_purchase.actor, "owner");
    assert!(own_purchase.detail.contains(&instance));
    assert!(
        all.entries
            .iter()
            .all(|e| e.ip.as_deref() == Some("127.0.0.1"))
    );
    assert!(
        all.entries.iter().all(|e| !e.detail.contains(&email)),
        "no email in details"
    );
    assert_eq!(all.entries[5].detail, "wrong password");

    let money = log(&owner, "?category=money").await;
    assert_eq!(
        actions(&money),
        [
            "purchase",
            "purchase",
            "payment_method_added",
            "billing_address_saved"
        ]
    );
    assert!(
        money
            .entries
            .iter()
            .all(|e| e.category == OperationCategory::Money)
    );
    let security = log(&owner, "?category=security").await;
    assert_eq!(security.total, 4);

    // RAM users, even with billing access, do not read the account's log.
    assert_eq!(
        ram.get("/api/operation-log").await.status(),
        StatusCode::FORBIDDEN
    );
    // Another account's log holds only its own.
    let mut stranger = owner.another_client();
    stranger.signed_up("stranger").await;
    assert_eq!(log(&stranger, "").await.total, 0);
}

#[tokio::test]
async fn a_refused_action_leaves_no_entry_and_the_export_holds_the_log() {
    let mut owner = spawn_app().await;
    owner.signed_up("export").await;
    let weak = owner
        .put(
            "/api/account/password",
            &json!({"current_password": PASSWORD, "password": "short", "password_confirmation": "short"}),
        )
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(log(&owner, "").await.total, 0);
    owner.with_billing_address("81234567").await;
    // The export's operation log is the log's own entries.
    let entries: Vec<OperationEntry> = owner
        .get_as::<Export>("/api/closure/export")
        .await
        .operation_log;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "billing_address_saved");
    assert_eq!(entries[0].category, OperationCategory::Money);
}

#[tokio::test]
async fn any_page_number_is_answered_and_an_unknown_category_is_refused() {
    let mut owner = spawn_app().await;
    owner.signed_up("pages").await;
    let far = log(&owner, "?page=2147483647").await;
    assert!(far.entries.is_empty());
    assert_eq!(far.page, 2_147_483_647);
    let past = owner.get("/api/operation-log?page=2147483648").await;
    assert_eq!(refusal(past).await.2.as_deref(), Some("page"));
    assert_eq!(log(&owner, "?page=0").await.page, 1);
    let wrong = owner.get("/api/operation-log?category=everything").await;
    assert!(wrong.status().is_client_error(), "{}", wrong.status());
    assert_eq!(refusal(wrong).await.1, ErrorCode::BadRequest);
}
