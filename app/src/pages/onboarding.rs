//! The first steps of a new account (seed 000): Add billing address → Add payment method →
//! Create instance. The stepper heading the billing and payment pages and the overview's
//! "Next steps" both read the account's `next_steps` through [`current_step`], so they never
//! disagree.

use crate::app::use_auth;
use crate::components::money::headline;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{AccountView, NextStep, NextStepKey, PaymentMethodKind};

/// One of the seed's three onboarding steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// The billing address, with the contact channel sign-up left out.
    BillingAddress,
    PaymentMethod,
    CreateInstance,
}

impl Step {
    pub const ALL: [Step; 3] = [
        Step::BillingAddress,
        Step::PaymentMethod,
        Step::CreateInstance,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Step::BillingAddress => "Add billing address",
            Step::PaymentMethod => "Add payment method",
            Step::CreateInstance => "Create instance",
        }
    }

    pub fn href(self) -> &'static str {
        match self {
            Step::BillingAddress => "/billing",
            Step::PaymentMethod => "/payment-methods",
            Step::CreateInstance => "/products",
        }
    }
}

fn done(steps: &[NextStep], key: NextStepKey) -> bool {
    steps.iter().any(|s| s.key == key && s.done)
}

/// The step the account is on. The billing address step includes verifying the second contact
/// channel (the server saves no address before it); real-name registration is optional and not
/// one of the three.
pub fn current_step(steps: &[NextStep]) -> Step {
    if !(done(steps, NextStepKey::VerifyContact) && done(steps, NextStepKey::BillingAddress)) {
        Step::BillingAddress
    } else if !done(steps, NextStepKey::PaymentMethod) {
        Step::PaymentMethod
    } else {
        Step::CreateInstance
    }
}

/// Whether Paytm is the only method this account may add (India, registered after 2019-07-29).
pub fn paytm_only(available: &[PaymentMethodKind]) -> bool {
    available == [PaymentMethodKind::Paytm]
}

/// What the payment step asks for, in the words of the methods the account may add.
pub fn payment_step_detail(available: &[PaymentMethodKind]) -> &'static str {
    if paytm_only(available) {
        "Connect your Paytm account: Paytm is the payment method for accounts registered in India. You will not be charged until you use cloud resources."
    } else {
        "A bank card or PayPal. You will not be charged until you use cloud resources."
    }
}

/// The name of the payment step's action for this account.
pub fn payment_step_action(available: &[PaymentMethodKind]) -> &'static str {
    if paytm_only(available) {
        "Add Paytm"
    } else {
        "Add payment method"
    }
}

/// The account's step, following the session (it is refreshed after each save).
pub fn use_current_step() -> Signal<Option<Step>> {
    let auth = use_auth();
    Signal::derive(move || {
        auth.ram_user()
            .is_none()
            .then(|| auth.account().map(|a| current_step(&a.next_steps)))
            .flatten()
    })
}

/// The seed's three steps, the current one marked. Done steps carry a check mark and say so to
/// a screen reader.
#[component]
pub fn Stepper(current: Signal<Option<Step>>) -> impl IntoView {
    let state = move |step: Step| match current.get() {
        Some(c) if step < c => "done",
        Some(c) if step == c => "current",
        _ => "todo",
    };
    view! {
        <ol class="stepper stepper-onboarding" aria-label="Account setup">
            {Step::ALL
                .into_iter()
                .map(|step| {
                    view! {
                        <li
                            class=move || format!("stepper-item {}", state(step))
                            aria-current=move || (state(step) == "current").then_some("step")
                        >
                            <span class="stepper-label">{step.label()}</span>
                            <span class="visually-hidden">
                                {move || if state(step) == "done" { " (done)" } else { "" }}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// What the billing and payment pages show above their forms while the account is setting up:
/// the success banner right after sign-up, the free credit still to activate, and the stepper.
#[component]
pub fn OnboardingHeader(
    /// The user just verified their sign-up and was sent here.
    #[prop(optional)]
    welcome: bool,
) -> impl IntoView {
    let auth = use_auth();
    let current = use_current_step();
    // Shown while the account is setting up, and kept once this page finished a step, so the
    // hand-over to the next step stays in view.
    let setting_up = current
        .get_untracked()
        .is_some_and(|s| s < Step::CreateInstance);
    let credit = move || {
        auth.account()
            .and_then(|a: AccountView| a.free_credit_offered)
            .map(|m| headline(&m))
    };
    setting_up.then(|| {
        view! {
            <div class="onboarding">
                {welcome.then(|| view! {
                    <div class="banner banner-success" role="status">
                        <strong>"You have successfully registered!"</strong>
                        {move || credit().map(|c| view! {
                            <p>{format!("Add a verified payment method to activate your {c} free credit.")}</p>
                        })}
                    </div>
                })}
                <Stepper current />
            </div>
        }
    })
}

/// The link from a finished step to the next one.
#[component]
pub fn NextStepLink(step: Step) -> impl IntoView {
    let auth = use_auth();
    let label = move || {
        let available = auth
            .account()
            .map(|a| a.payment_methods_available)
            .unwrap_or_default();
        match step {
            Step::PaymentMethod => payment_step_action(&available),
            other => other.label(),
        }
    };
    view! {
        <A href=step.href() attr:class="button button-primary next-step-link">
            "Next: " {label}
        </A>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(contact: bool, address: bool, method: bool, real_name: bool) -> Vec<NextStep> {
        [
            (NextStepKey::VerifyContact, contact),
            (NextStepKey::BillingAddress, address),
            (NextStepKey::PaymentMethod, method),
            (NextStepKey::RealNameRegistration, real_name),
        ]
        .into_iter()
        .map(|(key, done)| NextStep { key, done })
        .collect()
    }

    #[test]
    fn a_new_account_starts_at_the_billing_address() {
        assert_eq!(
            current_step(&steps(false, false, false, false)),
            Step::BillingAddress
        );
        // A verified contact alone is not the address.
        assert_eq!(
            current_step(&steps(true, false, false, false)),
            Step::BillingAddress
        );
    }

    #[test]
    fn the_address_hands_over_to_the_payment_method_then_to_an_instance() {
        assert_eq!(
            current_step(&steps(true, true, false, false)),
            Step::PaymentMethod
        );
        assert_eq!(
            current_step(&steps(true, true, true, false)),
            Step::CreateInstance
        );
    }

    #[test]
    fn real_name_registration_never_holds_the_steps_back() {
        assert_eq!(
            current_step(&steps(true, true, true, false)),
            current_step(&steps(true, true, true, true))
        );
    }

    #[test]
    fn a_paytm_only_account_is_asked_for_paytm() {
        let india = [PaymentMethodKind::Paytm];
        let others = [PaymentMethodKind::Card, PaymentMethodKind::Paypal];
        assert!(paytm_only(&india));
        assert!(!paytm_only(&others));
        assert!(payment_step_detail(&india).contains("Paytm"));
        assert!(!payment_step_detail(&others).contains("Paytm"));
        assert_eq!(payment_step_action(&india), "Add Paytm");
    }
}
