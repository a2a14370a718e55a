//! Money at the payment gateway (SPEC §9): every charge is an intent recorded before
//! the call and keyed at the gateway, so a lost answer is reconciled rather than repeated or
//! dropped, and a charge whose purpose was refused is returned and shows in the ledger.

mod common;

use common::outage::{Down, Outage};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::gateway::simulator;
use shared::ErrorCode;
use shared::money::{Currency, Money};

fn order(pay_with: &str) -> Value {
    json!({"product": "ecs", "region": "ap-southeast-1", "billing": "subscription", "period_months": 1, "pay_with": pay_with})
}

/// A signed-up account with an address and the card `number`.
async fn with_card(app: &mut TestApp, tag: &str, number: &str) {
    app.signed_up(tag).await;
    app.with_billing_address("81234567").await;
    let added = app
        .post_once("/api/payment-methods/cards", tag, &card_form(number, "123"))
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
}

/// The gateway's own record of what it did: `(operation, outcome)`, in key order.
async fn gateway_calls(app: &TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT operation, outcome FROM sim_gateway_calls ORDER BY created_at, idempotency_key",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap()
}

/// The statuses of the charges' intents, oldest first (card verifications' holds left out).
async fn intent_statuses(app: &TestApp) -> Vec<String> {
    charge_statuses(&app.state.db).await
}

async fn charge_statuses(db: &server::db::Db) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT status FROM gateway_intents WHERE operation = 'charge' ORDER BY created_at",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

async fn gateway_ledger(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT kind, amount_minor FROM ledger_entries WHERE bucket = 'gateway' ORDER BY created_at, amount_minor",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_simulated_gateway_answers_a_repeated_key_with_the_first_outcome_and_acts_once() {
    let app = spawn_app().await;
    let gateway = app
        .state
        .gateway
        .clone()
        .expect("dev mode has the simulator");
    let ten = Money::new(rust_decimal::Decimal::TEN, Currency::USD);
    let first = gateway.charge("sim-tok-a", ten, "key-1").await.unwrap();
    let again = gateway.charge("sim-tok-a", ten, "key-1").await.unwrap();
    assert_eq!(
        first.reference, again.reference,
        "one charge, answered twice"
    );
    let other = gateway.charge("sim-tok-a", ten, "key-2").await.unwrap();
    assert_ne!(first.reference, other.reference);
    let changed = Money::new(rust_decimal::Decimal::ONE, Currency::USD);
    assert_eq!(
        gateway
            .charge("sim-tok-a", changed, "key-1")
            .await
            .unwrap_err(),
        server::gateway::GatewayError::KeyReused,
        "the same key with another amount is refused, never a second charge"
    );
    for _ in 0..2 {
        gateway
            .refund(&first.reference, ten, "refund-1")
            .await
            .unwrap();
    }
    let calls = gateway_calls(&app).await;
    assert_eq!(calls.len(), 3, "two charges and one refund: {calls:?}");
}

/// A charge whose answer is lost is not dropped (the card paying for nothing, with no record
/// of it): its intent is asked about again under its key, and the money returned.
#[tokio::test]
async fn a_charge_whose_answer_is_lost_is_reconciled_under_its_key_and_returned() {
    let mut app = spawn_app().await;
    with_card(&mut app, "lost", simulator::ANSWER_LOST).await;
    let bought = app
        .post_once("/api/orders", "lost-answer", &order("default_method"))
        .await;
    assert_eq!(
        refusal(bought).await,
        (StatusCode::GATEWAY_TIMEOUT, ErrorCode::GatewayTimeout, None)
    );
    assert_eq!(app.count("orders").await, 0);
    assert_eq!(
        intent_statuses(&app).await,
        ["pending"],
        "recorded before the call"
    );

    // Before the caller has surely given up, the job leaves the intent alone.
    app.run_jobs().await;
    assert_eq!(intent_statuses(&app).await, ["pending"]);
    app.advance(DurationMs::minutes(2));
    app.run_jobs().await;
    assert_eq!(intent_statuses(&app).await, ["reversed"]);
    let calls = gateway_calls(&app).await;
    let charges = calls.iter().filter(|c| c.0 == "charge").count();
    let refunds = calls.iter().filter(|c| c.0 == "refund").count();
    assert_eq!(
        (charges, refunds),
        (1, 1),
        "asking again under the key did not charge twice; the charge went back: {calls:?}"
    );
    let ledger = gateway_ledger(&app).await;
    let kinds: Vec<&str> = ledger.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(
        kinds,
        ["charge", "charge_reversed"],
        "the ledger shows the charge and its return"
    );
    assert!(ledger[0].1 < 0);
    assert_eq!(ledger[0].1, -ledger[1].1);
}

/// A refusal is an outcome: the intent is failed at once and nothing is left to reconcile.
#[tokio::test]
async fn a_declined_charge_is_failed_and_leaves_no_job_behind() {
    let mut app = spawn_app().await;
    with_card(&mut app, "declines", simulator::CHARGES_DECLINE).await;
    let bought = app
        .post_once("/api/orders", "declined", &order("default_method"))
        .await;
    assert_eq!(refusal(bought).await.1, ErrorCode::PaymentDeclined);
    assert_eq!(intent_statuses(&app).await, ["failed"]);
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'gateway_intent' AND status IN ('pending', 'running')",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(pending, 0, "a refusal is final: nothing to reconcile");
    assert!(gateway_ledger(&app).await.is_empty(), "no money moved");
}

