//! `/signin/two-step`: the second step of a sign-in for an account with two-step verification
//! on: the authenticator's 6-digit code, or one of the recovery codes (SPEC §1).

use crate::api;
use crate::app::use_auth;
use crate::components::{AuthFrame, FormAlert, FormErrors, SubmitButton, TextField, set_title};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::ErrorCode;
use shared::api::TwoStepCodeForm;

#[component]
pub fn TwoStepSignInPage() -> impl IntoView {
    set_title("Two-step verification");
    let auth = use_auth();
    let navigate = use_navigate();
    let errors = FormErrors::new("two-step", &["code"]);
    let code = RwSignal::new(String::new());
    let expired = RwSignal::new(false);
    let submit = Action::new_local(move |form: &TwoStepCodeForm| {
        let form = form.clone();
        let navigate = navigate.clone();
        async move {
            match api::sign_in_two_step(&form).await {
                Ok(session) => {
                    auth.signed_in(session);
                    navigate("/", NavigateOptions::default());
                }
                Err(e) => {
                    expired.set(e.code() == ErrorCode::TwoStepExpired);
                    errors.show_api(&e);
                }
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = TwoStepCodeForm {
            code: code.get_untracked(),
        };
        if errors.passes(form.parse()) {
            submit.dispatch_local(form);
        }
    };
    view! {
        <AuthFrame title="Two-step verification">
            <p class="lead">"Your password was right. Enter the 6-digit code your authenticator app shows for Account Center."</p>
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <TextField
                    errors
                    name="code"
                    label="Authentication code"
                    value=code
                    autocomplete="one-time-code"
                    help="No access to your app? Enter one of your recovery codes instead, like abcde-fghij. Each works once."
                />
                <SubmitButton label="Verify" pending=submit.pending() />
            </form>
            <Show when=move || expired.get()>
                <p>
                    <A href="/signin">"Sign in again"</A>
                </p>
            </Show>
            <p class="card-footer">
                "Lost your device and your recovery codes? Reset your password from "
                <A href="/forgot-password">"Forgot password?"</A>
                " — two-step verification stays on; contact support to remove it."
            </p>
        </AuthFrame>
    }
}
