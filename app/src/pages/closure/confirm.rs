//! The Confirm Deletion dialog: a closure reason, the last warning, and the button that
//! starts the irreversible cool-down. Needs a recent sign-in: when the server asks for the
//! password, the same confirmation is sent again once it is given.

use super::check_result::Renounced;
use crate::api;
use crate::app::use_auth;
use crate::components::{
    FormAlert, FormErrors, SelectField, TextField, retryable_action, use_reauth,
};
use leptos::prelude::*;
use shared::ErrorCode;
use shared::api::{ClosureReason, ClosureStatus, ConfirmClosureForm};

const REASONS: [(ClosureReason, &str); 6] = [
    (
        ClosureReason::NoLongerNeeded,
        "I no longer need the account",
    ),
    (
        ClosureReason::SwitchingProvider,
        "I am moving to another provider",
    ),
    (ClosureReason::TooExpensive, "It costs too much"),
    (ClosureReason::DuplicateAccount, "I have another account"),
    (ClosureReason::PrivacyConcerns, "Privacy concerns"),
    (ClosureReason::Other, "Other"),
];

/// The reason chosen, if any: none is chosen until the owner picks one.
fn reason_of(value: &str) -> Option<ClosureReason> {
    REASONS
        .iter()
        .map(|(r, _)| *r)
        .find(|r| r.as_str() == value)
}

#[component]
pub fn ConfirmDeletion(
    check_id: String,
    renounce: Renounced,
    on_closed: Callback<ClosureStatus>,
    /// The identity step lapsed (30 minutes): the flow goes back to it.
    on_identity_expired: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("closure-confirm", &["reason", "reason_detail"]);
    let reason = RwSignal::new(String::new());
    let detail = RwSignal::new(String::new());

    let confirm = retryable_action(move |form: ConfirmClosureForm, this| async move {
        match api::confirm_closure(&form, auth.csrf().as_deref()).await {
            Ok(status) => on_closed.run(status),
            Err(e) if e.code() == ErrorCode::IdentityNotVerified => on_identity_expired.run(()),
            Err(e) => reauth.handle(&e, errors, move || {
                this.dispatch_local(form);
            }),
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = ConfirmClosureForm {
            system_check_id: check_id.clone(),
            agreement_accepted: true,
            risk_acknowledged: !renounce.is_empty(),
            renounce: renounce.clone(),
            reason: reason_of(&reason.get_untracked()),
            reason_detail: detail.get_untracked(),
        };
        if errors.passes(form.check()) {
            confirm.dispatch_local(form);
        }
    };
    view! {
        <form on:submit=on_submit novalidate>
            <p class="notice notice-error">
                <strong>"After you confirm, the closure runs by itself and cannot be stopped or revoked."</strong>
                " You are signed out everywhere, and after the cool-down all resources and data, your payment information (cards, PayPal, Paytm) and your coupons are deleted for good."
            </p>
            <FormAlert errors />
            <SelectField errors name="reason" label="Closure reason" value=reason>
                <option value="" disabled=true>"Choose a reason"</option>
                {REASONS
                    .iter()
                    .map(|(r, label)| view! { <option value=r.as_str()>{*label}</option> })
                    .collect_view()}
            </SelectField>
            <TextField
                errors
                name="reason_detail"
                label="Tell us more (optional)"
                value=detail
                help="At most 500 characters."
            />
            <div class="actions">
                <button
                    type="submit"
                    class="button button-danger button-danger-final"
                    disabled=move || confirm.pending().get()
                    aria-busy=move || confirm.pending().get().then_some("true")
                >
                    <Show when=move || confirm.pending().get()>
                        <span class="spinner" aria-hidden="true"></span>
                    </Show>
                    <span>"Confirm Deletion"</span>
                </button>
                <button type="button" class="button" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_from_its_wire_name() {
        for (reason, _) in REASONS {
            assert_eq!(reason_of(reason.as_str()), Some(reason));
        }
        assert_eq!(reason_of(""), None, "no reason is pre-selected");
        assert_eq!(reason_of("nonsense"), None);
    }
}
