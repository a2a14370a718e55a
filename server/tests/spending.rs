//! Spend and refund history: `/api/spending` totals an account's paid orders, paid
//! bills and refunds by month, and `/api/spending/export.csv` writes its bills, orders and
//! refunds as a CSV download; neither ever shows another account's rows. Fails on the code
//! before it: neither route existed (404).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use shared::ErrorCode;
use shared::api::SpendingView;
use shared::money::Money;

async fn add_bill(app: &TestApp, account: &str, id: &str, minor: i64, status: &str) {
    sqlx::query(
        "INSERT INTO bills (id, account_id, description, amount_minor, currency, status, due_at, created_at, paid_at)
         VALUES ($1, $2, 'ECS usage, November', $3, 'USD', $4, 0, 0, $5)",
    )
    .bind(id)
    .bind(account)
    .bind(minor)
    .bind(status)
    .bind((status == "paid").then_some(0_i64))
    .execute(app.state.db.writer())
    .await
    .unwrap();
}

#[tokio::test]
async fn the_csv_holds_the_accounts_bills_orders_and_refunds_and_nobody_elses() {
    let mut app = spawn_app().await;
    let email = app.ready_to_buy("spend-a").await;
    let a = app.account_id(&email).await;
    let kept = app.buy("ecs", 1, "default_method").await;
    let refunded = app.buy("ecs", 1, "default_method").await;
    let form = json!({"instance_ids": [refunded], "confirm_refund_amount": true, "confirm_data_backed_up": true});
    let response = app
        .post_once("/api/unsubscribe", &uuid::Uuid::new_v4().to_string(), &form)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    add_bill(&app, &a, "bill-a-paid", 5_25, "paid").await;
    add_bill(&app, &a, "bill-a-unpaid", 7_00, "unpaid").await;

    // Another account on the same server, with its own order and bill.
    let mut other = app.another_client();
    let other_email = other.ready_to_buy("spend-b").await;
    let b = other.account_id(&other_email).await;
    let others_instance = other.buy("ecs", 1, "default_method").await;
    add_bill(&other, &b, "bill-b", 9_99, "paid").await;

    let response = app.get("/api/spending/export.csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert!(
        headers[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let disposition = headers[reqwest::header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".csv"),
        "{disposition}"
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "type,id,date,description,amount,currency,status");

    let a_orders: Vec<String> = sqlx::query_scalar("SELECT id FROM orders WHERE account_id = $1")
        .bind(&a)
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    let a_refunds: Vec<String> = sqlx::query_scalar("SELECT id FROM refunds WHERE account_id = $1")
        .bind(&a)
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!((a_orders.len(), a_refunds.len()), (2, 1));
    for order in &a_orders {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("order,{order},"))),
            "order {order} in\n{csv}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("refund,{},", a_refunds[0]))),
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("bill,bill-a-paid,") && l.contains(",5.25,USD,paid")),
        "{csv}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("bill,bill-a-unpaid,")),
        "{csv}"
    );
    assert_eq!(lines.len(), 1 + 2 + 1 + 2, "{csv}");

    // Nothing of the other account's.
    let b_orders: Vec<String> = sqlx::query_scalar("SELECT id FROM orders WHERE account_id = $1")
        .bind(&b)
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(b_orders.len(), 1);
    assert!(
        !csv.contains(&b_orders[0]) && !csv.contains("bill-b") && !csv.contains(&others_instance)
    );
    let others_csv = other
        .get("/api/spending/export.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(others_csv.contains("bill-b") && !others_csv.contains("bill-a-paid"));
    assert!(!a_orders.iter().any(|o| others_csv.contains(o.as_str())));
    assert!(!others_csv.contains(&kept));

    // The months: both orders and the paid bill as spend (not the unpaid one), the refund apart.
    let response = app.get("/api/spending").await;
    assert_eq!(response.status(), StatusCode::OK);
    let view: SpendingView = body_as(response).await;
    let paid: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(cash_minor + credit_minor) AS BIGINT) FROM orders WHERE account_id = $1",
    )
    .bind(&a)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    let refund: i64 = sqlx::query_scalar("SELECT amount_minor FROM refunds WHERE account_id = $1")
        .bind(&a)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let spent = Money::total(view.months.iter().map(|m| m.spent));
    let refunded = Money::total(view.months.iter().map(|m| m.refunded));
    assert_eq!(spent, Some(usd_minor(paid + 5_25)));
    assert_eq!(refunded, Some(usd_minor(refund)));
    assert!(refund > 0);
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::REFUND])
        .await;
}

#[tokio::test]
async fn spending_needs_a_session() {
    let app = spawn_app().await;
    for path in ["/api/spending", "/api/spending/export.csv"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(refusal(response).await.1, ErrorCode::Unauthenticated);
    }
}
