//! Stripe's webhook (`POST /api/webhooks/stripe`): the real flow against the
//! stand-in of Stripe's API (`tests/common/stripe.rs`) — a tokenized card bound, a month bought,
//! unsubscribed, the refund settled to the card — then events delivered as Stripe delivers
//! them, signed with the endpoint's secret.
//!
//! Stripe's reference pages the deliveries follow:
//! - signatures: <https://docs.stripe.com/webhooks#verify-manually> (`Stripe-Signature:
//!   t=<unix seconds>,v1=<hex>`, possibly several `v1` and a `v0`; `v1` is HMAC-SHA256 of
//!   `"{t}.{raw body}"` keyed with the endpoint's secret; a tolerance of 5 minutes against
//!   replays; any answer but 2xx is delivered again, for up to three days)
//! - events: <https://docs.stripe.com/api/events/object> (`id`, the same on every redelivery;
//!   `type`; `data.object`)
//! - refunds: <https://docs.stripe.com/api/refunds/object> (`status` `pending`, `succeeded`,
//!   `failed`, `canceled`; `failure_reason` such as `expired_or_canceled_card`; `metadata`;
//!   `payment_intent`; `amount` in minor units)
//! - disputes: <https://docs.stripe.com/api/disputes/object> (`payment_intent`, `amount`,
//!   `currency`, `reason`, `status`)

mod common;

use common::stripe::*;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::ErrorCode;
use shared::api::{
    Bucket, LedgerKind, LedgerView, OperationAction, OperationActor, OperationDetail, OperationLog,
    UnsubscribeRecord, Unsubscribed, WithdrawalsView,
};
use shared::money::{Currency, Money};
use shared::refund::RefundDestination;

const RETURNED_SUBJECT: &str = "Your refund was credited to your balance";

/// An account whose refund went to its card through the stand-in, settled.
struct RefundedToCard {
    app: TestApp,
    email: String,
    stripe: StandIn,
    /// Our refund's id.
    refund_id: String,
    /// The unsubscription's record.
    record_id: String,
    /// The Refund object as Stripe made it.
    stripe_refund: Value,
}

/// Binds a card, buys a month of ECS with it and unsubscribes at once; with `settle`, runs the
/// jobs until the refund is paid to the card.
async fn refunded_to_card(tag: &str, settle: bool) -> RefundedToCard {
    let (api, stripe) = start_stand_in().await;
    let mut app = stripe_app(&api).await;
    let email = app.signed_up(tag).await;
    app.with_billing_address("81234567").await;
    assert_eq!(
        add_token(&app, "pm_card_visa").await.status(),
        StatusCode::CREATED
    );
    let instance = app.buy("ecs", 1, "default_method").await;
    let form = json!({"instance_ids": [instance], "confirm_refund_amount": true, "confirm_data_backed_up": true});
    let unsubscribed: Unsubscribed = body_as(
        app.post_once("/api/unsubscribe", "unsubscribe", &form)
            .await,
    )
    .await;
    let record_id = unsubscribed.records[0].id.clone();
    let refund_id: String = sqlx::query_scalar("SELECT id FROM refunds")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    if settle {
        app.advance(DurationMs::days(3));
        app.run_jobs().await;
        // Three days on, the session has ended.
        app.sign_in_again(&email).await;
        assert_eq!(
            refund_status(&app, &refund_id).await,
            ("refunded".into(), "card".into())
        );
    }
    let stripe_refund = stripe.refunds().pop().unwrap_or(Value::Null);
    RefundedToCard {
        app,
        email,
        stripe,
        refund_id,
        record_id,
        stripe_refund,
    }
}

