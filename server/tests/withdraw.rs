//! Withdrawing the balance (SPEC §6.5): cash, never credit, paid out to a
//! card or PayPal of the account, Processing until the payout job has been answered by the
//! gateway, then Paid; once per idempotency key, never beyond the balance, whatever races.
//! Every test here fails on the code before withdrawals existed: `/api/withdrawals` was not
//! routed (404), and an account over 1,000 CNY could only close by spending its balance.

mod common;

use common::outage::{Down, Outage};
use common::*;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use server::jobs;
use shared::ErrorCode;
use shared::api::{SessionInfo, WithdrawalStatus, WithdrawalView, WithdrawalsView};

const RAM_PASSWORD: &str = "Turbine9Blue";

async fn account_id(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// Puts `cents` of cash into the account's balance, as a refund to the balance would.
async fn top_up(app: &TestApp, cents: i64) {
    let account = account_id(app).await;
    sqlx::query("INSERT INTO ledger_entries (id, account_id, kind, bucket, amount_minor, currency, memo, created_at) VALUES ($1, $2, 'refund', 'cash', $3, 'USD', 'test cash', 0)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&account)
        .bind(cents)
        .execute(app.state.db.writer())
        .await
        .unwrap();
}

/// A Singapore account with a card (and its free credit) and `cents` of cash.
async fn with_cash(tag: &str, cents: i64) -> TestApp {
    let mut app = spawn_app().await;
    app.ready_to_buy(tag).await;
    top_up(&app, cents).await;
    app
}

async fn page(app: &TestApp) -> WithdrawalsView {
    let response = app.get("/api/withdrawals").await;
    assert_eq!(response.status(), StatusCode::OK);
    body_as(response).await
}

async fn card(app: &TestApp) -> String {
    page(app).await.destinations[0].payment_method_id.clone()
}

async fn withdraw(app: &TestApp, key: &str, amount: &str, method: &str) -> reqwest::Response {
    app.post_once(
        "/api/withdrawals",
        key,
        &json!({"amount": amount, "payment_method_id": method}),
    )
    .await
}

async fn payouts(app: &TestApp) -> Vec<(String, i64, Option<String>)> {
    sqlx::query_as(
        "SELECT target, amount_minor, outcome FROM sim_gateway_calls WHERE operation = 'payout' ORDER BY created_at",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap()
}

async fn pending_jobs(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM jobs WHERE status = 'pending' ORDER BY kind")
        .fetch_all(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_withdrawal_leaves_the_balance_at_once_and_is_paid_by_its_job() {
    let app = with_cash("withdraw", 150_00).await;
    let before = page(&app).await;
    assert_eq!(before.withdrawable, usd("150.00"));
    assert!(
        before.credit.amount > Decimal::ZERO,
        "the card's free credit is shown beside the cash"
    );
    assert_eq!(before.destinations.len(), 1);
    let method = card(&app).await;

    let made = withdraw(&app, "w1", "120.50", &method).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: WithdrawalView = body_as(made).await;
    assert_eq!(made.status, WithdrawalStatus::Processing);
    assert_eq!(made.amount, usd("120.50"));
    assert_eq!(made.destination, before.destinations[0].label);

    let after = page(&app).await;
    assert_eq!(after.withdrawable, usd("29.50"));
    assert_eq!(after.credit, before.credit, "credit is never touched");
    assert_eq!(after.records, vec![made.clone()]);
    assert_eq!(pending_jobs(&app).await, ["withdrawal_payout"]);
    assert!(
        payouts(&app).await.is_empty(),
        "paid by the job, not the request"
    );

    assert_eq!(app.run_jobs().await, 1);
    let paid = page(&app).await.records.remove(0);
    assert_eq!(paid.status, WithdrawalStatus::Paid);
    assert!(paid.paid_at.is_some());
    let token: String = sqlx::query_scalar("SELECT gateway_token FROM payment_methods")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(payouts(&app).await, [(token, 120_50, Some("ok".into()))]);
    let intent: (String, String) =
        sqlx::query_as("SELECT operation, status FROM gateway_intents WHERE operation = 'payout'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(intent, ("payout".into(), "captured".into()));
    let mail: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE subject = 'Your withdrawal has been paid'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(mail, 1);
    assert_eq!(page(&app).await.withdrawable, usd("29.50"));

    // Newest first.
    let second = withdraw(&app, "w2", "29.50", &method).await;
    assert_eq!(second.status(), StatusCode::CREATED);
    let records = page(&app).await.records;
    assert_eq!(
        records.iter().map(|r| r.amount).collect::<Vec<_>>(),
        [usd("29.50"), usd("120.50")]
    );
    assert_eq!(page(&app).await.withdrawable, usd("0.00"));
    app.run_jobs().await;
    assert_eq!(pending_jobs(&app).await, Vec::<String>::new());
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn bad_amounts_credit_and_foreign_destinations_are_refused_at_their_field() {
    let app = with_cash("bad-withdraw", 10_00).await;
    let method = card(&app).await;
    let mut other = app.another_client();
    other.ready_to_buy("someone-else").await;
    let foreign = card(&other).await;

    for (amount, method, code, field) in [
        ("0", method.as_str(), ErrorCode::AmountInvalid, "amount"),
        ("-5", &method, ErrorCode::AmountInvalid, "amount"),
        ("1.005", &method, ErrorCode::AmountInvalid, "amount"),
        ("ten", &method, ErrorCode::AmountInvalid, "amount"),
        ("", &method, ErrorCode::FieldRequired, "amount"),
        ("10.01", &method, ErrorCode::InsufficientBalance, "amount"),
        // The free credit (well above 15 USD) is not withdrawable: only the 10 USD of cash is.
        ("15", &method, ErrorCode::InsufficientBalance, "amount"),
        (
            "1",
            foreign.as_str(),
            ErrorCode::PayoutDestinationInvalid,
            "payment_method_id",
        ),
        (
            "1",
            "pm-nobody",
            ErrorCode::PayoutDestinationInvalid,
            "payment_method_id",
        ),
    ] {
        let response = withdraw(&app, &uuid::Uuid::new_v4().to_string(), amount, method).await;
        let (status, got, at) = refusal(response).await;
        assert_eq!(
            (status, got, at.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field)),
            "{amount} to {method}"
        );
    }
    assert_eq!(app.count("withdrawals").await, 0);
    assert_eq!(page(&app).await.withdrawable, usd("10.00"));
    assert_eq!(page(&other).await.withdrawable, usd("0.00"));
    assert_eq!(pending_jobs(&app).await, Vec::<String>::new());
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn a_retry_with_the_same_key_withdraws_once() {
    let app = with_cash("withdraw-retry", 50_00).await;
    let method = card(&app).await;
    let first = withdraw(&app, "double-click", "50", &method).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    // A replay is the same answer, every field of it: compared whole, not as the shared type.
    let first: Value = body_as(first).await;
    let again = withdraw(&app, "double-click", "50", &method).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(body_as::<Value>(again).await, first);
    assert_eq!(app.count("withdrawals").await, 1);
    assert_eq!(page(&app).await.withdrawable, usd("0.00"));

    app.run_jobs().await;
    app.run_jobs().await;
    assert_eq!(payouts(&app).await.len(), 1);
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn two_withdrawals_of_the_whole_balance_at_once_pay_out_only_one() {
    let app = with_cash("withdraw-race", 80_00).await;
    let method = card(&app).await;
    let (a, b) = tokio::join!(
        withdraw(&app, "race-a", "80.00", &method),
        withdraw(&app, "race-b", "80.00", &method),
    );
    let mut statuses = vec![a.status(), b.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY]
    );
    let refused = if a.status() == StatusCode::CREATED {
        b
    } else {
        a
    };
    let (_, code, field) = refusal(refused).await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::InsufficientBalance, Some("amount"))
    );
    assert_eq!(app.count("withdrawals").await, 1);
    assert_eq!(page(&app).await.withdrawable, usd("0.00"));
    app.run_jobs().await;
    assert_eq!(payouts(&app).await.len(), 1);
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn a_payout_during_a_gateway_outage_stays_processing_and_is_paid_once_after() {
    let app = with_cash("withdraw-outage", 40_00).await;
    let method = card(&app).await;
    assert_eq!(
        withdraw(&app, "o", "40", &method).await.status(),
        StatusCode::CREATED
    );
    let (state, outage) = Outage::of(&app.state, Down::Payouts);
    for attempts in 1..=4_i64 {
        assert_eq!(jobs::run_due(&state).await.unwrap(), 1);
        let (status, tries, error): (String, i64, Option<String>) = sqlx::query_as(
            "SELECT status, attempts, last_error FROM jobs WHERE kind = 'withdrawal_payout'",
        )
        .fetch_one(&app.state.db)
        .await
        .unwrap();
        assert_eq!((status.as_str(), tries), ("pending", attempts));
        assert!(error.unwrap().contains("payouts are down"));
        assert_eq!(
            page(&app).await.records[0].status,
            WithdrawalStatus::Processing
        );
        // Past the retry's wait (5 s, then twice as long each time).
        app.advance(DurationMs::seconds(5 << attempts));
    }
    assert!(payouts(&app).await.is_empty());

    outage.end();
    assert_eq!(jobs::run_due(&state).await.unwrap(), 1);
    assert_eq!(page(&app).await.records[0].status, WithdrawalStatus::Paid);
    assert_eq!(payouts(&app).await.len(), 1, "paid out exactly once");
    app.advance(DurationMs::hours(1));
    assert_eq!(jobs::run_due(&state).await.unwrap(), 0, "nothing left");
    assert_eq!(payouts(&app).await.len(), 1);
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn a_job_that_runs_again_after_a_lost_answer_pays_out_once() {
    let app = with_cash("withdraw-rerun", 25_00).await;
    let method = card(&app).await;
    assert_eq!(
        withdraw(&app, "r", "25", &method).await.status(),
        StatusCode::CREATED
    );
    // The gateway paid, but the job's write never happened (a crash after the call): the
    // withdrawal is still processing and its job due again.
    let intent: String = sqlx::query_scalar("SELECT intent_id FROM withdrawals")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let token: String = sqlx::query_scalar("SELECT gateway_token FROM payment_methods")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let amount = shared::money::Money::from_minor(25_00, shared::money::Currency::USD);
    app.state
        .gateway
        .as_ref()
        .unwrap()
        .payout(&token, amount, &intent)
        .await
        .unwrap();
    app.run_jobs().await;
    assert_eq!(page(&app).await.records[0].status, WithdrawalStatus::Paid);
    assert_eq!(payouts(&app).await.len(), 1, "the same key paid once");
    app.assert_no_unexpected_jobs(&[]).await;
}

#[tokio::test]
async fn only_members_with_billing_full_access_withdraw() {
    let app = with_cash("withdraw-ram", 20_00).await;
    let method = card(&app).await;
    for (username, permissions) in [
        ("reader", json!(["BillingReadOnlyAccess"])),
        ("payer", json!(["BillingFullAccess"])),
    ] {
        let created = app
            .post(
                "/api/ram-users",
                &json!({"username": username, "password": RAM_PASSWORD, "permissions": permissions}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let me: SessionInfo = app.get_as("/api/session").await;
    let alias = me.account.uid;
    let ram = |username: &'static str| {
        let alias = alias.clone();
        let mut ram = app.another_client();
        async move {
            let session: SessionInfo = body_as(
                ram.post(
                    "/api/session/ram",
                    &json!({"account_alias": alias, "username": username, "password": RAM_PASSWORD}),
                )
                .await,
            )
            .await;
            ram.csrf = Some(session.csrf_token);
            ram
        }
    };
    let reader = ram("reader").await;
    assert_eq!(page(&reader).await.withdrawable, usd("20.00"));
    let (status, code, _) = refusal(withdraw(&reader, "k", "5", &method).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::FORBIDDEN, ErrorCode::PermissionDenied)
    );
    let payer = ram("payer").await;
    assert_eq!(
        withdraw(&payer, "k", "5", &method).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(page(&app).await.withdrawable, usd("15.00"));
    app.assert_no_unexpected_jobs(&[job_kinds::WITHDRAWAL])
        .await;
}
