//! One module per table: its row types, the enums its text columns decode into, and every
//! statement that reads or writes it. `domain/` says what happens and in which transaction;
//! a module here says how its table is read and written, so a column, a status value or an
//! index the statements rely on is looked up in one file.
//!
//! A statement that reads several tables lives with the table whose rows it answers (its
//! `FROM`); one that writes lives with the table it writes. Functions answer `sqlx::Result`:
//! what a missing row or a refused write means to the API is the caller's to say. Nothing here
//! imports `domain/`: the domain re-exports the enums it names (`AccountStatus`, `OrderKind`,
//! `RefundStatus`, an intent's `Status` and `Operation`) from their tables.
//!
//! A write runs in the caller's write transaction (`&mut HeldTx`) or, a lone statement that
//! needs none (a session's last use, a setting), on `db.writer()`: on SQLite the connections
//! behind `&Db` only read (`db::Db`).
//!
//! A status or kind is bound by its stored name (the enum's `as_str`), except where a partial
//! index is written with the literal: the statement then spells the index's condition, so that
//! the index serves it, and says so. A condition composed into several statements, whose
//! parameters are numbered differently, spells its values too (`bills::PAYABLE`).
//!
//! Exceptions, each a rule stated once over many tables:
//! - `domain/deletion.rs`: what deleting an account deletes, table by table;
//! - `domain/housekeeping.rs`: how long expired rows are kept, table by table;
//! - `domain/closure/decision.rs` (`with_money_in_flight`): whether any of an account's money
//!   is still moving, one union over refunds, intents, withdrawals and bills;
//! - `copy.rs`: moving a whole install from SQLite to PostgreSQL, every table alike.
//!
//! `listing.rs` is not a table: it is the Unsubscribe page's filter, which its three tabs'
//! tables (`instances`, `orders`, `unsubscriptions`) apply to their own columns.

pub mod account_relationships;
pub mod accounts;
pub mod billing_addresses;
pub mod bills;
pub mod closure_checks;
pub mod closures;
pub mod coupons;
pub mod free_credit_identities;
pub mod gateway_intents;
pub mod icp_filings;
pub mod instances;
pub mod ledger_entries;
pub mod listing;
pub mod orders;
pub mod password_resets;
pub mod payment_methods;
pub mod paypal_approvals;
pub mod ram_users;
pub mod real_name_registrations;
pub mod recovery_codes;
pub mod refunds;
pub mod reseller_partnerships;
pub mod service_linked_roles;
pub mod sessions;
pub mod settings;
pub mod sign_in_challenges;
pub mod signups;
pub mod two_step;
pub mod unsubscriptions;
pub mod verification_codes;
pub mod withdrawals;
