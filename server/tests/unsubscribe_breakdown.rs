//! The review page's refund breakdown comes from the server's own refund formula:
//! per order, cash, credit, the used share and its measure, the consumed part, the refund and
//! where it goes; the parts add up to the refund the list shows and the unsubscription pays.

mod common;

use common::*;
use serde_json::json;
use shared::api::{UnsubscribeList, Unsubscribed};
use shared::money::Money;
use shared::refund::{RefundDestination, UsedBy};

async fn resources(app: &TestApp, query: &str) -> UnsubscribeList {
    app.get(&format!(
        "/api/unsubscribe?tab=resource&page_size=100&{query}"
    ))
    .await
    .json()
    .await
    .unwrap()
}

fn sum(amounts: impl Iterator<Item = Money>) -> Money {
    amounts.reduce(|a, b| a.checked_add(b).unwrap()).unwrap()
}

#[tokio::test]
async fn the_breakdown_adds_up_to_the_refund_that_is_paid() {
    let mut app = spawn_app().await;
    let email = app.ready_to_buy("breakdown").await;
    let id = app.buy("ecs", 1, "default_method").await;
    app.renewed(&id, 1).await;
    app.advance(DurationMs::days(10));
    app.sign_in_again(&email).await;

    let list = resources(&app, "").await;
    let r = list.resources.iter().find(|r| r.instance_id == id).unwrap();
    assert_eq!(r.breakdown.len(), 2, "the order in force and the renewal");
    let (running, pending) = (&r.breakdown[0], &r.breakdown[1]);
    assert_eq!(running.used_by, UsedBy::Time);
    assert!(running.used_share > rust_decimal::Decimal::ZERO);
    assert_eq!(
        running.consumed.checked_add(running.refund).unwrap(),
        running.cash_paid
    );
    assert_eq!(running.paid_days_ago, 10);
    assert_eq!(running.destination, RefundDestination::Card);
    assert!(
        running
            .method_label
            .as_deref()
            .is_some_and(|l| l.contains("••••")),
        "{running:?}"
    );
    assert_eq!(pending.used_by, UsedBy::Nothing);
    assert_eq!(pending.refund, pending.cash_paid);
    assert_eq!(sum(r.breakdown.iter().map(|o| o.refund)), r.refund);
    assert_eq!(sum(r.breakdown.iter().map(|o| o.cash_paid)), r.cash_paid);

    let done: Unsubscribed = app
        .post_once(
            "/api/unsubscribe",
            "us-breakdown",
            &json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done.total_refund, r.refund);
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::REFUND])
        .await;
}

#[tokio::test]
async fn an_old_card_payment_says_it_goes_to_the_balance_and_a_nonrefundable_one_refunds_nothing() {
    let mut app = spawn_app().await;
    app.ready_to_buy("breakdown-old").await;
    app.post("/api/dev/seed-demo", &json!({})).await;
    let list = resources(&app, "").await;
    let old = list
        .resources
        .iter()
        .find(|r| r.product == "ecs" && r.cash_paid == usd("120.00"))
        .unwrap();
    let order = &old.breakdown[0];
    assert!(order.paid_days_ago > 150, "{}", order.paid_days_ago);
    assert_eq!(order.paid_with, "card");
    assert_eq!(order.destination, RefundDestination::Balance);
    assert_eq!(order.method_label, None, "the balance has no method");

    let domain = list
        .resources
        .iter()
        .find(|r| r.product == "domain")
        .unwrap();
    assert!(domain.breakdown.iter().all(|o| o.used_by == UsedBy::Whole
        && o.refund.amount.is_zero()
        && o.destination == RefundDestination::Card));
}
