//! One module per table: its row types, the enums its text columns decode into, and every
//! statement that reads or writes it. `domain/` says what happens and in which transaction;
//! a module here says how its table is read and written, so a column, a status value or an
//! index the statements rely on is looked up in one file.
//!
//! A statement that reads several tables lives with the table whose rows it answers (its
//! `FROM`); one that writes lives with the table it writes. Functions answer `sqlx::Result`:
//! what a missing row or a refused write means to the API is the caller's to say.
//!
//! One deliberate exception: `domain/deletion.rs` states what deleting an account deletes,
//! table by table, as the one list of that rule.

pub mod billing_addresses;
pub mod bills;
pub mod closure_checks;
pub mod closures;
pub mod gateway_intents;
pub mod ledger_entries;
pub mod payment_methods;
pub mod withdrawals;
