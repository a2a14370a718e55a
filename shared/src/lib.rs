//! Everything the browser and the server must agree on: request and response types, stable
//! error codes, and the validators. Each input type has a single parsing constructor, so a
//! value that exists has been checked; the app runs the same parser before it sends a request
//! and the server runs it again on what arrives.
//!
//! No tokio, sqlx, axum or filesystem here: this crate also builds for wasm32. (The server's
//! build turns on the `sqlx` feature, which only lets it store [`time::Millis`].)

pub mod account;
pub mod api;
pub mod billing;
pub mod catalog;
pub mod closure;
pub mod country;
pub mod device;
pub mod duration;
pub mod error;
pub mod money;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod payment;
pub mod realname;
pub mod refund;
pub mod time;
pub mod withdrawal;

pub use error::{ErrorBody, ErrorCode, FieldError, Invalid};
