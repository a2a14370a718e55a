//! Resource plans as a quota (SPEC §5): pay-as-you-go usage of a product
//! draws on an active plan of that product before it is billed, and what was drawn decides the
//! plan's refund type and amount, in the list, the review and the unsubscription alike.

mod common;

use common::*;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;
use server::clock::Millis;
use server::domain::usage::{self, BillUsage};
use server::queue::{Claimed, Job};
use shared::api::{Purchased, QuotaDrawn, UnsubscribableResource, UnsubscribeList, Unsubscribed};
use shared::catalog::Product;
use shared::money::{Currency, Money};
use shared::refund::{Drawn, PaidPeriod, RefundType, ResourceKind, refund};

/// Thousandths of a GB in the OSS plan's 500 GB.
const QUOTA: i64 = 500_000;

async fn tab(app: &TestApp, query: &str) -> UnsubscribeList {
    app.get_as(&format!("/api/unsubscribe?{query}")).await
}

/// The resource tab's row of `id`.
async fn listed(app: &TestApp, id: &str) -> UnsubscribableResource {
    tab(app, &format!("tab=resource&instance_id={id}"))
        .await
        .resources
        .remove(0)
}

/// What usage drew of a plan's 500 GB, in GB.
fn gb_of_500(drawn: Decimal) -> Option<QuotaDrawn> {
    Some(QuotaDrawn {
        drawn,
        quota: Decimal::from(500),
        unit: "GB".to_owned(),
    })
}

async fn unsubscribe(app: &TestApp, ids: &[&str]) -> Unsubscribed {
    let form =
        json!({"instance_ids": ids, "confirm_refund_amount": true, "confirm_data_backed_up": true});
    let response = app
        .post_once("/api/unsubscribe", &uuid::Uuid::new_v4().to_string(), &form)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    body_as(response).await
}

async fn activate(app: &TestApp, plan: &str) {
    let response = app
        .post(&format!("/api/instances/{plan}/activate"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// Starts a pay-as-you-go OSS bucket; returns its instance ID.
async fn payg_oss(app: &TestApp) -> String {
    let form = json!({"product": "oss", "region": "ap-southeast-1", "billing": "payg"});
    let response = app
        .post_once("/api/orders", &uuid::Uuid::new_v4().to_string(), &form)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let bought: Purchased = body_as(response).await;
    assert_eq!(
        bought.instance.resource_kind,
        ResourceKind::RegularCloudResource,
        "pay-as-you-go use of a plan's product is not a plan"
    );
    bought.instance.id
}

/// What usage drew on the plan's orders, in thousandths of a GB.
async fn drawn(app: &TestApp, plan: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(drawn_milli), 0) AS BIGINT) FROM orders WHERE instance_id = $1",
    )
    .bind(plan)
    .fetch_one(&app.state.db)
    .await
    .unwrap()
}

/// The usage bills of `instance`, in cents, oldest first.
async fn bills(app: &TestApp, instance: &str) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT amount_minor FROM bills WHERE instance_id = $1 ORDER BY period_start",
    )
    .bind(instance)
    .fetch_all(&app.state.db)
    .await
    .unwrap()
}

/// The plan's one order as the refund formula sees it, at its quota.
async fn period(app: &TestApp, plan: &str) -> PaidPeriod {
    let (cash, starts_at, ends_at, drawn): (i64, Millis, Millis, i64) = sqlx::query_as(
        "SELECT cash_minor, starts_at, ends_at, drawn_milli FROM orders WHERE instance_id = $1",
    )
    .bind(plan)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    PaidPeriod {
        cash: Money::from_minor(cash, Currency::USD),
        starts_at,
        ends_at,
        drawn: Drawn {
            amount: drawn,
            quota: QUOTA,
        },
    }
}

