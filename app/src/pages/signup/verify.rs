//! `/signup/verify/:id`: send a code by email (default) or to a phone, then enter it.

use crate::api;
use crate::app::use_auth;
use crate::components::{
    AuthFrame, CodeEntry, CodeSending, FormAlert, FormErrors, PhoneAndDelivery, Radio,
    SendCodeButton, send_code_form, set_title,
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
    let sending = CodeSending::new(sent);
    // A sign-up the server listed has a country we know; if not, the server still checks.
    let country = Country::parse(&signup.country).ok();
    let calling_code = format!("+{}", signup.calling_code);
    let signup_id = signup.signup_id.clone();

    let send = Action::new_local(move |form: &SendCodeForm| {
        let form = form.clone();
        let id = signup_id.clone();
        async move {
            let answer = api::send_code(&id, &form, auth.csrf().as_deref()).await;
            sending.answered(answer, errors, CODE_INPUT_ID);
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = send_code_form(channel.get_untracked(), phone, delivery);
        if !errors.passes(country.map(|c| form.parse(c)).transpose()) {
            return;
        }
        send.dispatch_local(form);
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
                <PhoneAndDelivery
                    errors
                    phone
                    delivery
                    calling_code=calling_code.clone()
                    group="delivery"
                    help="A number registered in the country or region you chose."
                />
            </Show>
            <SendCodeButton sending pending=send.pending() />
        </form>
    }
}

#[component]
fn EnterCodeForm(signup_id: String) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let verify = move |form: VerifyForm| {
        let (id, navigate) = (signup_id.clone(), navigate.clone());
        async move {
            let session = api::verify(&id, &form, auth.csrf().as_deref()).await?;
            auth.signed_in(session);
            navigate("/", NavigateOptions::default());
            Ok(())
        }
    };
    view! {
        <CodeEntry form_id="verify" help="The 6 digits from the email, SMS or call." verify />
    }
}
