//! Ends the session on the server, then forgets it here.

use crate::api;
use crate::app::use_auth;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use shared::ErrorCode;

#[component]
pub fn SignOutButton() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let (problem, set_problem) = signal(None::<String>);
    let sign_out = Action::new_local(move |_: &()| {
        let navigate = navigate.clone();
        async move {
            let csrf = auth.csrf();
            match api::sign_out(csrf.as_deref()).await {
                // Already gone on the server (expired, or signed out in another tab): same end.
                Err(e) if e.code() != ErrorCode::Unauthenticated => {
                    set_problem.set(Some(e.to_string()))
                }
                _ => {
                    auth.signed_out();
                    navigate("/signin", NavigateOptions::default());
                }
            }
        }
    });
    let pending = sign_out.pending();
    view! {
        <span class="sign-out">
            <button
                type="button"
                class="button"
                disabled=move || pending.get()
                aria-busy=move || pending.get().then_some("true")
                on:click=move |_| {
                    set_problem.set(None);
                    sign_out.dispatch_local(());
                }
            >
                <Show when=move || pending.get()>
                    <span class="spinner" aria-hidden="true"></span>
                </Show>
                <span>"Sign Out"</span>
            </button>
            {move || problem.get().map(|p| view! { <span class="form-alert" role="alert">{p}</span> })}
        </span>
    }
}
