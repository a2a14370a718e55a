//! "Unsubscribe Renewal That Does Not Take Effect": renewal orders that have not started.
//! Cancelling from one renewal on cancels it and every later one; with several, the user
//! picks the updated expiration time the resource will have. The running period stays.
//! Several instances, chosen across pages, are cancelled together by "Batch Refund/Renew"
//! (seed 002), at most 50.

use crate::api::{self, IdempotencyKey};
use crate::components::{
    CheckboxField, FormAlert, FormErrors, Modal, SubmitButton, date::date_time, date::long_date,
    money, unique_id,
};
use crate::words;
use leptos::prelude::*;
use shared::api::{
    MAX_BATCH, PendingRenewal, RenewalChoice, UnsubscribeList, UnsubscribeRenewalBatchForm,
    UnsubscribeRenewalForm, Unsubscribed,
};
use shared::money::Money;

/// One instance's renewals chosen for "Batch Refund/Renew": cancelled from `order_id` on.
#[derive(Clone, Debug, PartialEq)]
pub struct ChosenRenewals {
    pub instance_id: String,
    pub product_name: String,
    pub order_id: String,
    /// RFC 3339: when the chosen renewal would have begun, the instance's new expiry.
    pub updated_expiration: String,
    /// How many renewals are cancelled, the chosen one and those after it.
    pub cancels: usize,
    pub refund: Money,
}

/// What cancelling `renewals` (one instance's, in order) from `order_id` on refunds and
/// cancels; `None` when the order is not among them.
fn from_order(renewals: &[PendingRenewal], order_id: &str) -> Option<(Money, usize)> {
    let start = renewals.iter().position(|r| r.order_id == order_id)?;
    let later = &renewals[start..];
    let refund = Money::total(later.iter().map(|r| r.refund))?;
    Some((refund, later.len()))
}

