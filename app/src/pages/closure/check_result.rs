//! What the system check found: must-process items with their Process links and Re-check;
//! renounceable items with their checkboxes (select all, one line per instance), "Discard or
//! Release Selected Resources" and the risk prompt, whose "Confirm Discard or Release" gives
//! them up at once; then Confirm Deletion once nothing stands in the way (seed 001, step 2.3).

use super::check_report::{CheckSummary, MustProcessList, amount_line};
use crate::api;
use crate::app::use_auth;
use crate::components::{
    CheckboxField, FormErrors, Modal, SubmitButton, retryable_action, unique_id, use_reauth,
};
use crate::words;
use leptos::prelude::*;
use shared::ErrorCode;
use shared::api::RenounceForm;
use shared::closure::{BlockingKind, CheckItem, ClosureCheck};

/// What Confirm Deletion still renounces: nothing, since Confirm Discard or Release gives the
/// items up when it is pressed; kept for the form's field.
pub type Renounced = Vec<String>;

#[component]
pub fn CheckResult(
    check: ClosureCheck,
    on_recheck: Callback<()>,
    #[prop(into)] rechecking: Signal<bool>,
    /// Opens Confirm Deletion.
    on_confirm: Callback<Renounced>,
    /// The identity step lapsed (30 minutes): the flow goes back to it.
    on_identity_expired: Callback<()>,
) -> impl IntoView {
    // The check as it stands: Confirm Discard or Release answers it anew.
    let current = RwSignal::new(check);
    let renounced_note = RwSignal::new(None::<String>);
    let on_renounced = Callback::new(move |(after, note): (ClosureCheck, String)| {
        current.set(after);
        renounced_note.set(Some(note));
    });
    view! {
        {move || {
            let check = current.get();
            let must: Vec<CheckItem> = check.must_process().cloned().collect();
            let renounceable: Vec<CheckItem> = check.renounceable().cloned().collect();
            let ready = must.is_empty() && renounceable.is_empty();
            view! {
                <CheckSummary must=must.len() renounceable=renounceable.len() />
                {(!must.is_empty()).then(|| view! {
                    <h3>{format!("You must process ({})", must.len())}</h3>
                    <p class="muted">"Process each item as instructed, then click Re-check."</p>
                    <MustProcessList items=must />
                })}
                <div class="actions">
                    <button
                        type="button"
                        class="button"
                        disabled=move || rechecking.get()
                        on:click=move |_| on_recheck.run(())
                    >
                        "Re-check"
                    </button>
                </div>
                {(!renounceable.is_empty()).then(|| view! {
                    <RenounceForm items=renounceable on_renounced on_identity_expired />
                })}
                {ready.then(|| view! {
                    <div class="closure-ready">
                        <p class="result-ok">
                            <span class="badge badge-success">"Passed"</span>
                            " The account can be closed."
                        </p>
                        <button
                            type="button"
                            class="button button-danger"
                            on:click=move |_| on_confirm.run(Vec::new())
                        >
                            "Confirm Deletion"
                        </button>
                    </div>
                })}
            }
        }}
        <p class="status" role="status">{move || renounced_note.get()}</p>
    }
}

/// The lines of a renounceable item: one per instance for pay-as-you-go resources, else the
/// item itself.
fn lines_of(item: &CheckItem) -> Vec<String> {
    match item.kind {
        BlockingKind::PayAsYouGoResources if !item.subjects.is_empty() => item.subjects.clone(),
        _ => Vec::new(),
    }
}

