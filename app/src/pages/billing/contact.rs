//! The contact channel not proven at sign-up, proven here with a code before the address is
//! saved: the mobile number (by SMS or voice call) or the account email.

use crate::api;
use crate::app::use_auth;
use crate::components::{
    CodeEntry, CodeSending, FormAlert, FormErrors, PhoneAndDelivery, SendCodeButton, send_code_form,
};
use crate::pages::signup::CodeHelp;
use leptos::prelude::*;
use shared::account::{Channel, Delivery};
use shared::api::{AccountView, CodeSent, SendCodeForm, VerifyForm};
use shared::country::Country;

/// The id of the first control of this section, focused when saving finds it unfinished.
pub const CONTACT_FIRST_INPUT: &str = "contact-phone";
const CODE_INPUT: &str = "contact-verify-code";

#[component]
pub fn ContactVerification(
    channel: Channel,
    calling_code: String,
    email: String,
    on_verified: Callback<AccountView>,
) -> impl IntoView {
    let sent = RwSignal::new(None::<CodeSent>);
    let email_for_help = email.clone();
    let (heading, lead) = match channel {
        Channel::Phone => (
            "Verify your mobile number",
            "You verified your email at sign-up. Verify a mobile number too: we send a 6-digit code by SMS or voice call.".to_owned(),
        ),
        Channel::Email => (
            "Verify your email address",
            format!(
                "You verified your phone at sign-up. Verify your email address too: we send a 6-digit code to {email}."
            ),
        ),
    };
    view! {
        <section class="panel" aria-labelledby="contact-heading">
            <h2 id="contact-heading">{heading}</h2>
            <p class="muted">{lead}</p>
            <SendForm channel calling_code=calling_code.clone() sent />
            <CodeForm on_verified />
            <CodeHelp channel=Signal::stored(channel) email=email_for_help calling_code=format!("+{calling_code}") />
        </section>
    }
}

#[component]
fn SendForm(
    channel: Channel,
    calling_code: String,
    sent: RwSignal<Option<CodeSent>>,
) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("contact", &["phone"]);
    let phone = RwSignal::new(String::new());
    let delivery = RwSignal::new(Delivery::Sms);
    let sending = CodeSending::new(sent);
    let country = auth
        .account_untracked()
        .and_then(|a| Country::parse(&a.country).ok());

    let send = Action::new_local(move |form: &SendCodeForm| {
        let form = form.clone();
        async move {
            let answer = api::send_contact_code(&form, auth.csrf().as_deref()).await;
            sending.answered(answer, errors, CODE_INPUT);
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = send_code_form(channel, phone, delivery);
        if !errors.passes(country.map(|c| form.parse(c)).transpose()) {
            return;
        }
        send.dispatch_local(form);
    };

    view! {
        <form class="step" on:submit=on_submit novalidate>
            <FormAlert errors />
            {(channel == Channel::Phone).then(|| view! {
                <PhoneAndDelivery
                    errors
                    phone
                    delivery
                    calling_code=format!("+{calling_code}")
                    group="contact-delivery"
                    help="A mobile number registered in your account's country or region."
                />
            })}
            <SendCodeButton sending pending=send.pending() />
        </form>
    }
}

#[component]
fn CodeForm(on_verified: Callback<AccountView>) -> impl IntoView {
    let auth = use_auth();
    let verify = move |form: VerifyForm| async move {
        let account = api::verify_contact(&form, auth.csrf().as_deref()).await?;
        auth.refresh();
        on_verified.run(account);
        Ok(())
    };
    view! {
        <CodeEntry
            form_id="contact-verify"
            help="The 6 digits from the SMS, call or email."
            verify
            primary=false
        />
    }
}

/// Both channels proven: what the invoices and notices go to.
#[component]
pub fn VerifiedContacts(contacts: (String, Option<String>)) -> impl IntoView {
    let (email, phone) = contacts;
    view! {
        <section class="panel" aria-labelledby="contact-heading">
            <h2 id="contact-heading">"Contact details"</h2>
            <dl class="facts">
                <div>
                    <dt>"Email"</dt>
                    <dd>{email} " " <span class="badge badge-success">"Verified"</span></dd>
                </div>
                <div>
                    <dt>"Mobile number"</dt>
                    <dd>
                        {phone.unwrap_or_default()} " "
                        <span class="badge badge-success">"Verified"</span>
                    </dd>
                </div>
            </dl>
        </section>
    }
}
