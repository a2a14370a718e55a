//! The renewals and records tabs of Unsubscribe Resource are counted and paged by the
//! database: each page holds its share of the rows, in a stable order, the pages together hold
//! every row once, and the total counts them all whatever the page.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use shared::api::{RecordRefundStatus, UnsubscribeList};
use std::collections::BTreeSet;

async fn tab(app: &TestApp, query: &str) -> UnsubscribeList {
    let response = app.get(&format!("/api/unsubscribe?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_renewals_and_records_tabs_page_in_the_database() {
    let mut app = spawn_app().await;
    app.ready_to_buy("pages").await;
    let mut instances = Vec::new();
    for _ in 0..3 {
        let id = app.buy("ecs", 1, "default_method").await;
        for _ in 0..2 {
            let renewed = app
                .post_once(
                    &format!("/api/instances/{id}/renew"),
                    &uuid::Uuid::new_v4().to_string(),
                    &json!({"period_months": 1}),
                )
                .await;
            assert_eq!(renewed.status(), StatusCode::CREATED, "{id}");
        }
        instances.push(id);
    }

    // Six pending renewals, four a page: by instance, then by start.
    let first = tab(&app, "tab=renewal&page_size=4").await;
    let second = tab(&app, "tab=renewal&page_size=4&page=2").await;
    assert_eq!((first.total, second.total), (6, 6));
    assert_eq!((first.renewals.len(), second.renewals.len()), (4, 2));
    let all: Vec<_> = first.renewals.iter().chain(&second.renewals).collect();
    let orders: BTreeSet<&str> = all.iter().map(|r| r.order_id.as_str()).collect();
    assert_eq!(orders.len(), 6, "every renewal once");
    let keys: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.instance_id.as_str(), r.starts_at.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "ordered by instance, then start, across pages"
    );
    // The filters narrow the count as well as the rows.
    let one = &instances[1];
    let filtered = tab(&app, &format!("tab=renewal&instance_id={}", &one[2..14])).await;
    assert_eq!(filtered.total, 2);
    assert!(filtered.renewals.iter().all(|r| &r.instance_id == one));
    assert_eq!(
        tab(&app, "tab=renewal&page=3&page_size=4")
            .await
            .renewals
            .len(),
        0
    );

    // Three unsubscriptions, two a page, newest first.
    for id in &instances {
        let done = app
            .post_once(
                "/api/unsubscribe",
                &uuid::Uuid::new_v4().to_string(),
                &json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true}),
            )
            .await;
        assert_eq!(done.status(), StatusCode::OK, "{id}");
        app.state.clock.advance(chrono::Duration::seconds(1));
    }
    let first = tab(&app, "tab=records&page_size=2").await;
    let second = tab(&app, "tab=records&page_size=2&page=2").await;
    assert_eq!((first.total, second.total), (3, 3));
    assert_eq!((first.records.len(), second.records.len()), (2, 1));
    let shown: Vec<&str> = first
        .records
        .iter()
        .chain(&second.records)
        .map(|r| r.instance_id.as_str())
        .collect();
    let newest_first: Vec<&str> = instances.iter().rev().map(String::as_str).collect();
    assert_eq!(shown, newest_first);
    // Each record carries its own refunds: three orders each, refunded to the card.
    for record in first.records.iter().chain(&second.records) {
        assert_eq!(record.refunded_orders.len(), 3, "{}", record.instance_id);
        assert_eq!(record.refund_status, RecordRefundStatus::Processing);
    }
    assert_eq!(
        tab(&app, "tab=renewal").await.total,
        0,
        "nothing left to renew"
    );
}