/// The renounceable items with their checkboxes and Select all. Confirm Discard or Release
/// (behind the risk prompt) gives the selected ones up on the server at once.
#[component]
fn RenounceForm(
    items: Vec<CheckItem>,
    on_renounced: Callback<(ClosureCheck, String)>,
    on_identity_expired: Callback<()>,
) -> impl IntoView {
    let errors = FormErrors::new("closure-renounce", &[]);
    let keys: Vec<String> = items.iter().map(|i| i.key.clone()).collect();
    let selected = RwSignal::new(Vec::<String>::new());
    let prompt_open = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The server's rule, the selection half of it: the risk checkbox comes in the prompt.
        let form = RenounceForm {
            renounce: selected.get_untracked(),
            risk_acknowledged: true,
        };
        if errors.passes(form.check()) {
            prompt_open.set(true);
        }
    };
    let all_keys = keys.clone();
    let all_selected = {
        let all_keys = all_keys.clone();
        move || selected.with(|s| all_keys.iter().all(|k| s.contains(k)))
    };
    let select_all_id = unique_id("renounce-all");
    let list = items
        .into_iter()
        .map(|item| {
            let id = unique_id("renounce");
            let key = item.key.clone();
            let amount = amount_line(&item);
            let lines = lines_of(&item);
            let title = words::check_item_title(&item);
            let checked = {
                let key = key.clone();
                move || selected.with(|s| s.contains(&key))
            };
            view! {
                <li class="check-item item-warning">
                    <div class="check-item-main renounce-main">
                    <div class="check">
                        <input
                            id=id.clone()
                            type="checkbox"
                            prop:checked=checked
                            on:change:target=move |ev| {
                                let on = ev.target().checked();
                                selected.update(|s| {
                                    s.retain(|k| *k != key);
                                    if on {
                                        s.push(key.clone());
                                    }
                                });
                                errors.clear();
                            }
                        />
                        <label for=id>
                            <span class="check-item-title">{title.clone()}</span>
                            <span class="muted">{words::check_item_guidance(&item)}</span>
                            {amount.map(|a| view! { <span class="muted amount-rule">{a}</span> })}
                        </label>
                    </div>
                    {(!lines.is_empty()).then(|| view! {
                        <ul class="renounce-lines" aria-label=format!("Instances of {title}")>
                            {lines.into_iter().map(|line| view! { <li class="mono">{line}</li> }).collect_view()}
                        </ul>
                    })}
                    </div>
                    <span class="badge badge-warning">"Renounceable"</span>
                </li>
            }
        })
        .collect_view();
    let renounce = {
        let prompt_keys = keys.clone();
        move || {
            // Only what is selected, in the list's order.
            let chosen = selected.get_untracked();
            prompt_keys
                .iter()
                .filter(|k| chosen.contains(k))
                .cloned()
                .collect::<Vec<_>>()
        }
    };
    view! {
        <h3>{format!("Renounceable ({})", keys.len())}</h3>
        <p class="muted">
            "Small balances and releasable instances can be given up with the account. Select them, then discard or release them."
        </p>
        <form on:submit=on_submit novalidate>
            <fieldset class="group">
                <legend>"Small balances and releasable instances"</legend>
                <div class="check select-all">
                    <input
                        id=select_all_id.clone()
                        type="checkbox"
                        prop:checked=all_selected
                        on:change:target=move |ev| {
                            let on = ev.target().checked();
                            selected.set(if on { all_keys.clone() } else { Vec::new() });
                            errors.clear();
                        }
                    />
                    <label for=select_all_id>"Select all"</label>
                </div>
                <ul class="check-items">{list}</ul>
            </fieldset>
            {move || errors.alert().map(|m| view! { <p class="form-alert" role="alert">{m}</p> })}
            <SubmitButton label="Discard or Release Selected Resources" pending=Signal::stored(false) primary=false />
        </form>
        <Modal
            open=prompt_open
            on_close=move |_| prompt_open.set(false)
            title="Discard or release these resources?"
        >
            {
                let renounce = renounce.clone();
                move || prompt_open.get().then(|| view! {
                    <RiskPrompt
                        keys=renounce()
                        on_renounced=Callback::new(move |done| {
                            prompt_open.set(false);
                            on_renounced.run(done);
                        })
                        on_identity_expired
                        on_cancel=Callback::new(move |_| prompt_open.set(false))
                    />
                })
            }
        </Modal>
    }
}

#[component]
fn RiskPrompt(
    keys: Vec<String>,
    on_renounced: Callback<(ClosureCheck, String)>,
    on_identity_expired: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("closure-risk", &["risk_acknowledged"]);
    let risk = RwSignal::new(false);
    let count = keys.len();
    let act = retryable_action(move |form: RenounceForm, this| async move {
        match api::renounce_closure_items(&form, auth.csrf().as_deref()).await {
            Ok(after) => {
                let note = format!(
                    "Discarded or released: {} item{}. They cannot be recovered.",
                    count,
                    if count == 1 { "" } else { "s" }
                );
                on_renounced.run((after, note));
            }
            Err(e) if e.code() == ErrorCode::IdentityNotVerified => on_identity_expired.run(()),
            Err(e) => reauth.handle(&e, errors, move || {
                this.dispatch_local(form);
            }),
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The server's own rule for renouncing: the risk checkbox must be ticked.
        let form = RenounceForm {
            renounce: keys.clone(),
            risk_acknowledged: risk.get_untracked(),
        };
        if errors.passes(form.check()) {
            act.dispatch_local(form);
        }
    };
    view! {
        <form on:submit=on_submit novalidate>
            <p>
                "Discarded balances and released resources cannot be recovered, even if you do not close the account in the end. Released instances lose their data."
            </p>
            {move || errors.alert().map(|m| view! { <p class="form-alert" role="alert">{m}</p> })}
            <CheckboxField
                errors
                name="risk_acknowledged"
                label="I understand that discarded balances and released resources cannot be recovered."
                checked=risk
            />
            <div class="actions">
                <SubmitButton label="Confirm Discard or Release" pending=act.pending() />
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
    use crate::words::tests::item;
    use shared::closure::Severity::Renounceable;

    #[test]
    fn one_line_per_instance_and_none_for_a_balance() {
        let payg = item(
            BlockingKind::PayAsYouGoResources,
            Renounceable,
            &["i-1", "i-2"],
        );
        assert_eq!(lines_of(&payg), ["i-1", "i-2"]);
        assert!(lines_of(&item(BlockingKind::CashBalance, Renounceable, &[])).is_empty());
    }
}
