//! `/`: the overview of a signed-in account, its credit, and what it still needs.

use crate::app::use_auth;
use crate::components::{AccountSummary, money, set_title};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::account::Channel;
use shared::api::{AccountView, NextStep, NextStepKey, RamUserView, RealNameStatus};

#[component]
pub fn HomePage() -> impl IntoView {
    set_title("Overview");
    let auth = use_auth();
    move || {
        let ram_user = auth.ram_user();
        auth.account().map(|account| {
            let verified = account.verified_channel;
            let steps = account.next_steps.clone();
            let status = view! { <AccountStatus account=account.clone() /> };
            let tail = match ram_user {
                Some(user) => view! { <RamUserPanel user alias=account.uid.clone() /> }.into_any(),
                None => view! {
                    <section class="panel" aria-labelledby="steps-heading">
                        <h2 id="steps-heading">"Next steps"</h2>
                        <p class="muted">
                            "Before you can buy cloud resources, your account needs the following."
                        </p>
                        <NextSteps steps verified />
                    </section>
                }
                .into_any(),
            };
            view! {
                <h1>"Overview"</h1>
                <section class="panel" aria-labelledby="account-heading">
                    <h2 id="account-heading">"Your account"</h2>
                    <AccountSummary account />
                </section>
                {status}
                {tail}
            }
        })
    }
}

/// Free credit and real-name status: what the account can spend, and where it may buy.
#[component]
pub fn AccountStatus(account: AccountView) -> impl IntoView {
    let real_name = match account.real_name {
        RealNameStatus::Verified => "Verified",
        RealNameStatus::NotRegistered => "Not registered",
    };
    view! {
        <section class="panel" aria-labelledby="balance-heading">
            <h2 id="balance-heading">"Balance and registration"</h2>
            <dl class="facts">
                <div>
                    <dt>"Free credit"</dt>
                    <dd class="amount">{money(&account.credit_balance)}</dd>
                </div>
                <div>
                    <dt>"Real-name registration"</dt>
                    <dd>
                        <span
                            class="badge"
                            class:badge-success=account.real_name == RealNameStatus::Verified
                        >
                            {real_name}
                        </span>
                    </dd>
                </div>
            </dl>
            <p>
                "Cash in your balance can be withdrawn to a card or PayPal. "
                <A href="/billing/withdraw">"Withdraw balance"</A>
            </p>
        </section>
    }
}

#[component]
fn RamUserPanel(user: RamUserView, alias: String) -> impl IntoView {
    let permissions = if user.permissions.is_empty() {
        "None".to_owned()
    } else {
        user.permissions
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <section class="panel" aria-labelledby="ram-heading">
            <h2 id="ram-heading">"Signed in as a RAM user"</h2>
            <dl class="facts">
                <div>
                    <dt>"RAM user"</dt>
                    <dd>{user.username}</dd>
                </div>
                <div>
                    <dt>"Account alias"</dt>
                    <dd class="mono">{alias}</dd>
                </div>
                <div>
                    <dt>"Permissions"</dt>
                    <dd>{permissions}</dd>
                </div>
            </dl>
            <p class="muted">
                "The billing address, payment methods and RAM users are managed by the account owner."
            </p>
        </section>
    }
}

#[component]
fn NextSteps(steps: Vec<NextStep>, verified: Channel) -> impl IntoView {
    if steps
        .iter()
        .all(|s| s.done || s.key == NextStepKey::RealNameRegistration)
    {
        let real_name_left = steps.iter().any(|s| !s.done);
        return view! {
            <p>"Nothing left to do: your account is ready to buy cloud resources."</p>
            {real_name_left.then(|| view! {
                <p class="muted">
                    "To buy in mainland-China regions, "
                    <A href="/real-name">"complete real-name registration"</A>
                    "."
                </p>
            })}
        }
        .into_any();
    }
    view! {
        <ol class="steps">
            {steps
                .into_iter()
                .map(|step| {
                    let (title, detail, href) = describe(step.key, verified);
                    view! {
                        <li class="step-item" class:done=step.done>
                            <div>
                                <h3>{title}</h3>
                                <p class="muted">{detail}</p>
                            </div>
                            {if step.done {
                                view! { <span class="badge badge-success">"Done"</span> }.into_any()
                            } else {
                                view! { <A href=href attr:class="button">{action(step.key)}</A> }
                                    .into_any()
                            }}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

fn action(key: NextStepKey) -> &'static str {
    match key {
        NextStepKey::VerifyContact => "Verify",
        NextStepKey::BillingAddress => "Add address",
        NextStepKey::PaymentMethod => "Add method",
        NextStepKey::RealNameRegistration => "Register",
    }
}

fn describe(key: NextStepKey, verified: Channel) -> (&'static str, &'static str, &'static str) {
    match (key, verified) {
        (NextStepKey::VerifyContact, Channel::Email) => (
            "Verify your mobile number",
            "You proved your email at sign-up; your mobile number is verified with the billing address.",
            "/billing",
        ),
        (NextStepKey::VerifyContact, Channel::Phone) => (
            "Verify your email address",
            "You proved your phone at sign-up; your email address is verified with the billing address.",
            "/billing",
        ),
        (NextStepKey::BillingAddress, _) => (
            "Add a billing address",
            "Needed before any purchase or payment method. Used only for tax, settlement and invoices.",
            "/billing",
        ),
        (NextStepKey::PaymentMethod, _) => (
            "Add a payment method",
            "A bank card or PayPal. You will not be charged until you use cloud resources.",
            "/payment-methods",
        ),
        (NextStepKey::RealNameRegistration, _) => (
            "Complete real-name registration (optional)",
            "Needed only to buy in mainland-China regions.",
            "/real-name",
        ),
    }
}
