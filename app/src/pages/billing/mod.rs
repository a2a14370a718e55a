//! The billing address (SPEC §2): `/billing` verifies the contact channel sign-up left out and
//! saves the address; `/real-name` registers the real name for mainland-China regions;
//! `/billing/withdraw` withdraws the balance.

mod address;
mod contact;
mod real_name;
mod withdraw;

pub use real_name::RealNamePage;
pub use withdraw::WithdrawPage;

use super::onboarding::OnboardingHeader;
use crate::api;
use crate::components::{Loading, load_failed, set_title};
use address::AddressForm;
use contact::{ContactVerification, VerifiedContacts};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::api::BillingAddressView;

#[component]
pub fn BillingPage() -> impl IntoView {
    set_title("Billing address");
    let view = LocalResource::new(api::billing_address);
    let welcome = use_query_map().with_untracked(|q| q.get("welcome").is_some());
    view! {
        <OnboardingHeader welcome />
        <h1>"Billing address"</h1>
        <p class="lead">
            "Your billing address is used exclusively for tax assessment, to settle accounts and issue electronic invoices. "
            "It is the same for individual and corporate accounts, and both get the same services."
        </p>
        <p class="privacy-note">
            "Your billing information is used only for these purposes: it is not shared with any third party or used for anything else."
        </p>
        <Transition fallback=|| view! { <Loading what="your billing address" /> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    view.await.map(|view| view! { <BillingForms view /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn BillingForms(view: BillingAddressView) -> impl IntoView {
    // Which channel still needs its code; `None` once both are verified.
    let to_verify = RwSignal::new(view.contact_to_verify);
    let contacts = RwSignal::new((view.email.clone(), view.phone.clone()));
    view! {
        {move || match to_verify.get() {
            Some(channel) => view! {
                <ContactVerification
                    channel
                    calling_code=view.calling_code.clone()
                    email=view.email.clone()
                    on_verified=Callback::new(move |account: shared::api::AccountView| {
                        contacts.set((account.email, account.phone));
                        to_verify.set(None);
                    })
                />
            }
            .into_any(),
            None => view! { <VerifiedContacts contacts=contacts.get() /> }.into_any(),
        }}
        <AddressForm saved=view.address.clone() contact_verified=Signal::derive(move || to_verify.get().is_none()) />
        <section class="panel" aria-labelledby="real-name-link-heading">
            <h2 id="real-name-link-heading">"Real-name registration"</h2>
            <p class="muted">
                "Needed only to buy in mainland-China regions. "
                <A href="/real-name">"Go to real-name registration"</A>
            </p>
        </section>
    }
}
