//! The "send a code, then enter it" step that sign-up, contact verification and the closure's
//! identity check share: the send button with its resend countdown and status line, the
//! mobile number with its delivery choice, and the form the code is entered in.

use super::form_errors::focus_element;
use super::{Countdown, FormAlert, FormErrors, Radio, SubmitButton, TextField};
use crate::api::ApiError;
use leptos::prelude::*;
use shared::account::{Channel, Delivery};
use shared::api::{CodeSent, SendCodeForm, VerifyForm};

/// A code on its way: the resend countdown, and what the server said when it sent the code.
#[derive(Clone, Copy)]
pub struct CodeSending {
    countdown: Countdown,
    sent: RwSignal<Option<CodeSent>>,
}

impl CodeSending {
    pub fn new(sent: RwSignal<Option<CodeSent>>) -> Self {
        CodeSending {
            countdown: Countdown::new(),
            sent,
        }
    }

    /// Takes the server's answer to "send a code". Sent: the countdown to a resend starts and
    /// the code field `code_input` gets the focus. Refused: `errors` shows why, and a refusal
    /// that says when to try again starts the countdown too.
    pub fn answered(
        self,
        answer: Result<CodeSent, ApiError>,
        errors: FormErrors,
        code_input: &str,
    ) {
        match answer {
            Ok(code_sent) => {
                self.countdown.start(code_sent.resend_after_seconds);
                self.sent.set(Some(code_sent));
                focus_element(code_input);
            }
            Err(e) => {
                if let Some(wait) = e.0.retry_after_seconds {
                    self.countdown.start(wait);
                }
                errors.show_api(&e);
            }
        }
    }
}

/// "Send code", then "Resend code in N s" while a resend would be refused, then "Resend
/// code"; under it the status line saying where the code went.
#[component]
pub fn SendCodeButton(sending: CodeSending, #[prop(into)] pending: Signal<bool>) -> impl IntoView {
    let CodeSending { countdown, sent } = sending;
    let label = move || match (countdown.remaining(), sent.with(Option::is_some)) {
        (0, false) => "Send code".to_owned(),
        (0, true) => "Resend code".to_owned(),
        (seconds, _) => format!("Resend code in {}", shared::duration::wait_words(seconds)),
    };
    view! {
        <SubmitButton
            label=Signal::derive(label)
            pending
            disabled=Signal::derive(move || countdown.remaining() > 0)
            primary=false
        />
        <p class="status" role="status">
            {move || sent.get().map(sent_message)}
        </p>
    }
}

fn sent_message(sent: CodeSent) -> String {
    let how = match (sent.channel, sent.delivery) {
        (Channel::Phone, Some(Delivery::Voice)) => " by voice call",
        (Channel::Phone, _) => " by SMS",
        (Channel::Email, _) => "",
    };
    let minutes = sent.expires_in_seconds.div_ceil(60);
    format!(
        "Code sent to {}{how}. It expires in {minutes} minutes.",
        sent.sent_to
    )
}

/// The request to send a code by `channel`: for the phone, with the number and the delivery
/// [`PhoneAndDelivery`] holds.
pub fn send_code_form(
    channel: Channel,
    phone: RwSignal<String>,
    delivery: RwSignal<Delivery>,
) -> SendCodeForm {
    match channel {
        Channel::Email => SendCodeForm {
            channel: Some(Channel::Email),
            ..Default::default()
        },
        Channel::Phone => SendCodeForm {
            channel: Some(Channel::Phone),
            phone: Some(phone.get_untracked()),
            delivery: Some(delivery.get_untracked()),
        },
    }
}

/// The mobile number a code goes to (its `phone` field in `errors`), after the country's
/// calling code, and whether it comes by SMS or voice call.
#[component]
pub fn PhoneAndDelivery(
    errors: FormErrors,
    phone: RwSignal<String>,
    delivery: RwSignal<Delivery>,
    /// The calling code shown before the number, e.g. `+65`.
    #[prop(into)]
    calling_code: Signal<String>,
    /// The radio group's name, unique on the page.
    group: &'static str,
    help: &'static str,
) -> impl IntoView {
    view! {
        <TextField
            errors
            name="phone"
            label="Mobile number"
            value=phone
            input_type="tel"
            autocomplete="tel-national"
            inputmode="tel"
            prefix=calling_code
            help=help
        />
        <fieldset class="choices">
            <legend>"Receive the code by"</legend>
            <Radio group label="SMS" option=Delivery::Sms selected=delivery />
            <Radio group label="Voice call" option=Delivery::Voice selected=delivery />
        </fieldset>
    }
}

/// The form a received code is entered in, checked with the shared rules before `verify`
/// sends it. `verify` does what success means where it is used; a refusal it returns shows
/// next to the field. The field's id is `<form_id>-code`.
#[component]
pub fn CodeEntry<F, Fut>(
    form_id: &'static str,
    help: &'static str,
    verify: F,
    /// Whether "Verify" is the step's primary action.
    #[prop(default = true)]
    primary: bool,
) -> impl IntoView
where
    F: Fn(VerifyForm) -> Fut + Clone + 'static,
    Fut: Future<Output = Result<(), ApiError>> + 'static,
{
    let errors = FormErrors::new(form_id, &["code"]);
    let code = RwSignal::new(String::new());
    let action = Action::new_local(move |form: &VerifyForm| {
        let answer = verify(form.clone());
        async move {
            if let Err(e) = answer.await {
                errors.show_api(&e);
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = VerifyForm {
            code: code.get_untracked(),
        };
        if errors.passes(form.parse()) {
            action.dispatch_local(form);
        }
    };
    view! {
        <form class="step" on:submit=on_submit novalidate>
            <FormAlert errors />
            <TextField
                errors
                name="code"
                label="Verification code"
                value=code
                inputmode="numeric"
                autocomplete="one-time-code"
                help=help
            />
            <SubmitButton label="Verify" pending=action.pending() primary />
        </form>
    }
}
