//! The contact channel not proven at sign-up, proven here with a code before the address is
//! saved: the mobile number (by SMS or voice call) or the account email.

use crate::api;
use crate::app::use_auth;
use crate::components::{
    Countdown, FormAlert, FormErrors, Radio, SubmitButton, TextField, form_errors::focus_element,
};
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
            <SendForm channel calling_code sent />
            <CodeForm on_verified />
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
    let countdown = Countdown::new();
    let country = auth
        .account_untracked()
        .and_then(|a| Country::parse(&a.country).ok());

    let send = Action::new_local(move |form: &SendCodeForm| {
        let form = form.clone();
        async move {
            match api::send_contact_code(&form, auth.csrf().as_deref()).await {
                Ok(code_sent) => {
                    countdown.start(code_sent.resend_after_seconds);
                    sent.set(Some(code_sent));
                    focus_element(CODE_INPUT);
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

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = match channel {
            Channel::Email => SendCodeForm {
                channel: Some(Channel::Email),
                ..Default::default()
            },
            Channel::Phone => SendCodeForm {
                channel: Some(Channel::Phone),
                phone: Some(phone.get_untracked()),
                delivery: Some(delivery.get_untracked()),
            },
        };
        if let Some(Err(invalid)) = country.map(|c| form.parse(c)) {
            errors.show_invalid(vec![invalid]);
            return;
        }
        errors.clear();
        send.dispatch_local(form);
    };

    let label = move || match (countdown.remaining(), sent.with(Option::is_some)) {
        (0, false) => "Send code".to_owned(),
        (0, true) => "Resend code".to_owned(),
        (seconds, _) => format!("Resend code in {seconds} s"),
    };

    view! {
        <form class="step" on:submit=on_submit novalidate>
            <FormAlert errors />
            {(channel == Channel::Phone).then(|| view! {
                <TextField
                    errors
                    name="phone"
                    label="Mobile number"
                    value=phone
                    input_type="tel"
                    autocomplete="tel-national"
                    inputmode="tel"
                    prefix=Signal::stored(format!("+{calling_code}"))
                    help="A mobile number registered in your account's country or region."
                />
                <fieldset class="choices">
                    <legend>"Receive the code by"</legend>
                    <Radio group="contact-delivery" label="SMS" option=Delivery::Sms selected=delivery />
                    <Radio group="contact-delivery" label="Voice call" option=Delivery::Voice selected=delivery />
                </fieldset>
            })}
            <SubmitButton
                label=Signal::derive(label)
                pending=send.pending()
                disabled=Signal::derive(move || countdown.remaining() > 0)
                primary=false
            />
            <p class="status" role="status">
                {move || sent.get().map(sent_message)}
            </p>
        </form>
    }
}

fn sent_message(sent: CodeSent) -> String {
    let how = match (sent.channel, sent.delivery) {
        (Channel::Phone, Some(Delivery::Voice)) => " by voice call",
        (Channel::Phone, _) => " by SMS",
        (Channel::Email, _) => "",
    };
    let minutes = sent.expires_in_seconds.div_ceil(60);
    format!(
        "Code sent to {}{how}. It expires in {minutes} minutes.",
        sent.sent_to
    )
}

#[component]
fn CodeForm(on_verified: Callback<AccountView>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("contact-verify", &["code"]);
    let code = RwSignal::new(String::new());
    let verify = Action::new_local(move |form: &VerifyForm| {
        let form = form.clone();
        async move {
            match api::verify_contact(&form, auth.csrf().as_deref()).await {
                Ok(account) => {
                    auth.refresh();
                    on_verified.run(account);
                }
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = VerifyForm {
            code: code.get_untracked(),
        };
        match form.parse() {
            Ok(_) => {
                errors.clear();
                verify.dispatch_local(form);
            }
            Err(invalid) => errors.show_invalid(vec![invalid]),
        }
    };
    view! {
        <form class="step" on:submit=on_submit novalidate>
            <FormAlert errors />
            <TextField
                errors
                name="code"
                label="Verification code"
                value=code
                inputmode="numeric"
                autocomplete="one-time-code"
                help="The 6 digits from the SMS, call or email."
            />
            <SubmitButton label="Verify" pending=verify.pending() primary=false />
        </form>
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
