//! The closure's system check: started on the server, which advances it every second; the
//! page asks about once a second and shows the progress until the result is in.

use crate::api;
use crate::app::use_auth;
use crate::words;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use shared::api::{SystemCheckPhase, SystemCheckStatus};
use shared::closure::ClosureCheck;

/// How often the page asks for progress; the server's scheduler moves it once a second.
const POLL_MS: u32 = 1_000;

/// One run of the system check and what it came to. Re-check starts a new run.
#[derive(Clone, Copy)]
pub struct SystemCheck {
    pub progress: RwSignal<u8>,
    /// What the check is looking at now, as the server says; `None` once done.
    pub phase: RwSignal<Option<SystemCheckPhase>>,
    /// The finished check's id (which Confirm Deletion names) and its result.
    pub result: RwSignal<Option<(String, ClosureCheck)>>,
    pub error: RwSignal<Option<String>>,
    run: Action<(), ()>,
}

impl SystemCheck {
    pub fn new() -> Self {
        let auth = use_auth();
        let progress = RwSignal::new(0u8);
        let phase = RwSignal::new(Some(SystemCheckPhase::Finances));
        let result = RwSignal::new(None);
        let error = RwSignal::new(None);
        let run = Action::new_local(move |_: &()| async move {
            let mut view = match api::start_system_check(auth.csrf().as_deref()).await {
                Ok(view) => view,
                Err(e) => {
                    error.try_set(Some(e.to_string()));
                    return;
                }
            };
            loop {
                // The page was left: stop asking.
                if progress.try_set(view.progress).is_some() {
                    return;
                }
                phase.try_set(view.phase);
                if view.status == SystemCheckStatus::Done {
                    match view.result {
                        Some(check) => result.set(Some((view.id, check))),
                        None => error.set(Some(
                            "The system check finished without a result. Run it again.".into(),
                        )),
                    }
                    return;
                }
                TimeoutFuture::new(POLL_MS).await;
                if progress.try_get_untracked().is_none() {
                    return;
                }
                view = match api::system_check(&view.id).await {
                    Ok(view) => view,
                    Err(e) => {
                        error.try_set(Some(e.to_string()));
                        return;
                    }
                };
            }
        });
        Self {
            progress,
            phase,
            result,
            error,
            run,
        }
    }

    pub fn start(self) {
        if self.run.pending().get_untracked() {
            return;
        }
        self.progress.set(0);
        self.phase.set(Some(SystemCheckPhase::Finances));
        self.result.set(None);
        self.error.set(None);
        self.run.dispatch_local(());
    }

    pub fn running(self) -> Signal<bool> {
        self.run.pending().into()
    }
}

#[component]
pub fn SystemCheckProgress(check: SystemCheck) -> impl IntoView {
    let progress = check.progress;
    view! {
        <div
            class="progress"
            role="progressbar"
            aria-label="System check progress"
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=move || progress.get().to_string()
            aria-valuetext=move || format!("{}%", progress.get())
        >
            <div class="progress-fill" style:width=move || format!("{}%", progress.get())></div>
        </div>
        <p class="progress-text">
            <span class="amount">{move || format!("{}%", progress.get())}</span>
            " "
            <span aria-live="polite">{move || words::system_check_phase(check.phase.get())}</span>
        </p>
        {move || check.error.get().map(|e| view! { <p class="form-alert" role="alert">{e}</p> })}
    }
}
