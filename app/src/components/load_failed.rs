//! What a page shows when its data could not be loaded: the server's own words.

use leptos::prelude::*;

pub fn load_failed(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="form-alert" role="alert">
            {move || {
                errors.with(|e| e.iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join(" "))
            }}
        </div>
    }
}

#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! { <p class="page-loading" role="status">{format!("Loading {what}…")}</p> }
}
