//! RAM users: created by the owner, signed in under the owner's account alias, limited to
//! their permissions, never reaching owner-only steps or another account's data.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::ErrorCode;
use shared::api::{
    InstanceStatus, InstanceView, Permission, RamUserView, SessionInfo, UnsubscribeList,
};

const RAM_PASSWORD: &str = "Turbine9Blue";

async fn create_ram_user(owner: &TestApp, username: &str, permissions: &[&str]) -> RamUserView {
    let response = owner
        .post(
            "/api/ram-users",
            &json!({"username": username, "password": RAM_PASSWORD, "permissions": permissions}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    body_as(response).await
}

/// The owner's account ID, which RAM users sign in under.
async fn alias_of(owner: &TestApp) -> String {
    owner
        .get_as::<SessionInfo>("/api/session")
        .await
        .account
        .uid
}

/// A new client signed in as the RAM user.
async fn ram_session(owner: &TestApp, username: &str) -> TestApp {
    let mut ram = owner.another_client();
    let alias = alias_of(owner).await;
    let response = ram
        .post(
            "/api/session/ram",
            &json!({"account_alias": alias, "username": username, "password": RAM_PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let session: SessionInfo = body_as(response).await;
    assert_eq!(session.ram_user.unwrap().username, username);
    ram.csrf = Some(session.csrf_token);
    ram
}

#[tokio::test]
async fn the_owner_creates_lists_and_deletes_ram_users() {
    let mut owner = spawn_app().await;
    owner.signed_up("owner").await;
    let created = create_ram_user(&owner, "Ops.Bot", &["BillingFullAccess"]).await;
    assert_eq!(created.username, "ops.bot");
    assert_eq!(created.permissions, [Permission::BillingFullAccess]);
    let (status, code, field) = refusal(
        owner
            .post(
                "/api/ram-users",
                &json!({"username": "ops.bot", "password": RAM_PASSWORD}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, code, field.as_deref()),
        (
            StatusCode::CONFLICT,
            ErrorCode::UsernameTaken,
            Some("username")
        )
    );
    let (_, code, _) = refusal(
        owner
            .post(
                "/api/ram-users",
                &json!({"username": "x", "password": "short"}),
            )
            .await,
    )
    .await;
    assert_eq!(code, ErrorCode::InvalidUsername);
    let list: Vec<RamUserView> = owner.get_as("/api/ram-users").await;
    assert_eq!(list.len(), 1);

    let ram = ram_session(&owner, "ops.bot").await;
    let id = &created.id;
    assert_eq!(
        owner.delete(&format!("/api/ram-users/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        ram.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED,
        "its sessions end with it"
    );
}

#[tokio::test]
async fn a_wrong_alias_or_password_is_one_answer() {
    let mut owner = spawn_app().await;
    owner.signed_up("aliases").await;
    create_ram_user(&owner, "reader", &[]).await;
    let alias = alias_of(&owner).await;
    let anon = owner.another_client();
    let wrong_password = anon
        .post(
            "/api/session/ram",
            &json!({"account_alias": alias, "username": "reader", "password": "Nope12345"}),
        )
        .await;
    let wrong_alias = anon.post("/api/session/ram", &json!({"account_alias": "5000000000000000", "username": "reader", "password": RAM_PASSWORD})).await;
    assert_eq!(refusal(wrong_password).await, refusal(wrong_alias).await);
}

/// The throttle counts each check as it is made: were the failures read before any of the
/// thirty was checked, all would be, and the right password, sent last, would sign the RAM user
/// in after twenty-nine wrong ones.
#[tokio::test]
async fn thirty_ram_sign_ins_at_once_check_five_passwords() {
    let mut owner = spawn_app().await;
    owner.signed_up("ram-burst").await;
    create_ram_user(&owner, "reader", &[]).await;
    let alias = alias_of(&owner).await;
    let bodies: Vec<Value> = (0..30)
        .map(|n| {
            let password = if n == 29 { RAM_PASSWORD } else { "Nope12345" };
            json!({"account_alias": alias, "username": "reader", "password": password})
        })
        .collect();
    let burst = owner
        .another_client()
        .burst("/api/session/ram", &bodies)
        .await;
    assert!(burst.other.is_empty(), "{burst:?}");
    assert_eq!((burst.checked(), burst.throttled), (5, 25), "{burst:?}");
}

#[tokio::test]
async fn a_ram_sign_in_with_a_part_missing_is_bad_input_not_a_failed_sign_in() {
    let owner = spawn_app().await;
    let anon = owner.another_client();
    let response = anon
        .post(
            "/api/session/ram",
            &json!({"account_alias": "  ", "username": "reader", "password": RAM_PASSWORD}),
        )
        .await;
    let (status, code, field) = refusal(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, ErrorCode::FieldRequired);
    assert_eq!(field.as_deref(), Some("account_alias"));
    let failures: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rate_events")
        .fetch_one(&owner.state.db)
        .await
        .unwrap();
    assert_eq!(
        failures, 0,
        "nothing was tried, so nothing counts towards the throttle"
    );
}

#[tokio::test]
async fn unsubscribing_needs_billing_full_access() {
    let mut owner = spawn_app().await;
    owner.ready_to_buy("perm").await;
    let id = owner.buy("ecs", 1, "default_method").await;
    create_ram_user(&owner, "nobody", &[]).await;
    create_ram_user(&owner, "reader", &["BillingReadOnlyAccess"]).await;
    create_ram_user(&owner, "billing", &["BillingFullAccess"]).await;
    let form = json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true});

    let nobody = ram_session(&owner, "nobody").await;
    let (status, code, _) = refusal(nobody.get("/api/unsubscribe").await).await;
    assert_eq!(
        (status, code),
        (StatusCode::FORBIDDEN, ErrorCode::PermissionDenied)
    );

    let reader = ram_session(&owner, "reader").await;
    let list: UnsubscribeList = reader.get_as("/api/unsubscribe").await;
    assert_eq!(list.total, 1, "read access sees the owner's resources");
    let (status, code, _) = refusal(reader.post_once("/api/unsubscribe", "r-1", &form).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::FORBIDDEN, ErrorCode::PermissionDenied)
    );
    assert_eq!(owner.count("refunds").await, 0);

    let billing = ram_session(&owner, "billing").await;
    assert_eq!(
        billing
            .post_once("/api/unsubscribe", "b-1", &form)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn ram_users_never_reach_owner_only_steps() {
    let mut owner = spawn_app().await;
    owner.ready_to_buy("owneronly").await;
    create_ram_user(&owner, "admin", &["BillingFullAccess"]).await;
    let ram = ram_session(&owner, "admin").await;
    let refusals = [
        ram.post_once("/api/payment-methods/cards", "c", &card_form(&unique_visa(), "123")).await,
        ram.get("/api/payment-methods").await,
        ram.put("/api/billing-address", &address_in("SG")).await,
        ram.get("/api/billing-address").await,
        ram.post("/api/real-name", &json!({"kind": "individual", "name": "X", "id_number": "11010519491231002X"})).await,
        ram.get("/api/ram-users").await,
        ram.post("/api/ram-users", &json!({"username": "sneaky", "password": RAM_PASSWORD, "permissions": ["BillingFullAccess"]})).await,
        ram.post("/api/dev/seed-demo", &json!({})).await,
    ];
    for response in refusals {
        let url = response.url().path().to_owned();
        let (status, code, _) = refusal(response).await;
        assert_eq!(
            (status, code),
            (StatusCode::FORBIDDEN, ErrorCode::OwnerOnly),
            "{url}"
        );
    }
    let me: SessionInfo = ram.get_as("/api/session").await;
    assert_eq!(me.ram_user.unwrap().username, "admin");
}

#[tokio::test]
async fn a_ram_user_sees_only_its_own_accounts_resources() {
    let mut first = spawn_app().await;
    first.ready_to_buy("first").await;
    let theirs = first.buy("ecs", 1, "default_method").await;
    let mut second = first.another_client();
    second.ready_to_buy("second").await;
    create_ram_user(&second, "ops", &["BillingFullAccess"]).await;
    let ram = ram_session(&second, "ops").await;
    let list: UnsubscribeList = ram.get_as("/api/unsubscribe").await;
    assert_eq!(list.total, 0);
    let form = json!({"instance_ids": [theirs], "confirm_refund_amount": true, "confirm_data_backed_up": true});
    assert_eq!(
        ram.post_once("/api/unsubscribe", "x", &form).await.status(),
        StatusCode::NOT_FOUND
    );
    let instances: Vec<InstanceView> = first.get_as("/api/instances").await;
    assert_eq!(instances[0].status, InstanceStatus::Running);
}
