//! The account's payment methods: the default marked, another made default, one removed
//! (after a confirmation). Each change needs a recent password.

use crate::api;
use crate::app::use_auth;
use crate::components::{
    FormAlert, FormErrors, Modal, date::long_date, retryable_action, unique_id, use_reauth,
};
use leptos::prelude::*;
use shared::api::{PaymentMethodView, PaymentMethodsView};

#[derive(Clone)]
enum Change {
    MakeDefault(String),
    Remove(String),
}

#[component]
pub fn MethodList(view: RwSignal<PaymentMethodsView>) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("methods", &[]);
    let done = RwSignal::new(None::<String>);
    let confirm_remove = RwSignal::new(None::<PaymentMethodView>);

    let change = retryable_action(move |change: Change, this| async move {
        let csrf = auth.csrf();
        let result = match &change {
            Change::MakeDefault(id) => api::set_default_method(id, csrf.as_deref()).await,
            Change::Remove(id) => api::remove_method(id, csrf.as_deref()).await,
        };
        match result {
            Ok(updated) => {
                done.set(Some(match &change {
                    Change::MakeDefault(_) => "Default payment method changed.".to_owned(),
                    Change::Remove(_) => "Payment method removed.".to_owned(),
                }));
                view.set(updated);
                auth.refresh();
            }
            Err(e) => reauth.handle(&e, errors, move || {
                this.dispatch_local(change);
            }),
        }
    });
    let start = move |c: Change| {
        errors.clear();
        done.set(None);
        change.dispatch_local(c);
    };

    view! {
        <section class="panel" aria-labelledby="methods-heading">
            <h2 id="methods-heading">"Your payment methods"</h2>
            <FormAlert errors />
            <p class="status" role="status">{move || done.get()}</p>
            {move || {
                let methods = view.with(|v| v.methods.clone());
                if methods.is_empty() {
                    return view! { <p class="muted">"No payment method yet."</p> }.into_any();
                }
                view! {
                    <ul class="method-list">
                        {methods
                            .into_iter()
                            .map(|method| {
                                let label_id = unique_id("method");
                                let id_default = method.id.clone();
                                let for_remove = method.clone();
                                let pending = change.pending();
                                let details = details(&method);
                                view! {
                                    <li class="method">
                                        <div class="method-main">
                                            <span class="method-label" id=label_id.clone()>
                                                {method.label.clone()}
                                            </span>
                                            {method.is_default.then(|| view! { <span class="badge badge-success">"Default"</span> })}
                                            <p class="muted">{details}</p>
                                        </div>
                                        <div class="actions">
                                            {(!method.is_default).then(|| {
                                                let described = label_id.clone();
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="button"
                                                        aria-describedby=described
                                                        disabled=move || pending.get()
                                                        on:click=move |_| start(Change::MakeDefault(id_default.clone()))
                                                    >
                                                        "Set as default"
                                                    </button>
                                                }
                                            })}
                                            <button
                                                type="button"
                                                class="button"
                                                aria-describedby=label_id
                                                disabled=move || pending.get()
                                                on:click=move |_| confirm_remove.set(Some(for_remove.clone()))
                                            >
                                                "Remove"
                                            </button>
                                        </div>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
        <Modal
            open=Signal::derive(move || confirm_remove.with(Option::is_some))
            on_close=move |_| confirm_remove.set(None)
            title=Signal::derive(move || {
                confirm_remove.with(|m| m.as_ref().map(|m| format!("Remove {}?", m.label)).unwrap_or_default())
            })
        >
            <p>
                "You can add it again later. If it is your default, another method becomes the default. "
                "The last method cannot be removed while pay-as-you-go resources are running."
            </p>
            <div class="actions">
                <button
                    type="button"
                    class="button button-danger"
                    on:click=move |_| {
                        if let Some(method) = confirm_remove.get_untracked() {
                            confirm_remove.set(None);
                            start(Change::Remove(method.id));
                        }
                    }
                >
                    "Remove"
                </button>
                <button type="button" class="button" on:click=move |_| confirm_remove.set(None)>
                    "Cancel"
                </button>
            </div>
        </Modal>
    }
}

fn details(method: &PaymentMethodView) -> String {
    let mut parts = Vec::new();
    if let Some(expiry) = &method.expiry {
        parts.push(format!("Expires {expiry}"));
    }
    if let Some(holder) = &method.holder_name {
        parts.push(holder.clone());
    }
    parts.push(format!("Added {}", long_date(&method.created_at)));
    parts.join(" · ")
}
