//! The Account Closure Agreement, its checkbox, and Next. The words follow seed 001: the
//! closure is irreversible, everything is deleted after the cool-down, and the cool-down,
//! which settles bills that arrive late, can neither be shortened nor revoked.

use crate::components::{CheckboxField, FormErrors, SubmitButton};
use crate::words::grouped;
use leptos::prelude::*;
use shared::api::ConfirmClosureForm;
use shared::closure::{BALANCE_LIMIT_CNY, OVERDUE_LIMIT_CNY, SERVICE_LINKED_ROLE};

#[component]
pub fn AgreementStep(
    cool_down_days: i64,
    /// Kept by the flow, so going back and forth keeps the tick.
    accepted: RwSignal<bool>,
    on_next: Callback<()>,
) -> impl IntoView {
    let errors = FormErrors::new("closure-agreement", &["agreement_accepted"]);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The same rule the server applies to Confirm Deletion, checked here first.
        let form = ConfirmClosureForm {
            agreement_accepted: accepted.get_untracked(),
            ..Default::default()
        };
        if errors.passes(form.check_agreement()) {
            on_next.run(());
        }
    };
    view! {
        <section class="panel" aria-labelledby="agreement-heading">
            <h2 id="agreement-heading" tabindex="-1">"Account Closure Agreement"</h2>
            <div class="agreement" tabindex="0" role="region" aria-label="Agreement text">
                <AgreementText cool_down_days />
            </div>
            <form on:submit=on_submit novalidate>
                <CheckboxField
                    errors
                    name="agreement_accepted"
                    label="I have read and agree to the Account Closure Agreement."
                    checked=accepted
                />
                <SubmitButton label="Next" pending=Signal::stored(false) />
            </form>
        </section>
    }
}

#[component]
fn AgreementText(cool_down_days: i64) -> impl IntoView {
    let days = if cool_down_days == 1 {
        "1 day".to_owned()
    } else {
        format!("{cool_down_days} days")
    };
    let balance = grouped(BALANCE_LIMIT_CNY);
    view! {
        <ol>
            <li>
                <strong>"Closing the account is irreversible."</strong>
                {format!(
                    " After a cool-down period of {days}, the account is closed for good: all its data, resources, information and assets are deleted and cannot be recovered by any means. You can no longer sign in with it."
                )}
            </li>
            <li>
                "The cool-down period exists to settle bills that arrive late: pay-as-you-go usage reaches billing hours after it happens, and keeps being billed during the cool-down. "
                <strong>"The cool-down cannot be shortened, and the closure cannot be revoked once it has started."</strong>
            </li>
            <li>
                "When you confirm, every session of the account ends, including those of its RAM users. During the cool-down you can sign in only to see the remaining time; no other operation is possible. "
                {format!("The service-linked role {SERVICE_LINKED_ROLE} is created on the account to clean up its resources, and is deleted with it.")}
            </li>
            <li>
                {format!(
                    "A balance cannot be withdrawn after closure. Only a balance of {balance} CNY or less and overdue payments of {OVERDUE_LIMIT_CNY} CNY or less can be renounced; pay-as-you-go instances you renounce are released. Renounced balances and released resources cannot be recovered."
                )}
            </li>
            <li>
                "If new overdue payments appear during the cool-down, the closure fails and the account is restored: pay them and start again. You are told the result by email and SMS either way."
            </li>
            <li>
                "When the account is closed, the Membership Agreement, the Product Terms and the Terms of Use end with it; the Privacy Policy says what is kept after deletion, and for how long. Payment information (cards, PayPal, Paytm) and coupons are deleted with the account."
                <ul class="agreement-links" aria-label="The agreements">
                    <li><AgreementLink href="/agreements/membership.html" name="Membership Agreement" /></li>
                    <li><AgreementLink href="/agreements/privacy.html" name="Privacy Policy" /></li>
                    <li><AgreementLink href="/agreements/product-terms.html" name="Product Terms" /></li>
                    <li><AgreementLink href="/agreements/terms-of-use.html" name="Terms of Use" /></li>
                </ul>
            </li>
            <li>
                "Back up what you need before you start: bills, orders, refunds and invoices can be exported on the Security & Closure page, and are deleted with the account."
            </li>
        </ol>
    }
}

/// One of the four agreements (static pages under `public/agreements/`), opened beside the
/// flow so the step is not lost.
#[component]
fn AgreementLink(href: &'static str, name: &'static str) -> impl IntoView {
    view! {
        <a href=href target="_blank" rel="noopener">
            {name}
            <span class="closure-sr">" (opens in a new tab)"</span>
        </a>
    }
}
