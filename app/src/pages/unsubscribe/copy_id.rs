//! An instance ID on one line with a button that copies it, as consoles offer beside IDs.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `navigator.clipboard.writeText`: absent outside a secure context, hence `catch`.
    #[wasm_bindgen(catch, js_namespace = ["navigator", "clipboard"], js_name = writeText)]
    fn write_text(text: &str) -> Result<JsValue, JsValue>;
}

#[component]
pub fn InstanceId(id: String) -> impl IntoView {
    // What the last click did, announced: "Copied" or how to copy by hand.
    let said = RwSignal::new("");
    let text = id.clone();
    let copy = move |_| {
        said.set(match write_text(&text) {
            Ok(_) => "Copied",
            Err(_) => "Select the ID to copy it",
        });
        let said = said;
        gloo_timers::callback::Timeout::new(2_000, move || {
            let _ = said.try_set("");
        })
        .forget();
    };
    view! {
        <span class="instance-id">
            <span class="mono">{id.clone()}</span>
            <button type="button" class="copy-button" aria-label=format!("Copy {id}") on:click=copy>
                <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
                    <rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.5" />
                    <path d="M11 3.5V3a1 1 0 0 0-1-1H3a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h.5" fill="none" stroke="currentColor" stroke-width="1.5" />
                </svg>
            </button>
            <span class="copy-said" role="status">{move || said.get()}</span>
        </span>
    }
}
