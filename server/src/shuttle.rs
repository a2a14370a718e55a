//! Entry point for shuttle.dev (`--features shuttle`): the same router as the plain binary, on
//! the PostgreSQL database shuttle provisions for the project (`shuttle_shared_db::Postgres`
//! hands over its connection string), so every instance shuttle runs shares one database.
//! Shuttle owns the listener.

use clap::Parser;
use server::config::Config;

#[shuttle_runtime::main]
async fn main(#[shuttle_shared_db::Postgres] database_url: String) -> shuttle_axum::ShuttleAxum {
    let config = Config::try_parse_from(["account-center", "--database-url", &database_url])
        .map_err(|e| anyhow::anyhow!(e))?;
    let state = server::build_state(config).await?;
    server::start_workers(&state);
    Ok(server::router(state).into())
}
