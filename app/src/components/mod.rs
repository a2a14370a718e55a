//! Pieces the pages are built from.

pub mod account_summary;
pub mod address;
pub mod code;
pub mod countdown;
pub mod date;
pub mod field;
pub mod form_errors;
pub mod intl;
pub mod layout;
pub mod load_failed;
pub mod modal;
pub mod money;
pub mod reauth;
pub mod sign_out;
pub mod submit_button;

pub use account_summary::AccountSummary;
pub use address::{AddressInput, AddressInputs};
pub use code::{CodeEntry, CodeSending, PhoneAndDelivery, SendCodeButton, send_code_form};
pub use countdown::Countdown;
pub use field::{CheckboxField, FramedField, NewPasswordFields, Radio, SelectField, TextField};
pub use form_errors::{FormAlert, FormErrors};
pub use layout::{AuthFrame, Shell, set_title};
pub use load_failed::{Loading, load_failed};
pub use modal::{Modal, unique_id};
pub use money::money;
pub use reauth::{ReauthProvider, retryable_action, use_reauth};
pub use sign_out::SignOutButton;
pub use submit_button::SubmitButton;
