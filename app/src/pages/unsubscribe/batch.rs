//! The batch dialog: the chosen Partial Refund resources with the refund of each and the
//! total, the two confirmations, and "Unsubscribe Now".

use crate::api::{self, IdempotencyKey};
use crate::components::{CheckboxField, FormAlert, FormErrors, SubmitButton, money};
use leptos::prelude::*;
use shared::api::{UnsubscribableResource, UnsubscribeForm, Unsubscribed};

#[component]
pub fn BatchReview(
    resources: Vec<UnsubscribableResource>,
    on_done: Callback<Option<Unsubscribed>>,
) -> impl IntoView {
    let errors = FormErrors::new(
        "batch",
        &[
            "instance_ids",
            "confirm_refund_amount",
            "confirm_data_backed_up",
        ],
    );
    let amount_ok = RwSignal::new(false);
    let backed_up = RwSignal::new(false);
    let ids: Vec<String> = resources.iter().map(|r| r.instance_id.clone()).collect();
    let unsubscribe = super::money_back(
        errors,
        |form: UnsubscribeForm, csrf, key| async move {
            api::unsubscribe(&form, csrf.as_deref(), &key).await
        },
        move |_, result| on_done.run(Some(result)),
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = UnsubscribeForm {
            instance_ids: ids.clone(),
            confirm_refund_amount: amount_ok.get_untracked(),
            confirm_data_backed_up: backed_up.get_untracked(),
        };
        if !errors.passes(form.check()) {
            return;
        }
        unsubscribe.dispatch_local((form, IdempotencyKey::new()));
    };
    view! {
        <form class="batch-form" on:submit=on_submit novalidate>
            <p>"These resources are released and their data deleted. This cannot be undone."</p>
            <FormAlert errors />
            <div class="table-scroll" tabindex="0" role="region" aria-label="Resources in this batch">
                <table class="data-table batch-table">
                    <caption class="visually-hidden">"Resources in this batch"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Instance ID"</th>
                            <th scope="col">"Product"</th>
                            <th scope="col" class="amount">"Cash paid"</th>
                            <th scope="col" class="amount">"Refund"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {resources
                            .iter()
                            .map(|r| view! {
                                <tr>
                                    <td class="mono nowrap">{r.instance_id.clone()}</td>
                                    <td>{r.product_name.clone()}</td>
                                    <td class="amount nowrap">{money(&r.cash_paid)}</td>
                                    <td class="amount nowrap">{money(&r.refund)}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            {super::total_refund(resources.iter().map(|r| r.refund))}
            <p class="field-help">{crate::words::REFUND_RULE}</p>
            <CheckboxField errors name="confirm_refund_amount" label="I have confirmed the refund amount." checked=amount_ok />
            <CheckboxField
                errors
                name="confirm_data_backed_up"
                label="I have backed up or migrated my data. Unsubscribed resources are released and their data is deleted."
                checked=backed_up
            />
            <div class="actions">
                <SubmitButton
                    label="Unsubscribe Now"
                    pending=unsubscribe.pending()
                    disabled=Signal::derive(move || !(amount_ok.get() && backed_up.get()))
                />
                <button type="button" class="button" on:click=move |_| on_done.run(None)>"Cancel"</button>
            </div>
        </form>
    }
}
