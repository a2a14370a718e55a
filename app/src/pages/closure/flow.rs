//! The closure itself, step by step: identity, the agreement, the system check with its
//! result, and Confirm Deletion. Two ways in (seed 001): the console's "Start deleting
//! account" (`/closure`), and the app's Me → Account Management → Close Account → Continue
//! (`/me/close-account`), whose identity page is called "Input Captcha".

use super::agreement::AgreementStep;
use super::check_result::{CheckResult, Renounced};
use super::confirm::ConfirmDeletion;
use super::identity::IdentityStep;
use super::system_check::{SystemCheck, SystemCheckProgress};
use super::timeline::ClosureTimeline;
use crate::api;
use crate::app::use_auth;
use crate::components::{Loading, Modal, form_errors::focus_element, load_failed, set_title};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::api::ClosureStatus;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Console,
    App,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    /// The app's short warning before Continue.
    Warning,
    Identity,
    Agreement,
    SystemCheck,
}

/// `/closure`: "Start deleting account" on the console.
#[component]
pub fn ClosurePage() -> impl IntoView {
    set_title("Delete account");
    view! {
        <h1>"Delete account"</h1>
        <ClosureFlow way=Way::Console />
    }
}

/// `/me/close-account`: the app's Close Account.
#[component]
pub fn AppCloseAccountPage() -> impl IntoView {
    set_title("Close account");
    view! {
        <h1>"Close account"</h1>
        <ClosureFlow way=Way::App />
    }
}

