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
    body_as(response).await
}

#[tokio::test]
async fn the_renewals_and_records_tabs_page_in_the_database() {
    let mut app = spawn_app().await;
    app.ready_to_buy("pages").await;
    let mut instances = Vec::new();
    for _ in 0..3 {
        let id = app.buy("ecs", 1, "default_method").await;
        for _ in 0..2 {
            app.renewed(&id, 1).await;
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
        app.state.clock.advance(DurationMs::seconds(1));
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

/// The instance IDs of pages 1 and 2 (two rows each) of the resource tab in `order`.
async fn two_pages(app: &TestApp, order: &str) -> Vec<shared::api::UnsubscribableResource> {
    let mut rows = Vec::new();
    for page in 1..=2 {
        let list = tab(
            app,
            &format!("tab=resource&page_size=2&page={page}&{order}"),
        )
        .await;
        assert_eq!(list.total, 4, "{order}");
        rows.extend(list.resources);
    }
    rows
}

#[tokio::test]
async fn the_resource_tab_is_sorted_by_the_server_across_pages_with_the_instance_id_breaking_ties()
{
    let mut app = spawn_app().await;
    app.ready_to_buy("sorted").await;
    // Four resources: two paid the same (a tie the instance ID breaks), bought a second apart.
    let mut bought = Vec::new();
    for months in [3, 1, 6, 1] {
        bought.push(app.buy("ecs", months, "default_method").await);
        app.state.clock.advance(DurationMs::seconds(1));
    }

    for direction in ["asc", "desc"] {
        let rows = two_pages(&app, &format!("sort=paid&direction={direction}")).await;
        let ids: BTreeSet<&str> = rows.iter().map(|r| r.instance_id.as_str()).collect();
        assert_eq!(ids.len(), 4, "every resource once across the pages");
        let keys: Vec<(rust_decimal::Decimal, &str)> = rows
            .iter()
            .map(|r| (r.cash_paid.amount, r.instance_id.as_str()))
            .collect();
        let mut expected = keys.clone();
        expected.sort_by(|a, b| {
            let by_paid = if direction == "asc" {
                a.0.cmp(&b.0)
            } else {
                b.0.cmp(&a.0)
            };
            by_paid.then(a.1.cmp(b.1))
        });
        assert_eq!(keys, expected, "paid {direction}, then the instance ID");
        let distinct: BTreeSet<_> = keys.iter().map(|k| k.0).collect();
        assert_eq!(distinct.len(), 3, "three amounts and one tie: {keys:?}");

        let rows = two_pages(&app, &format!("sort=instance&direction={direction}")).await;
        let ids: Vec<&str> = rows.iter().map(|r| r.instance_id.as_str()).collect();
        let mut expected = bought.iter().map(String::as_str).collect::<Vec<_>>();
        expected.sort();
        if direction == "desc" {
            expected.reverse();
        }
        assert_eq!(ids, expected, "instance {direction}");

        let rows = two_pages(&app, &format!("sort=order_time&direction={direction}")).await;
        let ids: Vec<&str> = rows.iter().map(|r| r.instance_id.as_str()).collect();
        let mut expected = bought.iter().map(String::as_str).collect::<Vec<_>>();
        if direction == "desc" {
            expected.reverse();
        }
        assert_eq!(ids, expected, "order time {direction}");
    }
    // No sort asked: the order time, newest first, as before.
    let rows = two_pages(&app, "").await;
    let ids: Vec<&str> = rows.iter().map(|r| r.instance_id.as_str()).collect();
    let newest_first: Vec<&str> = bought.iter().rev().map(String::as_str).collect();
    assert_eq!(ids, newest_first);

    // Only the enum's columns and directions: anything else is the API's malformed-query error.
    for bad in [
        "sort=refund",
        "sort=created_at%20DESC%3B--",
        "sort=paid&direction=sideways",
    ] {
        let response = app
            .get(&format!("/api/unsubscribe?tab=resource&{bad}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: shared::ErrorBody = body_as(response).await;
        assert_eq!(body.code, shared::ErrorCode::BadRequest, "{bad}");
    }
}
