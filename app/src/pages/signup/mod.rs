//! Sign-up (SPEC §1): the form, then proving the email or a phone with a code.

mod form;
mod verify;

pub use form::SignupPage;
pub use verify::{CodeHelp, VerifyPage};
