//! Entry point for shuttle.dev (`--features shuttle`): the same router as the plain binary.
//! Shuttle owns the listener; the database lives in the data folder of the deployment.

use clap::Parser;
use server::config::Config;

#[shuttle_runtime::main]
async fn main() -> shuttle_axum::ShuttleAxum {
    let config = Config::try_parse_from(["account-center"]).map_err(|e| anyhow::anyhow!(e))?;
    let state = server::build_state(config).await?;
    server::start_workers(&state);
    Ok(server::router(state).into())
}
