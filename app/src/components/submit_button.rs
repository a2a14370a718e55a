//! The button that sends a form: disabled, with a spinner, while its request is on the way,
//! so a double click never sends twice.

use leptos::prelude::*;

#[component]
pub fn SubmitButton(
    #[prop(into)] label: Signal<String>,
    #[prop(into)] pending: Signal<bool>,
    /// Disabled for another reason than a pending request, e.g. a resend countdown.
    #[prop(optional, into)]
    disabled: Signal<bool>,
    /// Primary actions carry the accent colour; at most one per form.
    #[prop(default = true)]
    primary: bool,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class=if primary { "button button-primary" } else { "button" }
            disabled=move || pending.get() || disabled.get()
            aria-busy=move || pending.get().then_some("true")
        >
            <Show when=move || pending.get()>
                <span class="spinner" aria-hidden="true"></span>
            </Show>
            <span>{move || label.get()}</span>
        </button>
    }
}