/// Our refund's status and destination.
async fn refund_status(app: &TestApp, id: &str) -> (String, String) {
    sqlx::query_as("SELECT status, destination FROM refunds WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// The Refund object as Stripe shows it once the card network returned it.
fn failed(refund: &Value) -> Value {
    let mut refund = refund.clone();
    refund["status"] = json!("failed");
    refund["failure_reason"] = json!("expired_or_canceled_card");
    refund
}

async fn cash(app: &TestApp) -> shared::money::Money {
    let view: WithdrawalsView = app.get_as("/api/withdrawals").await;
    view.withdrawable
}

async fn ledger(app: &TestApp) -> LedgerView {
    app.get_as("/api/ledger").await
}

async fn operation_log(app: &TestApp) -> OperationLog {
    app.get_as("/api/operation-log").await
}

async fn emails_about_the_return(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE subject = $1")
        .bind(RETURNED_SUBJECT)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

async fn refused_signature(response: reqwest::Response) {
    let (status, code, _) = refusal(response).await;
    assert_eq!(
        (status, code),
        (StatusCode::FORBIDDEN, ErrorCode::SignatureInvalid)
    );
}

#[tokio::test]
async fn a_refund_the_card_network_returned_is_credited_to_the_balance_once() {
    let RefundedToCard {
        app,
        stripe,
        refund_id,
        record_id,
        stripe_refund,
        ..
    } = refunded_to_card("returned", true).await;
    assert_eq!(
        stripe_refund["metadata"]["idempotency_key"], refund_id,
        "the adapter named our refund in the Refund's metadata"
    );
    // Stripe's Refund is its own JSON (not a shared type): its amount is in minor units.
    let paid = usd_minor(stripe_refund["amount"].as_i64().unwrap());
    assert!(paid.amount > rust_decimal::Decimal::ZERO);
    assert_eq!(cash(&app).await, usd("0.00"), "the refund went to the card");
    let entries_before = ledger(&app).await.entries.len();

    let returned = event("evt_returned_1", "refund.failed", failed(&stripe_refund));
    let answer = app.deliver_signed(&returned).await;
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "{}",
        answer.text().await.unwrap()
    );

    assert_eq!(cash(&app).await, paid, "credited to the balance");
    let after = ledger(&app).await;
    assert_eq!(after.entries.len(), entries_before + 1);
    let entry = &after.entries[0];
    assert_eq!(
        (entry.kind, entry.bucket, entry.amount),
        (LedgerKind::Refund, Bucket::Cash, paid)
    );
    assert!(entry.memo.contains("card network"), "{}", entry.memo);
    assert_eq!(
        refund_status(&app, &refund_id).await,
        ("refunded".into(), "balance".into())
    );
    let record: UnsubscribeRecord = app
        .get_as(&format!("/api/unsubscribe/records/{record_id}"))
        .await;
    assert_eq!(record.unsubscribe_to.len(), 1);
    assert_eq!(
        (
            record.unsubscribe_to[0].destination,
            record.unsubscribe_to[0].method_label.as_deref()
        ),
        (RefundDestination::Balance, None),
        "the record says where the money is now"
    );
    assert_eq!(emails_about_the_return(&app).await, 1);
    let log = operation_log(&app).await;
    let logged = &log.entries[0];
    assert_eq!(
        (&logged.action, &logged.actor),
        (
            &OperationAction::RefundReturnedToBalance,
            &OperationActor::System
        )
    );
    assert_eq!(logged.detail, OperationDetail::Amount { amount: paid });

    // Stripe delivers the same event again (our answer was lost): nothing more.
    let again = app.deliver_signed(&returned).await;
    assert_eq!(again.status(), StatusCode::OK);
    // And another event about the same return (`refund.updated` to `failed`): nothing more.
    let updated = event("evt_returned_2", "refund.updated", failed(&stripe_refund));
    assert_eq!(app.deliver_signed(&updated).await.status(), StatusCode::OK);
    assert_eq!(cash(&app).await, paid, "credited once");
    assert_eq!(ledger(&app).await.entries.len(), entries_before + 1);
    assert_eq!(emails_about_the_return(&app).await, 1);
    assert_eq!(operation_log(&app).await.total, log.total);
    assert_eq!(app.count("stripe_events").await, 2, "both events recorded");
    assert_eq!(
        stripe.posts_to("/v1/refunds").len(),
        1,
        "nothing asked of Stripe"
    );
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY]).await;
}

