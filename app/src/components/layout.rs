//! Page frames: the signed-out card (sign-up, sign-in) and the console shell (top bar, left
//! navigation on desktop, bottom tabs on a phone).

use super::{ReauthProvider, SignOutButton};
use crate::app::use_auth;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

pub fn set_title(page: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(&format!("{page} · Account Center"));
    }
}

#[component]
fn Brand() -> impl IntoView {
    view! {
        <a class="brand" href="/">
            <svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <rect x="2" y="2" width="20" height="20" rx="5" />
                <path d="M7 15.5 12 7l5 8.5" />
            </svg>
            <span>"Account Center"</span>
        </a>
    }
}

/// A centred card for pages used before there is a session.
#[component]
pub fn AuthFrame(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="auth-frame">
            <header class="auth-header">
                <Brand />
            </header>
            <main class="auth-main" id="main">
                <section class="card" aria-labelledby="page-title">
                    <h1 id="page-title">{title}</h1>
                    {children()}
                </section>
            </main>
        </div>
    }
}

/// The signed-in console. Owner-only pages (billing address, payment methods, RAM users) are
/// not linked for a RAM user: the server would refuse them anyway.
#[component]
pub fn Shell() -> impl IntoView {
    let auth = use_auth();
    let who = move || match auth.ram_user() {
        Some(user) => format!("{} (RAM user)", user.username),
        None => auth.account().map(|a| a.email).unwrap_or_default(),
    };
    let owner = move || auth.is_owner();
    view! {
        <div class="shell">
            <header class="topbar">
                <Brand />
                <div class="account-menu">
                    <span class="account-email">{who}</span>
                    <SignOutButton />
                </div>
            </header>
            <nav class="sidenav" aria-label="Console">
                <A href="/" exact=true>"Overview"</A>
                <Show when=owner>
                    <A href="/billing">"Billing"</A>
                    <A href="/payment-methods">"Payment Methods"</A>
                </Show>
                <A href="/products" exact=true>"Products"</A>
                <A href="/unsubscribe">"Orders & Unsubscribe"</A>
                <Show when=owner>
                    <A href="/ram-users" exact=true>"RAM Users"</A>
                </Show>
                <Show when=owner>
                    <A href="/security">"Security & Closure"</A>
                </Show>
                <A href="/me" exact=true>"My account"</A>
            </nav>
            <main class="content" id="main">
                <ReauthProvider>
                    <Outlet />
                </ReauthProvider>
            </main>
            <nav class="tabbar" aria-label="Tabs">
                <A href="/" exact=true>
                    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <path d="M3 11 12 4l9 7v9h-6v-6H9v6H3z" />
                    </svg>
                    <span>"Home"</span>
                </A>
                <A href="/products" exact=true>
                    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <path d="M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z" />
                    </svg>
                    <span>"Products"</span>
                </A>
                <A href="/me" exact=true>
                    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <circle cx="12" cy="8" r="4" />
                        <path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7z" />
                    </svg>
                    <span>"Me"</span>
                </A>
            </nav>
        </div>
    }
}
