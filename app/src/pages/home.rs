//! `/`: the overview of a signed-in account and what it still needs.

use crate::app::use_auth;
use crate::components::{AccountSummary, set_title};
use leptos::prelude::*;
use shared::account::Channel;
use shared::api::{NextStep, NextStepKey};

#[component]
pub fn HomePage() -> impl IntoView {
    set_title("Overview");
    let auth = use_auth();
    move || {
        auth.account().map(|account| {
            let verified = account.verified_channel;
            let steps = account.next_steps.clone();
            view! {
                <h1>"Overview"</h1>
                <section class="panel" aria-labelledby="account-heading">
                    <h2 id="account-heading">"Your account"</h2>
                    <AccountSummary account />
                </section>
                <section class="panel" aria-labelledby="steps-heading">
                    <h2 id="steps-heading">"Next steps"</h2>
                    <p class="muted">
                        "Before you can buy cloud resources, your account needs the following."
                    </p>
                    <NextSteps steps verified />
                </section>
            }
        })
    }
}

#[component]
fn NextSteps(steps: Vec<NextStep>, verified: Channel) -> impl IntoView {
    if steps.is_empty() {
        return view! { <p>"Nothing left to do: your account is ready."</p> }.into_any();
    }
    view! {
        <ol class="steps">
            {steps
                .into_iter()
                .map(|step| {
                    let (title, detail) = describe(step.key, verified);
                    view! {
                        <li class="step-item" class:done=step.done>
                            <div>
                                <h3>{title}</h3>
                                <p class="muted">{detail}</p>
                            </div>
                            // These pages are not in this build yet: a status, not a dead link.
                            <span class="badge" class:badge-success=step.done>
                                {if step.done { "Done" } else { "Not available yet" }}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

fn describe(key: NextStepKey, verified: Channel) -> (&'static str, &'static str) {
    match (key, verified) {
        (NextStepKey::VerifyContact, Channel::Email) => (
            "Verify your mobile number",
            "You proved your email at sign-up; your mobile number is verified with the billing address.",
        ),
        (NextStepKey::VerifyContact, Channel::Phone) => (
            "Verify your email address",
            "You proved your phone at sign-up; your email address is verified with the billing address.",
        ),
        (NextStepKey::BillingAddress, _) => (
            "Add a billing address",
            "Needed before any purchase or payment method. Used only for tax, settlement and invoices.",
        ),
        (NextStepKey::PaymentMethod, _) => (
            "Add a payment method",
            "A bank card or PayPal. You will not be charged until you use cloud resources.",
        ),
        (NextStepKey::RealNameRegistration, _) => (
            "Complete real-name registration (optional)",
            "Needed only to buy in mainland-China regions.",
        ),
    }
}
