//! Account identity: email, password, phone and verification codes (SPEC §1).

mod email;
mod password;
mod phone;
mod verification;

pub use email::Email;
pub use password::Password;
pub use phone::Phone;
pub use verification::{Channel, Delivery, VerificationCode};
