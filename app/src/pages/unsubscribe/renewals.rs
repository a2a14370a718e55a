//! "Unsubscribe Renewal That Does Not Take Effect": renewal orders that have not started.
//! Cancelling from one renewal on cancels it and every later one; with several, the user
//! picks the updated expiration time the resource will have. The running period stays.

use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    CheckboxField, FormAlert, FormErrors, SubmitButton, date::date_time, money, retryable_action,
    unique_id, use_reauth,
};
use crate::words;
use leptos::prelude::*;
use shared::api::{PendingRenewal, UnsubscribeList, UnsubscribeRenewalForm, Unsubscribed};
use shared::money::Money;

#[component]
pub fn RenewalTab(
    list: UnsubscribeList,
    reload: RwSignal<u32>,
    outcome: RwSignal<Option<(&'static str, Unsubscribed)>>,
) -> impl IntoView {
    // One group per instance, in the order the list gives them.
    let mut groups: Vec<(String, String, Vec<PendingRenewal>)> = Vec::new();
    for renewal in list.renewals {
        match groups
            .iter_mut()
            .find(|(id, _, _)| *id == renewal.instance_id)
        {
            Some((_, _, items)) => items.push(renewal),
            None => groups.push((
                renewal.instance_id.clone(),
                renewal.product_name.clone(),
                vec![renewal],
            )),
        }
    }
    let empty = groups.is_empty();
    view! {
        {empty.then(|| view! {
            <section class="panel">
                <p class="muted">"No renewal is waiting to take effect."</p>
            </section>
        })}
        {groups
            .into_iter()
            .map(|(instance_id, product_name, renewals)| view! {
                <RenewalGroup
                    instance_id
                    product_name
                    renewals
                    on_done=Callback::new(move |result| {
                        outcome.set(Some(("Renewals unsubscribed", result)));
                        reload.update(|n| *n += 1);
                    })
                />
            })
            .collect_view()}
    }
}

#[component]
fn RenewalGroup(
    instance_id: String,
    product_name: String,
    renewals: Vec<PendingRenewal>,
    on_done: Callback<Unsubscribed>,
) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let form_id = unique_id("renewals");
    let errors = FormErrors::new("renewal", &["order_id", "confirm_refund_amount"]);
    let heading_id = unique_id("renewal-heading");
    let labelled_by = heading_id.clone();
    // The earliest renewal by default: cancel them all, keep the current period.
    let chosen = RwSignal::new(
        renewals
            .first()
            .map(|r| r.order_id.clone())
            .unwrap_or_default(),
    );
    let amount_ok = RwSignal::new(false);
    let renewals = StoredValue::new(renewals);
    // Cancelling from renewal i refunds it and all after it.
    let refund_from = move |order_id: &str| -> Option<Money> {
        renewals.with_value(|all| {
            let start = all.iter().position(|r| r.order_id == order_id)?;
            all[start..]
                .iter()
                .try_fold(None::<Money>, |sum, r| match sum {
                    None => Some(Some(r.refund)),
                    Some(s) => s.checked_add(r.refund).ok().map(Some),
                })
                .flatten()
        })
    };
    let id = instance_id.clone();
    let cancel = retryable_action(
        move |(form, key): (UnsubscribeRenewalForm, IdempotencyKey), this| async move {
            match api::unsubscribe_renewals(&form, auth.csrf().as_deref(), &key).await {
                Ok(result) => {
                    auth.refresh();
                    on_done.run(result);
                }
                Err(e) => reauth.handle(&e, errors, move || {
                    this.dispatch_local((form, key));
                }),
            }
        },
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = UnsubscribeRenewalForm {
            instance_id: id.clone(),
            order_id: chosen.get_untracked(),
            confirm_refund_amount: amount_ok.get_untracked(),
        };
        if !errors.passes(form.check()) {
            return;
        }
        cancel.dispatch_local((form, IdempotencyKey::new()));
    };
    let group_name = format!("{form_id}-expiry");
    view! {
        <section class="panel" aria-labelledby=labelled_by>
            <h2 id=heading_id>{format!("{product_name} {instance_id}")}</h2>
            <ul class="resource-list">
                {renewals.with_value(|all| all.iter().map(|r| view! {
                    <li class="resource">
                        <span class="resource-name">{format!("Renewal order {}", r.order_id)}</span>
                        <p class="muted">
                            {format!(
                                "From {} to {} · refund {} to {}",
                                date_time(&r.starts_at),
                                date_time(&r.ends_at),
                                money(&r.refund),
                                words::refund_places(&r.refund_to)
                            )}
                        </p>
                    </li>
                }).collect_view())}
            </ul>
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <fieldset class="choices">
                    <legend>"Updated expiration time"</legend>
                    {renewals.with_value(|all| all.iter().map(|r| {
                        let order_id = r.order_id.clone();
                        let order_for_change = r.order_id.clone();
                        let cancelled = all.iter().skip_while(|x| x.order_id != r.order_id).count();
                        let refund = refund_from(&r.order_id).map(|m| money(&m)).unwrap_or_default();
                        let label = format!(
                            "{} (cancels {cancelled} renewal{}, refund {refund})",
                            date_time(&r.updated_expiration),
                            if cancelled == 1 { "" } else { "s" }
                        );
                        view! {
                            <label class="radio radio-block">
                                <input
                                    type="radio"
                                    name=group_name.clone()
                                    prop:checked=move || chosen.get() == order_id
                                    on:change=move |_| chosen.set(order_for_change.clone())
                                />
                                <span>{label}</span>
                            </label>
                        }
                    }).collect_view())}
                </fieldset>
                <p class="amount">
                    {move || refund_from(&chosen.get()).map(|m| format!("Refund {}", money(&m)))}
                </p>
                <CheckboxField errors name="confirm_refund_amount" label="I have confirmed the refund amount." checked=amount_ok />
                <SubmitButton label="Unsubscribe Renewal" pending=cancel.pending() />
            </form>
        </section>
    }
}
