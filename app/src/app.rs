//! Routes, and who is signed in.

use crate::api::{self, ApiError};
use crate::components::{AuthFrame, set_title};
use crate::flows::MeAccountManagement;
use crate::flows::{
    AppCloseAccount, Billing, Closure, ClosureResolve, ClosureStarted, ForgotPassword, Me,
    OperationLog, Overview, PaymentMethods, PaypalReturn, Products, RamSignIn, RamUsers, RealName,
    Security, Signup, SignupVerify, Spending, TwoStepSignIn, Unsubscribe, UnsubscribeRecord,
    UnsubscribeReview, Withdraw, console_shell, cool_down_screen,
};
use crate::pages::signin::SignInPage;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_router::components::{A, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{Lazy, path};
use shared::ErrorCode;
use shared::api::{AccountView, RamUserView, SessionInfo};

/// The latest `SessionInfo` the server gave us. Its CSRF token must accompany every
/// state-changing request, so it lives here rather than in one page.
#[derive(Clone, Copy)]
pub struct Auth(RwSignal<Option<SessionInfo>>);

impl Auth {
    pub fn account(self) -> Option<AccountView> {
        self.0.with(|s| s.as_ref().map(|s| s.account.clone()))
    }

    pub fn session(self) -> Option<SessionInfo> {
        self.0.get()
    }

    /// Read when a request is sent, not tracked: a new token must not re-run anything.
    pub fn csrf(self) -> Option<String> {
        self.0
            .with_untracked(|s| s.as_ref().map(|s| s.csrf_token.clone()))
    }

    /// Read once, e.g. to prefill a form: a later refresh must not rebuild the form.
    pub fn account_untracked(self) -> Option<AccountView> {
        self.0
            .with_untracked(|s| s.as_ref().map(|s| s.account.clone()))
    }

    /// The account owner, not a RAM user: owner-only pages and links show.
    pub fn is_owner(self) -> bool {
        self.0
            .with(|s| s.as_ref().is_some_and(|s| s.ram_user.is_none()))
    }

    pub fn ram_user(self) -> Option<RamUserView> {
        self.0.with(|s| s.as_ref().and_then(|s| s.ram_user.clone()))
    }

    /// Fetches the session again after something changed the account (next steps, credit).
    pub fn refresh(self) {
        leptos::task::spawn_local(async move {
            if let Ok(session) = api::current_session().await {
                self.signed_in(session);
            }
        });
    }

    pub fn signed_in(self, session: SessionInfo) {
        self.0.set(Some(session));
    }

    pub fn signed_out(self) {
        self.0.set(None);
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

#[component]
pub fn App() -> impl IntoView {
    provide_context(Auth(RwSignal::new(None)));
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/signup") view={Lazy::<Signup>::new()} />
                <Route path=path!("/signup/verify/:id") view={Lazy::<SignupVerify>::new()} />
                <Route path=path!("/signin") view=SignInPage />
                <Route path=path!("/signin/ram") view={Lazy::<RamSignIn>::new()} />
                <Route path=path!("/forgot-password") view={Lazy::<ForgotPassword>::new()} />
                <Route path=path!("/signin/two-step") view={Lazy::<TwoStepSignIn>::new()} />
                <Route path=path!("/closure/started") view={Lazy::<ClosureStarted>::new()} />
                <ParentRoute path=path!("") view=SignedIn>
                    <Route path=path!("") view={Lazy::<Overview>::new()} />
                    <Route path=path!("products") view={Lazy::<Products>::new()} />
                    <Route path=path!("me") view={Lazy::<Me>::new()} />
                    <Route path=path!("billing") view={Lazy::<Billing>::new()} />
                    <Route path=path!("billing/withdraw") view={Lazy::<Withdraw>::new()} />
                    <Route path=path!("real-name") view={Lazy::<RealName>::new()} />
                    <Route path=path!("payment-methods") view={Lazy::<PaymentMethods>::new()} />
                    <Route path=path!("payment-methods/paypal/return") view={Lazy::<PaypalReturn>::new()} />
                    <Route path=path!("unsubscribe") view={Lazy::<Unsubscribe>::new()} />
                    <Route path=path!("unsubscribe/review/:instance_id") view={Lazy::<UnsubscribeReview>::new()} />
                    <Route path=path!("unsubscribe/records/:id") view={Lazy::<UnsubscribeRecord>::new()} />
                    <Route path=path!("ram-users") view={Lazy::<RamUsers>::new()} />
                    <Route path=path!("security") view={Lazy::<Security>::new()} />
                    <Route path=path!("operation-log") view={Lazy::<OperationLog>::new()} />
                    <Route path=path!("closure") view={Lazy::<Closure>::new()} />
                    <Route path=path!("closure/resolve") view={Lazy::<ClosureResolve>::new()} />
                    <Route path=path!("me/close-account") view={Lazy::<AppCloseAccount>::new()} />
                    <Route path=path!("me/account-management") view={Lazy::<MeAccountManagement>::new()} />
                    // Spend history. An address no route names stays in the console, below.
                    <Route path=path!("spending") view={Lazy::<Spending>::new()} />
                    <Route path=path!("*any") view=SignedInNotFound />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The console pages: shown inside the shell once the server confirms a session, otherwise
/// the visitor is sent to sign in.
#[component]
fn SignedIn() -> impl IntoView {
    let auth = use_auth();
    // Right after sign-in the session is already known; on a fresh page load ask the server,
    // which alone can read the HttpOnly cookie.
    let session = LocalResource::new(move || async move {
        match auth.0.get_untracked() {
            Some(session) => Ok(session),
            None => {
                let session = api::current_session().await?;
                auth.signed_in(session.clone());
                Ok::<_, ApiError>(session)
            }
        }
    });
    let failed = |errors: ArcRwSignal<Errors>| {
        view! {
            <AuthFrame title="We could not load your account">
                <div class="form-alert" role="alert">
                    {move || {
                        errors.with(|e| e.iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join(" "))
                    }}
                </div>
                <p>
                    <a href="/">"Try again"</a>
                </p>
            </AuthFrame>
        }
    };
    view! {
        <Transition fallback=|| view! { <p class="page-loading" role="status">"Loading your account…"</p> }>
            <ErrorBoundary fallback=failed>
                {move || Suspend::new(async move {
                    match session.await {
                        // In the closure cool-down only the remaining time is shown (SPEC §6.3).
                        Ok(s) if s.account.closing => Ok(EitherOf3::A(cool_down_screen().await)),
                        Ok(_) => Ok(EitherOf3::B(console_shell().await)),
                        Err(e) if e.code() == ErrorCode::Unauthenticated => {
                            Ok(EitherOf3::C(view! { <Redirect path="/signin" /> }))
                        }
                        Err(e) => Err(e),
                    }
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    set_title("Page not found");
    view! {
        <AuthFrame title="Page not found">
            <p>"There is no page at this address."</p>
            <p>
                <A href="/">"Go to the overview"</A>
            </p>
        </AuthFrame>
    }
}

/// An unknown address inside the console: the shell stays, so the way back is the navigation.
#[component]
fn SignedInNotFound() -> impl IntoView {
    set_title("Page not found");
    let path = leptos_router::hooks::use_location().pathname;
    view! {
        <h1>"Page not found"</h1>
        <div class="panel">
            <p>"There is no page at " <code class="path">{move || path.get()}</code> "."</p>
            <p>
                <A href="/">"Go to the overview"</A>
            </p>
        </div>
    }
}
