//! The security half of `/security` (SPEC §1 "Account security"): changing the password, and
//! the account's signed-in sessions with sign-out of one or all others.

use crate::api::{self, ApiError};
use crate::app::use_auth;
use crate::components::date::date_time;
use crate::components::{FormAlert, FormErrors, SubmitButton, TextField, load_failed};
use leptos::prelude::*;
use shared::account::Email;
use shared::api::{ChangePasswordForm, SessionEntry};

#[component]
pub fn PasswordPanel() -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new(
        "change-password",
        &["current_password", "password", "password_confirmation"],
    );
    let current = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let email = move || {
        auth.account_untracked()
            .and_then(|a| Email::parse(&a.email).ok())
    };

    let change = Action::new_local(move |form: &ChangePasswordForm| {
        let form = form.clone();
        async move {
            match api::change_password(&form, auth.csrf().as_deref()).await {
                Ok(()) => {
                    for field in [current, password, confirmation] {
                        field.set(String::new());
                    }
                    done.set(true);
                }
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        let form = ChangePasswordForm {
            current_password: current.get_untracked(),
            password: password.get_untracked(),
            password_confirmation: confirmation.get_untracked(),
        };
        let Some(email) = email() else { return };
        if errors.passes(form.parse(&email)) {
            change.dispatch_local(form);
        }
    };

    view! {
        <section class="panel" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <p class="muted">
                "Changing it signs out your other sessions; this one stays signed in. We tell your verified email and phone."
            </p>
            <form class="narrow-form" on:submit=on_submit novalidate>
                <FormAlert errors />
                <TextField
                    errors
                    name="current_password"
                    label="Current password"
                    value=current
                    input_type="password"
                    autocomplete="current-password"
                />
                <TextField
                    errors
                    name="password"
                    label="New password"
                    value=password
                    input_type="password"
                    autocomplete="new-password"
                    help="8 to 64 characters with letters and digits. Not your email name, not a common password."
                />
                <TextField
                    errors
                    name="password_confirmation"
                    label="Confirm new password"
                    value=confirmation
                    input_type="password"
                    autocomplete="new-password"
                />
                <SubmitButton label="Change password" pending=change.pending() />
                <p class="status" role="status">
                    {move || done.get().then_some("Password changed. Your other sessions were signed out.")}
                </p>
            </form>
        </section>
    }
}

#[component]
pub fn SessionsPanel() -> impl IntoView {
    let auth = use_auth();
    let sessions = LocalResource::new(api::sessions);
    let outcome = RwSignal::new(None::<Result<String, ApiError>>);
    let sign_out_one = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move {
            let answer = api::sign_out_session(&id, auth.csrf().as_deref()).await;
            outcome.set(Some(answer.map(|()| "Signed out that session.".to_owned())));
            sessions.refetch();
        }
    });
    let sign_out_others = Action::new_local(move |_: &()| async move {
        let answer = api::sign_out_other_sessions(auth.csrf().as_deref()).await;
        outcome.set(Some(answer.map(|out| match out.signed_out {
            0 => "There were no other sessions of yours to sign out.".to_owned(),
            1 => "Signed out 1 other session.".to_owned(),
            n => format!("Signed out {n} other sessions."),
        })));
        sessions.refetch();
    });

    view! {
        <section class="panel" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Signed-in sessions"</h2>
            <p class="muted">
                "Where your account, and its RAM users, are signed in now. Sign out any session you do not recognise, then change your password."
            </p>
            <Transition fallback=|| view! { <p role="status">"Loading sessions…"</p> }>
                <ErrorBoundary fallback=load_failed>
                    {move || Suspend::new(async move {
                        sessions
                            .await
                            .map(|list| {
                                view! {
                                    <ul class="session-list">
                                        {list
                                            .sessions
                                            .into_iter()
                                            .map(|entry| view! { <SessionRow entry sign_out=sign_out_one /> })
                                            .collect_view()}
                                    </ul>
                                }
                            })
                    })}
                </ErrorBoundary>
            </Transition>
            <form on:submit=move |ev| {
                ev.prevent_default();
                outcome.set(None);
                sign_out_others.dispatch_local(());
            }>
                <SubmitButton
                    label="Sign out all other sessions"
                    pending=sign_out_others.pending()
                    primary=false
                />
            </form>
            {move || match outcome.get() {
                Some(Ok(message)) => view! { <p class="status" role="status">{message}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="form-alert" role="alert">{e.to_string()}</p> }.into_any(),
                None => view! { <p class="status" role="status"></p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn SessionRow(entry: SessionEntry, sign_out: Action<String, ()>) -> impl IntoView {
    let device = shared::device::describe(entry.user_agent.as_deref()).label();
    let id = entry.id.clone();
    let label = format!("Sign out {device}, {}", entry.ip);
    view! {
        <li class="session-row">
            <div class="session-what">
                <strong>{device}</strong>
                {entry.current.then(|| view! { <span class="badge badge-success">"This session"</span> })}
                {entry.ram_user.map(|user| view! { <span class="badge">{format!("RAM user {user}")}</span> })}
                <span class="session-meta muted">
                    {format!(
                        "{} · signed in {} · last active {}",
                        entry.ip,
                        date_time(&entry.started_at),
                        date_time(&entry.last_used_at),
                    )}
                </span>
            </div>
            {(!entry.current).then(|| {
                view! {
                    <button
                        type="button"
                        class="button button-compact"
                        aria-label=label
                        on:click=move |_| {
                            sign_out.dispatch_local(id.clone());
                        }
                    >
                        "Sign out"
                    </button>
                }
            })}
        </li>
    }
}
