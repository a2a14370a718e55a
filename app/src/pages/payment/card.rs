//! Adding a bank card: checked here by the shared parser (brand, Luhn, expiry, CVV length),
//! then verified by the server with a small hold that is released at once. The CVV is sent
//! once and never stored; the card's billing address starts as the account's.

use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    AddressInput, AddressInputs, FormAlert, FormErrors, SubmitButton, TextField, retryable_action,
    use_reauth,
};
use leptos::prelude::*;
use shared::api::MethodAdded;
use shared::billing::{AddressFields, AddressForm};
use shared::payment::CardForm;

/// The card's address travels inside the card form, and its errors are named so.
const CARD_ADDRESS: AddressFields = AddressFields {
    country: "billing_address.country",
    address_line1: "billing_address.address_line1",
    address_line2: "billing_address.address_line2",
    city: "billing_address.city",
    state: "billing_address.state",
    postal_code: "billing_address.postal_code",
};

const FIELDS: &[&str] = &[
    "number",
    "exp_month",
    "exp_year",
    "cvv",
    "first_name",
    "middle_name",
    "last_name",
    "company_name",
    "billing_address.country",
    "billing_address.address_line1",
    "billing_address.address_line2",
    "billing_address.city",
    "billing_address.state",
    "billing_address.postal_code",
];

/// Today's (year, month) by the browser's clock, for the expiry check before sending. The
/// server checks again by its own clock.
fn this_month() -> (i32, u32) {
    let now = web_sys::js_sys::Date::new_0();
    (now.get_full_year() as i32, now.get_month() + 1)
}

#[component]
pub fn AddCard(hold: String, on_added: Callback<MethodAdded>) -> impl IntoView {
    let address = LocalResource::new(api::billing_address);
    let hold = StoredValue::new(hold);
    view! {
        <section class="panel" aria-labelledby="card-heading">
            <h2 id="card-heading">"Add a bank card"</h2>
            <p class="muted">
                "JCB, VISA, MasterCard and American Express, credit or debit. Prepaid, virtual and gift cards are not accepted."
            </p>
            <ul class="method-notes">
                <li>"A bank card can be added to only one account at a time."</li>
                <li>
                    "An enterprise card without a card holder name: enter your own name as the card holder."
                </li>
            </ul>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let prefill = address
                        .await
                        .ok()
                        .and_then(|v| v.address)
                        .map(|a| a.address.to_form())
                        .unwrap_or_default();
                    view! { <CardFormFields prefill hold=hold.get_value() on_added /> }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CardFormFields(
    prefill: AddressForm,
    hold: String,
    on_added: Callback<MethodAdded>,
) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("card", FIELDS);
    let number = RwSignal::new(String::new());
    let exp_month = RwSignal::new(String::new());
    let exp_year = RwSignal::new(String::new());
    let cvv = RwSignal::new(String::new());
    let first_name = RwSignal::new(String::new());
    let middle_name = RwSignal::new(String::new());
    let last_name = RwSignal::new(String::new());
    let company_name = RwSignal::new(String::new());
    let billing_address = AddressInput::new(&prefill);

    let add = retryable_action(
        move |(form, key): (CardForm, IdempotencyKey), this| async move {
            match api::add_card(&form, auth.csrf().as_deref(), &key).await {
                Ok(added) => {
                    // The card is bound: its number and CVV leave the page.
                    number.set(String::new());
                    cvv.set(String::new());
                    exp_month.set(String::new());
                    exp_year.set(String::new());
                    on_added.run(added);
                }
                Err(e) => reauth.handle(&e, errors, move || {
                    this.dispatch_local((form, key));
                }),
            }
        },
    );

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = CardForm {
            number: number.get_untracked(),
            exp_month: exp_month.get_untracked(),
            exp_year: exp_year.get_untracked(),
            cvv: cvv.get_untracked(),
            first_name: first_name.get_untracked(),
            middle_name: middle_name.get_untracked(),
            last_name: last_name.get_untracked(),
            company_name: company_name.get_untracked(),
            billing_address: billing_address.form(),
        };
        if !errors.passes(form.parse(this_month())) {
            return;
        }
        // A new attempt, a new key; a retry of this attempt keeps it.
        add.dispatch_local((form, IdempotencyKey::new()));
    };

    let hold_note = format!(
        "To verify the card, {hold} is held on it and released at once. It is not a charge, and nothing else is charged until you use cloud resources."
    );
    view! {
        <form on:submit=on_submit novalidate>
            <FormAlert errors />
            <TextField
                errors
                name="number"
                label="Card number"
                value=number
                inputmode="numeric"
                autocomplete="cc-number"
            />
            <fieldset class="choices">
                <legend>"Expiration date"</legend>
                <div class="field-row field-row-narrow">
                    <TextField errors name="exp_month" label="MM" value=exp_month inputmode="numeric" autocomplete="cc-exp-month" />
                    <TextField errors name="exp_year" label="YY" value=exp_year inputmode="numeric" autocomplete="cc-exp-year" />
                </div>
            </fieldset>
            <TextField
                errors
                name="cvv"
                label="CVV"
                value=cvv
                input_type="password"
                inputmode="numeric"
                autocomplete="cc-csc"
                help="3 digits on the back, or 4 on the front of an American Express card. The CVV will not be saved."
            />
            <div class="field-row">
                <TextField errors name="first_name" label="First name" value=first_name autocomplete="cc-given-name" />
                <TextField errors name="middle_name" label="Middle name (optional)" value=middle_name autocomplete="cc-additional-name" />
            </div>
            <TextField errors name="last_name" label="Last name" value=last_name autocomplete="cc-family-name" />
            <TextField errors name="company_name" label="Company name on card (optional)" value=company_name autocomplete="organization" />
            <fieldset class="group">
                <legend>"Card billing address"</legend>
                <p class="field-help">"Filled in from your billing address. Change it if the card's statement goes elsewhere."</p>
                <AddressInputs errors names=&CARD_ADDRESS address=billing_address />
            </fieldset>
            <p class="notice">{hold_note}</p>
            <SubmitButton label="Add Card" pending=add.pending() />
        </form>
    }
}
