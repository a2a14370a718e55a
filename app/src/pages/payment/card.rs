//! Adding a bank card, then verified by the server with a small hold that is released at once;
//! the card's billing address starts as the account's. Where the server takes cards through
//! Stripe, the card itself is typed into Stripe's card field and only Stripe's token of it is
//! sent ([`super::stripe`]); elsewhere into this page's own fields, checked here by the shared
//! parser (brand, Luhn, expiry, CVV length), and the CVV is sent once and never stored.

use super::stripe::CardField;
use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    AddressInput, AddressInputs, FormAlert, FormErrors, FramedField, SubmitButton, TextField,
    retryable_action, use_reauth,
};
use leptos::prelude::*;
use shared::ErrorCode;
use shared::api::{CardEntry, MethodAdded};
use shared::billing::AddressForm;
use shared::error::Invalid;
use shared::payment::{CARD_ADDRESS, CardForm, CardTokenForm};

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

/// The fields of a card tokenized by Stripe: its token stands for the number, expiry and CVV.
const TOKEN_FIELDS: &[&str] = &[
    "token",
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
pub fn AddCard(hold: String, entry: CardEntry, on_added: Callback<MethodAdded>) -> impl IntoView {
    let address = LocalResource::new(api::billing_address);
    let hold = StoredValue::new(hold);
    let entry = StoredValue::new(entry);
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
                    let hold = hold.get_value();
                    match entry.get_value() {
                        CardEntry::Form => {
                            view! { <CardFormFields prefill hold on_added /> }.into_any()
                        }
                        CardEntry::Stripe { publishable_key, script_url } => {
                            view! {
                                <StripeCardFields prefill hold publishable_key script_url on_added />
                            }
                                .into_any()
                        }
                    }
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
    let holder = Holder::new(&prefill);

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
            first_name: holder.first_name.get_untracked(),
            middle_name: holder.middle_name.get_untracked(),
            last_name: holder.last_name.get_untracked(),
            company_name: holder.company_name.get_untracked(),
            billing_address: holder.billing_address.form(),
        };
        if !errors.passes(form.parse(this_month())) {
            return;
        }
        // A new attempt, a new key; a retry of this attempt keeps it.
        add.dispatch_local((form, IdempotencyKey::new()));
    };

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
            <HolderInputs errors holder />
            <p class="notice">{hold_note(&hold)}</p>
            <SubmitButton label="Add Card" pending=add.pending() />
        </form>
    }
}

fn hold_note(hold: &str) -> String {
    format!(
        "To verify the card, {hold} is held on it and released at once. It is not a charge, and nothing else is charged until you use cloud resources."
    )
}

/// Whose card it is and where its statement goes: the same in both forms.
#[derive(Clone, Copy)]
struct Holder {
    first_name: RwSignal<String>,
    middle_name: RwSignal<String>,
    last_name: RwSignal<String>,
    company_name: RwSignal<String>,
    billing_address: AddressInput,
}

impl Holder {
    fn new(prefill: &AddressForm) -> Self {
        Self {
            first_name: RwSignal::new(String::new()),
            middle_name: RwSignal::new(String::new()),
            last_name: RwSignal::new(String::new()),
            company_name: RwSignal::new(String::new()),
            billing_address: AddressInput::new(prefill),
        }
    }

    /// The holder's fields as the token form carries them.
    fn token_form(self, token: String) -> CardTokenForm {
        CardTokenForm {
            token,
            first_name: self.first_name.get_untracked(),
            middle_name: self.middle_name.get_untracked(),
            last_name: self.last_name.get_untracked(),
            company_name: self.company_name.get_untracked(),
            billing_address: self.billing_address.form(),
        }
    }

    /// The name on the card, as Stripe is told it.
    fn name(self) -> String {
        [self.first_name, self.middle_name, self.last_name]
            .map(|part| part.get_untracked().trim().to_owned())
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[component]
fn HolderInputs(errors: FormErrors, holder: Holder) -> impl IntoView {
    view! {
        <div class="field-row">
            <TextField errors name="first_name" label="First name" value=holder.first_name autocomplete="cc-given-name" />
            <TextField errors name="middle_name" label="Middle name (optional)" value=holder.middle_name autocomplete="cc-additional-name" />
        </div>
        <TextField errors name="last_name" label="Last name" value=holder.last_name autocomplete="cc-family-name" />
        <TextField errors name="company_name" label="Company name on card (optional)" value=holder.company_name autocomplete="organization" />
        <fieldset class="group">
            <legend>"Card billing address"</legend>
            <p class="field-help">"Filled in from your billing address. Change it if the card's statement goes elsewhere."</p>
            <AddressInputs errors names=&CARD_ADDRESS address=holder.billing_address />
        </fieldset>
    }
}

/// The card typed into Stripe's own card field, which this page never reads: Stripe.js makes
/// a PaymentMethod of it, and that id goes to the server with the holder's fields.
#[component]
fn StripeCardFields(
    prefill: AddressForm,
    hold: String,
    publishable_key: String,
    script_url: String,
    on_added: Callback<MethodAdded>,
) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("card", TOKEN_FIELDS);
    let holder = Holder::new(&prefill);
    let mount_point = NodeRef::<leptos::html::Div>::new();
    let field = StoredValue::new_local(None::<CardField>);
    let refuse = move |message: String| {
        errors.show_invalid(Invalid::new(ErrorCode::InvalidCardNumber, message).at("token"));
    };
    Effect::new(move || {
        let Some(into) = mount_point.get() else {
            return;
        };
        let (script_url, publishable_key) = (script_url.clone(), publishable_key.clone());
        leptos::task::spawn_local(async move {
            match CardField::mount(&script_url, &publishable_key, &into).await {
                Ok(card) => field.set_value(Some(card)),
                Err(message) => refuse(message),
            }
        });
    });

    let add = retryable_action(
        move |(form, key): (CardTokenForm, IdempotencyKey), this| async move {
            match api::add_card_token(&form, auth.csrf().as_deref(), &key).await {
                Ok(added) => {
                    if let Some(card) = field.get_value() {
                        card.clear();
                    }
                    on_added.run(added);
                }
                Err(e) => reauth.handle(&e, errors, move || {
                    this.dispatch_local((form, key));
                }),
            }
        },
    );
    let tokenizing = RwSignal::new(false);
    let pending = Signal::derive(move || tokenizing.get() || add.pending().get());

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The holder's fields by the shared rules first; the token comes from Stripe after.
        if !errors.passes(holder.token_form("pm_unread".into()).parse()) {
            return;
        }
        let Some(card) = field.get_value() else {
            refuse("Stripe's card form is still loading. Try again in a moment.".into());
            return;
        };
        tokenizing.set(true);
        leptos::task::spawn_local(async move {
            let token = card.tokenize(&holder.name()).await;
            tokenizing.set(false);
            match token {
                // A new attempt, a new key; a retry of this attempt keeps it.
                Ok(token) => {
                    add.dispatch_local((holder.token_form(token), IdempotencyKey::new()));
                }
                Err(message) => refuse(message),
            }
        });
    };

    view! {
        <form on:submit=on_submit novalidate>
            <FormAlert errors />
            <FramedField
                errors
                name="token"
                label="Card"
                node_ref=mount_point
                help="Number, expiry date and CVV, in Stripe's secure field: they go to Stripe only, never to this server."
            />
            <HolderInputs errors holder />
            <p class="notice">{hold_note(&hold)}</p>
            <SubmitButton label="Add Card" pending />
        </form>
    }
}