#[tokio::test]
async fn a_delivery_without_a_valid_signature_made_now_is_refused_and_changes_nothing() {
    let RefundedToCard {
        app,
        refund_id,
        stripe_refund,
        ..
    } = refunded_to_card("forged", true).await;
    let body = event("evt_forged", "refund.failed", failed(&stripe_refund));
    let now = app.unix_now();

    let wrong = format!("t={now},v1={}", "ab".repeat(32));
    refused_signature(app.deliver(&body, Some(&wrong)).await).await;
    let other_secret = signature("whsec_someone_else", now, &body);
    refused_signature(app.deliver(&body, Some(&other_secret)).await).await;
    let old = signature(WEBHOOK_SECRET, now - 301, &body);
    refused_signature(app.deliver(&body, Some(&old)).await).await;
    let ahead = signature(WEBHOOK_SECRET, now + 301, &body);
    refused_signature(app.deliver(&body, Some(&ahead)).await).await;
    refused_signature(app.deliver(&body, None).await).await;
    let no_time = format!("v1={}", v1(WEBHOOK_SECRET, now, &body));
    refused_signature(app.deliver(&body, Some(&no_time)).await).await;
    let tampered = body.replace("evt_forged", "evt_forgeD");
    let signed_for_body = signature(WEBHOOK_SECRET, now, &body);
    refused_signature(app.deliver(&tampered, Some(&signed_for_body)).await).await;
    // Signed now, delivered once the server's clock moved on 301 s: a replay.
    app.advance(DurationMs::seconds(301));
    refused_signature(app.deliver(&body, Some(&signed_for_body)).await).await;

    assert_eq!(cash(&app).await, usd("0.00"));
    assert_eq!(
        refund_status(&app, &refund_id).await,
        ("refunded".into(), "card".into())
    );
    assert_eq!(app.count("stripe_events").await, 0);
    assert_eq!(emails_about_the_return(&app).await, 0);

    // Signed, naming our refund, but of another amount: not the refund we paid; nothing moves.
    let mut other_amount = failed(&stripe_refund);
    other_amount["amount"] = json!(stripe_refund["amount"].as_i64().unwrap() + 100);
    let body_other = event("evt_other_amount", "refund.failed", other_amount);
    assert_eq!(
        app.deliver_signed(&body_other).await.status(),
        StatusCode::OK
    );
    assert_eq!(cash(&app).await, usd("0.00"));
    assert_eq!(app.count("stripe_events").await, 1, "recorded as seen");

    // One v1 of ours among others (Stripe rolling the secret), a v0 too: taken.
    let now = app.unix_now() - 10;
    let header = format!(
        "t={now},v1={},v1={},v0={}",
        v1("whsec_old_secret", now, &body),
        v1(WEBHOOK_SECRET, now, &body),
        "00".repeat(32)
    );
    assert_eq!(
        app.deliver(&body, Some(&header)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        refund_status(&app, &refund_id).await,
        ("refunded".into(), "balance".into())
    );
    assert_eq!(app.count("stripe_events").await, 2);
}

#[tokio::test]
async fn a_return_reported_while_the_refund_is_settling_is_refused_until_it_has_settled() {
    let RefundedToCard {
        mut app,
        email,
        stripe,
        refund_id,
        ..
    } = refunded_to_card("early", false).await;
    assert_eq!(
        refund_status(&app, &refund_id).await,
        ("processing".into(), "card".into())
    );
    let (amount, charge): (i64, String) = sqlx::query_as(
        "SELECT r.amount_minor, o.gateway_reference FROM refunds r JOIN orders o ON o.id = r.order_id",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    // As if Stripe had answered our refund and reported its failure before our settlement
    // committed (the refund is made in the stand-in only when the job runs).
    let refund = json!({
        "id": "re_1", "object": "refund", "amount": amount, "currency": "usd",
        "payment_intent": charge, "status": "failed", "failure_reason": "lost_or_stolen_card",
        "metadata": {"idempotency_key": refund_id},
    });
    let body = event("evt_early", "refund.failed", refund);
    let (status, code, _) = refusal(app.deliver_signed(&body).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::WebhookEventEarly)
    );
    assert_eq!(app.count("stripe_events").await, 0, "to be delivered again");
    assert_eq!(cash(&app).await, usd("0.00"));

    app.advance(DurationMs::days(3));
    app.run_jobs().await;
    app.sign_in_again(&email).await;
    assert_eq!(stripe.posts_to("/v1/refunds").len(), 1);
    assert_eq!(
        app.deliver_signed(&body).await.status(),
        StatusCode::OK,
        "Stripe's redelivery"
    );
    assert_eq!(
        refund_status(&app, &refund_id).await,
        ("refunded".into(), "balance".into())
    );
    assert_eq!(cash(&app).await, usd_minor(amount));
}

#[tokio::test]
async fn a_dispute_is_written_in_the_operation_log_of_the_account_that_paid() {
    let (api, _stripe) = start_stand_in().await;
    let mut app = stripe_app(&api).await;
    let disputed_email = app.signed_up("disputed").await;
    app.with_billing_address("81234567").await;
    assert_eq!(
        add_token(&app, "pm_card_visa").await.status(),
        StatusCode::CREATED
    );
    app.buy("ecs", 1, "default_method").await;
    let mut other = app.another_client();
    other.signed_up("not-disputed").await;
    other.with_billing_address("81234568").await;
    assert_eq!(
        add_token(&other, "pm_card_mastercard").await.status(),
        StatusCode::CREATED
    );
    other.buy("ecs", 1, "default_method").await;
    let (charge, amount): (String, i64) = sqlx::query_as(
        "SELECT i.gateway_reference, i.amount_minor FROM gateway_intents i JOIN accounts a ON a.id = i.account_id
         WHERE a.email = $1 AND i.operation = 'charge'",
    )
    .bind(&disputed_email)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    let ledger_before = app.count("ledger_entries").await;
    let others_log = operation_log(&other).await.total;

    let dispute = json!({
        "id": "dp_1", "object": "dispute", "amount": amount, "currency": "usd",
        "charge": "ch_1", "payment_intent": charge, "reason": "fraudulent",
        "status": "needs_response",
    });
    let body = event("evt_dispute", "charge.dispute.created", dispute);
    assert_eq!(app.deliver_signed(&body).await.status(), StatusCode::OK);
    assert_eq!(app.deliver_signed(&body).await.status(), StatusCode::OK);

    let log = operation_log(&app).await;
    let disputed: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.action == OperationAction::PaymentDisputed)
        .collect();
    assert_eq!(disputed.len(), 1, "once: {log:?}");
    assert_eq!(disputed[0].actor, OperationActor::System);
    assert_eq!(
        disputed[0].detail,
        OperationDetail::Dispute {
            amount: Some(Money::from_minor(amount, Currency::USD)),
            reason: Some("fraudulent".to_owned()),
            dispute: "dp_1".to_owned(),
        }
    );
    assert_eq!(operation_log(&other).await.total, others_log, "not theirs");
    assert_eq!(
        app.count("ledger_entries").await,
        ledger_before,
        "no money moves"
    );
}

