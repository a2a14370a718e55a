//! `/forgot-password`: a code to the email or phone the account verified, then a new password
//! (SPEC §1 "Account security"). The page says the same whether or not an account uses the
//! address, as the server does.

use crate::api;
use crate::components::form_errors::focus_element;
use crate::components::{
    AuthFrame, CodeSending, FormAlert, FormErrors, NewPasswordFields, PhoneAndDelivery,
    SelectField, SendCodeButton, SubmitButton, TextField, set_title,
};
use crate::pages::signup::CodeHelp;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::account::{Channel, Delivery, Email};
use shared::api::{CodeSent, PasswordResetForm, PasswordResetStarted, ResetPasswordForm};
use shared::country::{COUNTRIES, Country};

/// A reset under way: its id, and the email typed (for the new password's rule about it).
#[derive(Clone)]
struct Started {
    reset_id: String,
    email: Option<Email>,
    /// For the phone: `+65`, for the help under the code.
    calling_code: String,
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    set_title("Reset your password");
    let started = RwSignal::new(None::<Started>);
    let done = RwSignal::new(false);
    let sent = RwSignal::new(None::<CodeSent>);
    let sending = CodeSending::new(sent);
    let channel = RwSignal::new(Channel::Email);
    view! {
        <AuthFrame title="Reset your password">
            {move || {
                if done.get() {
                    view! { <ResetDone /> }.into_any()
                } else if let Some(s) = started.get() {
                    view! { <NewPasswordForm started=s sending channel=channel.into() done /> }
                        .into_any()
                } else {
                    view! { <AddressForm started sending channel /> }.into_any()
                }
            }}
            <p class="card-footer">
                "Remembered it? " <A href="/signin">"Sign in"</A>
                <br />
                "A RAM user? Your password is managed by the account owner: ask them."
            </p>
        </AuthFrame>
    }
}

