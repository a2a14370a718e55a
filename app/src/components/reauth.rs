//! "Enter your password again": steps that move money or change how the account pays need a
//! password typed within the last hour (SPEC §1). When the server answers `reauth_required`,
//! the page asks here and then sends the very same request again (same idempotency key), so
//! the user carries on where they were.

use super::{FormAlert, FormErrors, Modal, SubmitButton, TextField};
use crate::api::{self, ApiError};
use crate::app::use_auth;
use leptos::prelude::*;
use shared::ErrorCode;
use shared::api::ReauthForm;

type Retry = Box<dyn FnOnce()>;

#[derive(Clone, Copy)]
pub struct Reauth {
    open: RwSignal<bool>,
    retry: StoredValue<Option<Retry>, LocalStorage>,
}

impl Reauth {
    /// Asks for the password; once the server accepts it, runs `retry`.
    pub fn ask(self, retry: impl FnOnce() + 'static) {
        self.retry.set_value(Some(Box::new(retry)));
        self.open.set(true);
    }

    /// What a sensitive step does with a refusal: asks for the password and retries when the
    /// refusal is `reauth_required` (showing why meanwhile), else shows it in the form.
    pub fn handle(self, error: &ApiError, errors: FormErrors, retry: impl FnOnce() + 'static) {
        errors.show_api(error);
        if error.code() == ErrorCode::ReauthRequired {
            self.ask(move || {
                errors.clear();
                retry();
            });
        }
    }
}

pub fn use_reauth() -> Reauth {
    expect_context::<Reauth>()
}

/// Provides [`Reauth`] to the pages below and renders its dialog; once, in the shell.
#[component]
pub fn ReauthProvider(children: Children) -> impl IntoView {
    let reauth = Reauth {
        open: RwSignal::new(false),
        retry: StoredValue::new_local(None),
    };
    provide_context(reauth);
    let cancel = move || {
        reauth.retry.set_value(None);
        reauth.open.set(false);
    };
    view! {
        {children()}
        <Modal open=reauth.open on_close=move |_| cancel() title="Confirm it's you">
            <ReauthForm reauth cancel=Callback::new(move |_| cancel()) />
        </Modal>
    }
}

#[component]
fn ReauthForm(reauth: Reauth, cancel: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("reauth", &["password"]);
    let password = RwSignal::new(String::new());
    let confirm = Action::new_local(move |form: &ReauthForm| {
        let form = form.clone();
        async move {
            match api::reauthenticate(&form, auth.csrf().as_deref()).await {
                Ok(_) => {
                    let retry = reauth.retry.try_update_value(Option::take).flatten();
                    reauth.open.set(false);
                    if let Some(retry) = retry {
                        retry();
                    }
                }
                // The server's words fit a sign-in form ("email or password"); here only the
                // password was typed.
                Err(e) if e.code() == ErrorCode::InvalidCredentials => {
                    errors.show_invalid(vec![
                        shared::Invalid::new(
                            e.code(),
                            "This is not the password of the account you are signed in to. Try again.",
                        )
                        .at("password"),
                    ]);
                }
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = ReauthForm {
            password: password.get_untracked(),
        };
        if !errors.passes(form.parse()) {
            return;
        }
        confirm.dispatch_local(form);
    };
    view! {
        <form on:submit=on_submit novalidate>
            <p>"For your security, enter your password again to continue. We ask for it when a step changes how you pay or moves money."</p>
            <FormAlert errors />
            <TextField
                errors
                name="password"
                label="Password"
                value=password
                input_type="password"
                autocomplete="current-password"
            />
            <div class="actions">
                <SubmitButton label="Continue" pending=confirm.pending() />
                <button type="button" class="button" on:click=move |_| cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

/// An action whose handler gets the action itself, so that a refused attempt can be sent
/// again with the very same input (and so the same idempotency key) after the password prompt.
pub fn retryable_action<I, F, Fu>(handler: F) -> Action<I, ()>
where
    I: Clone + 'static,
    F: Fn(I, Action<I, ()>) -> Fu + 'static,
    Fu: Future<Output = ()> + 'static,
{
    let slot: StoredValue<Option<Action<I, ()>>, LocalStorage> = StoredValue::new_local(None);
    let action = Action::new_local(move |input: &I| {
        let this = slot
            .get_value()
            .expect("the action is stored before it can run");
        handler(input.clone(), this)
    });
    slot.set_value(Some(action));
    action
}
