//! The address form: Individual or Corporate, then the postal address. Prefilled from the
//! saved address, so it is edited in place later.

use super::contact::CONTACT_FIRST_INPUT;
use crate::api;
use crate::app::use_auth;
use crate::components::{
    AddressInput, AddressInputs, FormAlert, FormErrors, Radio, SubmitButton, TextField,
    form_errors::focus_element,
};
use crate::pages::onboarding::{NextStepLink, Step};
use leptos::prelude::*;
use shared::ErrorCode;
use shared::billing::{AccountType, AddressFields, BillingAddress, BillingAddressForm};

const FIELDS: &[&str] = &[
    "company_name",
    "last_name",
    "first_name",
    "country",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
];

#[component]
pub fn AddressForm(saved: Option<BillingAddress>, contact_verified: Signal<bool>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("billing", FIELDS);
    let had_address = saved.is_some();
    let initial = saved
        .map(|a| a.to_form())
        .unwrap_or_else(|| BillingAddressForm {
            address: shared::billing::AddressForm {
                country: auth
                    .account_untracked()
                    .map(|a| a.country)
                    .unwrap_or_default(),
                ..Default::default()
            },
            ..Default::default()
        });
    let account_type = RwSignal::new(initial.account_type);
    let company_name = RwSignal::new(initial.company_name.clone());
    let last_name = RwSignal::new(initial.last_name.clone());
    let first_name = RwSignal::new(initial.first_name.clone());
    let address = AddressInput::new(&initial.address);
    let saved_message = RwSignal::new(None::<String>);

    let save = Action::new_local(move |form: &BillingAddressForm| {
        let form = form.clone();
        async move {
            match api::save_billing_address(&form, auth.csrf().as_deref()).await {
                Ok(saved) => {
                    // Show what the server kept (trimmed, normalised, state defaulted).
                    let form = saved.to_form();
                    company_name.set(form.company_name);
                    last_name.set(form.last_name);
                    first_name.set(form.first_name);
                    address.set(&form.address);
                    saved_message.set(Some(if had_address {
                        "Billing address updated.".to_owned()
                    } else {
                        "Billing address saved. You can now add a payment method.".to_owned()
                    }));
                    auth.refresh();
                }
                Err(e) => {
                    errors.show_api(&e);
                    if e.code() == ErrorCode::ContactNotVerified {
                        focus_element(CONTACT_FIRST_INPUT);
                    }
                }
            }
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved_message.set(None);
        let form = BillingAddressForm {
            account_type: account_type.get_untracked(),
            last_name: last_name.get_untracked(),
            first_name: first_name.get_untracked(),
            company_name: company_name.get_untracked(),
            address: address.form(),
        };
        if !errors.passes(form.parse()) {
            return;
        }
        save.dispatch_local(form);
    };

    let corporate = move || account_type.get() == AccountType::Corporate;
    view! {
        <section class="panel" aria-labelledby="address-heading">
            <h2 id="address-heading">"Address details"</h2>
            <Show when=move || !contact_verified.get()>
                <p class="notice">"Verify the contact above first; then save the address."</p>
            </Show>
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <fieldset class="choices">
                    <legend>"Account type"</legend>
                    <Radio group="account-type" label="Individual" option=AccountType::Individual selected=account_type />
                    <Radio group="account-type" label="Corporate" option=AccountType::Corporate selected=account_type />
                </fieldset>
                <Show
                    when=corporate
                    fallback=move || view! {
                        <div class="field-row">
                            <TextField errors name="last_name" label="Last name" value=last_name autocomplete="family-name" />
                            <TextField errors name="first_name" label="First name" value=first_name autocomplete="given-name" />
                        </div>
                    }
                >
                    <TextField errors name="company_name" label="Company name" value=company_name autocomplete="organization" />
                    <div class="field-row">
                        <TextField errors name="last_name" label="Contact last name" value=last_name autocomplete="family-name" />
                        <TextField errors name="first_name" label="Contact first name" value=first_name autocomplete="given-name" />
                    </div>
                </Show>
                <AddressInputs errors names=&AddressFields::TOP address />
                <SubmitButton label="Save" pending=save.pending() />
                <p class="status" role="status">{move || saved_message.get()}</p>
                {move || {
                    (saved_message.with(Option::is_some) && !had_address)
                        .then(|| view! { <NextStepLink step=Step::PaymentMethod /> })
                }}
            </form>
        </section>
    }
}
