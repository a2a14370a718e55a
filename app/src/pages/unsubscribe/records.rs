//! "Unsubscribe Order Details": the history, and `/unsubscribe/records/:id` for one record
//! (order status, where the refund goes, when it arrived, how much).

use super::outcome::refund_status;
use crate::api;
use crate::components::{Loading, date::date_time, load_failed, money, set_title};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::api::{UnsubscribeList, UnsubscribeRecord};

fn scope(record: &UnsubscribeRecord) -> &'static str {
    if record.scope == "renewal" {
        "Renewal"
    } else {
        "Resource"
    }
}

#[component]
pub fn RecordsTab(list: UnsubscribeList) -> impl IntoView {
    if list.records.is_empty() {
        return view! {
            <section class="panel">
                <p class="muted">"Nothing unsubscribed yet."</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="panel" aria-labelledby="records-heading">
            <h2 id="records-heading">"Unsubscribed orders"</h2>
            <ul class="resource-list">
                {list
                    .records
                    .into_iter()
                    .map(|record| {
                        let href = format!("/unsubscribe/records/{}", record.id);
                        view! {
                            <li class="resource">
                                <div class="resource-head">
                                    <span class="resource-name">{format!("{} {}", record.product_name, record.instance_id)}</span>
                                    <span class="badge">{scope(&record)}</span>
                                    <span class="badge" class:badge-success=record.refund_status == "refunded">
                                        {refund_status(&record)}
                                    </span>
                                </div>
                                <p class="muted">
                                    {format!(
                                        "{} · {} · refund {} to {} · unsubscribed {}",
                                        record.order_status,
                                        record.refund_type.label(),
                                        money(&record.refund_amount),
                                        record.unsubscribe_to,
                                        date_time(&record.unsubscribed_at),
                                    )}
                                </p>
                                <A href=href>{format!("Details of {}", record.instance_id)}</A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
pub fn RecordPage() -> impl IntoView {
    set_title("Unsubscribe details");
    let params = use_params_map();
    let record = LocalResource::new(move || {
        let id = params.read().get("id").unwrap_or_default();
        async move { api::unsubscribe_record(&id).await }
    });
    view! {
        <h1>"Unsubscribe details"</h1>
        <p class="back-link"><A href="/unsubscribe?tab=records">"Back to Unsubscribe Order Details"</A></p>
        <Transition fallback=|| view! { <Loading what="the record" /> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    record.await.map(|record| view! { <RecordFacts record /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn RecordFacts(record: UnsubscribeRecord) -> impl IntoView {
    let refund_time = record
        .refund_time
        .as_deref()
        .map(date_time)
        .unwrap_or_else(|| match record.refund_status.as_str() {
            "processing" => {
                "Not yet: the refund is on its way (up to 30 business days).".to_owned()
            }
            _ => "No refund".to_owned(),
        });
    view! {
        <section class="panel" aria-labelledby="record-heading">
            <h2 id="record-heading">{format!("{} {}", record.product_name, record.instance_id)}</h2>
            <dl class="facts">
                <div><dt>"Order status"</dt><dd>{record.order_status.clone()}</dd></div>
                <div><dt>"Unsubscribed"</dt><dd>{scope(&record)}</dd></div>
                <div><dt>"Refund type"</dt><dd>{record.refund_type.label()}</dd></div>
                <div><dt>"Unsubscribe to"</dt><dd>{record.unsubscribe_to.clone()}</dd></div>
                <div><dt>"Refund amount"</dt><dd class="amount">{money(&record.refund_amount)}</dd></div>
                <div><dt>"Refund status"</dt><dd>{refund_status(&record)}</dd></div>
                <div><dt>"Refund time"</dt><dd>{refund_time}</dd></div>
                <div><dt>"Unsubscribed at"</dt><dd>{date_time(&record.unsubscribed_at)}</dd></div>
                <div><dt>"Record ID"</dt><dd class="mono">{record.id.clone()}</dd></div>
            </dl>
        </section>
    }
}
