//! The rules and their transactions, one module per flow. Handlers in `routes/` only extract,
//! call these and map the result.

pub mod account;
pub mod session;
pub mod signup;
pub mod verification;
