//! `/`: the overview of a signed-in account, its credit, and what it still needs.

use super::onboarding::{Step, current_step, payment_step_action, payment_step_detail, paytm_only};
use crate::app::use_auth;
use crate::components::{AccountSummary, money, set_title};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::account::Channel;
use shared::api::{AccountView, PaymentMethodKind, RamUserView, RealNameStatus};

#[component]
pub fn HomePage() -> impl IntoView {
    set_title("Overview");
    let auth = use_auth();
    move || {
        let ram_user = auth.ram_user();
        auth.account().map(|account| {
            let setup = account.clone();
            let status = view! { <AccountStatus account=account.clone() /> };
            let tail = match ram_user {
                Some(user) => view! { <RamUserPanel user alias=account.uid.clone() /> }.into_any(),
                None => view! {
                    <section class="panel" aria-labelledby="steps-heading">
                        <h2 id="steps-heading">"Next steps"</h2>
                        <NextSteps account=setup />
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

/// The seed's three steps, in the same order and from the same facts as the stepper heading
/// the billing and payment pages; only the current step has an action. Real-name registration
/// is optional and stands apart.
#[component]
fn NextSteps(account: AccountView) -> impl IntoView {
    let current = current_step(&account.next_steps);
    let verified = account.verified_channel;
    let available = account.payment_methods_available.clone();
    let real_name_done = account.real_name == RealNameStatus::Verified;
    let lead = if current == Step::CreateInstance {
        "Your account is set up: you can buy cloud resources."
    } else {
        "Before you can buy cloud resources, your account needs a billing address and a payment method."
    };
    view! {
        <p class="muted">{lead}</p>
        <ol class="steps">
            {Step::ALL
                .into_iter()
                .map(|step| {
                    let (title, detail) = describe(step, verified, &available);
                    let done = step < current;
                    let action = match step {
                        Step::PaymentMethod => payment_step_action(&available),
                        other => other.label(),
                    };
                    view! {
                        <li class="step-item" class:done=done>
                            <div>
                                <h3>{title}</h3>
                                <p class="muted">{detail}</p>
                            </div>
                            {if done {
                                view! { <span class="badge badge-success">"Done"</span> }.into_any()
                            } else if step == current {
                                view! {
                                    <A href=step.href() attr:class="button button-primary">{action}</A>
                                }
                                .into_any()
                            } else {
                                view! { <span class="badge">"Later"</span> }.into_any()
                            }}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
        {(!real_name_done).then(|| view! {
            <p class="muted">
                "Optional: to buy in mainland-China regions, "
                <A href="/real-name">"complete real-name registration"</A>
                "."
            </p>
        })}
    }
}

fn describe(
    step: Step,
    verified: Channel,
    available: &[PaymentMethodKind],
) -> (&'static str, &'static str) {
    match (step, verified) {
        (Step::BillingAddress, Channel::Email) => (
            "Add a billing address",
            "Used only for tax, settlement and invoices. You proved your email at sign-up; your mobile number is verified with the address.",
        ),
        (Step::BillingAddress, Channel::Phone) => (
            "Add a billing address",
            "Used only for tax, settlement and invoices. You proved your phone at sign-up; your email address is verified with the address.",
        ),
        (Step::PaymentMethod, _) => (
            if paytm_only(available) {
                "Add Paytm as your payment method"
            } else {
                "Add a payment method"
            },
            payment_step_detail(available),
        ),
        (Step::CreateInstance, _) => (
            "Create an instance",
            "Choose a product, a region and a subscription period or pay-as-you-go.",
        ),
    }
}
