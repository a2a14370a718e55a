//! Page frames: the signed-out card (sign-up, sign-in) and the console shell (top bar, left
//! navigation on desktop, bottom tabs on a phone).

use super::{ReauthProvider, SignOutButton};
use crate::app::use_auth;
use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_location;

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
                <NavLink href="/" section=Section::Overview>"Overview"</NavLink>
                <Show when=owner>
                    <NavLink href="/billing" section=Section::Billing>"Billing"</NavLink>
                    <NavLink href="/spending" section=Section::Spending>"Spend history"</NavLink>
                    <NavLink href="/payment-methods" section=Section::Payment>"Payment methods"</NavLink>
                </Show>
                <NavLink href="/products" section=Section::Products>"Products"</NavLink>
                <NavLink href="/unsubscribe" section=Section::Orders>"Orders & unsubscribe"</NavLink>
                <Show when=owner>
                    <NavLink href="/ram-users" section=Section::Ram>"RAM users"</NavLink>
                    <NavLink href="/security" section=Section::Security>"Security & closure"</NavLink>
                </Show>
                <NavLink href="/me" section=Section::Me>"My account"</NavLink>
            </nav>
            <main class="content" id="main">
                <ReauthProvider>
                    <Outlet />
                </ReauthProvider>
            </main>
            <nav class="tabbar" aria-label="Tabs">
                <NavLink href="/" section=Section::Overview phone=true>
                    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <path d="M3 11 12 4l9 7v9h-6v-6H9v6H3z" />
                    </svg>
                    <span>"Home"</span>
                </NavLink>
                <NavLink href="/products" section=Section::Products phone=true>
                    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <path d="M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z" />
                    </svg>
                    <span>"Products"</span>
                </NavLink>
                <NavLink href="/me" section=Section::Me phone=true>
                    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <circle cx="12" cy="8" r="4" />
                        <path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7z" />
                    </svg>
                    <span>"Me"</span>
                </NavLink>
            </nav>
        </div>
    }
}

/// The console's sections: a sub-page highlights the section it belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Section {
    Overview,
    Billing,
    Spending,
    Payment,
    Products,
    Orders,
    Ram,
    Security,
    Me,
}

/// The section a path belongs to in the left navigation.
pub fn section_of(path: &str) -> Option<Section> {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    Some(match first {
        "" => Section::Overview,
        "billing" | "real-name" => Section::Billing,
        "spending" => Section::Spending,
        "payment-methods" => Section::Payment,
        "products" => Section::Products,
        "unsubscribe" => Section::Orders,
        "ram-users" => Section::Ram,
        "security" | "closure" | "operation-log" => Section::Security,
        "me" => Section::Me,
        _ => return None,
    })
}

/// The section a path belongs to in the phone's three tabs: everything but the overview and
/// the products lives under Me.
pub fn tab_of(path: &str) -> Option<Section> {
    match section_of(path)? {
        s @ (Section::Overview | Section::Products) => Some(s),
        _ => Some(Section::Me),
    }
}

/// A navigation link marked `aria-current="page"` on every page of its section.
#[component]
fn NavLink(
    href: &'static str,
    section: Section,
    #[prop(optional)] phone: bool,
    children: Children,
) -> impl IntoView {
    let location = use_location();
    let current = move || {
        let path = location.pathname.get();
        let here = if phone {
            tab_of(&path)
        } else {
            section_of(&path)
        };
        (here == Some(section)).then_some("page")
    };
    view! { <a href=href aria-current=current>{children()}</a> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_pages_highlight_their_section() {
        assert_eq!(section_of("/"), Some(Section::Overview));
        assert_eq!(section_of("/closure/resolve"), Some(Section::Security));
        assert_eq!(section_of("/closure"), Some(Section::Security));
        assert_eq!(section_of("/real-name"), Some(Section::Billing));
        assert_eq!(section_of("/billing/withdraw"), Some(Section::Billing));
        assert_eq!(section_of("/unsubscribe/records/7"), Some(Section::Orders));
        assert_eq!(
            section_of("/payment-methods/paypal/return"),
            Some(Section::Payment)
        );
        assert_eq!(section_of("/me/close-account"), Some(Section::Me));
        assert_eq!(section_of("/nowhere"), None);
        assert_eq!(tab_of("/billing"), Some(Section::Me));
        assert_eq!(tab_of("/products"), Some(Section::Products));
        assert_eq!(tab_of("/"), Some(Section::Overview));
    }
}
