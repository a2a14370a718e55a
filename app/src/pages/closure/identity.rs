//! The identity step of a closure: a code by SMS to the account's verified mobile number
//! (the app calls this page "Input Captcha"), or, under "Other verification methods", the
//! simulated Alipay authorization for accounts with real-name registration (seed 001).

use crate::api;
use crate::app::use_auth;
use crate::components::{
    CodeEntry, CodeSending, FormAlert, FormErrors, SendCodeButton, SubmitButton, TextField,
};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::ErrorCode;
use shared::api::{CodeSent, RealNameStatus, TwoStepCodeForm, VerifyForm};

const CODE_INPUT: &str = "closure-identity-code";

#[component]
pub fn IdentityStep(
    /// "Verify identity" on the console, "Input Captcha" on the app's path.
    heading: &'static str,
    alipay_available: bool,
    /// Two-step verification is on: the authenticator's code proves it too.
    authenticator_available: bool,
    /// The earlier verification lapsed (it lasts 30 minutes): say why we ask again.
    expired: bool,
    on_verified: Callback<()>,
) -> impl IntoView {
    let sent = RwSignal::new(None::<CodeSent>);
    let others_open = RwSignal::new(false);
    let auth = use_auth();
    let registered = untrack(move || {
        auth.session()
            .is_some_and(|s| s.account.real_name == RealNameStatus::Verified)
    });
    view! {
        <section class="panel" aria-labelledby="identity-heading">
            <h2 id="identity-heading" tabindex="-1">{heading}</h2>
            {expired.then(|| view! {
                <p class="notice">
                    "Your identity verification expired: it lasts 30 minutes. Verify again to continue."
                </p>
            })}
            <p class="muted">
                "To protect your account, prove it is you. We send a 6-digit code by SMS to the mobile number verified on your account."
            </p>
            <SendCode sent />
            <CodeForm on_verified />
            <div class="other-methods">
                <button
                    type="button"
                    class="button button-link"
                    aria-expanded=move || if others_open.get() { "true" } else { "false" }
                    aria-controls="other-methods"
                    on:click=move |_| others_open.update(|open| *open = !*open)
                >
                    "Other verification methods"
                </button>
                <div id="other-methods" hidden=move || !others_open.get()>
                    {authenticator_available.then(|| view! { <AuthenticatorCode on_verified /> })}
                    {if alipay_available {
                        view! { <AlipayAuthorization on_verified /> }.into_any()
                    } else if registered {
                        // Real-name registration is there; this server has no Alipay to ask.
                        view! {
                            <p class="muted">
                                "Alipay authorization is not available on this server. Your account has real-name registration, but verify with the mobile phone code instead."
                            </p>
                        }
                        .into_any()
                    } else {
                        view! {
                            <p class="muted">
                                "Alipay authorization is open to accounts with real-name registration; yours has none. "
                                <A href="/real-name">"Real-name registration"</A>
                            </p>
                        }
                        .into_any()
                    }}
                </div>
            </div>
        </section>
    }
}

#[component]
fn SendCode(sent: RwSignal<Option<CodeSent>>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("closure-send", &[]);
    let no_mobile = RwSignal::new(false);
    let sending = CodeSending::new(sent);
    let send = Action::new_local(move |_: &()| async move {
        let answer = api::send_closure_code(auth.csrf().as_deref()).await;
        no_mobile.set(matches!(&answer, Err(e) if e.code() == ErrorCode::ContactNotVerified));
        sending.answered(answer, errors, CODE_INPUT);
    });
    view! {
        <form
            class="step"
            on:submit=move |ev| {
                ev.prevent_default();
                errors.clear();
                no_mobile.set(false);
                send.dispatch_local(());
            }
        >
            <FormAlert errors />
            <Show when=move || no_mobile.get()>
                <p>
                    <A href="/billing">"Verify a mobile number"</A>
                    " on the billing address page, then come back."
                </p>
            </Show>
            <SendCodeButton sending pending=send.pending() />
        </form>
    }
}

#[component]
fn CodeForm(on_verified: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let verify = move |form: VerifyForm| async move {
        api::verify_closure_identity(&form, auth.csrf().as_deref()).await?;
        on_verified.run(());
        Ok(())
    };
    view! { <CodeEntry form_id="closure-identity" help="The 6 digits from the SMS." verify /> }
}

/// The code of the authenticator app the account signs in with (two-step verification).
#[component]
fn AuthenticatorCode(on_verified: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("closure-authenticator", &["code"]);
    let code = RwSignal::new(String::new());
    let verify = Action::new_local(move |form: &TwoStepCodeForm| {
        let form = form.clone();
        async move {
            match api::verify_closure_identity_by_authenticator(&form, auth.csrf().as_deref()).await
            {
                Ok(()) => on_verified.run(()),
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = TwoStepCodeForm {
            code: code.get_untracked(),
        };
        if errors.passes(form.parse()) {
            verify.dispatch_local(form);
        }
    };
    view! {
        <form class="step" on:submit=on_submit novalidate>
            <h3>"Authenticator app"</h3>
            <FormAlert errors />
            <TextField
                errors
                name="code"
                label="Code from your authenticator app"
                value=code
                autocomplete="one-time-code"
                help="The 6 digits your app shows for Account Center, or a recovery code."
            />
            <SubmitButton label="Verify with the app" pending=verify.pending() primary=false />
        </form>
    }
}

#[component]
fn AlipayAuthorization(on_verified: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("closure-alipay", &[]);
    let authorize = Action::new_local(move |_: &()| async move {
        match api::authorize_closure_with_alipay(auth.csrf().as_deref()).await {
            Ok(()) => on_verified.run(()),
            Err(e) => errors.show_api(&e),
        }
    });
    view! {
        <form
            class="step"
            on:submit=move |ev| {
                ev.prevent_default();
                errors.clear();
                authorize.dispatch_local(());
            }
        >
            <p class="muted">
                "Your account has real-name registration, so Alipay can confirm it is you. This server simulates the Alipay authorization."
            </p>
            <FormAlert errors />
            <SubmitButton label="Authorize with Alipay" pending=authorize.pending() primary=false />
        </form>
    }
}
