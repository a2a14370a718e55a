//! `/signup/verify/:id`: send a code by email (default) or to a phone, then enter it.

use crate::api;
use crate::app::use_auth;
use crate::components::{
    AuthFrame, CodeEntry, CodeSending, FormAlert, FormErrors, PhoneAndDelivery, SendCodeButton,
    send_code_form, set_title,
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
    // Seed 000: email by default, and a switch to the phone (and back) beside the heading.
    let channel = RwSignal::new(Channel::Email);
    let calling_code = format!("+{}", signup.calling_code);
    view! {
        <p class="lead">
            "You are signing up as " <strong>{signup.email.clone()}</strong>
            ". Get a 6-digit code and enter it below."
        </p>
        <div class="verify-by">
            <h2 class="verify-by-title">
                {move || match channel.get() {
                    Channel::Email => "Verify your email",
                    Channel::Phone => "Verify your mobile phone",
                }}
            </h2>
            <button
                type="button"
                class="link-button"
                on:click=move |_| {
                    channel.update(|c| {
                        *c = match c {
                            Channel::Email => Channel::Phone,
                            Channel::Phone => Channel::Email,
                        }
                    })
                }
            >
                {move || match channel.get() {
                    Channel::Email => "Use phone instead",
                    Channel::Phone => "Use email instead",
                }}
            </button>
        </div>
        <p class="muted">
            {move || match channel.get() {
                Channel::Email => "We send a code to your email address. Click Send code, then enter the number you receive.",
                Channel::Phone => "We send a code to your mobile phone by SMS or a voice call. Enter your number, click Send code, then enter the number you receive.",
            }}
        </p>
        <SendCodeForm signup=signup.clone() sent channel />
        <EnterCodeForm signup_id=signup.signup_id />
        <CodeHelp channel=channel.into() email=signup.email.clone() calling_code in_signup=true />
    }
}

/// The seed's "Not receiving an email?" / "Not receiving calls or messages?": what to try
/// before giving up, under the code field of every code screen.
#[component]
pub fn CodeHelp(
    channel: Signal<Channel>,
    email: String,
    calling_code: String,
    /// On the sign-up's screen, where the other channel and a new sign-up are the way out.
    #[prop(optional)]
    in_signup: bool,
) -> impl IntoView {
    let email = StoredValue::new(email);
    let calling_code = StoredValue::new(calling_code);
    view! {
        <details class="code-help">
            <summary>
                {move || match channel.get() {
                    Channel::Email => "Not receiving an email?",
                    Channel::Phone => "Not receiving calls or messages?",
                }}
            </summary>
            {move || match channel.get() {
                Channel::Email => view! {
                    <ul>
                        <li>"Check your spam or junk folder: the code comes from Account Center."</li>
                        <li>
                            {format!("Check that {} is your address.", email.get_value())}
                            {in_signup.then_some(" If it is not, start a new sign-up.")}
                        </li>
                        <li>"An email can take a minute or two to arrive. When the countdown ends, you can send a new code; the newest code is the one that works."</li>
                        <li>
                            "At most 5 codes go to one address an hour."
                            {in_signup.then_some(" If you still receive nothing, use your phone instead.")}
                        </li>
                    </ul>
                }
                .into_any(),
                Channel::Phone => view! {
                    <ul>
                        <li>{format!("Check the number: it follows {}, without its leading 0.", calling_code.get_value())}</li>
                        <li>"Make sure your phone has signal and can receive messages from unknown senders."</li>
                        <li>"A message can take a minute to arrive. When the countdown ends, send a new code, or choose a voice call instead of SMS."</li>
                        <li>
                            "At most 5 codes go to one number an hour."
                            {in_signup.then_some(" If you still receive nothing, use email instead.")}
                        </li>
                    </ul>
                }
                .into_any(),
            }}
        </details>
    }
}

/// The code input of [`EnterCodeForm`] (its form is "verify"): focused once a code is on its way.
const CODE_INPUT_ID: &str = "verify-code";

#[component]
fn SendCodeForm(
    signup: SignupStarted,
    sent: RwSignal<Option<CodeSent>>,
    channel: RwSignal<Channel>,
) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("send", &["phone"]);
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
            // Seed 000: a new account is directed to Add billing address, the first of its steps.
            navigate("/billing?welcome=1", NavigateOptions::default());
            Ok(())
        }
    };
    view! {
        <CodeEntry form_id="verify" help="The 6 digits from the email, SMS or call." verify />
    }
}
