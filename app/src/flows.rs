//! The flows a visit may never reach, loaded on first use (the first-load size budget).
//!
//! Each `#[lazy]` function below becomes a wasm chunk of its own when `.ci/build-app` splits
//! the module, so the first load carries only the router, sign-in and what every page needs;
//! even the console's shell and overview come in a chunk, fetched once there is a session. A flow's
//! pages share one chunk: its first page fetches the rest with it, and code that several flows
//! use goes into shared chunks fetched alongside. Every route here is `Lazy::<Route>::new()`.

use crate::components::Shell;
use crate::pages::{
    billing::{BillingPage, RealNamePage, WithdrawPage},
    closure::{
        AppCloseAccountPage, ClosurePage, ClosureStartedPage, CoolDownScreen, OperationLogPage,
        ResolvePage, SecurityPage,
    },
    forgot_password::ForgotPasswordPage,
    home::HomePage,
    me::{AccountManagementPage, MePage},
    payment::{PaymentMethodsPage, PaypalReturnPage},
    products::ProductsPage,
    ram_users::RamUsersPage,
    signin::RamSignInPage,
    signup::{SignupPage, VerifyPage},
    spending::SpendingPage,
    two_step_signin::TwoStepSignInPage,
    unsubscribe::{RecordPage, ReviewPage, UnsubscribePage},
};
use leptos::prelude::*;
use leptos_router::LazyRoute;

/// Declares the pages of one flow: an enum naming them, the lazily loaded function that
/// renders one, and a route type per page for `Lazy::<Route>::new()`.
macro_rules! flow {
    ($flow:ident, $pages:ident { $($route:ident => $page:ident),+ $(,)? }) => {
        #[derive(Clone, Copy)]
        enum $pages {
            $($route),+
        }

        #[lazy]
        fn $flow(page: $pages) -> AnyView {
            match page {
                $($pages::$route => $page().into_any()),+
            }
        }

        $(
            pub struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    $flow($pages::$route).await
                }
            }
        )+
    };
}

flow!(console_flow, ConsolePages {
    Overview => HomePage,
    ConsoleShell => Shell,
});

/// The console's frame (top bar, navigation) around the signed-in pages; it shares its chunk
/// with the overview, the page most visits open first.
pub async fn console_shell() -> AnyView {
    ConsoleShell::view(ConsoleShell).await
}

/// Fetches the console's chunk without showing anything, for `api` to start as soon as the
/// server accepts a session: the chunk then arrives beside the session reader's, not after it.
pub async fn preload_console() {
    __preload_console_flow().await;
}

flow!(signup_flow, SignupPages {
    Signup => SignupPage,
    SignupVerify => VerifyPage,
    ForgotPassword => ForgotPasswordPage,
    TwoStepSignIn => TwoStepSignInPage,
});

flow!(account_flow, AccountPages {
    Products => ProductsPage,
    Me => MePage,
    MeAccountManagement => AccountManagementPage,
    Billing => BillingPage,
    RealName => RealNamePage,
    Withdraw => WithdrawPage,
});

flow!(payment_flow, PaymentPages {
    PaymentMethods => PaymentMethodsPage,
    PaypalReturn => PaypalReturnPage,
});

flow!(unsubscribe_flow, UnsubscribePages {
    Unsubscribe => UnsubscribePage,
    UnsubscribeReview => ReviewPage,
    UnsubscribeRecord => RecordPage,
});

flow!(ram_flow, RamPages {
    RamSignIn => RamSignInPage,
    RamUsers => RamUsersPage,
});

flow!(closure_flow, ClosurePages {
    ClosureStarted => ClosureStartedPage,
    Security => SecurityPage,
    OperationLog => OperationLogPage,
    Closure => ClosurePage,
    ClosureResolve => ResolvePage,
    AppCloseAccount => AppCloseAccountPage,
});

// Spend and refund history, its chart and table in a chunk of their own.
flow!(spending_flow, SpendingPages {
    Spending => SpendingPage,
});

/// What a signed-in account in its cool-down sees instead of the console (SPEC §6.3): only
/// such an account ever needs it.
#[lazy]
pub fn cool_down_screen() -> AnyView {
    CoolDownScreen().into_any()
}
