//! Configuration from flags and environment, with defaults that run on a laptop.

use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "account-center",
    version,
    about = "Account Center API server",
    args_override_self = true
)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, env = "ACCOUNT_CENTER_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Folder for the SQLite database and other local state.
    #[arg(long, env = "ACCOUNT_CENTER_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// `sqlite://…` (the default: `account-center.db` in the data folder) or `postgres://…`
    /// for several instances on one database.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Connections in this instance's database pool; by default 8 on SQLite, and twice the
    /// machine's cores (at least 4) on PostgreSQL.
    #[arg(long, env = "DATABASE_POOL_SIZE", value_parser = clap::value_parser!(u32).range(1..))]
    pub database_pool_size: Option<u32>,

    /// `dev` adds the notification inbox at /dev/inbox and a movable clock; never use it in production.
    #[arg(long, env = "ACCOUNT_CENTER_MODE", value_enum, default_value_t = Mode::Prod)]
    pub mode: Mode,

    /// The built browser app (index.html, pkg/, main.css), from `.ci/build-app`.
    #[arg(long, env = "ACCOUNT_CENTER_SITE_DIR", default_value = "target/site")]
    pub site_dir: PathBuf,

    /// Send email for real: `smtp://user:pass@host:587?tls=required` or `smtps://…`.
    #[arg(long, env = "ACCOUNT_CENTER_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The From: of every email.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_SMTP_FROM",
        default_value = "Account Center <no-reply@account-center.invalid>"
    )]
    pub smtp_from: String,

    /// Take the client address from the last `X-Forwarded-For` entry (only behind a proxy you run).
    #[arg(long, env = "ACCOUNT_CENTER_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// How long to wait for the payment gateway before giving up on a call.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_GATEWAY_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub gateway_timeout_ms: u64,

    /// Dev mode's simulated gateway: how long each of its calls takes.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_SIMULATOR_LATENCY_MS",
        default_value_t = 300
    )]
    pub simulator_latency_ms: u64,

    /// Pay-as-you-go usage reaches billing this many hours after the hour it was used in.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_USAGE_BILLING_DELAY_HOURS",
        default_value_t = 2
    )]
    pub usage_billing_delay_hours: i64,

    /// Days between confirming an account's closure and its result.
    #[arg(long, env = "ACCOUNT_CENTER_COOL_DOWN_DAYS", default_value_t = shared::closure::DEFAULT_COOL_DOWN_DAYS)]
    pub cool_down_days: i64,

    /// Run due jobs (refunds, usage billing, closures) in this process. Tests that drive jobs
    /// themselves turn it off.
    #[arg(long, env = "ACCOUNT_CENTER_RUN_SCHEDULER", default_value_t = true, action = clap::ArgAction::Set, hide = true)]
    pub run_scheduler: bool,

    /// Dev mode only, for crash tests: abort the process at this point (`closure_decide`: in
    /// the closure decision, after its work and before its commit).
    #[arg(long, env = "ACCOUNT_CENTER_CRASH_AT", hide = true)]
    pub crash_at: Option<String>,

    /// Log lines as JSON instead of text.
    #[arg(long, env = "ACCOUNT_CENTER_LOG_JSON", default_value_t = false)]
    pub log_json: bool,

    /// Without a command the server runs.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Copies this install's SQLite database (`--database-url` or the data folder's) into an
    /// empty PostgreSQL database, checks row counts and money sums on both sides, and commits
    /// only when they agree. Stop the server first: rows written during the copy are not in it.
    CopyToPostgres {
        /// The target, `postgres://…`. It must hold no rows; its schema is made if missing.
        #[arg(long, env = "TARGET_DATABASE_URL")]
        to: String,
    },
    /// Lists the timed jobs of this install's database (`--database-url` or the data folder's)
    /// that need a look: those that failed 10 times in a row or more (they are still retried,
    /// at least hourly), and those due for over 15 minutes that no scheduler has taken.
    StuckJobs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Dev,
    Prod,
}

impl Config {
    pub fn is_dev(&self) -> bool {
        self.mode == Mode::Dev
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("account-center.db").display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_a_local_production_server_on_sqlite() {
        let c = Config::try_parse_from(["account-center"]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.mode, Mode::Prod);
        assert_eq!(c.database_url(), "sqlite://data/account-center.db");
    }

    #[test]
    fn flags_override_defaults() {
        let c = Config::try_parse_from([
            "account-center",
            "--mode",
            "dev",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            "/tmp/x",
        ])
        .unwrap();
        assert!(c.is_dev());
        assert_eq!(c.database_url(), "sqlite:///tmp/x/account-center.db");
    }

    #[test]
    fn a_database_pool_has_at_least_one_connection() {
        assert_eq!(
            Config::try_parse_from(["account-center"])
                .unwrap()
                .database_pool_size,
            None
        );
        let c = Config::try_parse_from(["account-center", "--database-pool-size", "3"]).unwrap();
        assert_eq!(c.database_pool_size, Some(3));
        assert!(Config::try_parse_from(["account-center", "--database-pool-size", "0"]).is_err());
    }
}
