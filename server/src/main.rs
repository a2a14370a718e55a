use anyhow::Context;
use clap::Parser;
use server::Application;
use server::clock::Clock;
use server::config::{Command, Config};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the C library's allocator: a request allocates and frees many small
/// buffers on whichever worker thread runs it, and with mimalloc the API load served 15–25 %
/// more requests a second on the same machine (README "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    if config.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        // Colours only for a person at a terminal, not in log files.
        tracing_subscriber::fmt()
            .with_ansi(std::io::stdout().is_terminal())
            .with_env_filter(filter)
            .init();
    }
    if let Some(Command::CopyToPostgres { to }) = &config.command {
        let report = server::copy::copy_to_postgres(&config.database_url(), to).await?;
        println!("{:<28} {:>10}  money sums (minor units)", "table", "rows");
        for table in &report.tables {
            let sums: Vec<String> = table
                .money
                .iter()
                .map(|(c, s)| format!("{c}={s}"))
                .collect();
            println!("{:<28} {:>10}  {}", table.table, table.rows, sums.join(" "));
        }
        println!(
            "Copied {} rows into {}; counts and sums agree on both sides.",
            report.rows(),
            server::db::redact(to)
        );
        println!(
            "The copy holds no keys: start its servers with {}.",
            config.key_source()
        );
        return Ok(());
    }
    if let Some(Command::StuckJobs) = &config.command {
        // Reads only: the schema stays as it is (the server migrates it when it starts).
        let db = server::db::open_existing(&config.database_url()).await?;
        let now = Clock::of_server(&config, &db).await?.now();
        let stuck = server::queue::stuck(&db, now)
            .await
            .context("cannot read the jobs")?;
        if stuck.is_empty() {
            println!("No stuck jobs.");
        } else {
            print!("{}", server::jobs::stuck_table(&stuck));
            println!(
                "{} stuck jobs. A running server retries each, at least hourly, until it succeeds.",
                stuck.len()
            );
        }
        return Ok(());
    }
    let app = Application::build(config).await?;
    let mode = if app.state().config.is_dev() {
        " (dev mode: inbox at /dev/inbox)"
    } else {
        ""
    };
    println!(
        "Account Center is running at http://{}/{mode}",
        app.local_addr()
    );
    if let Some(address) = app.metrics_addr() {
        println!("Prometheus metrics at http://{address}/metrics (keep this address private)");
    }
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
