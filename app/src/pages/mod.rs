//! One module per page; a folder per multi-page flow.

pub mod billing;
pub mod closure;
pub mod forgot_password;
pub mod home;
pub mod me;
pub mod onboarding;
pub mod payment;
pub mod products;
pub mod ram_users;
pub mod signin;
pub mod signup;
pub mod spending;
pub mod two_step_signin;
pub mod unsubscribe;
