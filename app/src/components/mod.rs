//! Pieces the pages are built from.

pub mod account_summary;
pub mod countdown;
pub mod date;
pub mod field;
pub mod form_errors;
pub mod layout;
pub mod sign_out;
pub mod submit_button;

pub use account_summary::AccountSummary;
pub use countdown::Countdown;
pub use field::{CheckboxField, Radio, SelectField, TextField};
pub use form_errors::{FormAlert, FormErrors};
pub use layout::{AuthFrame, Shell, set_title};
pub use sign_out::SignOutButton;
pub use submit_button::SubmitButton;
