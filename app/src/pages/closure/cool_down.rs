//! The cool-down (SPEC §6.3): the page after Confirm Deletion, and the only screen a closing
//! account sees after signing in — the remaining time, that it cannot be revoked, the
//! service-linked role, and Sign Out. No navigation: the server refuses everything else.

use crate::api::{self, ApiError};
use crate::components::date::date_time;
use crate::components::{AuthFrame, SignOutButton, set_title};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::ErrorCode;
use shared::api::{ClosureState, ClosureStatus};
use std::time::Duration;

/// `/closure/started`: shown once, signed out, right after Confirm Deletion.
#[component]
pub fn ClosureStartedPage() -> impl IntoView {
    set_title("Account closure started");
    let ends_at = use_query_map().with_untracked(|q| q.get("ends_at"));
    let ends = ends_at.as_deref().map(date_time);
    view! {
        <AuthFrame title="Account closure started">
            <p class="status" role="status">"You have been signed out on every device."</p>
            {ends.map(|ends| view! {
                <p>
                    "The cool-down ends on "
                    <time datetime=ends_at.clone().unwrap_or_default()>{ends}</time>
                    " (your local time). Then the account and all its data are deleted."
                </p>
            })}
            <p>
                "The closure cannot be revoked. Until it ends you can sign in only to see the remaining time."
            </p>
            <p>
                <A href="/signin">"Sign in"</A>
            </p>
        </AuthFrame>
    }
}

/// What a signed-in account in its cool-down sees, at every address.
#[component]
pub fn CoolDownScreen() -> impl IntoView {
    set_title("Account closing");
    let status = LocalResource::new(api::closure_status);
    // Minutes are the finest unit shown: asking once a minute keeps them current.
    if let Ok(timer) = set_interval_with_handle(move || status.refetch(), Duration::from_secs(60)) {
        on_cleanup(move || timer.clear());
    }
    view! {
        <AuthFrame title="Your account is being closed">
            <Transition fallback=|| view! { <p class="page-loading" role="status">"Loading the remaining time…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(status) => view! { <CoolDownFacts status /> }.into_any(),
                        Err(e) => view! { <Ended error=e /> }.into_any(),
                    }
                })}
            </Transition>
            <div class="actions">
                <SignOutButton />
            </div>
        </AuthFrame>
    }
}

#[component]
fn CoolDownFacts(status: ClosureStatus) -> impl IntoView {
    if status.state == ClosureState::Open {
        return view! {
            <p>"Your account is no longer closing."</p>
            <p><a href="/">"Go to the console"</a></p>
        }
        .into_any();
    }
    let remaining = status.remaining_seconds.unwrap_or(0);
    let ends_at = status.ends_at.clone().unwrap_or_default();
    let ends_local = date_time(&ends_at);
    let roles = status.service_linked_roles.join(", ");
    view! {
        <dl class="facts cool-down">
            <div>
                <dt>"Time remaining"</dt>
                <dd class="amount-large">{remaining_words(remaining)}</dd>
            </div>
            <div>
                <dt>"The account is closed on"</dt>
                <dd>
                    <time datetime=ends_at>{ends_local}</time>
                    <span class="muted">" (your local time)"</span>
                </dd>
            </div>
            <div>
                <dt>"Service-linked role"</dt>
                <dd class="mono">{roles}</dd>
            </div>
        </dl>
        <p class="notice">
            <strong>"The closure cannot be revoked or shortened."</strong>
            " During the cool-down you can only see this page. Pay-as-you-go usage from before keeps being billed; if new overdue payments appear, the closure fails and the account is restored. "
            "The service-linked role cleans up the account's resources and is deleted with it: nothing to do."
        </p>
        <p class="muted">"You will be told the result by email and SMS."</p>
    }
    .into_any()
}

/// The status could not be read: usually the cool-down has ended and the account is gone.
#[component]
fn Ended(error: ApiError) -> impl IntoView {
    let message = if error.code() == ErrorCode::Unauthenticated {
        "Your session has ended. If the cool-down is over, the account has been closed.".to_owned()
    } else {
        error.to_string()
    };
    view! {
        <p class="form-alert" role="alert">{message}</p>
        <p><A href="/signin">"Sign in"</A></p>
    }
}

/// `605_000` → `7 days 0 hours 3 minutes`: days, hours and minutes, as the seed's screen.
pub fn remaining_words(seconds: i64) -> String {
    if seconds <= 0 {
        return "The cool-down has ended; the result is being decided.".to_owned();
    }
    if seconds < 60 {
        return "Less than a minute".to_owned();
    }
    let unit = |n: i64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let days = seconds / 86_400;
    let hours = seconds % 86_400 / 3_600;
    let minutes = seconds % 3_600 / 60;
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(unit(days, "day"));
    }
    if days > 0 || hours > 0 {
        parts.push(unit(hours, "hour"));
    }
    parts.push(unit(minutes, "minute"));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::remaining_words;

    #[test]
    fn remaining_time_reads_in_days_hours_and_minutes() {
        assert_eq!(remaining_words(7 * 86_400), "7 days 0 hours 0 minutes");
        assert_eq!(
            remaining_words(6 * 86_400 + 23 * 3_600 + 59 * 60 + 30),
            "6 days 23 hours 59 minutes"
        );
        assert_eq!(
            remaining_words(86_400 + 3_600 + 60),
            "1 day 1 hour 1 minute"
        );
        assert_eq!(remaining_words(2 * 3_600 + 5 * 60), "2 hours 5 minutes");
        assert_eq!(remaining_words(59 * 60), "59 minutes");
        assert_eq!(remaining_words(30), "Less than a minute");
        assert!(remaining_words(0).contains("ended"));
    }
}
