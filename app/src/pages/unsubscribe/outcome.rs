//! What an unsubscription did: each record with where its refund goes, and the total.

use crate::components::money;
use crate::words;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{UnsubscribeRecord, Unsubscribed};

pub fn refund_status(record: &UnsubscribeRecord) -> &'static str {
    words::record_refund_status(record.refund_status)
}

#[component]
pub fn Outcome(result: Unsubscribed, title: &'static str) -> impl IntoView {
    let count = result.records.len();
    view! {
        <section class="panel outcome" aria-labelledby="outcome-heading">
            <h2 id="outcome-heading">{title}</h2>
            <p class="status" role="status">
                {format!(
                    "{count} unsubscribed. Total refund {}.",
                    money(&result.total_refund)
                )}
            </p>
            <ul class="resource-list">
                {result
                    .records
                    .into_iter()
                    .map(|record| {
                        let href = format!("/unsubscribe/records/{}", record.id);
                        let status = refund_status(&record);
                        view! {
                            <li class="resource">
                                <div class="resource-head">
                                    <span class="resource-name">{record.product_name.clone()}</span>
                                    <span class="mono">{record.instance_id.clone()}</span>
                                    <span class="badge">{status}</span>
                                </div>
                                <p>{if record.refund_amount.amount.is_zero() {
                                    "No refund.".to_owned()
                                } else {
                                    format!("Refund {} to {}.", money(&record.refund_amount), words::refund_places(&record.unsubscribe_to))
                                }}</p>
                                <A href=href attr:aria-label=format!("View Details of {}", record.instance_id)>"View Details"</A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
