//! The resource tab's groups as filters: the seed's Regular Cloud Resource and
//! Resource Plans tabs, refund type and activation status, each answered by the server over
//! every page, with counts that do not depend on the group chosen; and the records name the
//! orders they refunded.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use shared::ErrorCode;
use shared::api::{UnsubscribeList, UnsubscribeRecord, Unsubscribed};
use shared::refund::{RefundType, ResourceKind};
use strum::VariantArray;

async fn list(app: &TestApp, query: &str) -> UnsubscribeList {
    let response = app
        .get(&format!("/api/unsubscribe?tab=resource&{query}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    body_as(response).await
}

/// Which resources a filter should hold.
type Wanted = Box<dyn Fn(&shared::api::UnsubscribableResource) -> bool>;

#[tokio::test]
async fn each_group_filter_holds_exactly_its_resources_on_every_page() {
    let mut app = spawn_app().await;
    app.ready_to_buy("groups").await;
    app.post("/api/dev/seed-demo", &json!({"extra": 30})).await;
    let all = list(&app, "page_size=100").await;
    assert_eq!(all.total, 38);
    assert_eq!(all.resources.len(), 38);

    let kinds = [
        ("regular_cloud_resource", ResourceKind::RegularCloudResource),
        ("resource_plan", ResourceKind::ResourcePlan),
    ];
    let types: Vec<_> = RefundType::VARIANTS
        .iter()
        .map(|&t| (t.as_str(), t))
        .collect();
    let mut cases: Vec<(String, Wanted)> = vec![];
    for (key, kind) in kinds {
        cases.push((
            format!("kind={key}"),
            Box::new(move |r| r.resource_kind == kind),
        ));
        for &(tkey, t) in &types {
            cases.push((
                format!("kind={key}&refund_type={tkey}"),
                Box::new(move |r| r.resource_kind == kind && r.refund_type == t),
            ));
        }
    }
    for (tkey, t) in types {
        cases.push((
            format!("refund_type={tkey}"),
            Box::new(move |r| r.refund_type == t),
        ));
    }
    for a in [true, false] {
        cases.push((
            format!("activated={a}"),
            Box::new(move |r| r.activated == a),
        ));
        cases.push((
            format!("kind=resource_plan&activated={a}"),
            Box::new(move |r| r.resource_kind == ResourceKind::ResourcePlan && r.activated == a),
        ));
    }
    let mut nonempty = 0;
    for (query, wanted) in &cases {
        let expected: Vec<&str> = all
            .resources
            .iter()
            .filter(|r| wanted(r))
            .map(|r| r.instance_id.as_str())
            .collect();
        // Read in pages of 5, as the page would page through them.
        let first = list(&app, &format!("{query}&page_size=5")).await;
        assert_eq!(first.total as usize, expected.len(), "{query}");
        // The counts are those of the other filters alone: the same whatever group is chosen.
        assert_eq!(first.groups, all.groups, "{query}");
        let mut got: Vec<String> = vec![];
        for page in 1..=first.total.div_ceil(5).max(1) {
            let one = list(&app, &format!("{query}&page_size=5&page={page}")).await;
            got.extend(one.resources.into_iter().map(|r| r.instance_id));
        }
        let mut expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "{query}");
        nonempty += usize::from(!got.is_empty());
    }
    assert!(
        nonempty >= 8,
        "the demo should fill most groups, filled {nonempty}"
    );

    // The group filters combine with the product filter, and a bad value is a JSON error.
    let plans_oss = list(&app, "product=oss&kind=resource_plan").await;
    assert!(plans_oss.resources.iter().all(|r| r.product == "oss"));
    let (status, code, _) = refusal(
        app.get("/api/unsubscribe?tab=resource&refund_type=free")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code, ErrorCode::BadRequest);
}

#[tokio::test]
async fn a_record_names_the_orders_it_refunded_and_a_nonrefundable_one_none() {
    let mut app = spawn_app().await;
    app.ready_to_buy("records").await;
    let ecs = app.buy("ecs", 1, "default_method").await;
    app.renewed(&ecs, 1).await;
    let domain = app.buy("domain", 12, "default_method").await;
    let form = |id: &str| json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true});
    let done: Unsubscribed = app
        .post_once("/api/unsubscribe", "us-ecs", &form(&ecs))
        .await
        .json()
        .await
        .unwrap();
    let orders: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM orders WHERE instance_id = $1 ORDER BY starts_at")
            .bind(&ecs)
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    let mut refunded = done.records[0].refunded_orders.clone();
    refunded.sort();
    let mut expected: Vec<String> = orders.into_iter().map(|(id,)| id).collect();
    expected.sort();
    assert_eq!(expected.len(), 2, "the purchase and its renewal");
    assert_eq!(refunded, expected);

    let none: Unsubscribed = app
        .post_once("/api/unsubscribe", "us-domain", &form(&domain))
        .await
        .json()
        .await
        .unwrap();
    let record = &none.records[0];
    assert_eq!(record.refund_type, RefundType::Nonrefundable);
    assert!(record.refunded_orders.is_empty());
    assert!(record.unsubscribe_to.is_empty(), "no refund");
    let again: UnsubscribeRecord = app
        .get_as(&format!("/api/unsubscribe/records/{}", record.id))
        .await;
    assert!(again.refunded_orders.is_empty());
    app.assert_no_unexpected_jobs(&[job_kinds::EXPIRY, job_kinds::REFUND])
        .await;
}
