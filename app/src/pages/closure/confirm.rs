//! The Confirm Deletion dialog: a closure reason, the last warning, and the button that
//! starts the irreversible cool-down. Needs a recent sign-in: when the server asks for the
//! password, the same confirmation is sent again once it is given.

use super::check_result::Renounced;
use crate::api;
use crate::app::use_auth;
use crate::components::{
    FormAlert, FormErrors, SelectField, SubmitButton, TextField, retryable_action, use_reauth,
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

fn reason_of(value: &str) -> ClosureReason {
    REASONS
        .iter()
        .map(|(r, _)| *r)
        .find(|r| r.as_str() == value)
        .unwrap_or_default()
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
    let reason = RwSignal::new(ClosureReason::default().as_str().to_owned());
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
                " You are signed out everywhere, and after the cool-down all resources and data are deleted for good."
            </p>
            <FormAlert errors />
            <SelectField errors name="reason" label="Closure reason" value=reason>
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
                <SubmitButton label="Confirm Deletion" pending=confirm.pending() />
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
            assert_eq!(reason_of(reason.as_str()), reason);
        }
        assert_eq!(reason_of("nonsense"), ClosureReason::NoLongerNeeded);
    }
}
