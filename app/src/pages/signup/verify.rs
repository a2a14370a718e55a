//! `/signup/verify/:id`: send a code by email (default) or to a phone, then enter it.

use crate::api;
use crate::app::use_auth;
use crate::components::{
    AuthFrame, Countdown, FormAlert, FormErrors, Radio, SubmitButton, TextField,
    form_errors::focus_element, set_title,
};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::account::{Channel, Delivery};
use shared::api::{CodeSent, SendCodeForm, SignupStarted, VerifyForm};
use shared::country::Country;

#[component]
pub fn VerifyPage() -> impl IntoView {
    set_title("Verify your account");
    let params = use_params_map();
    let signup = LocalResource::new(move || {
        let id = params.read().get("id").unwrap_or_default();
        async move { api::get_signup(&id).await }
    });
    let gone = |errors: ArcRwSignal<Errors>| {
        view! {
            <div class="form-alert" role="alert">
                {move || {
                    errors.with(|e| e.iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join(" "))
                }}
            </div>
            <p>
                <A href="/signup">"Start a new sign-up"</A>
            </p>
        }
    };
    view! {
        <AuthFrame title="Verify your account">
            <Transition fallback=|| view! { <p role="status">"Loading your sign-up…"</p> }>
                <ErrorBoundary fallback=gone>
                    {move || Suspend::new(async move {
                        signup.await.map(|signup| view! { <VerifyForms signup /> })
                    })}
                </ErrorBoundary>
            </Transition>
        </AuthFrame>
    }
}

#[component]
fn VerifyForms(signup: SignupStarted) -> impl IntoView {
    let sent = RwSignal::new(None::<CodeSent>);
    view! {
        <p class="lead">
            "You are signing up as " <strong>{signup.email.clone()}</strong>
            ". Get a 6-digit code by email or on your phone and enter it below."
        </p>
        <SendCodeForm signup=signup.clone() sent />
        <EnterCodeForm signup_id=signup.signup_id />
    }
}

/// The code input of [`EnterCodeForm`] (its form is "verify"): focused once a code is on its way.
const CODE_INPUT_ID: &str = "verify-code";

#[component]
fn SendCodeForm(signup: SignupStarted, sent: RwSignal<Option<CodeSent>>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("send", &["phone"]);
    let channel = RwSignal::new(Channel::Email);
    let delivery = RwSignal::new(Delivery::Sms);
    let phone = RwSignal::new(String::new());
    let countdown = Countdown::new();
    // A sign-up the server listed has a country we know; if not, the server still checks.
    let country = Country::parse(&signup.country).ok();
    let calling_code = format!("+{}", signup.calling_code);
    let signup_id = signup.signup_id.clone();

    let send = Action::new_local(move |form: &SendCodeForm| {
        let form = form.clone();
        let id = signup_id.clone();
        async move {
            match api::send_code(&id, &form, auth.csrf().as_deref()).await {
                Ok(code_sent) => {
                    countdown.start(code_sent.resend_after_seconds);
                    sent.set(Some(code_sent));
                    focus_element(CODE_INPUT_ID);
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
        let form = match channel.get_untracked() {
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
            <fieldset class="choices">
                <legend>"Verify by"</legend>
                <Radio group="channel" label="Email" option=Channel::Email selected=channel />
                <Radio group="channel" label="Phone" option=Channel::Phone selected=channel />
            </fieldset>
            <Show when=move || channel.get() == Channel::Phone>
                <TextField
                    errors
                    name="phone"
                    label="Mobile number"
                    value=phone
                    input_type="tel"
                    autocomplete="tel-national"
                    inputmode="tel"
                    prefix=Signal::stored(calling_code.clone())
                    help="A number registered in the country or region you chose."
                />
                <fieldset class="choices">
                    <legend>"Receive the code by"</legend>
                    <Radio group="delivery" label="SMS" option=Delivery::Sms selected=delivery />
                    <Radio group="delivery" label="Voice call" option=Delivery::Voice selected=delivery />
                </fieldset>
            </Show>
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
fn EnterCodeForm(signup_id: String) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let errors = FormErrors::new("verify", &["code"]);
    let code = RwSignal::new(String::new());

    let verify = Action::new_local(move |form: &VerifyForm| {
        let form = form.clone();
        let id = signup_id.clone();
        let navigate = navigate.clone();
        async move {
            match api::verify(&id, &form, auth.csrf().as_deref()).await {
                Ok(session) => {
                    auth.signed_in(session);
                    navigate("/", NavigateOptions::default());
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
                help="The 6 digits from the email, SMS or call."
            />
            <SubmitButton label="Verify" pending=verify.pending() />
        </form>
    }
}
