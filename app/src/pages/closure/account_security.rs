//! The security half of `/security` (SPEC §1 "Account security"): changing the password,
//! two-step verification, and the account's signed-in sessions with sign-out of one or all
//! others.

use crate::api::{self, ApiError};
use crate::app::use_auth;
use crate::components::date::date_time;
use crate::components::{
    FormAlert, FormErrors, NewPasswordFields, SubmitButton, TextField, load_failed,
    retryable_action, use_reauth,
};
use leptos::prelude::*;
use shared::account::Email;
use shared::api::{
    ChangePasswordForm, SessionEntry, TwoStepCodeForm, TwoStepDisableForm, TwoStepSetup,
    TwoStepStatus,
};

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
                <NewPasswordFields errors password confirmation new=true />
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

/// Two-step verification: off (turn on), being set up (QR code, key, first code), just turned
/// on (the recovery codes, once), or on (turn off).
#[component]
pub fn TwoStepPanel() -> impl IntoView {
    let status = LocalResource::new(api::two_step_status);
    let setup = RwSignal::new(None::<TwoStepSetup>);
    let codes = RwSignal::new(None::<Vec<String>>);
    let done = Callback::new(move |()| {
        codes.set(None);
        setup.set(None);
        status.refetch();
    });
    view! {
        <section class="panel" aria-labelledby="two-step-heading">
            <h2 id="two-step-heading">"Two-step verification"</h2>
            <p class="muted">
                "Signing in asks for a code from an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password and the like) after your password."
            </p>
            {move || {
                if let Some(list) = codes.get() {
                    view! { <RecoveryCodes list done /> }.into_any()
                } else if let Some(started) = setup.get() {
                    view! { <TwoStepSetupForm started codes /> }.into_any()
                } else {
                    view! {
                        <Transition fallback=|| view! { <p role="status">"Loading…"</p> }>
                            <ErrorBoundary fallback=load_failed>
                                {move || Suspend::new(async move {
                                    status
                                        .await
                                        .map(|now| {
                                            if now.enabled {
                                                view! { <TwoStepOn now done /> }.into_any()
                                            } else {
                                                view! { <TurnOn setup /> }.into_any()
                                            }
                                        })
                                })}
                            </ErrorBoundary>
                        </Transition>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn TurnOn(setup: RwSignal<Option<TwoStepSetup>>) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("two-step-on", &[]);
    let start = retryable_action(move |(): (), this| async move {
        match api::two_step_setup(auth.csrf().as_deref()).await {
            Ok(started) => setup.set(Some(started)),
            Err(e) => reauth.handle(&e, errors, move || {
                this.dispatch_local(());
            }),
        }
    });
    view! {
        <p>"Two-step verification is " <strong>"off"</strong> "."</p>
        <form on:submit=move |ev| {
            ev.prevent_default();
            errors.clear();
            start.dispatch_local(());
        }>
            <FormAlert errors />
            <SubmitButton label="Turn on two-step verification" pending=start.pending() primary=false />
        </form>
    }
}

#[component]
fn TwoStepSetupForm(started: TwoStepSetup, codes: RwSignal<Option<Vec<String>>>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("two-step-setup", &["code"]);
    let code = RwSignal::new(String::new());
    let enable = Action::new_local(move |form: &TwoStepCodeForm| {
        let form = form.clone();
        async move {
            match api::two_step_enable(&form, auth.csrf().as_deref()).await {
                Ok(enabled) => codes.set(Some(enabled.recovery_codes)),
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = TwoStepCodeForm {
            code: code.get_untracked(),
        };
        if errors.passes(form.parse()) {
            enable.dispatch_local(form);
        }
    };
    view! {
        <ol class="setup-steps">
            <li>"Scan this QR code with your authenticator app."</li>
        </ol>
        // The server draws the code as SVG from the set-up's own address.
        <div class="qr-code" role="img" aria-label="QR code for your authenticator app" inner_html=started.qr_svg></div>
        <p>
            "Cannot scan it? Enter this key in the app instead: "
            <code class="setup-key" data-testid="two-step-secret">{started.secret}</code>
        </p>
        <ol class="setup-steps" start="2">
            <li>"Enter the 6-digit code the app now shows."</li>
        </ol>
        <form class="narrow-form" on:submit=on_submit novalidate>
            <FormAlert errors />
            <TextField
                errors
                name="code"
                label="Code from the app"
                value=code
                inputmode="numeric"
                autocomplete="one-time-code"
            />
            <SubmitButton label="Turn on" pending=enable.pending() />
        </form>
    }
}

#[component]
fn RecoveryCodes(list: Vec<String>, done: Callback<()>) -> impl IntoView {
    view! {
        <div class="banner" role="status">
            <strong>"Two-step verification is on"</strong>
            <p>"Save these recovery codes somewhere safe. Each signs you in once if you lose your device. They are shown only now."</p>
        </div>
        <ol class="recovery-codes" aria-label="Recovery codes">
            {list.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
        </ol>
        <button type="button" class="button button-primary" on:click=move |_| done.run(())>
            "I have saved them"
        </button>
    }
}

#[component]
fn TwoStepOn(now: TwoStepStatus, done: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("two-step-off", &["password", "code"]);
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let off = Action::new_local(move |form: &TwoStepDisableForm| {
        let form = form.clone();
        async move {
            match api::two_step_disable(&form, auth.csrf().as_deref()).await {
                Ok(()) => done.run(()),
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = TwoStepDisableForm {
            password: password.get_untracked(),
            code: code.get_untracked(),
        };
        if errors.passes(form.parse()) {
            off.dispatch_local(form);
        }
    };
    let since = now.enabled_at.as_deref().map(date_time).unwrap_or_default();
    view! {
        <p>
            "Two-step verification is " <strong>"on"</strong> {format!(" since {since}. ")}
            {match now.recovery_codes_left {
                1 => "1 recovery code left.".to_owned(),
                n => format!("{n} recovery codes left."),
            }}
        </p>
        <details class="turn-off">
            <summary>"Turn off two-step verification"</summary>
            <form class="narrow-form" on:submit=on_submit novalidate>
                <FormAlert errors />
                <TextField
                    errors
                    name="password"
                    label="Password"
                    value=password
                    input_type="password"
                    autocomplete="current-password"
                />
                <TextField
                    errors
                    name="code"
                    label="Code from the app, or a recovery code"
                    value=code
                    autocomplete="one-time-code"
                />
                <SubmitButton label="Turn off" pending=off.pending() primary=false />
            </form>
        </details>
    }
}