/// A 12-month plan (118.80) that usage drew on, unsubscribed 149 days in, is a Partial Refund
/// of what time and usage left, not the 118.80 it paid. The list, the unsubscription and the
/// refund row agree: a plan drawn on is no longer "Full Refund for Unused Resources".
#[tokio::test]
async fn the_issues_twelve_month_plan_with_usage_drawn_refunds_partly_after_149_days() {
    let mut app = spawn_app().await;
    let email = app.ready_to_buy("issue").await;
    let plan = app.buy("oss", 12, "default_method").await;
    activate(&app, &plan).await;
    let bucket = payg_oss(&app).await;
    // Some five hours of use (a GB an hour), all drawn on the plan, nothing billed.
    app.advance(DurationMs::hours(5));
    app.run_jobs().await;
    app.post(&format!("/api/instances/{bucket}/release"), &json!({}))
        .await;
    app.advance(DurationMs::days(149) - DurationMs::hours(5));
    app.run_jobs().await;
    app.sign_in_again(&email).await;
    let row = listed(&app, &plan).await;
    assert_eq!(row.refund_type, RefundType::PartialRefund);
    assert_eq!(row.cash_paid, usd("118.80"));
    let now = app.state.clock.now();
    let expected = refund(&period(&app, &plan).await, RefundType::PartialRefund, now);
    assert_eq!(row.refund, expected);
    // 149 of 365 days used weighs more than 5 of 500 GB: 48.50 of it is consumed.
    assert_eq!(row.refund, usd("70.30"));
    let (started, released): (Millis, Millis) =
        sqlx::query_as("SELECT started_at, released_at FROM instances WHERE id = $1")
            .bind(&bucket)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let used = Product::find("oss")
        .unwrap()
        .metered_milli(released - started);
    assert!(used > 5_000, "{used}");
    assert_eq!(drawn(&app, &plan).await, used);
    assert_eq!(bills(&app, &bucket).await, Vec::<i64>::new());

    assert_eq!(row.quota, gb_of_500(Decimal::new(used, 3)));

    let done = unsubscribe(&app, &[&plan]).await;
    assert_eq!(done.total_refund, row.refund, "the preview is what is paid");
    assert_eq!(done.records[0].refund_type, RefundType::PartialRefund);
    let paid: i64 = sqlx::query_scalar("SELECT amount_minor FROM refunds")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(paid, 70_30);
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::REFUND])
        .await;
}

/// Usage draws on an active plan before it is billed: an unactivated plan draws nothing, an
/// activated one takes each hour's GB, and when the drawn share outweighs the time share the
/// refund follows it, in a batch with a regular resource too. Fails on the old code, which
/// billed every hour and refunded the plan in full.
#[tokio::test]
async fn usage_draws_on_an_active_plan_first_and_its_refund_counts_what_was_drawn() {
    let mut app = spawn_app().await;
    let email = app.ready_to_buy("draws").await;
    let plan = app.buy("oss", 1, "default_method").await;
    let ecs = app.buy("ecs", 1, "default_method").await;
    let bucket = payg_oss(&app).await;
    // The first hour, before activation, is billed in full: 2 cents.
    app.advance(DurationMs::hours(3));
    app.run_jobs().await;
    assert_eq!(bills(&app, &bucket).await, vec![2]);
    assert_eq!(drawn(&app, &plan).await, 0);
    activate(&app, &plan).await;
    // 24 more hours: 24 GB drawn, nothing more billed.
    app.advance(DurationMs::hours(24));
    app.run_jobs().await;
    assert_eq!(bills(&app, &bucket).await, vec![2]);
    assert_eq!(drawn(&app, &plan).await, 24_000);
    app.sign_in_again(&email).await;

    let row = listed(&app, &plan).await;
    assert_eq!(row.refund_type, RefundType::PartialRefund);
    assert_eq!(row.quota, gb_of_500(Decimal::from(24)));
    let now = app.state.clock.now();
    let drawn_period = period(&app, &plan).await;
    let by_time_alone = PaidPeriod {
        drawn: Drawn::NOTHING,
        ..drawn_period
    };
    // 27 hours of a month is under 4 %; 24 of 500 GB is 4.8 %: the drawn share counts.
    assert_eq!(row.refund, usd("9.42"));
    assert_eq!(
        row.refund,
        refund(&drawn_period, RefundType::PartialRefund, now)
    );
    let by_time = refund(&by_time_alone, RefundType::PartialRefund, now);
    assert_eq!(row.refund.currency, by_time.currency);
    assert!(row.refund.amount < by_time.amount);
    assert!(
        listed(&app, &ecs).await.quota.is_none(),
        "a regular resource has no quota"
    );

    // A plan with usage drawn is a Partial Refund: it goes in a batch, at its listed amount.
    let ecs_refund = listed(&app, &ecs).await.refund;
    let done = unsubscribe(&app, &[&plan, &ecs]).await;
    assert_eq!(
        done.total_refund,
        row.refund.checked_add(ecs_refund).unwrap()
    );
    // Unsubscribed, the plan draws nothing more: the next hour is billed.
    app.advance(DurationMs::hours(1));
    app.run_jobs().await;
    assert_eq!(bills(&app, &bucket).await, vec![2, 2]);
    assert_eq!(drawn(&app, &plan).await, 24_000);
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::REFUND, job_kinds::USAGE])
        .await;
}