#[component]
pub fn RenewalTab(
    list: UnsubscribeList,
    reload: RwSignal<u32>,
    outcome: RwSignal<Option<(&'static str, Unsubscribed)>>,
    /// The batch being chosen, kept across pages until it is cancelled.
    batch: RwSignal<Vec<ChosenRenewals>>,
) -> impl IntoView {
    let batch_open = RwSignal::new(false);
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
    let count = move || batch.with(Vec::len);
    view! {
        <div class="batch-bar">
            <span aria-live="polite">
                {move || format!("{} of at most {MAX_BATCH} instances selected for Batch Refund/Renew", count())}
            </span>
            <div class="batch-actions">
                <button
                    type="button"
                    class="button"
                    disabled=move || count() == 0
                    on:click=move |_| batch.set(Vec::new())
                >
                    "Clear selection"
                </button>
                <button
                    type="button"
                    class="button button-primary"
                    disabled=move || count() == 0
                    on:click=move |_| batch_open.set(true)
                >
                    "Batch Refund/Renew"
                </button>
            </div>
        </div>
        <Modal
            open=batch_open
            on_close=move |_| batch_open.set(false)
            title="Batch Refund/Renew"
        >
            <RenewalBatchReview
                chosen=batch.get_untracked()
                on_done=Callback::new(move |result: Option<Unsubscribed>| {
                    batch_open.set(false);
                    if let Some(result) = result {
                        batch.set(Vec::new());
                        outcome.set(Some(("Renewals unsubscribed", result)));
                        reload.update(|n| *n += 1);
                    }
                })
            />
        </Modal>
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
                    batch
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
    batch: RwSignal<Vec<ChosenRenewals>>,
    on_done: Callback<Unsubscribed>,
) -> impl IntoView {
    let form_id = unique_id("renewals");
    let errors = FormErrors::new("renewal", &["order_id", "confirm_refund_amount"]);
    let heading_id = unique_id("renewal-heading");
    let labelled_by = heading_id.clone();
    // The batch's choice for this instance if it is in the batch; otherwise the earliest
    // renewal: cancel them all, keep the current period.
    let in_batch = batch.with_untracked(|b| {
        b.iter()
            .find(|c| c.instance_id == instance_id)
            .map(|c| c.order_id.clone())
    });
    let chosen = RwSignal::new(
        in_batch
            .filter(|order| renewals.iter().any(|r| &r.order_id == order))
            .or_else(|| renewals.first().map(|r| r.order_id.clone()))
            .unwrap_or_default(),
    );
    let amount_ok = RwSignal::new(false);
    let renewals = StoredValue::new(renewals);
    // Cancelling from renewal i refunds it and all after it.
    let refund_from = move |order_id: &str| -> Option<Money> {
        renewals.with_value(|all| from_order(all, order_id).map(|(refund, _)| refund))
    };
    // This instance's entry in the batch for the expiry chosen now.
    let id_for_batch = instance_id.clone();
    let name_for_batch = product_name.clone();
    let entry = move || -> Option<ChosenRenewals> {
        let order_id = chosen.get_untracked();
        renewals.with_value(|all| {
            let (refund, cancels) = from_order(all, &order_id)?;
            let first = all.iter().find(|r| r.order_id == order_id)?;
            Some(ChosenRenewals {
                instance_id: id_for_batch.clone(),
                product_name: name_for_batch.clone(),
                updated_expiration: first.updated_expiration.clone(),
                order_id,
                cancels,
                refund,
            })
        })
    };
    let id_in_batch = instance_id.clone();
    let selected =
        Memo::new(move |_| batch.with(|b| b.iter().any(|c| c.instance_id == id_in_batch)));
    let id_to_put = instance_id.clone();
    let put_in_batch = Callback::new(move |on: bool| {
        let entry = entry();
        batch.update(|b| {
            b.retain(|c| c.instance_id != id_to_put);
            if let Some(entry) = entry.filter(|_| on && b.len() < MAX_BATCH) {
                b.push(entry);
            }
        });
    });
    // A new expiry for an instance in the batch changes what the batch cancels.
    Effect::new(move |previous: Option<String>| {
        let now = chosen.get();
        if previous.is_some_and(|p| p != now) && selected.get_untracked() {
            put_in_batch.run(true);
        }
        now
    });
    let full = move || !selected.get() && batch.with(|b| b.len() >= MAX_BATCH);
    let id = instance_id.clone();
    let cancel = super::money_back(
        errors,
        |form: UnsubscribeRenewalForm, csrf, key| async move {
            api::unsubscribe_renewals(&form, csrf.as_deref(), &key).await
        },
        move |form, result| {
            // Its renewals are gone: the batch no longer holds them.
            batch.update(|b| b.retain(|c| c.instance_id != form.instance_id));
            on_done.run(result);
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
    let select_id = format!("{form_id}-batch");
    view! {
        <section class="panel" aria-labelledby=labelled_by>
            <div class="renewal-heading">
                <h2 id=heading_id>{format!("{product_name} {instance_id}")}</h2>
                <div class="check">
                    <input
                        type="checkbox"
                        id=select_id.clone()
                        prop:checked=move || selected.get()
                        disabled=full
                        on:change:target=move |ev| put_in_batch.run(ev.target().checked())
                    />
                    <label for=select_id>"Select for Batch Refund/Renew"</label>
                </div>
            </div>
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

/// The batch dialog: each chosen instance with its updated expiration time, how many renewals
/// go and their refund, the total, the confirmation, and one request for them all.
#[component]
fn RenewalBatchReview(
    chosen: Vec<ChosenRenewals>,
    on_done: Callback<Option<Unsubscribed>>,
) -> impl IntoView {
    // The server's refusals name the instance (`renewals`): they show in the form's alert.
    let errors = FormErrors::new("renewal-batch", &["confirm_refund_amount"]);
    let amount_ok = RwSignal::new(false);
    let choices: Vec<RenewalChoice> = chosen
        .iter()
        .map(|c| RenewalChoice {
            instance_id: c.instance_id.clone(),
            order_id: c.order_id.clone(),
        })
        .collect();
    let cancel = super::money_back(
        errors,
        |form: UnsubscribeRenewalBatchForm, csrf, key| async move {
            api::unsubscribe_renewals_batch(&form, csrf.as_deref(), &key).await
        },
        move |_, result| on_done.run(Some(result)),
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = UnsubscribeRenewalBatchForm {
            renewals: choices.clone(),
            confirm_refund_amount: amount_ok.get_untracked(),
        };
        if !errors.passes(form.check()) {
            return;
        }
        cancel.dispatch_local((form, IdempotencyKey::new()));
    };
    view! {
        <form class="batch-form" on:submit=on_submit novalidate>
            <p>"Only the renewals that have not taken effect are cancelled and refunded in full; each resource keeps running until its updated expiration time."</p>
            <FormAlert errors />
            <div class="table-scroll" tabindex="0" role="region" aria-label="Renewals in this batch">
                <table class="data-table batch-table">
                    <caption class="visually-hidden">"Renewals in this batch"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Instance"</th>
                            <th scope="col" class="amount">"Refund"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {chosen
                            .iter()
                            .map(|c| view! {
                                <tr>
                                    <td>
                                        <span class="mono nowrap">{c.instance_id.clone()}</span>
                                        <span class="cell-note">{c.product_name.clone()}</span>
                                        <span class="cell-note">
                                            "Expires "
                                            <time datetime=c.updated_expiration.clone() title=date_time(&c.updated_expiration)>
                                                {long_date(&c.updated_expiration)}
                                            </time>
                                        </span>
                                    </td>
                                    <td class="amount nowrap">
                                        {money(&c.refund)}
                                        <span class="cell-note">
                                            {format!("cancels {} renewal{}", c.cancels, if c.cancels == 1 { "" } else { "s" })}
                                        </span>
                                    </td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            {super::total_refund(chosen.iter().map(|c| c.refund))}
            <CheckboxField errors name="confirm_refund_amount" label="I have confirmed the refund amount." checked=amount_ok />
            <div class="actions">
                <SubmitButton
                    label="Unsubscribe Renewals"
                    pending=cancel.pending()
                    disabled=Signal::derive(move || !amount_ok.get())
                />
                <button type="button" class="button" on:click=move |_| on_done.run(None)>"Cancel"</button>
            </div>
        </form>
    }
}