#[component]
fn ClosureFlow(way: Way) -> impl IntoView {
    let auth = use_auth();
    if !untrack(move || auth.is_owner()) {
        return view! {
            <section class="panel">
                <p>"Only the account owner can close the account. RAM users cannot close it."</p>
            </section>
        }
        .into_any();
    }
    let status = LocalResource::new(api::closure_status);
    view! {
        <Transition fallback=|| view! { <Loading what="the account's closure status" /> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    status.await.map(|status| view! { <Steps way status /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
    .into_any()
}

#[component]
fn Steps(way: Way, status: ClosureStatus) -> impl IntoView {
    let auth = use_auth();
    // Kept in a local store: the router's navigate function is neither `Send` nor `Sync`.
    let navigate = StoredValue::new_local(use_navigate());
    // A verification from the last 30 minutes still counts: no second code.
    let after_identity = |verified: bool| {
        if verified {
            Step::Agreement
        } else {
            Step::Identity
        }
    };
    let step = RwSignal::new(match way {
        Way::App => Step::Warning,
        Way::Console => after_identity(status.identity_verified),
    });
    let identity_done = RwSignal::new(status.identity_verified);
    let identity_expired = RwSignal::new(false);
    let agreement = RwSignal::new(false);
    let check = SystemCheck::new();
    let confirming = RwSignal::new(None::<(String, Renounced)>);

    let go = move |next: Step| {
        step.set(next);
        if next == Step::SystemCheck {
            check.start();
        }
        // The button that was pressed is gone with its step: start reading at the new one.
        request_animation_frame(move || focus_element(heading_of(next)));
    };
    let on_closed = Callback::new(move |status: ClosureStatus| {
        // The server ended every session of the account, this one included.
        let ends = status.ends_at.unwrap_or_default();
        auth.signed_out();
        navigate.with_value(|navigate| {
            navigate(
                &format!("/closure/started?ends_at={}", encode(&ends)),
                NavigateOptions::default(),
            )
        });
    });
    let on_identity_expired = Callback::new(move |_| {
        confirming.set(None);
        identity_done.set(false);
        identity_expired.set(true);
        step.set(Step::Identity);
    });
    let identity_heading = match way {
        Way::Console => "Verify identity",
        Way::App => "Input Captcha",
    };

    // The first step of the way in: where the timeline is read, before anything is done.
    let first = untrack(move || step.get());
    let cool_down_days = status.cool_down_days;
    view! {
        <StepList way step />
        {move || (way == Way::Console && step.get() == first).then(|| view! {
            <ClosureTimeline cool_down_days />
        })}
        {move || match step.get() {
            Step::Warning => view! {
                <Warning cool_down_days=status.cool_down_days on_continue=Callback::new(move |_| {
                    go(after_identity(identity_done.get_untracked()))
                }) />
            }
            .into_any(),
            Step::Identity => view! {
                <IdentityStep
                    heading=identity_heading
                    alipay_available=status.alipay_available
                    authenticator_available=status.authenticator_available
                    expired=identity_expired.get_untracked()
                    on_verified=Callback::new(move |_| {
                        identity_done.set(true);
                        identity_expired.set(false);
                        go(Step::Agreement);
                    })
                />
            }
            .into_any(),
            Step::Agreement => view! {
                <AgreementStep
                    cool_down_days=status.cool_down_days
                    accepted=agreement
                    on_next=Callback::new(move |_| go(Step::SystemCheck))
                />
            }
            .into_any(),
            Step::SystemCheck => view! {
                <section class="panel" aria-labelledby="system-check-heading">
                    <h2 id="system-check-heading" tabindex="-1">"System check"</h2>
                    <p class="muted">
                        "The system scans the account's finances and resources for anything that blocks closing it."
                    </p>
                    <SystemCheckProgress check />
                    {move || {
                        check.result.get().map(|(id, result)| view! {
                            <div class="check-result">
                            <CheckResult
                                check=result
                                on_recheck=Callback::new(move |_| check.start())
                                rechecking=check.running()
                                on_confirm=Callback::new(move |renounce| confirming.set(Some((id.clone(), renounce))))
                                on_identity_expired
                            />
                            </div>
                        })
                    }}
                    {move || (check.error.get().is_some() && !check.running().get()).then(|| view! {
                        <div class="actions">
                            <button type="button" class="button" on:click=move |_| check.start()>"Re-check"</button>
                        </div>
                    })}
                </section>
            }
            .into_any(),
        }}
        <Modal
            open=Signal::derive(move || confirming.with(Option::is_some))
            on_close=move |_| confirming.set(None)
            title="Confirm Deletion"
        >
            {move || confirming.get().map(|(check_id, renounce)| view! {
                <ConfirmDeletion
                    check_id
                    renounce
                    on_closed
                    on_identity_expired
                    on_cancel=Callback::new(move |_| confirming.set(None))
                />
            })}
        </Modal>
    }
}

/// Where the user is, as an ordered list with the current step marked.
#[component]
fn StepList(way: Way, step: RwSignal<Step>) -> impl IntoView {
    let mut steps = vec![
        (Step::Identity, "Verify identity"),
        (Step::Agreement, "Agreement"),
        (Step::SystemCheck, "Check and confirm"),
    ];
    if way == Way::App {
        steps[0].1 = "Input Captcha";
        steps.insert(0, (Step::Warning, "Before you close"));
    }
    let order: Vec<Step> = steps.iter().map(|(s, _)| *s).collect();
    view! {
        <ol class="stepper stepper-closure" aria-label="Closure steps">
            {steps
                .into_iter()
                .map(|(this, label)| {
                    let order = order.clone();
                    let position = move |s: Step| order.iter().position(|o| *o == s);
                    let state = Memo::new(move |_| {
                        let current = position(step.get());
                        match (position(this), current) {
                            (a, b) if a == b => "current",
                            (Some(a), Some(b)) if a < b => "done",
                            _ => "todo",
                        }
                    });
                    view! {
                        <li
                            class=move || format!("stepper-item {}", state.get())
                            aria-current=move || (state.get() == "current").then_some("step")
                        >
                            <span class="stepper-label">{label}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// The app's Close Account page before Continue.
#[component]
fn Warning(cool_down_days: i64, on_continue: Callback<()>) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="warning-heading">
            <h2 id="warning-heading" tabindex="-1">"Before you close your account"</h2>
            <ul class="warning-list">
                <li>
                    <strong>"Closing is irreversible."</strong>
                    {format!(" After a {cool_down_days}-day cool-down, all data, resources and assets of the account are deleted and cannot be recovered.")}
                </li>
                <li>"Settle your bills, back up your data and release your resources first. Payment information (cards, PayPal, Paytm) and coupons are deleted with the account."</li>
                <li>"Only the account owner can close the account."</li>
            </ul>
            <ClosureTimeline cool_down_days />
            <p class="muted">
                "A computer is recommended. Before you continue, run the closure check and export your data on Security & closure."
            </p>
            <p>
                <A href="/security" attr:class="back-link">"Go to security & closure"</A>
            </p>
            <div class="actions">
                <button type="button" class="button button-primary" on:click=move |_| on_continue.run(())>
                    "Continue"
                </button>
            </div>
        </section>
    }
}

/// The id of each step's heading, which takes the focus when the step opens.
fn heading_of(step: Step) -> &'static str {
    match step {
        Step::Warning => "warning-heading",
        Step::Identity => "identity-heading",
        Step::Agreement => "agreement-heading",
        Step::SystemCheck => "system-check-heading",
    }
}

fn encode(text: &str) -> String {
    String::from(web_sys::js_sys::encode_uri_component(text))
}
