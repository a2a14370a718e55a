//! `/unsubscribe/review/:instance_id`: one resource, its terms and refund, and the two
//! confirmations (refund amount; data backed up) that enable "Unsubscribe Now".

use super::outcome::{Outcome, refund_status};
use super::resources::kind_label;
use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    CheckboxField, FormAlert, FormErrors, Loading, SubmitButton, date::date_time, load_failed,
    money, retryable_action, set_title, use_reauth,
};
use crate::pages::products::region_name;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::api::{
    UnsubscribableResource, UnsubscribeForm, UnsubscribeQuery, UnsubscribeTab, Unsubscribed,
};
use shared::refund::{REFUND_RULE, RefundType};

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
        <p class="back-link"><A href="/unsubscribe?tab=resource">"Back to Orders & Unsubscribe"</A></p>
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
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new(
        "unsubscribe",
        &["confirm_refund_amount", "confirm_data_backed_up"],
    );
    let amount_ok = RwSignal::new(false);
    let backed_up = RwSignal::new(false);
    let done = RwSignal::new(None::<Unsubscribed>);
    let id = resource.instance_id.clone();

    let unsubscribe = retryable_action(
        move |(form, key): (UnsubscribeForm, IdempotencyKey), this| async move {
            match api::unsubscribe(&form, auth.csrf().as_deref(), &key).await {
                Ok(result) => {
                    auth.refresh();
                    done.set(Some(result));
                }
                Err(e) => reauth.handle(&e, errors, move || {
                    this.dispatch_local((form, key));
                }),
            }
        },
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

    let terms = match resource.refund_type {
        RefundType::PartialRefund if resource.quota.is_some() => {
            "Partial Refund: the cash you paid minus the part used until now, by time or by the share of the quota drawn, whichever is larger."
        }
        RefundType::PartialRefund => {
            "Partial Refund: the cash you paid minus the part used until now."
        }
        RefundType::Nonrefundable => "Nonrefundable: nothing is refunded.",
        RefundType::UnactivatedSubscriptionRefund => {
            "Unactivated Subscription Refund: the plan was never activated, so its cash is refunded in full."
        }
        RefundType::FullRefundForUnusedResources => {
            "Full Refund for Unused Resources: nothing was drawn on the plan, so the cash of its orders still running is refunded in full."
        }
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
                        <li>{terms}</li>
                        {(resource.pending_renewals > 0).then(|| view! {
                            <li>"Its pending renewals are cancelled too and refunded in full."</li>
                        })}
                        <li>"Credit and coupons are never refunded as cash."</li>
                    </ul>
                    <p class="refund-figure">
                        <span>"Refund amount"</span>
                        <span class="amount-large">{money(&resource.refund)}</span>
                    </p>
                    {(!resource.refund.amount.is_zero()).then(|| view! {
                        <p class="refund-destination">
                            "Refund to: "<strong>{resource.refund_to.clone()}</strong>
                        </p>
                    })}
                    <p class="field-help">{REFUND_RULE}</p>
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
