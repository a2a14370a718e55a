//! Payment methods (SPEC §3): `/payment-methods` lists them (default, set as default, remove)
//! and adds a bank card, PayPal or Paytm, whichever the account may use;
//! `/payment-methods/paypal/return` is where PayPal sends the browser back.

mod card;
mod list;
mod paypal;
mod paytm;
mod stripe;

pub use paypal::PaypalReturnPage;

use super::onboarding::{NextStepLink, OnboardingHeader, Step, use_current_step};
use crate::api;
use crate::app::use_auth;
use crate::components::{Loading, load_failed, money, money::headline, set_title};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{MethodAdded, PaymentMethodKind, PaymentMethodsView};

#[component]
pub fn PaymentMethodsPage() -> impl IntoView {
    set_title("Payment methods");
    let methods = LocalResource::new(api::payment_methods);
    view! {
        <OnboardingHeader />
        <h1>"Payment methods"</h1>
        <Transition fallback=|| view! { <Loading what="your payment methods" /> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    methods.await.map(|view| view! { <PaymentMethods view /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The page once loaded. `view` is replaced by each answer that carries the new list, so the
/// add forms below keep what was typed.
#[component]
fn PaymentMethods(view: PaymentMethodsView) -> impl IntoView {
    let auth = use_auth();
    let step = use_current_step();
    let setting_up = step.get_untracked() == Some(Step::PaymentMethod);
    let current = RwSignal::new(view.clone());
    let added = RwSignal::new(None::<String>);
    // After an add, the list, the banner and the overview's credit all change.
    let on_added = Callback::new(move |result: MethodAdded| {
        let credit = result
            .free_credit_granted
            .map(|m| format!(" Your {} free credit is active.", headline(&m)))
            .unwrap_or_default();
        added.set(Some(format!("{} added.{credit}", result.method.label)));
        auth.refresh();
        leptos::task::spawn_local(async move {
            if let Ok(view) = api::payment_methods().await {
                current.set(view);
            }
        });
    });
    let available = view.available.clone();
    let can = move |kind| available.contains(&kind);
    let hold = money(&view.verification_hold);
    let address_added = view.billing_address_added;
    let card_entry = view.card_entry.clone();
    let has_paypal = Signal::derive(move || {
        current.with(|v| {
            v.methods
                .iter()
                .any(|m| m.kind == PaymentMethodKind::Paypal)
        })
    });
    view! {
        <p class="lead">"You will not be charged until you use cloud resources."</p>
        <Show when=move || !current.with(|v| v.free_credit_granted)>
            <div class="banner" role="note">
                <strong>
                    {move || format!(
                        "Add a verified payment method to activate your {} free credit",
                        current.with(|v| headline(&v.free_credit)),
                    )}
                </strong>
                <p>"The credit comes with your first verified payment method, once per account."</p>
            </div>
        </Show>
        <p class="status" role="status">{move || added.get()}</p>
        // The method that finished the setup hands over to the last step.
        {move || {
            (setting_up && added.with(Option::is_some)
                && step.get() == Some(Step::CreateInstance))
                .then(|| view! { <NextStepLink step=Step::CreateInstance /> })
        }}
        <list::MethodList view=current />
        {if !address_added {
            view! {
                <section class="panel" aria-labelledby="add-heading">
                    <h2 id="add-heading">"Add a payment method"</h2>
                    <p class="notice">
                        "Payment methods need your billing address first. "
                        <A href="/billing">"Add your billing address"</A>
                    </p>
                </section>
            }
            .into_any()
        } else {
            view! {
                {can(PaymentMethodKind::Card).then(|| view! { <card::AddCard hold=hold.clone() entry=card_entry.clone() on_added /> })}
                {can(PaymentMethodKind::Paypal).then(|| view! { <paypal::AddPaypal has_paypal /> })}
                {can(PaymentMethodKind::Paytm).then(|| view! { <paytm::AddPaytm on_added /> })}
            }
            .into_any()
        }}
    }
}
