//! `/me`: the account in brief, where to manage it, the session, and signing out (the phone's
//! "Me" tab, from which every page the bottom tabs leave out is reached).

use crate::app::use_auth;
use crate::components::{AccountSummary, SignOutButton, date::date_time, set_title};
use crate::pages::home::AccountStatus;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::RealNameStatus;

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
                    <ul class="app-rows">
                        {owner.then(|| view! {
                            <AppRow href="/me/account-management" label="Account management" />
                            <AppRow href="/billing" label="Billing address" />
                            <AppRow href="/real-name" label="Real-name registration" />
                            <AppRow href="/payment-methods" label="Payment methods" />
                            <AppRow href="/spending" label="Spend history" />
                        })}
                        <AppRow href="/unsubscribe" label="Orders & unsubscribe" />
                        {owner.then(|| view! {
                            <AppRow href="/ram-users" label="RAM users" />
                            <AppRow href="/security" label="Security & closure" />
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

/// One row of an app list: the whole row is the link, with a chevron.
#[component]
fn AppRow(
    href: &'static str,
    label: &'static str,
    /// A destructive destination (Close Account): red, and said so.
    #[prop(optional)]
    danger: bool,
) -> impl IntoView {
    view! {
        <li>
            <A href=href attr:class=if danger { "app-row app-row-danger" } else { "app-row" }>
                <span>{label}</span>
                <span class="app-row-chevron" aria-hidden="true">"›"</span>
            </A>
        </li>
    }
}

/// `/me/account-management`: the app's Account Management screen (seed 001: Me → Account
/// Management → Close Account): who the account is, where its settings are, and Close
/// Account apart at the end, in red.
#[component]
pub fn AccountManagementPage() -> impl IntoView {
    set_title("Account management");
    let auth = use_auth();
    move || {
        auth.session().map(|session| {
            if session.ram_user.is_some() {
                return view! {
                    <h1>"Account management"</h1>
                    <section class="panel">
                        <p>"Only the account owner manages the account. RAM users cannot close it."</p>
                    </section>
                }
                .into_any();
            }
            let account = session.account.clone();
            let real_name = match account.real_name {
                RealNameStatus::Verified => "Verified",
                RealNameStatus::NotRegistered => "Not registered",
            };
            view! {
                <h1>"Account management"</h1>
                <section class="panel" aria-labelledby="identity-heading">
                    <h2 id="identity-heading">"Account"</h2>
                    <dl class="facts">
                        <div>
                            <dt>"Account ID"</dt>
                            <dd class="mono">{account.id.clone()}</dd>
                        </div>
                        <div>
                            <dt>"Email"</dt>
                            <dd>{account.email.clone()}</dd>
                        </div>
                        <div>
                            <dt>"Mobile number"</dt>
                            <dd>{account.phone.clone().unwrap_or_else(|| "None".to_owned())}</dd>
                        </div>
                        <div>
                            <dt>"Real-name registration"</dt>
                            <dd>{real_name}</dd>
                        </div>
                    </dl>
                </section>
                <nav class="panel" aria-labelledby="settings-heading">
                    <h2 id="settings-heading">"Settings"</h2>
                    <ul class="app-rows">
                        <AppRow href="/billing" label="Billing address" />
                        <AppRow href="/real-name" label="Real-name registration" />
                        <AppRow href="/security" label="Security & closure" />
                    </ul>
                </nav>
                <nav class="panel" aria-labelledby="close-heading">
                    <h2 id="close-heading">"Close the account"</h2>
                    <p class="muted">"Irreversible: after the cool-down, everything in the account is deleted."</p>
                    <ul class="app-rows">
                        <AppRow href="/me/close-account" label="Close account" danger=true />
                    </ul>
                </nav>
            }
            .into_any()
        })
    }
}
