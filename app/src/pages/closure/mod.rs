//! Closing the account (SPEC §6–7, seed 001): the Security & Closure page with the closure
//! check and the data export, the page that resolves what blocks closing, the stepwise
//! closure itself (on the console and on the phone app's path), and the cool-down screen that
//! is all a closing account can see.

mod account_security;
mod agreement;
mod check_report;
mod check_result;
mod confirm;
mod cool_down;
mod flow;
mod identity;
mod operation_log;
mod resolve;
mod security;
mod system_check;
mod timeline;

pub use cool_down::{ClosureStartedPage, CoolDownScreen};
pub use flow::{AppCloseAccountPage, ClosurePage};
pub use operation_log::OperationLogPage;
pub use resolve::ResolvePage;
pub use security::SecurityPage;
