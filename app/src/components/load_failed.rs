//! What a page shows when its data could not be loaded: the server's own words, or, for a
//! record that does not exist, what was missing and where to look instead.

use crate::api::ApiError;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::ErrorCode;

pub fn load_failed(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let not_found = errors.with_untracked(|e| {
        e.iter().any(|(_, e)| {
            e.downcast_ref::<ApiError>()
                .is_some_and(|e| e.code() == ErrorCode::NotFound)
        })
    });
    if not_found {
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        let (message, back, back_label) = missing(&path);
        return view! {
            <div class="form-alert" role="alert">
                <p>{message}</p>
                <p><A href=back>{back_label}</A></p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="form-alert" role="alert">
            {move || {
                errors.with(|e| e.iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join(" "))
            }}
        </div>
    }
    .into_any()
}

/// What a 404 on `path` was looking for, and where to go instead.
pub fn missing(path: &str) -> (String, &'static str, &'static str) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let decoded = |s: &str| s.replace("%20", " ");
    match parts.as_slice() {
        ["unsubscribe", "records", id] => (
            format!(
                "There is no unsubscribe record {} on this account.",
                decoded(id)
            ),
            "/unsubscribe",
            "Back to orders & unsubscribe",
        ),
        ["unsubscribe", "review", id] => (
            format!(
                "There is no instance {} on this account that can be unsubscribed.",
                decoded(id)
            ),
            "/unsubscribe",
            "Back to orders & unsubscribe",
        ),
        _ => (
            "What this page shows does not exist, or no longer does.".to_owned(),
            "/",
            "Go to the overview",
        ),
    }
}

#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! { <p class="page-loading" role="status">{format!("Loading {what}…")}</p> }
}

#[cfg(test)]
mod tests {
    use super::missing;

    #[test]
    fn a_missing_record_is_named() {
        assert_eq!(
            missing("/unsubscribe/records/999").0,
            "There is no unsubscribe record 999 on this account."
        );
        assert!(
            missing("/unsubscribe/review/unknown")
                .0
                .contains("instance unknown")
        );
        assert_eq!(missing("/elsewhere").1, "/");
    }
}
