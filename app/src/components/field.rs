//! Form fields: a label above the control, help under it, and the error under that, tied to
//! the control with `aria-describedby` so a screen reader reads them with the field.

use super::form_errors::FormErrors;
use leptos::prelude::*;

/// The ids `aria-describedby` lists: the help and the prefix always, the error only while
/// there is one (an id pointing at nothing is an accessibility error of its own).
fn described_by(
    errors: FormErrors,
    name: &'static str,
    has_help: bool,
    has_prefix: bool,
) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    move || {
        let id = errors.id_of(name);
        let mut ids = Vec::new();
        if has_prefix {
            ids.push(format!("{id}-prefix"));
        }
        if has_help {
            ids.push(format!("{id}-help"));
        }
        if errors.message(name).is_some() {
            ids.push(format!("{id}-error"));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

fn invalid(errors: FormErrors, name: &'static str) -> impl Fn() -> Option<&'static str> {
    move || errors.message(name).map(|_| "true")
}

/// Help text and the field's error, announced when it appears.
#[component]
fn FieldNotes(
    errors: FormErrors,
    name: &'static str,
    help: Option<Signal<String>>,
) -> impl IntoView {
    let id = errors.id_of(name);
    let help_id = format!("{id}-help");
    let error_id = format!("{id}-error");
    view! {
        {help.map(|text| view! { <p class="field-help" id=help_id>{move || text.get()}</p> })}
        {move || {
            errors
                .message(name)
                .map(|message| {
                    view! {
                        <p class="field-error" id=error_id.clone() role="alert">
                            {message}
                        </p>
                    }
                })
        }}
    }
}

#[component]
pub fn TextField(
    errors: FormErrors,
    /// The field's name in the request body, e.g. `"email"`.
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional, into)] help: Option<Signal<String>>,
    /// Shown before the input and read with it, e.g. a calling code `+65`.
    #[prop(optional, into)]
    prefix: Option<Signal<String>>,
) -> impl IntoView {
    let id = errors.id_of(name);
    let input = view! {
        <input
            id=id.clone()
            name=name
            type=input_type
            autocomplete=autocomplete
            inputmode=inputmode
            aria-describedby=described_by(errors, name, help.is_some(), prefix.is_some())
            aria-invalid=invalid(errors, name)
            prop:value=move || value.get()
            on:input:target=move |ev| {
                value.set(ev.target().value());
                errors.clear_field(name);
            }
        />
    };
    let control = match prefix {
        Some(prefix) => view! {
            <div class="input-group">
                <span class="input-prefix" id=format!("{id}-prefix")>
                    {move || prefix.get()}
                </span>
                {input}
            </div>
        }
        .into_any(),
        None => input.into_any(),
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {control}
            <FieldNotes errors name help />
        </div>
    }
}

/// A field whose control is another party's frame, mounted into it by a script (Stripe's card
/// field): a group named by its label, with help and the error under it as any field has.
#[component]
pub fn FramedField(
    errors: FormErrors,
    name: &'static str,
    label: &'static str,
    node_ref: NodeRef<leptos::html::Div>,
    #[prop(optional, into)] help: Option<Signal<String>>,
) -> impl IntoView {
    let id = errors.id_of(name);
    let label_id = format!("{id}-label");
    view! {
        <div class="field">
            <span class="field-label" id=label_id.clone()>{label}</span>
            <div
                id=id
                class="framed-control"
                role="group"
                aria-labelledby=label_id
                aria-describedby=described_by(errors, name, help.is_some(), false)
                node_ref=node_ref
            ></div>
            <FieldNotes errors name help />
        </div>
    }
}

/// A `<select>`; the options are the children.
#[component]
pub fn SelectField(
    errors: FormErrors,
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional, into)] help: Option<Signal<String>>,
    children: Children,
) -> impl IntoView {
    let id = errors.id_of(name);
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select
                id=id
                name=name
                autocomplete=autocomplete
                aria-describedby=described_by(errors, name, help.is_some(), false)
                aria-invalid=invalid(errors, name)
                prop:value=move || value.get()
                on:change:target=move |ev| {
                    value.set(ev.target().value());
                    errors.clear_field(name);
                }
            >
                {children()}
            </select>
            <FieldNotes errors name help />
        </div>
    }
}

/// A checkbox with its label beside it.
#[component]
pub fn CheckboxField(
    errors: FormErrors,
    name: &'static str,
    label: &'static str,
    checked: RwSignal<bool>,
    /// The label's content when it holds more than text (links, say); `label` otherwise.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let id = errors.id_of(name);
    let label = match children {
        Some(children) => children().into_any(),
        None => label.into_any(),
    };
    view! {
        <div class="field field-check">
            <div class="check">
                <input
                    id=id.clone()
                    name=name
                    type="checkbox"
                    aria-describedby=described_by(errors, name, false, false)
                    aria-invalid=invalid(errors, name)
                    prop:checked=move || checked.get()
                    on:change:target=move |ev| {
                        checked.set(ev.target().checked());
                        errors.clear_field(name);
                    }
                />
                <label for=id>{label}</label>
            </div>
            <FieldNotes errors name help=None />
        </div>
    }
}

/// One choice of a radio group; the group is a `<fieldset>` with a `<legend>`.
#[component]
pub fn Radio<T>(
    /// The `name` shared by the group.
    group: &'static str,
    label: &'static str,
    option: T,
    selected: RwSignal<T>,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <label class="radio">
            <input
                type="radio"
                name=group
                prop:checked=move || selected.get() == option
                on:change=move |_| selected.set(option)
            />
            <span>{label}</span>
        </label>
    }
}

/// A new password and its confirmation, with the password rule as help (SPEC §1): the one
/// wording of the rule for sign-up, password reset and password change. `new` labels them
/// "New password" (a change or a reset) rather than "Password" (sign-up).
#[component]
pub fn NewPasswordFields(
    errors: FormErrors,
    password: RwSignal<String>,
    confirmation: RwSignal<String>,
    #[prop(optional)] new: bool,
) -> impl IntoView {
    let (label, confirm_label) = if new {
        ("New password", "Confirm new password")
    } else {
        ("Password", "Confirm password")
    };
    view! {
        <TextField
            errors
            name="password"
            label
            value=password
            input_type="password"
            autocomplete="new-password"
            help="8 to 64 characters with letters and digits. Not your email name, not a common password."
        />
        <TextField
            errors
            name="password_confirmation"
            label=confirm_label
            value=confirmation
            input_type="password"
            autocomplete="new-password"
        />
    }
}
