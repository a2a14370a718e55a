//! A subscription's life after purchase: coupons paying part of it, expiry releasing it, and
//! auto-renewal extending it (SPEC §4).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use server::clock::Millis;
use shared::ErrorCode;
use shared::api::{CouponView, Purchased, Unsubscribed};
use shared::money::Currency;

#[tokio::test]
async fn a_coupon_pays_first_and_is_never_refunded_as_cash() {
    let mut app = spawn_app().await;
    let email = app.ready_to_buy("coupon").await;
    app.post("/api/dev/seed-demo", &json!({})).await;
    let coupons: Vec<CouponView> = app.get_as("/api/coupons").await;
    let coupon = coupons[0].id.clone();
    assert_eq!(coupons[0].remaining, usd("20.00"));

    // RDS for a month is 35.00: 20.00 from the coupon, 15.00 from the card.
    let form = json!({"product": "rds", "region": "ap-southeast-1", "period_months": 1, "coupon_id": coupon});
    let bought: Purchased = body_as(app.post_once("/api/orders", "c-1", &form).await).await;
    assert_eq!(bought.charged, usd("15.00"));
    let (cash, credit): (i64, i64) =
        sqlx::query_as("SELECT cash_minor, credit_minor FROM orders WHERE id = $1")
            .bind(bought.order_id.as_deref().unwrap())
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!((cash, credit), (15_00, 20_00));
    let coupons: Vec<CouponView> = app.get_as("/api/coupons").await;
    assert_eq!(coupons, [], "spent");
    let (_, code, field) = refusal(app.post_once("/api/orders", "c-2", &form).await).await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::CouponNotUsable, Some("coupon_id"))
    );

    // Unsubscribed at once, only the cash part can come back.
    app.advance(DurationMs::days(1));
    app.sign_in_again(&email).await;
    let id = &bought.instance.id;
    let done: Unsubscribed = body_as(
        app.post_once("/api/unsubscribe", "u", &json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true}))
        .await,
    )
    .await;
    let refund = done.total_refund;
    assert_eq!(refund.currency, Currency::USD);
    assert!(
        refund.amount > usd("14.00").amount && refund.amount < usd("15.00").amount,
        "{refund}"
    );
    // The demo's pay-as-you-go instance keeps its usage job.
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::REFUND, job_kinds::USAGE])
        .await;
}

#[tokio::test]
async fn another_accounts_coupon_cannot_be_used() {
    let mut owner = spawn_app().await;
    owner.ready_to_buy("couponowner").await;
    owner.post("/api/dev/seed-demo", &json!({})).await;
    let coupons: Vec<CouponView> = owner.get_as("/api/coupons").await;
    let mut thief = owner.another_client();
    thief.ready_to_buy("couponthief").await;
    let form = json!({"product": "ecs", "region": "ap-southeast-1", "period_months": 1, "coupon_id": coupons[0].id});
    let (status, code, _) = refusal(thief.post_once("/api/orders", "t", &form).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CouponNotUsable)
    );
    owner
        .assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::USAGE])
        .await;
}

#[tokio::test]
async fn a_subscription_without_auto_renew_is_released_when_it_expires() {
    let mut app = spawn_app().await;
    app.ready_to_buy("expires").await;
    let id = app.buy("ecs", 1, "default_method").await;
    app.advance(DurationMs::days(20));
    app.run_jobs().await;
    let status: String = sqlx::query_scalar("SELECT status FROM instances WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "running");
    app.advance(DurationMs::days(12));
    app.run_jobs().await;
    let status: String = sqlx::query_scalar("SELECT status FROM instances WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "released");
    let mail: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE subject = 'Subscription expired'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(mail, 1);
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn auto_renew_charges_another_period_at_expiry() {
    let mut app = spawn_app().await;
    app.ready_to_buy("renews").await;
    let form = json!({"product": "ecs", "region": "ap-southeast-1", "period_months": 1, "auto_renew": true});
    let bought: Purchased = body_as(app.post_once("/api/orders", "a", &form).await).await;
    let id = bought.instance.id;
    let first_expiry: Millis = sqlx::query_scalar("SELECT expires_at FROM instances WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    app.advance(DurationMs::days(32));
    app.run_jobs().await;
    let (status, expiry): (String, Millis) =
        sqlx::query_as("SELECT status, expires_at FROM instances WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(status, "running");
    assert!(
        expiry > first_expiry + DurationMs::days(27),
        "extended by a month"
    );
    let renewals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE instance_id = $1 AND kind = 'renewal'",
    )
    .bind(&id)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(renewals, 1);
    assert_eq!(
        app.run_jobs().await,
        0,
        "the next run waits for the new expiry"
    );
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY]).await;
}

#[tokio::test]
async fn an_auto_renewal_the_card_refuses_releases_the_resource() {
    let mut app = spawn_app().await;
    app.signed_up("renewfails").await;
    app.with_billing_address("81234567").await;
    app.post_once(
        "/api/payment-methods/cards",
        "k",
        &card_form("4000000000000341", "123"),
    )
    .await;
    let form = json!({"product": "ecs", "region": "ap-southeast-1", "period_months": 1, "auto_renew": true, "pay_with": "credit"});
    let bought: Purchased = body_as(app.post_once("/api/orders", "a", &form).await).await;
    let id = bought.instance.id;
    app.advance(DurationMs::days(32));
    app.run_jobs().await;
    let status: String = sqlx::query_scalar("SELECT status FROM instances WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "released");
    app.assert_no_unexpected_jobs(&[]).await;
}
