//! `/me`: the account in brief, the session, and signing out (the phone's "Me" tab).

use crate::app::use_auth;
use crate::components::{AccountSummary, SignOutButton, date::date_time, set_title};
use leptos::prelude::*;

#[component]
pub fn MePage() -> impl IntoView {
    set_title("My account");
    let auth = use_auth();
    move || {
        auth.session().map(|session| {
            view! {
                <h1>"My account"</h1>
                <section class="panel" aria-labelledby="summary-heading">
                    <h2 id="summary-heading">"Account summary"</h2>
                    <AccountSummary account=session.account.clone() />
                    <dl class="facts">
                        <div>
                            <dt>"Account ID"</dt>
                            <dd class="mono">{session.account.id.clone()}</dd>
                        </div>
                    </dl>
                </section>
                <section class="panel" aria-labelledby="session-heading">
                    <h2 id="session-heading">"This session"</h2>
                    <p class="muted">
                        "Signed in until "
                        <time datetime=session.expires_at.clone()>{date_time(&session.expires_at)}</time>
                        ". Signing out ends the session on the server too."
                    </p>
                    <SignOutButton />
                </section>
            }
        })
    }
}
