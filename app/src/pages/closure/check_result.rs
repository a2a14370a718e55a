//! What the system check found: must-process items with their Process links and Re-check;
//! renounceable items with their checkboxes, "Discard or Release Selected Resources" and the
//! risk prompt; then Confirm Deletion once nothing stands in the way (seed 001, step 2.3).

use super::check_report::{MustProcessList, amount_line};
use crate::components::{CheckboxField, FormErrors, Modal, SubmitButton, unique_id};
use leptos::prelude::*;
use shared::api::ConfirmClosureForm;
use shared::closure::{CheckItem, ClosureCheck};

/// The renounced keys, once the risk prompt was confirmed.
pub type Renounced = Vec<String>;

#[component]
pub fn CheckResult(
    check: ClosureCheck,
    on_recheck: Callback<()>,
    #[prop(into)] rechecking: Signal<bool>,
    /// Opens Confirm Deletion with what was renounced.
    on_confirm: Callback<Renounced>,
) -> impl IntoView {
    let must: Vec<CheckItem> = check.must_process().cloned().collect();
    let renounceable: Vec<CheckItem> = check.renounceable().cloned().collect();
    let renounced = RwSignal::new(None::<Renounced>);
    let nothing_to_renounce = renounceable.is_empty();
    let ready = move || must.is_empty() && (nothing_to_renounce || renounced.with(Option::is_some));
    let must_view = (!check.can_close).then(|| {
        let items: Vec<CheckItem> = check.must_process().cloned().collect();
        view! {
            <h3>{format!("You must process ({})", items.len())}</h3>
            <p class="muted">"Process each item as instructed, then click Re-check."</p>
            <MustProcessList items />
        }
    });
    view! {
        {must_view}
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
        {(!nothing_to_renounce).then(|| view! { <RenounceForm items=renounceable renounced /> })}
        {move || {
            ready()
                .then(|| {
                    view! {
                        <div class="closure-ready">
                            <p class="result-ok">
                                <span class="badge badge-success">"Passed"</span>
                                " The account can be closed."
                            </p>
                            <button
                                type="button"
                                class="button button-danger"
                                on:click=move |_| on_confirm.run(renounced.get_untracked().unwrap_or_default())
                            >
                                "Confirm Deletion"
                            </button>
                        </div>
                    }
                })
        }}
    }
}

/// Every renounceable item must be selected and discarded or released before closing: the
/// server refuses a closure that keeps one.
#[component]
fn RenounceForm(items: Vec<CheckItem>, renounced: RwSignal<Option<Renounced>>) -> impl IntoView {
    let errors = FormErrors::new("closure-renounce", &[]);
    let keys: Vec<String> = items.iter().map(|i| i.key.clone()).collect();
    let selected = RwSignal::new(Vec::<String>::new());
    let prompt_open = RwSignal::new(false);
    let all = keys.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let chosen = selected.get_untracked();
        if all.iter().all(|k| chosen.contains(k)) {
            errors.clear();
            prompt_open.set(true);
        } else {
            errors.show_invalid(vec![
                shared::Invalid::new(
                    shared::ErrorCode::ConfirmationRequired,
                    "Select every renounceable item: each must be discarded or released before the account can be closed.",
                )
                .at("renounce"),
            ]);
        }
    };
    let list = items
        .into_iter()
        .map(|item| {
            let id = unique_id("renounce");
            let key = item.key.clone();
            let amount = amount_line(&item);
            let checked = {
                let key = key.clone();
                move || selected.with(|s| s.contains(&key))
            };
            view! {
                <li class="check-item">
                    <div class="check">
                        <input
                            id=id.clone()
                            type="checkbox"
                            prop:checked=checked
                            disabled=move || renounced.with(Option::is_some)
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
                            <span class="check-item-title">{item.title.clone()}</span>
                            <span class="muted">{item.guidance.clone()}</span>
                            {amount.map(|a| view! { <span class="muted amount-rule">{a}</span> })}
                        </label>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <h3>"Renounceable"</h3>
        <form on:submit=on_submit novalidate>
            <fieldset class="group">
                <legend>"Small balances and releasable instances, given up with the account"</legend>
                <ul class="check-items">{list}</ul>
            </fieldset>
            {move || errors.alert().map(|m| view! { <p class="form-alert" role="alert">{m}</p> })}
            {move || match renounced.get() {
                Some(_) => view! {
                    <p class="status" role="status">
                        "Selected items will be discarded or released when you confirm the deletion."
                    </p>
                }
                .into_any(),
                None => view! {
                    <SubmitButton label="Discard or Release Selected Resources" pending=Signal::stored(false) primary=false />
                }
                .into_any(),
            }}
        </form>
        <Modal
            open=prompt_open
            on_close=move |_| prompt_open.set(false)
            title="Discard or release these resources?"
        >
            <RiskPrompt
                keys=keys.clone()
                on_confirmed=Callback::new(move |keys: Renounced| {
                    renounced.set(Some(keys));
                    prompt_open.set(false);
                })
                on_cancel=Callback::new(move |_| prompt_open.set(false))
            />
        </Modal>
    }
}

#[component]
fn RiskPrompt(
    keys: Vec<String>,
    on_confirmed: Callback<Renounced>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let errors = FormErrors::new("closure-risk", &["risk_acknowledged"]);
    let risk = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The server's own rule for renouncing: the risk checkbox must be ticked.
        let form = ConfirmClosureForm {
            agreement_accepted: true,
            renounce: keys.clone(),
            risk_acknowledged: risk.get_untracked(),
            ..Default::default()
        };
        if errors.passes(form.check()) {
            on_confirmed.run(keys.clone());
        }
    };
    view! {
        <form on:submit=on_submit novalidate>
            <p>
                "After you submit the closure, discarded balances and released resources cannot be recovered. Released instances lose their data."
            </p>
            <CheckboxField
                errors
                name="risk_acknowledged"
                label="I understand that discarded balances and released resources cannot be recovered."
                checked=risk
            />
            <div class="actions">
                <SubmitButton label="Confirm Discard or Release" pending=Signal::stored(false) />
                <button type="button" class="button" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}