/// A plan whose quota is used up draws nothing more: the hour that crosses the quota draws what
/// is left and bills the rest, the next is billed in full, and the plan refunds nothing. Fails
/// on the old code, which never drew.
#[tokio::test]
async fn a_plan_whose_quota_is_used_up_draws_nothing_more() {
    let mut app = spawn_app().await;
    let email = app.ready_to_buy("exhausted").await;
    let plan = app.buy("oss", 1, "default_method").await;
    activate(&app, &plan).await;
    // As if 499.5 GB had been drawn already.
    sqlx::query("UPDATE orders SET drawn_milli = 499500 WHERE instance_id = $1")
        .bind(&plan)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let bucket = payg_oss(&app).await;
    app.advance(DurationMs::hours(3));
    app.run_jobs().await;
    // Half a GB left of the hour's one: half the hour's 2 cents is billed.
    assert_eq!(bills(&app, &bucket).await, vec![1]);
    assert_eq!(drawn(&app, &plan).await, QUOTA);
    app.advance(DurationMs::hours(1));
    app.run_jobs().await;
    assert_eq!(bills(&app, &bucket).await, vec![1, 2]);
    assert_eq!(drawn(&app, &plan).await, QUOTA);
    app.sign_in_again(&email).await;
    let row = listed(&app, &plan).await;
    assert_eq!(row.refund_type, RefundType::PartialRefund);
    assert_eq!(row.refund, usd("0.00"));
    assert_eq!(row.quota, gb_of_500(Decimal::from(500)));
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::USAGE])
        .await;
}

/// Nothing drawn: an activated plan is a Full Refund for Unused Resources and an unactivated
/// one an Unactivated Subscription Refund, both the cash in full, as listed and as paid.
#[tokio::test]
async fn plans_nothing_drew_on_refund_their_cash_in_full() {
    let mut app = spawn_app().await;
    let email = app.ready_to_buy("unused").await;
    let unactivated = app.buy("oss", 6, "default_method").await;
    let unused = app.buy("oss", 12, "default_method").await;
    activate(&app, &unused).await;
    app.advance(DurationMs::days(149));
    app.sign_in_again(&email).await;
    for (plan, refund_type, cash) in [
        (
            &unactivated,
            RefundType::UnactivatedSubscriptionRefund,
            usd("59.40"),
        ),
        (
            &unused,
            RefundType::FullRefundForUnusedResources,
            usd("118.80"),
        ),
    ] {
        let row = listed(&app, plan).await;
        assert_eq!(row.refund_type, refund_type);
        assert_eq!(row.refund, cash);
        assert_eq!(row.quota.unwrap().drawn, Decimal::ZERO);
        let done = unsubscribe(&app, &[plan]).await;
        assert_eq!(done.total_refund, cash);
        assert_eq!(done.records[0].refund_type, refund_type);
    }
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::REFUND])
        .await;
}

/// The usage job run twice for the same hour (at once, as two instances whose leases crossed,
/// or again after its commit) draws and bills that hour once, and never the next one early.
/// Fails on the old code, which drew nothing and billed the second run's next hour ahead of
/// its time.
#[tokio::test]
async fn the_usage_job_run_twice_draws_an_hour_once() {
    let mut app = spawn_app().await;
    let email = app.ready_to_buy("twice").await;
    let plan = app.buy("oss", 1, "default_method").await;
    activate(&app, &plan).await;
    let bucket = payg_oss(&app).await;
    app.advance(DurationMs::hours(3));
    let job: Claimed = sqlx::query_as(
        "SELECT id, kind, subject, attempts FROM jobs WHERE kind = $1 AND subject = $2",
    )
    .bind(BillUsage::KIND)
    .bind(&bucket)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    let (first, second) =
        tokio::join!(usage::bill(&app.state, &job), usage::bill(&app.state, &job));
    first.unwrap();
    second.unwrap();
    usage::bill(&app.state, &job).await.unwrap();
    assert_eq!(drawn(&app, &plan).await, 1_000);
    assert_eq!(bills(&app, &bucket).await, Vec::<i64>::new());
    let (started, billed_until): (Millis, Millis) =
        sqlx::query_as("SELECT started_at, billed_until FROM instances WHERE id = $1")
            .bind(&bucket)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        billed_until,
        started + DurationMs::hours(1),
        "one hour billed"
    );
    // The next hour comes when it is due, once.
    app.advance(DurationMs::hours(1));
    app.run_jobs().await;
    assert_eq!(drawn(&app, &plan).await, 2_000);
    app.sign_in_again(&email).await;
    assert_eq!(
        listed(&app, &plan).await.quota.unwrap().drawn,
        Decimal::from(2)
    );
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::USAGE])
        .await;
}
