//! `/me`: the account in brief, where to manage it, the session, and signing out (the phone's
//! "Me" tab, from which every page the bottom tabs leave out is reached).

use crate::app::use_auth;
use crate::components::{AccountSummary, SignOutButton, date::date_time, set_title};
use crate::pages::home::AccountStatus;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn MePage() -> impl IntoView {
    set_title("My account");
    let auth = use_auth();
    move || {
        auth.session().map(|session| {
            let owner = session.ram_user.is_none();
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
                        <div>
                            <dt>"Account alias (for RAM users)"</dt>
                            <dd class="mono">{session.account.uid.clone()}</dd>
                        </div>
                    </dl>
                </section>
                <AccountStatus account=session.account.clone() />
                <nav class="panel" aria-labelledby="manage-heading">
                    <h2 id="manage-heading">"Account management"</h2>
                    <ul class="link-list">
                        {owner.then(|| view! {
                            <li><A href="/billing">"Billing address"</A></li>
                            <li><A href="/real-name">"Real-name registration"</A></li>
                            <li><A href="/payment-methods">"Payment methods"</A></li>
                            <li><A href="/spending">"Spend history"</A></li>
                        })}
                        <li><A href="/unsubscribe">"Orders & Unsubscribe"</A></li>
                        {owner.then(|| view! { <li><A href="/ram-users">"RAM users"</A></li> })}
                        {owner.then(|| view! {
                            <li><A href="/security">"Security & Closure"</A></li>
                            <li><A href="/me/close-account">"Close Account"</A></li>
                        })}
                    </ul>
                </nav>
                <section class="panel" aria-labelledby="session-heading">
                    <h2 id="session-heading">"This session"</h2>
                    <p class="muted">
                        {session.ram_user.as_ref().map(|u| format!("Signed in as the RAM user {}. ", u.username))}
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
