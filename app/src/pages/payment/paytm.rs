//! Paytm, the only method for accounts registered in India after 2019-07-29: the Paytm
//! mobile number, a code sent to it, then "Add now".

use crate::api;
use crate::app::use_auth;
use crate::components::{
    Countdown, FormAlert, FormErrors, SubmitButton, TextField, form_errors::focus_element,
    retryable_action, use_reauth,
};
use leptos::prelude::*;
use shared::api::{CodeSent, MethodAdded, PaytmCodeForm, PaytmForm};
use shared::country::Country;

const FIELDS: &[&str] = &["phone", "code"];

#[component]
pub fn AddPaytm(on_added: Callback<MethodAdded>) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("paytm", FIELDS);
    let phone = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let sent = RwSignal::new(None::<CodeSent>);
    let countdown = Countdown::new();
    let account = auth.account_untracked();
    let country = account
        .as_ref()
        .and_then(|a| Country::parse(&a.country).ok());
    let calling_code = country
        .map(|c| format!("+{}", c.calling_code()))
        .unwrap_or_default();

    let send = Action::new_local(move |form: &PaytmCodeForm| {
        let form = form.clone();
        async move {
            match api::send_paytm_code(&form, auth.csrf().as_deref()).await {
                Ok(code_sent) => {
                    countdown.start(code_sent.resend_after_seconds);
                    sent.set(Some(code_sent));
                    focus_element(&errors.id_of("code"));
                }
                Err(e) => {
                    if let Some(wait) = e.0.retry_after_seconds {
                        countdown.start(wait);
                    }
                    errors.show_api(&e);
                }
            }
        }
    });
    let add = retryable_action(move |form: PaytmForm, this| async move {
        match api::add_paytm(&form, auth.csrf().as_deref()).await {
            Ok(added) => {
                code.set(String::new());
                on_added.run(added);
            }
            Err(e) => reauth.handle(&e, errors, move || {
                this.dispatch_local(form);
            }),
        }
    });

    let on_send = move |_| {
        let form = PaytmCodeForm {
            phone: phone.get_untracked(),
        };
        if !errors.passes(country.map(|c| form.parse(c)).transpose()) {
            return;
        }
        send.dispatch_local(form);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = PaytmForm {
            phone: phone.get_untracked(),
            code: code.get_untracked(),
        };
        if !errors.passes(country.map(|c| form.parse(c)).transpose()) {
            return;
        }
        add.dispatch_local(form);
    };
    let send_label = move || match (countdown.remaining(), sent.with(Option::is_some)) {
        (0, false) => "Send code".to_owned(),
        (0, true) => "Resend code".to_owned(),
        (seconds, _) => format!("Resend code in {}", shared::duration::wait_words(seconds)),
    };
    let send_pending = send.pending();
    view! {
        <section class="panel" aria-labelledby="paytm-heading">
            <h2 id="paytm-heading">"Paytm"</h2>
            <p class="muted">
                "Accounts registered in India pay with Paytm. Enter the mobile number of your Paytm account; we send it a code."
            </p>
            <ul class="method-notes">
                <li>"One Paytm account can be connected to only one account."</li>
                <li>
                    "Before you pay with Paytm Wallet, make sure its balance is more than the order amount; if it is not, top up your wallet. "
                    "The most your Paytm Wallet can hold depends on your KYC result with Paytm."
                </li>
                <li>"For pay-as-you-go services, a pre-authorization hold is placed on your Paytm account."</li>
            </ul>
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <TextField
                    errors
                    name="phone"
                    label="Paytm mobile number"
                    value=phone
                    input_type="tel"
                    inputmode="tel"
                    autocomplete="tel-national"
                    prefix=Signal::stored(calling_code)
                />
                <button
                    type="button"
                    class="button"
                    disabled=move || { send_pending.get() || countdown.remaining() > 0 }
                    aria-busy=move || send_pending.get().then_some("true")
                    on:click=on_send
                >
                    <Show when=move || send_pending.get()>
                        <span class="spinner" aria-hidden="true"></span>
                    </Show>
                    <span>{send_label}</span>
                </button>
                <p class="status" role="status">
                    {move || sent.get().map(|s| format!("Code sent to {} by SMS.", s.sent_to))}
                </p>
                <TextField
                    errors
                    name="code"
                    label="Verification code"
                    value=code
                    inputmode="numeric"
                    autocomplete="one-time-code"
                />
                <SubmitButton label="Add now" pending=add.pending() />
            </form>
        </section>
    }
}