/// The renewal re-reads its instance inside the write: one whose charge was in flight while
/// the instance was unsubscribed is refused, rather than answered 201 with the renewal's money
/// kept for a released instance.
#[tokio::test]
async fn a_renewal_racing_an_unsubscribe_is_refused_and_its_charge_returned() {
    let mut app = spawn_app_with(&["--simulator-latency-ms", "1500"]).await;
    app.ready_to_buy("renew-race").await;
    let id = app.buy("ecs", 1, "default_method").await;
    let (path, form) = (
        format!("/api/instances/{id}/renew"),
        json!({"period_months": 1}),
    );
    let renewing = app.post_once(&path, "renew-race", &form);
    let unsubscribing = async {
        // The renewal's charge is the second intent; once it is recorded, it is at the gateway.
        while charge_statuses(&app.state.db).await.len() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        app.post_once(
            "/api/unsubscribe",
            "unsubscribe-race",
            &json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true}),
        )
        .await
    };
    let (renewed, unsubscribed) = tokio::join!(renewing, unsubscribing);
    assert_eq!(unsubscribed.status(), StatusCode::OK);
    assert_eq!(
        refusal(renewed).await,
        (StatusCode::CONFLICT, ErrorCode::AlreadyReleased, None)
    );
    let orders: Vec<String> = sqlx::query_scalar("SELECT kind FROM orders")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(orders, ["new"], "no renewal order for a released instance");
    assert_eq!(intent_statuses(&app).await, ["captured", "reversed"]);
}

/// A verification hold is an intent: a release that fails is tried again by its job, rather
/// than logged and left, with the ledger showing the hold open for good.
#[tokio::test]
async fn a_verification_hold_whose_release_fails_is_released_by_its_job() {
    let mut app = spawn_app().await;
    app.signed_up("release").await;
    app.with_billing_address("81234567").await;
    let account_id: String = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let (state, outage) = Outage::of(&app.state, Down::Releases);
    let form: shared::payment::CardForm =
        serde_json::from_value(card_form(&unique_visa(), "123")).unwrap();
    let card = form.parse((2026, 1)).unwrap();
    server::domain::payment::add_card(&state, &account_id, card)
        .await
        .expect("the card is bound; only its hold is still to release");
    let holds = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT kind FROM ledger_entries WHERE bucket = 'hold' ORDER BY created_at, kind",
            )
            .fetch_all(&db)
            .await
            .unwrap()
        }
    };
    let hold_status = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT status FROM gateway_intents WHERE operation = 'hold'",
        )
        .fetch_one(&app.state.db)
        .await
        .unwrap()
    };
    assert_eq!(holds(&app).await, ["preauth_hold"]);
    assert_eq!(hold_status().await, "reversing");

    // Still down: the job fails and keeps the hold to release.
    server::jobs::run_due(&state).await.unwrap();
    assert_eq!(hold_status().await, "reversing");
    outage.end();
    app.advance(DurationMs::hours(1));
    server::jobs::run_due(&state).await.unwrap();
    assert_eq!(hold_status().await, "reversed");
    assert_eq!(holds(&app).await, ["preauth_hold", "preauth_release"]);
}

/// Found by the chaos test (`chaos.rs`): a server SIGKILLed while its call was at the simulated
/// gateway left the call "in progress" in the simulator's memory for good, so every later ask
/// under its key was told to wait and the intent's job retried for ever. A real gateway finishes
/// a request whose caller died: past its time in flight, the next call under the key completes
/// it, once, and every later one gets the same answer. Fails on the simulator before this.
#[tokio::test]
async fn a_call_whose_caller_died_is_finished_by_the_gateway_and_answered_under_its_key() {
    let mut app = spawn_app().await;
    with_card(&mut app, "died", &unique_visa()).await;
    let token: String = sqlx::query_scalar("SELECT gateway_token FROM payment_methods")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let gateway = app.state.gateway.clone().unwrap();
    let amount = Money::new(rust_decimal::Decimal::new(12_50, 2), Currency::USD);
    // The caller asked, then died: the call is in the gateway's memory with no outcome.
    let interrupted = |created_at: i64| {
        sqlx::query(
            "INSERT INTO sim_gateway_calls (idempotency_key, operation, target, amount_minor, currency, created_at)
             VALUES ('died-1', 'charge', $1, 1250, 'USD', $2)",
        )
        .bind(&token)
        .bind(created_at)
        .execute(app.state.db.writer())
    };
    interrupted(chrono::Utc::now().timestamp_millis())
        .await
        .unwrap();
    let asked = gateway.charge(&token, amount, "died-1").await;
    assert!(
        matches!(&asked, Err(e) if e.to_string().contains("in progress")),
        "still in flight: {asked:?}"
    );

    sqlx::query("UPDATE sim_gateway_calls SET created_at = created_at - 60000")
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let first = gateway.charge(&token, amount, "died-1").await.unwrap();
    let again = gateway.charge(&token, amount, "died-1").await.unwrap();
    assert_eq!(
        first.reference, again.reference,
        "one outcome under the key"
    );
    let charges: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT idempotency_key, outcome FROM sim_gateway_calls WHERE operation = 'charge'",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        charges,
        [("died-1".to_owned(), Some("ok".to_owned()))],
        "finished once"
    );
}
