//! `/signin`: email and password.

use crate::api;
use crate::app::use_auth;
use crate::components::{AuthFrame, FormAlert, FormErrors, SubmitButton, TextField, set_title};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::api::{RamSignInForm, SignInForm};

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
                // The password was right; the authenticator's code comes next.
                Err(e) if e.code() == shared::ErrorCode::TwoStepRequired => {
                    navigate("/signin/two-step", NavigateOptions::default());
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
        if errors.passes(form.parse()) {
            submit.dispatch_local(form);
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
                <p class="forgot-link">
                    <A href="/forgot-password">"Forgot password?"</A>
                </p>
                <SubmitButton label="Sign In" pending=submit.pending() />
            </form>
            <p class="card-footer">
                "New to Account Center? " <A href="/signup">"Sign up"</A>
                <br />
                "A RAM user of an account? " <A href="/signin/ram">"RAM user sign-in"</A>
            </p>
        </AuthFrame>
    }
}

/// `/signin/ram`: a RAM user signs in under the owner's account alias.
#[component]
pub fn RamSignInPage() -> impl IntoView {
    set_title("RAM user sign-in");
    let auth = use_auth();
    let navigate = use_navigate();
    let errors = FormErrors::new("ram-signin", &["account_alias", "username", "password"]);
    let alias = RwSignal::new(String::new());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());

    let submit = Action::new_local(move |form: &RamSignInForm| {
        let form = form.clone();
        let navigate = navigate.clone();
        async move {
            match api::sign_in_ram_user(&form, auth.csrf().as_deref()).await {
                Ok(session) => {
                    auth.signed_in(session);
                    navigate("/", NavigateOptions::default());
                }
                // Like the owner's sign-in, it never says which of the three was wrong.
                Err(e) => errors.show_api(&e),
            }
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = RamSignInForm {
            account_alias: alias.get_untracked(),
            username: username.get_untracked(),
            password: password.get_untracked(),
        };
        if !errors.passes(form.parse()) {
            return;
        }
        submit.dispatch_local(form);
    };

    view! {
        <AuthFrame title="RAM user sign-in">
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <TextField
                    errors
                    name="account_alias"
                    label="Account alias"
                    value=alias
                    autocomplete="organization"
                    help="The account ID the account owner gave you, shown on their RAM users page."
                />
                <TextField errors name="username" label="Username" value=username autocomplete="username" />
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
            <p class="card-footer">
                "The account owner? " <A href="/signin">"Sign in with your email"</A>
            </p>
        </AuthFrame>
    }
}
