//! `/unsubscribe/review/:instance_id`: one resource, its terms and refund, and the two
//! confirmations (refund amount; data backed up) that enable "Unsubscribe Now".

use super::outcome::{Outcome, refund_status};
use super::resources::kind_label;
use crate::api::{self, IdempotencyKey};
use crate::components::{
    CheckboxField, FormAlert, FormErrors, Loading, SubmitButton, date::date_time, load_failed,
    money, set_title,
};
use crate::pages::products::region_name;
use crate::words::{self, REFUND_RULE};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::api::{OrderRefund, RefundPlace};
use shared::api::{
    UnsubscribableResource, UnsubscribeForm, UnsubscribeQuery, UnsubscribeTab, Unsubscribed,
};
use shared::refund::{RefundDestination, RefundType, UsedBy};

#[component]
pub fn ReviewPage() -> impl IntoView {
    set_title("Unsubscribe resource");
    let params = use_params_map();
    let resource = LocalResource::new(move || {
        let id = params.read().get("instance_id").unwrap_or_default();
        async move {
            let list = api::unsubscribe_list(&UnsubscribeQuery {
                tab: UnsubscribeTab::Resource,
                instance_id: Some(id.clone()),
                page_size: Some(100),
                ..Default::default()
            })
            .await?;
            Ok::<_, api::ApiError>(list.resources.into_iter().find(|r| r.instance_id == id))
        }
    });
    view! {
        <h1>"Unsubscribe resource"</h1>
        <p class="back-link"><A href="/unsubscribe?tab=resource">"Back to orders & unsubscribe"</A></p>
        <Transition fallback=|| view! { <Loading what="the resource" /> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    resource.await.map(|found| match found {
                        Some(resource) => view! { <Review resource /> }.into_any(),
                        None => view! {
                            <p class="form-alert" role="alert">
                                "This resource cannot be unsubscribed: it is not running, or not on this account."
                            </p>
                        }
                        .into_any(),
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Review(resource: UnsubscribableResource) -> impl IntoView {
    let errors = FormErrors::new(
        "unsubscribe",
        &["confirm_refund_amount", "confirm_data_backed_up"],
    );
    let amount_ok = RwSignal::new(false);
    let backed_up = RwSignal::new(false);
    let done = RwSignal::new(None::<Unsubscribed>);
    let id = resource.instance_id.clone();

    let unsubscribe = super::money_back(
        errors,
        |form: UnsubscribeForm, csrf, key| async move {
            api::unsubscribe(&form, csrf.as_deref(), &key).await
        },
        move |_, result| done.set(Some(result)),
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = UnsubscribeForm {
            instance_ids: vec![id.clone()],
            confirm_refund_amount: amount_ok.get_untracked(),
            confirm_data_backed_up: backed_up.get_untracked(),
        };
        if !errors.passes(form.check()) {
            return;
        }
        unsubscribe.dispatch_local((form, IdempotencyKey::new()));
    };

    let resource_view = resource.clone();
    move || match done.get() {
        Some(result) => {
            let first = result.records.first().cloned();
            view! {
                <Outcome result title="Resource unsubscribed" />
                {first.map(|r| view! {
                    <p class="muted">
                        {format!("Refund status: {}. ", refund_status(&r))}
                        <A href=format!("/unsubscribe/records/{}", r.id)>"View unsubscribe details"</A>
                    </p>
                })}
            }
            .into_any()
        }
        None => {
            let resource = resource_view.clone();
            view! {
                <section class="panel" aria-labelledby="resource-heading">
                    <h2 id="resource-heading">"Resource"</h2>
                    <dl class="facts">
                        <div><dt>"Product"</dt><dd>{resource.product_name.clone()}</dd></div>
                        <div><dt>"Instance ID"</dt><dd class="mono">{resource.instance_id.clone()}</dd></div>
                        <div><dt>"Region"</dt><dd>{region_name(&resource.region)}</dd></div>
                        <div><dt>"Resource type"</dt><dd>{kind_label(resource.resource_kind)}</dd></div>
                        <div><dt>"Order time"</dt><dd>{date_time(&resource.order_time)}</dd></div>
                        <div><dt>"Expires"</dt><dd>{date_time(&resource.expires_at)}</dd></div>
                        <div><dt>"Cash paid"</dt><dd>{money(&resource.cash_paid)}</dd></div>
                        <div><dt>"Paid with credit or coupons"</dt><dd>{money(&resource.non_cash_paid)}</dd></div>
                        <div><dt>"Pending renewals"</dt><dd>{resource.pending_renewals}</dd></div>
                        {resource.quota.as_ref().map(|quota| view! {
                            <div><dt>"Plan quota"</dt><dd>{quota.to_string()}</dd></div>
                        })}
                    </dl>
                </section>
                <section class="panel" aria-labelledby="terms-heading">
                    <h2 id="terms-heading">"Terms and refund"</h2>
                    <ul class="terms">
                        <li>"The resource is released and its data deleted at once. This cannot be undone."</li>
                        {(resource.pending_renewals > 0).then(|| view! {
                            <li>"Its pending renewals are cancelled too and refunded in full."</li>
                        })}
                    </ul>
                    <Breakdown resource=resource.clone() />
                    <p class="refund-figure">
                        <span>"Refund amount"</span>
                        <span class="amount-large">{money(&resource.refund)}</span>
                    </p>
                    {(!resource.refund.amount.is_zero()).then(|| view! {
                        <p class="refund-destination">
                            "Refund to: "<strong>{words::refund_places(&resource.refund_to)}</strong>
                        </p>
                    })}
                    <p class="field-help refund-rule"><strong>"Refund rule. "</strong>{REFUND_RULE}</p>
                    <form on:submit=on_submit.clone() novalidate>
                        <FormAlert errors />
                        <CheckboxField errors name="confirm_refund_amount" label="I have confirmed the refund amount." checked=amount_ok />
                        <CheckboxField
                            errors
                            name="confirm_data_backed_up"
                            label="I have backed up or migrated my data. The resource is released and its data is deleted."
                            checked=backed_up
                        />
                        <SubmitButton
                            label="Unsubscribe Now"
                            pending=unsubscribe.pending()
                            disabled=Signal::derive(move || !(amount_ok.get() && backed_up.get()))
                        />
                    </form>
                </section>
            }
            .into_any()
        }
    }
}

/// "card payment 43 days ago → to Bank card VISA •••• 1111 (within the card's 150 days)": where
/// one order's refund goes, and why, from the server's facts.
fn destination_words(o: &OrderRefund) -> String {
    let days = match o.paid_days_ago {
        0 => "today".to_owned(),
        1 => "1 day ago".to_owned(),
        n => format!("{n} days ago"),
    };
    let paid = match o.paid_with.as_str() {
        "card" => format!("Card payment {days}"),
        "paypal" => format!("PayPal payment {days}"),
        "paytm" => format!("Paytm payment {days}"),
        "balance" => format!("Paid from the account balance {days}"),
        _ => format!("Paid with credit or coupons {days}"),
    };
    if o.refund.amount.is_zero() {
        return format!("{paid}: no refund");
    }
    let why = match (o.destination, o.paid_with.as_str()) {
        (RefundDestination::Card, _) | (RefundDestination::Paytm, _) => {
            "within 150 days of payment"
        }
        (RefundDestination::Paypal, _) => "within 180 days of payment",
        (RefundDestination::Balance, "balance") => "paid from the balance",
        (RefundDestination::Balance, _) if o.method_removed => "the payment method was removed",
        (RefundDestination::Balance, "paypal") => "more than 180 days after payment",
        (RefundDestination::Balance, _) => "more than 150 days after payment",
    };
    let to = words::refund_place(&RefundPlace {
        destination: o.destination,
        method_label: o.method_label.clone(),
    });
    format!("{paid} → to {to} ({why})")
}

fn used_words(o: &OrderRefund, refund_type: RefundType) -> String {
    let percent = o.used_percent();
    match o.used_by {
        UsedBy::Time => format!("Time used: {percent} % of the paid period"),
        UsedBy::Quota => format!("Quota drawn: {percent} % of the plan (more than the time used)"),
        UsedBy::Nothing => "Nothing used: refunded in full".to_owned(),
        UsedBy::Whole if refund_type == RefundType::Nonrefundable => {
            "Nonrefundable: the whole payment counts as used".to_owned()
        }
        UsedBy::Whole => "The whole period: it has ended".to_owned(),
    }
}

/// The refund, order by order, as the server computed it: cash, credit and coupons, what was
/// used and the consumed part, the refund, and where it goes.
#[component]
fn Breakdown(resource: UnsubscribableResource) -> impl IntoView {
    let refund_type = resource.refund_type;
    view! {
        <h3 class="breakdown-heading">"Refund breakdown"</h3>
        {resource
            .breakdown
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let title = if i == 0 { "Order in force" } else { "Pending renewal" };
                view! {
                    <div class="breakdown" role="group" aria-label=format!("{title} {}", o.order_id)>
                        <p class="breakdown-title">
                            <strong>{title}</strong>
                            " "
                            <span class="mono">{o.order_id.clone()}</span>
                            <span class="muted">{format!(" · {} – {}", date_time(&o.starts_at), date_time(&o.ends_at))}</span>
                        </p>
                        <dl class="facts facts-compact">
                            <div><dt>"Cash paid"</dt><dd class="amount">{money(&o.cash_paid)}</dd></div>
                            <div><dt>"Credit and coupons (not refunded)"</dt><dd class="amount">{money(&o.non_cash_paid)}</dd></div>
                            <div><dt>"Used"</dt><dd>{used_words(o, refund_type)}</dd></div>
                            <div><dt>"Consumed part"</dt><dd class="amount">{money(&o.consumed)}</dd></div>
                            <div><dt>"Refund"</dt><dd class="amount">{money(&o.refund)}</dd></div>
                            <div><dt>"Goes to"</dt><dd>{destination_words(o)}</dd></div>
                        </dl>
                    </div>
                }
            })
            .collect_view()}
    }
}
