//! `/security`: Security & Closure. The password and the signed-in sessions come first
//! ([`super::account_security`]); the "Account deletion" section runs the closure check,
//! exports the account's financial records, and starts deleting the account; a closure that
//! failed after its cool-down is explained here (seed 001, step 4).

use super::account_security::{PasswordPanel, SessionsPanel, TwoStepPanel};
use super::check_report::CheckReport;
use super::timeline::ClosureTimeline;
use crate::api::{self, ApiError};
use crate::app::use_auth;
use crate::components::{SubmitButton, load_failed, set_title};
use crate::words;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::ClosureStatus;
use wasm_bindgen::JsCast;

/// The file the export is saved as.
const EXPORT_FILE: &str = "account-center-export.json";

#[component]
pub fn SecurityPage() -> impl IntoView {
    set_title("Security & closure");
    let auth = use_auth();
    // Read once: a later session refresh must not rebuild the page and lose a check's result.
    let owner = untrack(move || auth.is_owner());
    view! {
        <h1>"Security & closure"</h1>
        {if owner {
            view! {
                <PasswordPanel />
                <TwoStepPanel />
                <SessionsPanel />
                <section class="panel" aria-labelledby="log-heading">
                    <h2 id="log-heading">"Operation log"</h2>
                    <p class="muted">"Who signed in, changed security settings or moved money, when, and from which address."</p>
                    <A href="/operation-log">"View the operation log"</A>
                </section>
                <AccountDeletion />
            }
            .into_any()
        } else {
            view! {
                <section class="panel" aria-labelledby="password-heading">
                    <h2 id="password-heading">"Password"</h2>
                    <p>"A RAM user's password is managed by the account owner: ask them if you need a new one."</p>
                </section>
                <section class="panel" aria-labelledby="deletion-heading">
                    <h2 id="deletion-heading">"Account deletion"</h2>
                    <p>"Only the account owner can close the account. RAM users cannot close it or see its closure check."</p>
                </section>
            }
            .into_any()
        }}
    }
}

#[component]
fn AccountDeletion() -> impl IntoView {
    let status = LocalResource::new(api::closure_status);
    view! {
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    status.await.map(|status| view! { <LastFailure status /> })
                })}
            </ErrorBoundary>
        </Transition>
        <section class="panel" aria-labelledby="deletion-heading">
            <h2 id="deletion-heading">"Account deletion"</h2>
            <p>
                "Closing the account is irreversible: after a cool-down of several days, all its data, resources and assets are deleted. "
                "Prepare first: settle bills, back up what you need, release resources and remove ties to other accounts."
            </p>
            <ClosureCheckPanel />
            <ExportPanel />
            <div class="deletion-start">
                <h3>"Start deleting account"</h3>
                <ClosureTimeline />
                <p class="muted">
                    "Verify your identity, accept the Account Closure Agreement, and let the system check the account. Nothing is deleted until you confirm."
                </p>
                <A href="/closure" attr:class="button button-danger">"Start deleting account"</A>
            </div>
        </section>
    }
}

/// Why the last closure failed, once the account is restored.
#[component]
fn LastFailure(status: ClosureStatus) -> impl IntoView {
    status.last_failure.map(|failure| {
        view! {
            <section class="notice notice-error" aria-labelledby="failure-heading">
                <h2 id="failure-heading">"Your account closure failed"</h2>
                <p>{words::closure_failure(&failure)}</p>
                <p>
                    <A href="/closure/resolve#bills">"Pay the overdue bills"</A>
                    ", then start deleting the account again."
                </p>
            </section>
        }
    })
}

#[component]
fn ClosureCheckPanel() -> impl IntoView {
    let run = Action::new_local(|_: &()| api::closure_check());
    let value = run.value();
    let ran = move || value.with(Option::is_some);
    view! {
        <div class="deletion-check">
            <h3>"Closure check"</h3>
            <p class="muted">
                "Lists what must be processed before the account can be closed, and what would be renounced with it. Run it any time."
            </p>
            <form on:submit=move |ev| {
                ev.prevent_default();
                run.dispatch_local(());
            }>
                <SubmitButton
                    label=Signal::derive(move || if ran() { "Re-check" } else { "Check" }.to_owned())
                    pending=run.pending()
                    primary=false
                />
            </form>
            <div class="check-report" aria-live="polite">
                {move || {
                    value
                        .get()
                        .map(|result: Result<_, ApiError>| match result {
                            Ok(check) => view! { <CheckReport check /> }.into_any(),
                            Err(e) => view! { <p class="form-alert" role="alert">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </div>
        </div>
    }
}

#[component]
fn ExportPanel() -> impl IntoView {
    let done = RwSignal::new(None::<Result<(), String>>);
    let export = Action::new_local(move |_: &()| async move {
        let result = match api::closure_export().await {
            Ok(text) => save_file(EXPORT_FILE, &text).map_err(|_| {
                "Your browser did not save the file. Try again, or allow downloads for this site."
                    .to_owned()
            }),
            Err(e) => Err(e.to_string()),
        };
        done.set(Some(result));
    });
    view! {
        <div class="deletion-export">
            <h3>"Export my data"</h3>
            <p class="muted">
                "One file (JSON) with your bills, orders, refunds and invoices, the account's ledger and its billing address, for your records. "
                "They cannot be recovered after the account is closed."
            </p>
            <form on:submit=move |ev| {
                ev.prevent_default();
                done.set(None);
                export.dispatch_local(());
            }>
                <SubmitButton label="Export my data" pending=export.pending() primary=false />
            </form>
            <p class="status" role="status">
                {move || match done.get() {
                    Some(Ok(())) => Some(format!("Downloaded {EXPORT_FILE}: bills, orders, refunds and invoices.")),
                    _ => None,
                }}
            </p>
            {move || match done.get() {
                Some(Err(message)) => Some(view! { <p class="form-alert" role="alert">{message}</p> }),
                _ => None,
            }}
        </div>
    }
}

/// Hands `text` to the browser as a download. A `data:` address keeps this to what the app
/// already links in (no Blob or object-URL bindings); exports are small JSON documents.
fn save_file(name: &str, text: &str) -> Result<(), ()> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or(())?;
    let link = document.create_element("a").map_err(|_| ())?;
    let encoded = String::from(web_sys::js_sys::encode_uri_component(text));
    link.set_attribute(
        "href",
        &format!("data:application/json;charset=utf-8,{encoded}"),
    )
    .map_err(|_| ())?;
    link.set_attribute("download", name).map_err(|_| ())?;
    link.dyn_into::<web_sys::HtmlElement>()
        .map_err(|_| ())?
        .click();
    Ok(())
}
