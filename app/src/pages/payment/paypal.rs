//! PayPal: "Add Now" sends the browser to PayPal's consent page (the simulated one in dev);
//! PayPal sends it back to `/payment-methods/paypal/return`, which completes the binding or
//! says why not (cancelled, a mainland-China PayPal account, already bound elsewhere).

use crate::api::{self, ApiError};
use crate::app::use_auth;
use crate::components::{
    FormAlert, FormErrors, Loading, money::headline, retryable_action, set_title, use_reauth,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::api::{MethodAdded, PaypalCompleteForm};

#[component]
pub fn AddPaypal(has_paypal: Signal<bool>) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("paypal", &[]);
    let start = retryable_action(move |(): (), this| async move {
        match api::start_paypal(auth.csrf().as_deref()).await {
            Ok(started) => {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().set_href(&started.approval_url);
                }
            }
            Err(e) => reauth.handle(&e, errors, move || {
                this.dispatch_local(());
            }),
        }
    });
    let pending = start.pending();
    view! {
        <section class="panel" aria-labelledby="paypal-heading">
            <h2 id="paypal-heading">"PayPal"</h2>
            <Show
                when=move || !has_paypal.get()
                fallback=|| view! { <p class="muted">"PayPal is added. An account can have one PayPal account."</p> }
            >
                <p class="muted">
                    "You go to PayPal to log in and agree, then come back here."
                </p>
                <ul class="method-notes">
                    <li>"For your pay-as-you-go services, a pre-authorization hold is placed on your PayPal account."</li>
                    <li>"A PayPal account can be added to only one account at a time."</li>
                    <li>"Mainland-China PayPal accounts are not supported."</li>
                </ul>
                <FormAlert errors />
                <button
                    type="button"
                    class="button"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().then_some("true")
                    on:click=move |_| {
                        errors.clear();
                        start.dispatch_local(());
                    }
                >
                    <Show when=move || pending.get()>
                        <span class="spinner" aria-hidden="true"></span>
                    </Show>
                    <span>"Add Now"</span>
                </button>
            </Show>
        </section>
    }
}

#[component]
pub fn PaypalReturnPage() -> impl IntoView {
    set_title("PayPal");
    let query = use_query_map();
    let (token, cancelled) = query.with_untracked(|q| {
        (
            q.get("token").unwrap_or_default(),
            q.get("cancelled").is_some_and(|c| c == "1"),
        )
    });
    view! {
        <h1>"PayPal"</h1>
        {if cancelled || token.is_empty() {
            view! {
                <section class="panel" aria-labelledby="paypal-result">
                    <h2 id="paypal-result">"PayPal was not added"</h2>
                    <p class="form-alert" role="alert">
                        "You cancelled at PayPal, so nothing was added and nothing was charged."
                    </p>
                    <p><A href="/payment-methods">"Back to payment methods"</A></p>
                </section>
            }
            .into_any()
        } else {
            view! { <Complete token /> }.into_any()
        }}
    }
}

/// Completes once per visit: the token is single-use on the server. Back more than an hour
/// after the password, the server binds nothing and asks for it again; once it is given, the
/// same approval completes.
#[component]
fn Complete(token: String) -> impl IntoView {
    let auth = use_auth();
    let result = LocalResource::new(move || {
        let form = PaypalCompleteForm {
            token: token.clone(),
        };
        async move {
            let result = api::complete_paypal(&form, auth.csrf().as_deref()).await;
            if result.is_ok() {
                auth.refresh();
            }
            result
        }
    });
    let retry = Callback::new(move |()| result.refetch());
    view! {
        <Transition fallback=|| view! { <Loading what="the answer from PayPal" /> }>
            {move || Suspend::new(async move {
                match result.await {
                    Ok(added) => view! { <Added added /> }.into_any(),
                    Err(e) => view! { <Refused error=e retry /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Added(added: MethodAdded) -> impl IntoView {
    let credit = added
        .free_credit_granted
        .map(|m| format!(" Your {} free credit is active.", headline(&m)));
    view! {
        <section class="panel" aria-labelledby="paypal-result">
            <h2 id="paypal-result">"PayPal added"</h2>
            <p class="status" role="status">{format!("{} added.", added.method.label)} {credit}</p>
            <p><A href="/payment-methods">"Back to payment methods"</A></p>
        </section>
    }
}

#[component]
fn Refused(error: ApiError, retry: Callback<()>) -> impl IntoView {
    let errors = FormErrors::new("paypal-return", &[]);
    use_reauth().handle(&error, errors, move || retry.run(()));
    view! {
        <section class="panel" aria-labelledby="paypal-result">
            <h2 id="paypal-result">"PayPal was not added"</h2>
            <FormAlert errors />
            <p><A href="/payment-methods">"Back to payment methods"</A></p>
        </section>
    }
}
