//! Entry point for shuttle.dev (`--features shuttle`): the same router as the plain binary, on
//! the PostgreSQL database shuttle provisions for the project (`shuttle_shared_db::Postgres`
//! hands over its connection string), so every instance shuttle runs shares one database.
//! Shuttle owns the listener.
//!
//! Every other setting comes from shuttle's secrets (`Secrets.toml`), under the name of its
//! environment variable (`ACCOUNT_CENTER_STRIPE_SECRET_KEY`, `ACCOUNT_CENTER_SMTP_URL`, …; see
//! [`Config::flags_from`]). The HMAC keys must be there (`ACCOUNT_CENTER_SECRETS`): a
//! deployment's disk does not outlive it, so a key file there would bring new keys, and with
//! them freed card bindings, on every deployment.

use anyhow::Context;
use clap::Parser;
use server::config::Config;
use shuttle_runtime::SecretStore;

/// The allocator the standalone binary uses too (see `main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[shuttle_runtime::main]
async fn main(
    #[shuttle_shared_db::Postgres] database_url: String,
    #[shuttle_runtime::Secrets] secrets: SecretStore,
) -> shuttle_axum::ShuttleAxum {
    secrets.get("ACCOUNT_CENTER_SECRETS").context(
        "set ACCOUNT_CENTER_SECRETS in Secrets.toml to the HMAC keys (README \"Secret keys\")",
    )?;
    // The database is shuttle's, whatever the secrets say.
    let named = |name: &str| {
        (name != "DATABASE_URL")
            .then(|| secrets.get(name))
            .flatten()
    };
    let args = ["account-center", "--database-url", &database_url]
        .map(str::to_owned)
        .into_iter()
        .chain(Config::flags_from(named));
    let config = Config::try_parse_from(args).map_err(|e| anyhow::anyhow!(e))?;
    let state = server::build_state(config).await?;
    server::start_workers(&state);
    Ok(server::router(state).into())
}