#[tokio::test]
async fn an_event_not_acted_on_is_answered_200_and_recorded() {
    let (api, _stripe) = start_stand_in().await;
    let mut app = stripe_app(&api).await;
    app.signed_up("other-events").await;
    let unknown = event(
        "evt_customer",
        "customer.created",
        json!({"id": "cus_9", "object": "customer"}),
    );
    assert_eq!(app.deliver_signed(&unknown).await.status(), StatusCode::OK);
    assert_eq!(app.deliver_signed(&unknown).await.status(), StatusCode::OK);
    // A refund that is not ours (made at Stripe's dashboard), and one that succeeded.
    let not_ours = json!({"id": "re_9", "object": "refund", "amount": 500, "currency": "usd",
        "payment_intent": "pi_9", "status": "failed", "metadata": {}});
    let body = event("evt_not_ours", "refund.failed", not_ours);
    assert_eq!(app.deliver_signed(&body).await.status(), StatusCode::OK);
    let succeeded = json!({"id": "re_9", "object": "refund", "amount": 500, "currency": "usd",
        "payment_intent": "pi_9", "status": "succeeded", "metadata": {"idempotency_key": "x"}});
    let body = event("evt_succeeded", "refund.updated", succeeded);
    assert_eq!(app.deliver_signed(&body).await.status(), StatusCode::OK);

    let recorded: Vec<(String, String)> =
        sqlx::query_as("SELECT id, type FROM stripe_events ORDER BY id")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        recorded,
        [
            ("evt_customer".into(), "customer.created".into()),
            ("evt_not_ours".into(), "refund.failed".into()),
            ("evt_succeeded".into(), "refund.updated".into()),
        ]
    );
    assert_eq!(app.count("ledger_entries").await, 0);
}

#[tokio::test]
async fn a_server_without_stripe_has_no_webhook() {
    let app = spawn_app().await;
    let body = event("evt_1", "customer.created", json!({"id": "cus_1"}));
    let (status, code, _) = refusal(app.deliver_signed(&body).await).await;
    assert_eq!((status, code), (StatusCode::NOT_FOUND, ErrorCode::NotFound));
    assert_eq!(app.count("stripe_events").await, 0);
}
