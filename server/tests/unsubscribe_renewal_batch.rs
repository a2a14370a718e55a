//! "Batch Refund/Renew" on the Renewal tab (seed 002): the pending renewals of several
//! instances cancelled in one request, all or none, once per Idempotency-Key.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::ErrorCode;
use shared::api::{InstanceView, PendingRenewal, UnsubscribeList, UnsubscribeScope, Unsubscribed};

const PATH: &str = "/api/unsubscribe/renewals/batch";

async fn pending(app: &TestApp) -> Vec<PendingRenewal> {
    let list: UnsubscribeList = app.get_as("/api/unsubscribe?tab=renewal").await;
    list.renewals
}

/// The instance's expiry as the API gives it.
async fn expiry(app: &TestApp, id: &str) -> Option<String> {
    let instances: Vec<InstanceView> = app.get_as("/api/instances").await;
    instances.into_iter().find(|i| i.id == id)?.expires_at
}

/// (order, status) of every order, and how many refunds and unsubscriptions exist.
async fn written(app: &TestApp) -> (Vec<(String, String)>, i64, i64) {
    let orders = sqlx::query_as("SELECT id, status FROM orders ORDER BY id")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    (
        orders,
        app.count("refunds").await,
        app.count("unsubscriptions").await,
    )
}

fn form(choices: &[(&str, &str)]) -> Value {
    let renewals: Vec<Value> = choices
        .iter()
        .map(|(instance, order)| json!({"instance_id": instance, "order_id": order}))
        .collect();
    json!({"renewals": renewals, "confirm_refund_amount": true})
}

/// Two RDS instances with two monthly renewals each; the renewals of each, in order.
async fn two_renewed(
    app: &mut TestApp,
) -> ((String, Vec<PendingRenewal>), (String, Vec<PendingRenewal>)) {
    app.ready_to_buy("renewbatch").await;
    let a = app.buy("rds", 1, "default_method").await;
    let b = app.buy("rds", 1, "default_method").await;
    for id in [&a, &b, &a, &b] {
        app.renewed(id, 1).await;
    }
    let all = pending(app).await;
    let of = |id: &str| -> Vec<PendingRenewal> {
        all.iter()
            .filter(|r| r.instance_id == id)
            .cloned()
            .collect()
    };
    let (ra, rb) = (of(&a), of(&b));
    assert_eq!((ra.len(), rb.len()), (2, 2));
    ((a, ra), (b, rb))
}

#[tokio::test]
async fn a_batch_cancels_each_instances_renewals_from_its_chosen_one_once_per_key() {
    let mut app = spawn_app().await;
    let ((a, ra), (b, rb)) = two_renewed(&mut app).await;
    // All of a's renewals; b's second only.
    let batch = form(&[(&a, &ra[0].order_id), (&b, &rb[1].order_id)]);
    let response = app.post_once(PATH, "batch-1", &batch).await;
    assert_eq!(response.status(), StatusCode::OK);
    let done: Unsubscribed = body_as(response).await;

    // Each pending renewal refunded in full: three of them.
    assert_eq!(done.records.len(), 2);
    assert!(
        done.records
            .iter()
            .all(|r| r.scope == UnsubscribeScope::Renewal)
    );
    let record_of = |id: &str| done.records.iter().find(|r| r.instance_id == id).unwrap();
    let expected_a = ra[0].refund.checked_add(ra[1].refund).unwrap();
    assert_eq!(record_of(&a).refund_amount, expected_a);
    assert_eq!(record_of(&b).refund_amount, rb[1].refund);
    assert_eq!(
        done.total_refund,
        expected_a.checked_add(rb[1].refund).unwrap()
    );
    assert_eq!(app.count("refunds").await, 3);

    // Still running; each now expires when its first cancelled renewal would have begun.
    assert_eq!(
        expiry(&app, &a).await,
        Some(ra[0].updated_expiration.clone())
    );
    assert_eq!(
        expiry(&app, &b).await,
        Some(rb[1].updated_expiration.clone())
    );
    let left = pending(&app).await;
    assert_eq!(left.len(), 1, "b's first renewal remains");
    assert_eq!(left[0].order_id, rb[0].order_id);

    // The same request again, with the same key: the first answer, and nothing more written.
    let before = written(&app).await;
    let again = app.post_once(PATH, "batch-1", &batch).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Unsubscribed = body_as(again).await;
    assert_eq!(again, done);
    assert_eq!(written(&app).await, before);
    // The same key for another batch is refused.
    let other = form(&[(&b, &rb[0].order_id)]);
    let (_, code, _) = refusal(app.post_once(PATH, "batch-1", &other).await).await;
    assert_eq!(code, ErrorCode::IdempotencyKeyReused);
    assert_eq!(written(&app).await, before);
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::REFUND])
        .await;
}

#[tokio::test]
async fn one_item_that_cannot_be_cancelled_refuses_the_whole_batch_and_names_it() {
    let mut app = spawn_app().await;
    let ((a, ra), (b, rb)) = two_renewed(&mut app).await;
    let before = written(&app).await;
    let expiries = (expiry(&app, &a).await, expiry(&app, &b).await);

    // b's order given for a: not one of a's pending renewals.
    let mixed = form(&[(&b, &rb[0].order_id), (&a, &rb[1].order_id)]);
    let response = app.post_once(PATH, "mixed", &mixed).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: shared::ErrorBody = body_as(response).await;
    assert_eq!(body.code, ErrorCode::NotUnsubscribable);
    assert!(
        body.message.starts_with(&format!("{a}: ")),
        "names the item: {}",
        body.message
    );
    // An instance that is not the account's.
    let stranger = form(&[(&a, &ra[0].order_id), ("i-not-mine", &rb[0].order_id)]);
    let response = app.post_once(PATH, "stranger", &stranger).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: shared::ErrorBody = body_as(response).await;
    assert!(body.message.starts_with("i-not-mine: "), "{}", body.message);

    // Nothing of either instance was written.
    assert_eq!(written(&app).await, before);
    assert_eq!((expiry(&app, &a).await, expiry(&app, &b).await), expiries);
    assert_eq!(pending(&app).await.len(), 4);

    // The form's own limits: one instance once, at most fifty, the refund confirmed.
    let twice = form(&[(&a, &ra[0].order_id), (&a, &ra[1].order_id)]);
    let (status, code, field) = refusal(app.post_once(PATH, "twice", &twice).await).await;
    assert_eq!(
        (status, code, field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::BadRequest,
            Some("renewals")
        )
    );
    let ids: Vec<String> = (0..51).map(|i| format!("i-{i}")).collect();
    let many: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "ord-x")).collect();
    let (_, code, _) = refusal(app.post_once(PATH, "many", &form(&many)).await).await;
    assert_eq!(code, ErrorCode::BatchTooLarge);
    let mut unconfirmed = form(&[(&a, &ra[0].order_id)]);
    unconfirmed["confirm_refund_amount"] = json!(false);
    let (_, code, _) = refusal(app.post_once(PATH, "unconfirmed", &unconfirmed).await).await;
    assert_eq!(code, ErrorCode::ConfirmationRequired);
    assert_eq!(written(&app).await, before);
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY]).await;
}
