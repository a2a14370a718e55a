//! `/signup`: country, email, password twice and the agreements.

use crate::api;
use crate::app::use_auth;
use crate::components::{
    AuthFrame, CheckboxField, FormAlert, FormErrors, NewPasswordFields, SelectField, SubmitButton,
    TextField, set_title,
};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::api::SignupForm;
use shared::country::COUNTRIES;

const FIELDS: &[&str] = &[
    "country",
    "email",
    "password",
    "password_confirmation",
    "accept_agreement",
];

#[component]
pub fn SignupPage() -> impl IntoView {
    set_title("Sign up");
    let auth = use_auth();
    let navigate = use_navigate();
    let errors = FormErrors::new("signup", FIELDS);
    let country = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password_confirmation = RwSignal::new(String::new());
    let accept_agreement = RwSignal::new(false);

    let submit = Action::new_local(move |form: &SignupForm| {
        let form = form.clone();
        let navigate = navigate.clone();
        async move {
            match api::start_signup(&form, auth.csrf().as_deref()).await {
                Ok(started) => navigate(
                    &format!("/signup/verify/{}", started.signup_id),
                    NavigateOptions::default(),
                ),
                Err(e) => errors.show_api(&e),
            }
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = SignupForm {
            country: country.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
            password_confirmation: password_confirmation.get_untracked(),
            accept_agreement: accept_agreement.get_untracked(),
        };
        if errors.passes(form.parse()) {
            submit.dispatch_local(form);
        }
    };

    view! {
        <AuthFrame title="Create your account">
            // The browser's own checks would pre-empt ours with different words; `shared` decides.
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <SelectField
                    errors
                    name="country"
                    label="Country/Region"
                    value=country
                    autocomplete="country"
                    help="Choose the country or region where your phone number and payment card are registered."
                >
                    <option value="">"Select your country or region"</option>
                    {COUNTRIES
                        .iter()
                        .map(|c| view! { <option value=c.code>{c.name}</option> })
                        .collect_view()}
                </SelectField>
                <TextField
                    errors
                    name="email"
                    label="Email"
                    value=email
                    input_type="email"
                    autocomplete="email"
                />
                <NewPasswordFields errors password confirmation=password_confirmation />
                // Each agreement opens in a new tab; a click on a link follows it and leaves
                // the box as it was (a label does not activate its control through a link).
                <CheckboxField errors name="accept_agreement" label="" checked=accept_agreement>
                    "I have read and agree to the "
                    <AgreementLink href="/agreements/membership.html" title="Membership Agreement" />
                    ", "
                    <AgreementLink href="/agreements/privacy.html" title="Privacy Policy" />
                    ", "
                    <AgreementLink href="/agreements/product-terms.html" title="Product Terms" />
                    " and "
                    <AgreementLink href="/agreements/terms-of-use.html" title="Terms of Use" />
                </CheckboxField>
                <SubmitButton label="Sign Up" pending=submit.pending() />
            </form>
            <p class="card-footer">
                "Already have an account? " <A href="/signin">"Sign in"</A>
            </p>
        </AuthFrame>
    }
}

/// A link to one of the agreements' pages, opening in a new tab and saying so.
#[component]
fn AgreementLink(href: &'static str, title: &'static str) -> impl IntoView {
    view! {
        <a href=href target="_blank" rel="noopener">
            {title}
            <span class="visually-hidden">" (opens in a new tab)"</span>
        </a>
    }
}
