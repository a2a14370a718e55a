//! `/signin`: email and password.

use crate::api;
use crate::app::use_auth;
use crate::components::{AuthFrame, FormAlert, FormErrors, SubmitButton, TextField, set_title};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::api::SignInForm;

#[component]
pub fn SignInPage() -> impl IntoView {
    set_title("Sign in");
    let auth = use_auth();
    let navigate = use_navigate();
    let errors = FormErrors::new("signin", &["email", "password"]);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());

    let submit = Action::new_local(move |form: &SignInForm| {
        let form = form.clone();
        let navigate = navigate.clone();
        async move {
            match api::sign_in(&form, auth.csrf().as_deref()).await {
                Ok(session) => {
                    auth.signed_in(session);
                    navigate("/", NavigateOptions::default());
                }
                // The server never says which of the two was wrong: neither do we.
                Err(e) => errors.show_api(&e),
            }
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = SignInForm {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        match form.parse() {
            Ok(_) => {
                errors.clear();
                submit.dispatch_local(form);
            }
            Err(invalid) => errors.show_invalid(invalid),
        }
    };

    view! {
        <AuthFrame title="Sign in">
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <TextField
                    errors
                    name="email"
                    label="Email"
                    value=email
                    input_type="email"
                    autocomplete="username"
                />
                <TextField
                    errors
                    name="password"
                    label="Password"
                    value=password
                    input_type="password"
                    autocomplete="current-password"
                />
                <SubmitButton label="Sign In" pending=submit.pending() />
            </form>
            <p class="card-footer">"New to Account Center? " <A href="/signup">"Sign up"</A></p>
        </AuthFrame>
    }
}
