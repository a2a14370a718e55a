//! What is wrong with one form: a message per field and one form-level alert.

use crate::api::ApiError;
use leptos::prelude::*;
use shared::FieldError;
use wasm_bindgen::JsCast;

/// Errors of one form. Field messages come from the `shared` parsers (before sending) or from
/// the server's `ErrorBody.field`; anything not tied to a field of this form is the alert.
#[derive(Clone, Copy)]
pub struct FormErrors {
    form: &'static str,
    /// The form's fields in page order, named as in the request body.
    fields: &'static [&'static str],
    messages: RwSignal<Vec<(&'static str, String)>>,
    alert: RwSignal<Option<String>>,
}

impl FormErrors {
    pub fn new(form: &'static str, fields: &'static [&'static str]) -> Self {
        Self {
            form,
            fields,
            messages: RwSignal::new(Vec::new()),
            alert: RwSignal::new(None),
        }
    }

    /// The element id of a field's control; labels and `aria-describedby` hang off it.
    pub fn id_of(self, field: &str) -> String {
        format!("{}-{}", self.form, field.replace(['_', '.'], "-"))
    }

    pub fn message(self, field: &'static str) -> Option<String> {
        self.messages.with(|all| {
            all.iter()
                .find(|(name, _)| *name == field)
                .map(|(_, message)| message.clone())
        })
    }

    pub fn alert(self) -> Option<String> {
        self.alert.get()
    }

    pub fn clear(self) {
        self.messages.set(Vec::new());
        self.alert.set(None);
    }

    /// The user is fixing this field: its old message no longer describes what is there.
    pub fn clear_field(self, field: &'static str) {
        if self
            .messages
            .with_untracked(|all| all.iter().any(|(name, _)| *name == field))
        {
            self.messages
                .update(|all| all.retain(|(name, _)| *name != field));
        }
    }

    /// A form checked by its `shared` rules just before it is sent: when it passes, the old
    /// messages go and this answers true; when not, it shows what was refused, as
    /// [`show_invalid`](Self::show_invalid) does, and answers false.
    pub fn passes<T>(self, checked: Result<T, impl Refused>) -> bool {
        match checked {
            Ok(_) => {
                self.clear();
                true
            }
            Err(refused) => {
                self.show_invalid(refused);
                false
            }
        }
    }

    /// Shows what the `shared` parser refused and puts the cursor in the first such field.
    pub fn show_invalid(self, errors: impl Refused) {
        let errors = errors.into_field_errors();
        let mut shown: Vec<(&'static str, String)> = Vec::new();
        let mut unplaced = Vec::new();
        for error in errors {
            match self.fields.iter().find(|name| **name == error.field) {
                Some(name) => shown.push((name, error.message)),
                None => unplaced.push(error.message),
            }
        }
        shown.sort_by_key(|(name, _)| self.position(name));
        let first = shown.first().map(|(name, _)| *name);
        self.messages.set(shown);
        self.alert
            .set((!unplaced.is_empty()).then(|| unplaced.join(" ")));
        if let Some(field) = first {
            self.focus(field);
        }
    }

    /// Shows a server refusal at its field when this form has it, else as the form's alert.
    pub fn show_api(self, error: &ApiError) {
        let body = &error.0;
        let field = body
            .field
            .as_deref()
            .and_then(|f| self.fields.iter().copied().find(|name| *name == f));
        match field {
            Some(name) => {
                self.messages.set(vec![(name, body.message.clone())]);
                self.alert.set(None);
                self.focus(name);
            }
            None => {
                self.messages.set(Vec::new());
                self.alert.set(Some(body.message.clone()));
            }
        }
    }

    pub fn focus(self, field: &str) {
        focus_element(&self.id_of(field));
    }

    fn position(self, field: &str) -> usize {
        self.fields
            .iter()
            .position(|name| *name == field)
            .unwrap_or(usize::MAX)
    }
}

/// What a `shared` rule refuses: one field, or several at once.
pub trait Refused {
    fn into_field_errors(self) -> Vec<FieldError>;
}

impl Refused for FieldError {
    fn into_field_errors(self) -> Vec<FieldError> {
        vec![self]
    }
}

impl Refused for Vec<FieldError> {
    fn into_field_errors(self) -> Vec<FieldError> {
        self
    }
}

pub fn focus_element(id: &str) {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(element) = element {
        let _ = element.focus();
    }
}

/// The form-level alert: errors that belong to no single field (wrong password, throttling).
#[component]
pub fn FormAlert(errors: FormErrors) -> impl IntoView {
    move || {
        errors.alert().map(|message| {
            view! {
                <p class="form-alert" role="alert">
                    {message}
                </p>
            }
        })
    }
}