/// Where the code goes: the email (default) or a mobile number, with the seed's switch.
#[component]
fn AddressForm(
    started: RwSignal<Option<Started>>,
    sending: CodeSending,
    channel: RwSignal<Channel>,
) -> impl IntoView {
    let errors = FormErrors::new("reset-address", &["email", "country", "phone"]);
    let email = RwSignal::new(String::new());
    let country = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let delivery = RwSignal::new(Delivery::Sms);
    let calling_code = Signal::derive(move || {
        Country::parse(&country.get())
            .map(|c| format!("+{}", c.calling_code()))
            .unwrap_or_default()
    });

    let send = Action::new_local(move |form: &PasswordResetForm| {
        let form = form.clone();
        async move {
            match api::start_password_reset(&form).await {
                Ok(PasswordResetStarted { reset_id, code }) => {
                    let email = form.email.as_deref().and_then(|e| Email::parse(e).ok());
                    sending.answered(Ok(code), errors, CODE_INPUT_ID);
                    started.set(Some(Started {
                        reset_id,
                        email,
                        calling_code: calling_code.get_untracked(),
                    }));
                }
                Err(e) => sending.answered(Err(e), errors, CODE_INPUT_ID),
            }
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = match channel.get_untracked() {
            Channel::Email => PasswordResetForm {
                channel: Some(Channel::Email),
                email: Some(email.get_untracked()),
                ..Default::default()
            },
            Channel::Phone => PasswordResetForm {
                channel: Some(Channel::Phone),
                country: Some(country.get_untracked()),
                phone: Some(phone.get_untracked()),
                delivery: Some(delivery.get_untracked()),
                ..Default::default()
            },
        };
        if errors.passes(form.parse()) {
            send.dispatch_local(form);
        }
    };

    let switch = move |_| {
        errors.clear();
        channel.update(|c| {
            *c = match c {
                Channel::Email => Channel::Phone,
                Channel::Phone => Channel::Email,
            }
        });
    };

    view! {
        <div class="verify-by">
            <h2 class="verify-by-title">
                {move || match channel.get() {
                    Channel::Email => "Get a code by email",
                    Channel::Phone => "Get a code on your phone",
                }}
            </h2>
            <button type="button" class="link-button" on:click=switch>
                {move || match channel.get() {
                    Channel::Email => "Use phone instead",
                    Channel::Phone => "Use email instead",
                }}
            </button>
        </div>
        <p class="muted">
            "Enter the email or mobile number your account verified. If an account uses it, we send it a 6-digit code."
        </p>
        <form class="step" on:submit=on_submit novalidate>
            <FormAlert errors />
            <Show
                when=move || channel.get() == Channel::Phone
                fallback=move || {
                    view! {
                        <TextField
                            errors
                            name="email"
                            label="Email"
                            value=email
                            input_type="email"
                            autocomplete="username"
                        />
                    }
                }
            >
                <SelectField
                    errors
                    name="country"
                    label="Country/Region"
                    value=country
                    autocomplete="country"
                    help="Where the number is registered: it fixes the calling code."
                >
                    <option value="">"Select your country or region"</option>
                    {COUNTRIES
                        .iter()
                        .map(|c| view! { <option value=c.code>{c.name}</option> })
                        .collect_view()}
                </SelectField>
                <PhoneAndDelivery
                    errors
                    phone
                    delivery
                    calling_code
                    group="reset-delivery"
                    help="The mobile number your account verified."
                />
            </Show>
            <SubmitButton label="Send code" pending=send.pending() />
        </form>
    }
}

/// The code input of [`NewPasswordForm`]: focused once a code is on its way.
const CODE_INPUT_ID: &str = "reset-code";

/// The code and the new password; "Resend code" once the minute has passed.
#[component]
fn NewPasswordForm(
    started: Started,
    sending: CodeSending,
    channel: Signal<Channel>,
    done: RwSignal<bool>,
) -> impl IntoView {
    let errors = FormErrors::new("reset", &["code", "password", "password_confirmation"]);
    let resend_errors = FormErrors::new("reset-resend", &[]);
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let Started {
        reset_id,
        email,
        calling_code,
    } = started;
    let reset_id = StoredValue::new(reset_id);
    let email = StoredValue::new(email);

    let resend = Action::new_local(move |_: &()| async move {
        let answer = api::resend_password_reset_code(&reset_id.get_value()).await;
        sending.answered(answer, resend_errors, CODE_INPUT_ID);
    });
    // The form replaces the address form once the code is on its way: its field takes the
    // focus when it is there, not when the answer came.
    Effect::new(move |_| focus_element(CODE_INPUT_ID));
    let reset = Action::new_local(move |form: &ResetPasswordForm| {
        let form = form.clone();
        async move {
            match api::complete_password_reset(&reset_id.get_value(), &form).await {
                Ok(()) => done.set(true),
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = ResetPasswordForm {
            code: code.get_untracked(),
            password: password.get_untracked(),
            password_confirmation: confirmation.get_untracked(),
        };
        if errors.passes(form.parse(email.get_value().as_ref())) {
            reset.dispatch_local(form);
        }
    };
    let typed = email
        .get_value()
        .map(|e| e.as_str().to_owned())
        .unwrap_or_default();

    view! {
        <p class="lead">
            "If an account uses that address, a code is on its way. Enter it with your new password."
        </p>
        <form
            class="step"
            on:submit=move |ev| {
                ev.prevent_default();
                resend.dispatch_local(());
            }
            novalidate
        >
            <FormAlert errors=resend_errors />
            <SendCodeButton sending pending=resend.pending() />
        </form>
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
            <NewPasswordFields errors password confirmation new=true />
            <SubmitButton label="Reset password" pending=reset.pending() />
        </form>
        <p class="muted">"Resetting signs you out everywhere; you then sign in with the new password."</p>
        <CodeHelp channel email=typed calling_code />
    }
}

/// The reset is done: every session was signed out, so the way on is signing in.
#[component]
fn ResetDone() -> impl IntoView {
    view! {
        <div class="banner" role="status">
            <strong>"Your password was reset"</strong>
            <p>"Every session of your account was signed out, and we told your verified email and phone. Sign in with your new password."</p>
        </div>
        <A href="/signin" attr:class="button button-primary">"Sign in"</A>
    }
}
