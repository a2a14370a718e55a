//! The rules and their transactions, one module per flow. Handlers in `routes/` only extract,
//! call these and map the result.

pub mod account;
pub mod billing;
pub mod bills;
pub mod closure;
pub mod deletion;
pub mod demo;
pub mod expiry;
pub mod housekeeping;
pub mod instances;
pub mod intent;
pub mod ledger;
pub mod payment;
pub mod plan;
pub mod purchase;
pub mod ram;
pub mod realname;
pub mod refund;
pub mod security;
pub mod session;
pub mod signup;
pub mod spending;
pub mod stripe_events;
pub mod two_step;
pub mod unsubscribe;
pub mod usage;
pub mod verification;
pub mod withdrawal;
