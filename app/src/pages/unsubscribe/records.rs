//! "Unsubscribe Order Details": the history (a table on a desktop, one compact row each on a
//! phone), and `/unsubscribe/records/:id` for one record (order status, where the refund
//! goes, when it arrived, how much).

use super::outcome::refund_status;
use crate::api;
use crate::components::{Loading, date::date_time, date::long_date, load_failed, money, set_title};
use crate::words;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::api::{RecordRefundStatus, UnsubscribeList, UnsubscribeRecord};

fn scope(record: &UnsubscribeRecord) -> &'static str {
    words::unsubscribe_scope(record.scope)
}

/// "USD 12.34 to Bank card •••• 1111", or "No refund" when nothing is refunded.
pub fn refund_line(record: &UnsubscribeRecord) -> String {
    if record.refund_amount.amount.is_zero() {
        "No refund".to_owned()
    } else {
        format!(
            "{} to {}",
            money(&record.refund_amount),
            words::refund_places(&record.unsubscribe_to)
        )
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
        <section class="panel table-panel" aria-labelledby="records-heading">
            <h2 id="records-heading" class="table-heading">"Unsubscribed orders"</h2>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Unsubscribed orders">
                <table class="data-table record-table">
                    <thead>
                        <tr>
                            <th scope="col">"Instance ID"</th>
                            <th scope="col">"Product"</th>
                            <th scope="col">"Unsubscribed"</th>
                            <th scope="col">"Order status"</th>
                            <th scope="col">"Refund"</th>
                            <th scope="col">"Refund status"</th>
                            <th scope="col">"Unsubscribed at"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .records
                            .into_iter()
                            .map(|record| {
                                let href = format!("/unsubscribe/records/{}", record.id);
                                view! {
                                    <tr>
                                        <td class="col-instance mono nowrap">{record.instance_id.clone()}</td>
                                        <td class="col-product">
                                            <span class="product-name">{record.product_name.clone()}</span>
                                            <span class="cell-note">{record.refund_type.label()}</span>
                                        </td>
                                        <td class="col-scope">
                                            {scope(&record)}
                                        </td>
                                        <td class="col-status nowrap">
                                            {words::order_status(record.order_status)}
                                        </td>
                                        <td class="col-refund">{refund_line(&record)}</td>
                                        <td class="col-refund-status">
                                            <span class="badge" class:badge-success=record.refund_status == RecordRefundStatus::Refunded>
                                                {refund_status(&record)}
                                            </span>
                                        </td>
                                        <td class="col-date nowrap">{long_date(&record.unsubscribed_at)}</td>
                                        <td class="col-action">
                                            <A href=href attr:class="button button-compact" attr:aria-label=format!("View Details of {}", record.instance_id)>
                                                "View Details"
                                            </A>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
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
        .unwrap_or_else(|| match record.refund_status {
            RecordRefundStatus::Processing => {
                "Not yet: the refund is on its way (up to 30 business days).".to_owned()
            }
            _ => "No refund".to_owned(),
        });
    view! {
        <section class="panel" aria-labelledby="record-heading">
            <h2 id="record-heading">{format!("{} {}", record.product_name, record.instance_id)}</h2>
            <dl class="facts">
                <div><dt>"Order status"</dt><dd>{words::order_status(record.order_status)}</dd></div>
                <div><dt>"Unsubscribed"</dt><dd>{scope(&record)}</dd></div>
                <div><dt>"Refund type"</dt><dd>{record.refund_type.label()}</dd></div>
                <div><dt>"Unsubscribe to"</dt><dd>{words::refund_places(&record.unsubscribe_to)}</dd></div>
                <div><dt>"Refund amount"</dt><dd class="amount">{if record.refund_amount.amount.is_zero() { "No refund".to_owned() } else { money(&record.refund_amount) }}</dd></div>
                <div>
                    <dt>"Refunded orders"</dt>
                    <dd class="mono">{if record.refunded_orders.is_empty() { "None".to_owned() } else { record.refunded_orders.join(", ") }}</dd>
                </div>
                <div><dt>"Refund status"</dt><dd>{refund_status(&record)}</dd></div>
                <div><dt>"Refund time"</dt><dd>{refund_time}</dd></div>
                <div><dt>"Unsubscribed at"</dt><dd>{date_time(&record.unsubscribed_at)}</dd></div>
                <div><dt>"Record ID"</dt><dd class="mono">{record.id.clone()}</dd></div>
            </dl>
        </section>
    }
}
