//! Configuration from flags and environment, with defaults that run on a laptop.

use crate::secrets::{self, KeySource, Secrets};
use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

// The values the bounded settings accept; clap refuses any other at start, naming the flag.
// Each flag's help (and the README) states its range in words: keep them in step.
pub const GATEWAY_TIMEOUT_MS: RangeInclusive<u64> = 100..=120_000;
pub const SIMULATOR_LATENCY_MS: RangeInclusive<u64> = 0..=10_000;
pub const SIMULATOR_FAULT_PERCENT: RangeInclusive<u64> = 0..=50;
pub const USAGE_BILLING_DELAY_HOURS: RangeInclusive<i64> = 0..=72;
pub const COOL_DOWN_DAYS: RangeInclusive<i64> = 1..=365;

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

    /// Serve Prometheus metrics at `/metrics` on this address, a listener of its own (the
    /// public one answers 404 there). Off unless given. Keep it private: a loopback or internal
    /// address your Prometheus reaches, never the public one.
    #[arg(long, env = "ACCOUNT_CENTER_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Folder for the SQLite database and other local state.
    #[arg(long, env = "ACCOUNT_CENTER_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// The HMAC keys that protect card fingerprints and codes, kept out of the database: made
    /// (readable by its owner only) on first start. Back it up with the database; every
    /// instance on one database needs the same file. Default: `secrets.key` in the data folder.
    #[arg(long, env = "ACCOUNT_CENTER_SECRETS_FILE")]
    pub secrets_file: Option<PathBuf>,

    /// The keys themselves instead of a key file: its `code_hmac_key=… fingerprint_key=…`
    /// pairs. Prefer the variable: a flag shows in the process list.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_SECRETS",
        hide_env_values = true,
        conflicts_with = "secrets_file",
        value_parser = KeysParser
    )]
    pub secrets: Option<Secrets>,

    /// `sqlite://…` (the default: `account-center.db` in the data folder) or `postgres://…`
    /// for several instances on one database.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Connections in this instance's database pool; by default 8 on SQLite (its readers,
    /// beside the one writing connection), and twice the machine's cores (at least 4) on
    /// PostgreSQL.
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

    /// Take cards through Stripe: the secret API key (`sk_live_…`). With it come
    /// `--stripe-publishable-key` and `--stripe-webhook-secret`. Prefer the variable or the
    /// file: a flag shows in the process list.
    #[arg(long, env = "ACCOUNT_CENTER_STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<ApiKey>,

    /// A file whose first line is the Stripe secret key (instead of `--stripe-secret-key`).
    #[arg(
        long,
        env = "ACCOUNT_CENTER_STRIPE_SECRET_KEY_FILE",
        conflicts_with = "stripe_secret_key"
    )]
    pub stripe_secret_key_file: Option<PathBuf>,

    /// The publishable key (`pk_live_…`) the console's Stripe.js tokenizes cards with.
    #[arg(long, env = "ACCOUNT_CENTER_STRIPE_PUBLISHABLE_KEY")]
    pub stripe_publishable_key: Option<String>,

    /// The signing secret of this server's Stripe webhook endpoint (`whsec_…`), which
    /// `/api/webhooks/stripe` checks every event's signature with.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_STRIPE_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub stripe_webhook_secret: Option<ApiKey>,

    /// Stripe's API. Only the tests change it (to a stand-in on 127.0.0.1).
    #[arg(long, env = "ACCOUNT_CENTER_STRIPE_API_URL", default_value = crate::gateway::stripe::API_URL)]
    pub stripe_api_url: String,

    /// This server's address as the world reaches it, e.g. `https://console.example.com`.
    /// Twilio sends its delivery reports to `<this>/api/webhooks/twilio`, and they are checked
    /// against that URL. Needed with Twilio.
    #[arg(long, env = "ACCOUNT_CENTER_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Send SMS and voice codes through Twilio: the account SID (`AC…`). Twilio needs this,
    /// the auth token, --twilio-from and --public-url; without any of them (the default) those
    /// messages stay in the outbox.
    #[arg(long, env = "ACCOUNT_CENTER_TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,

    /// The Twilio account's auth token. Prefer the variable or --twilio-auth-token-file: a
    /// flag shows in the process list.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_TWILIO_AUTH_TOKEN",
        hide_env_values = true,
        conflicts_with = "twilio_auth_token_file"
    )]
    pub twilio_auth_token: Option<ApiKey>,

    /// A file whose first line is the Twilio auth token (a secret mount, say).
    #[arg(long, env = "ACCOUNT_CENTER_TWILIO_AUTH_TOKEN_FILE")]
    pub twilio_auth_token_file: Option<PathBuf>,

    /// The number calls and SMS come from, in E.164 form (`+15005550006`).
    #[arg(long, env = "ACCOUNT_CENTER_TWILIO_FROM")]
    pub twilio_from: Option<String>,

    /// Send SMS through this Messaging Service (`MG…`) instead of from --twilio-from (calls
    /// still come from --twilio-from).
    #[arg(long, env = "ACCOUNT_CENTER_TWILIO_MESSAGING_SERVICE_SID")]
    pub twilio_messaging_service_sid: Option<String>,

    /// Twilio's REST API.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_TWILIO_API_BASE",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_api_base: String,

    /// Take the client address from the last `X-Forwarded-For` entry (only behind a proxy you run).
    #[arg(long, env = "ACCOUNT_CENTER_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// How long to wait for the payment gateway before giving up on a call: 100 to 120000 ms.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_GATEWAY_TIMEOUT_MS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(GATEWAY_TIMEOUT_MS)
    )]
    pub gateway_timeout_ms: u64,

    /// Dev mode's simulated gateway: how long each of its calls takes, 0 to 10000 ms.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_SIMULATOR_LATENCY_MS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(SIMULATOR_LATENCY_MS)
    )]
    pub simulator_latency_ms: u64,

    /// Dev mode's simulated gateway: in this percentage of its charges, refunds and releases
    /// the network fails before the gateway acts, and in as many more the gateway acts but its
    /// answer is lost on the way back. 0 to 50; 0 (no faults) by default.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_SIMULATOR_FAULT_PERCENT",
        default_value_t = 0,
        value_parser = clap::value_parser!(u64).range(SIMULATOR_FAULT_PERCENT)
    )]
    pub simulator_fault_percent: u64,

    /// Pay-as-you-go usage reaches billing this many hours after the hour it was used in: 0 to
    /// 72, and at least two hours shorter than the cool-down (a closing account's last usage
    /// must be billed before its closure is decided).
    #[arg(
        long,
        env = "ACCOUNT_CENTER_USAGE_BILLING_DELAY_HOURS",
        default_value_t = 2,
        value_parser = clap::value_parser!(i64).range(USAGE_BILLING_DELAY_HOURS)
    )]
    pub usage_billing_delay_hours: i64,

    /// Days between confirming an account's closure and its result: 1 to 365.
    #[arg(
        long,
        env = "ACCOUNT_CENTER_COOL_DOWN_DAYS",
        default_value_t = shared::closure::DEFAULT_COOL_DOWN_DAYS,
        value_parser = clap::value_parser!(i64).range(COOL_DOWN_DAYS)
    )]
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

impl Config {
    /// The command-line flags that set each option `named` knows by its environment
    /// variable's name: how a platform that hands settings over as named secrets (shuttle's
    /// `Secrets.toml`) configures the server, under the same names as the environment. Derived
    /// from the options themselves, so a new one is settable there too. A switch (no value)
    /// is set by `true`.
    pub fn flags_from(named: impl Fn(&str) -> Option<String>) -> Vec<String> {
        use clap::CommandFactory;
        Config::command()
            .get_arguments()
            .filter_map(|arg| {
                let long = arg.get_long()?;
                let value = named(arg.get_env()?.to_str()?)?;
                if arg.get_action().takes_values() {
                    Some(format!("--{long}={value}"))
                } else {
                    (value == "true").then(|| format!("--{long}"))
                }
            })
            .collect()
    }
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

/// Reads `--secrets` as [`Secrets::from_text`] does, refusing bad keys without clap's usual
/// repeat of the value: it holds keys, and the refusal may reach a log.
#[derive(Clone)]
struct KeysParser;

impl clap::builder::TypedValueParser for KeysParser {
    type Value = Secrets;

    fn parse_ref(
        &self,
        _: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Secrets, clap::Error> {
        let flag = arg.map_or_else(|| "--secrets".to_owned(), ToString::to_string);
        let refuse = |why: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("{flag} (ACCOUNT_CENTER_SECRETS) is not valid: {why}\n"),
            )
        };
        let text = value.to_str().ok_or_else(|| refuse("not UTF-8"))?;
        Secrets::from_text(text).map_err(|why| refuse(&why))
    }
}

/// A provider's secret (an API key, a signing secret): never printed, even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key in a file (a secret mount, say): its first line, trimmed. `what` and `flag`
    /// name the file in errors, which never show its contents.
    pub fn read(path: &Path, what: &str, flag: &str) -> anyhow::Result<ApiKey> {
        let file = format!("{what} {} ({flag})", path.display());
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
        let first = text.lines().next().unwrap_or_default();
        first
            .parse()
            .map_err(|_| anyhow::anyhow!("{file} is empty"))
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl std::str::FromStr for ApiKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let key = s.trim();
        if key.is_empty() {
            return Err("empty".into());
        }
        Ok(ApiKey(key.to_owned()))
    }
}

/// Stripe's settings, when cards go through Stripe.
pub struct Stripe {
    pub secret_key: ApiKey,
    pub publishable_key: String,
    pub webhook_secret: ApiKey,
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

    /// What the flags' own ranges cannot see. Confirming a closure releases the account's
    /// pay-as-you-go instances, and their last hour is billed up to one hour plus the billing
    /// delay later; the closure's decision must come after that bill, or the usage is never
    /// billed (the account is deleted) and an overdue one cannot fail the closure (SPEC §6.3).
    /// `build_state` calls it, so every way of starting the server refuses such settings.
    pub fn check(&self) -> anyhow::Result<()> {
        let last_bill_hours = self.usage_billing_delay_hours + 1;
        let cool_down_hours = self.cool_down_days * 24;
        anyhow::ensure!(
            last_bill_hours < cool_down_hours,
            "--usage-billing-delay-hours {} is too long for --cool-down-days {}: a closing \
             account's last usage would be billed after its closure is decided. With this \
             cool-down the delay must be at most {} hours.",
            self.usage_billing_delay_hours,
            self.cool_down_days,
            cool_down_hours - 2,
        );
        Ok(())
    }

    /// Stripe's settings: all three keys, or none (then dev mode's simulator, or in production
    /// no card gateway). Some but not all stop the start, naming what is missing.
    pub fn stripe(&self) -> anyhow::Result<Option<Stripe>> {
        let secret_key = match (&self.stripe_secret_key, &self.stripe_secret_key_file) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(file)) => Some(ApiKey::read(
                file,
                "the Stripe secret key file",
                "--stripe-secret-key-file",
            )?),
            (None, None) => None,
        };
        match (
            secret_key,
            &self.stripe_publishable_key,
            &self.stripe_webhook_secret,
        ) {
            (None, None, None) => Ok(None),
            (Some(secret_key), Some(publishable_key), Some(webhook_secret)) => Ok(Some(Stripe {
                secret_key,
                publishable_key: publishable_key.clone(),
                webhook_secret: webhook_secret.clone(),
            })),
            (secret, publishable, webhook) => {
                let missing: Vec<&str> = [
                    (secret.is_none(), "--stripe-secret-key (or its file)"),
                    (publishable.is_none(), "--stripe-publishable-key"),
                    (webhook.is_none(), "--stripe-webhook-secret"),
                ]
                .into_iter()
                .filter_map(|(missing, name)| missing.then_some(name))
                .collect();
                anyhow::bail!(
                    "Stripe is configured in part: {} missing (give all three, or none)",
                    missing.join(" and ")
                )
            }
        }
    }

    /// Where this instance's HMAC keys come from: the configured keys, else the key file.
    pub fn key_source(&self) -> KeySource {
        match &self.secrets {
            Some(keys) => KeySource::Given(keys.clone()),
            None => KeySource::File(
                self.secrets_file
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join(secrets::DEFAULT_FILE)),
            ),
        }
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
        assert_eq!(c.metrics_bind, None, "no metrics listener unless asked");
    }

    #[test]
    fn metrics_are_served_on_the_address_given() {
        let c = accepts("--metrics-bind", "127.0.0.1:9464");
        assert_eq!(c.metrics_bind, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(
            Config::try_parse_from(["account-center", "--metrics-bind", "localhost"])
                .unwrap_err()
                .kind(),
            clap::error::ErrorKind::ValueValidation
        );
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
    fn the_keys_live_in_a_file_in_the_data_folder_unless_given() {
        let path = |c: Config| match c.key_source() {
            KeySource::File(path) => path,
            KeySource::Given(_) => panic!("no keys were given"),
        };
        let c = Config::try_parse_from(["account-center", "--data-dir", "/tmp/x"]).unwrap();
        assert_eq!(path(c), PathBuf::from("/tmp/x/secrets.key"));
        let c = Config::try_parse_from(["account-center", "--secrets-file", "/etc/ac/keys"]);
        assert_eq!(path(c.unwrap()), PathBuf::from("/etc/ac/keys"));

        let keys = Secrets::generate();
        let c = Config::try_parse_from(["account-center", "--secrets", &keys.to_text()]).unwrap();
        assert!(matches!(c.key_source(), KeySource::Given(given) if given == keys));
        // One source only: a file and keys together would leave it unclear which one counts.
        let both = Config::try_parse_from([
            "account-center",
            "--secrets",
            &keys.to_text(),
            "--secrets-file",
            "/etc/ac/keys",
        ]);
        assert_eq!(
            both.unwrap_err().kind(),
            clap::error::ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn malformed_keys_are_refused_at_start_without_being_repeated() {
        let text = format!("code_hmac_key={}", "5e".repeat(32));
        let refused = refusal("--secrets", &text);
        assert!(refused.contains("fingerprint_key is missing"), "{refused}");
        assert!(!refused.contains(&"5e".repeat(32)), "{refused}");
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

    /// The refusal of `flag=value` (the `=` lets a negative number through as a value, as an
    /// environment variable would), which must name the flag.
    fn refusal(flag: &str, value: &str) -> String {
        let error = Config::try_parse_from(["account-center", &format!("{flag}={value}")])
            .expect_err("the value is refused");
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        let message = error.to_string();
        assert!(message.contains(flag), "{message}");
        message
    }

    fn accepts(flag: &str, value: &str) -> Config {
        Config::try_parse_from(["account-center", flag, value]).expect("the value is accepted")
    }

    /// `--cool-down-days 0` (or a negative number) would let the next closure pass delete the
    /// account at once.
    #[test]
    fn a_cool_down_lasts_one_to_365_days() {
        for value in ["0", "-1", "366"] {
            refusal("--cool-down-days", value);
        }
        assert_eq!(accepts("--cool-down-days", "1").cool_down_days, 1);
        assert_eq!(accepts("--cool-down-days", "365").cool_down_days, 365);
        assert!(refusal("--cool-down-days", "0").contains("1..=365"));
    }

    /// A negative delay would bill hours not yet used.
    #[test]
    fn usage_is_billed_zero_to_72_hours_late() {
        for value in ["-1", "73"] {
            refusal("--usage-billing-delay-hours", value);
        }
        // No delay is fine for the usage job: an hour is billed as soon as it is over.
        let c = accepts("--usage-billing-delay-hours", "0");
        assert_eq!(c.usage_billing_delay_hours, 0);
        let c = accepts("--usage-billing-delay-hours", "72");
        assert_eq!(c.usage_billing_delay_hours, 72);
    }

    /// A gateway timeout of 0 would fail every call at once.
    #[test]
    fn a_gateway_call_waits_100_ms_to_two_minutes() {
        for value in ["0", "99", "120001", "-5"] {
            refusal("--gateway-timeout-ms", value);
        }
        assert_eq!(
            accepts("--gateway-timeout-ms", "100").gateway_timeout_ms,
            100
        );
        assert_eq!(
            accepts("--gateway-timeout-ms", "120000").gateway_timeout_ms,
            120_000
        );
    }

    /// The simulated gateway is held to its ranges too: at most 50 % faults, 10 s a call.
    #[test]
    fn the_simulated_gateway_answers_within_ten_seconds() {
        refusal("--simulator-fault-percent", "51");
        assert_eq!(
            accepts("--simulator-fault-percent", "50").simulator_fault_percent,
            50
        );
        refusal("--simulator-latency-ms", "10001");
        refusal("--simulator-latency-ms", "-1");
        assert_eq!(
            accepts("--simulator-latency-ms", "0").simulator_latency_ms,
            0
        );
        assert_eq!(
            accepts("--simulator-latency-ms", "10000").simulator_latency_ms,
            10_000
        );
    }

    #[test]
    fn the_defaults_are_within_their_ranges() {
        let c = Config::try_parse_from(["account-center"]).unwrap();
        assert!(GATEWAY_TIMEOUT_MS.contains(&c.gateway_timeout_ms));
        assert!(SIMULATOR_LATENCY_MS.contains(&c.simulator_latency_ms));
        assert!(USAGE_BILLING_DELAY_HOURS.contains(&c.usage_billing_delay_hours));
        assert!(COOL_DOWN_DAYS.contains(&c.cool_down_days));
        c.check().unwrap();
    }

    /// A billing delay as long as the cool-down would let a closing account be deleted before
    /// its last usage is billed: `check` refuses the pair, and the server does not start.
    #[test]
    fn a_closing_accounts_last_usage_is_billed_before_its_cool_down_ends() {
        let with = |delay: &str, days: &str| {
            Config::try_parse_from([
                "account-center",
                "--usage-billing-delay-hours",
                delay,
                "--cool-down-days",
                days,
            ])
            .unwrap()
        };
        with("22", "1").check().unwrap();
        let refused = with("23", "1").check().unwrap_err().to_string();
        assert!(
            refused.contains("--usage-billing-delay-hours 23")
                && refused.contains("--cool-down-days 1")
                && refused.contains("at most 22 hours"),
            "{refused}"
        );
        with("72", "4").check().unwrap();
    }

    #[test]
    fn named_settings_become_the_flags_of_the_same_options() {
        let keys = Secrets::generate().to_text();
        let named = |name: &str| match name {
            "ACCOUNT_CENTER_SECRETS" => Some(keys.clone()),
            "ACCOUNT_CENTER_STRIPE_SECRET_KEY" => Some("sk_live_x".to_owned()),
            "ACCOUNT_CENTER_STRIPE_PUBLISHABLE_KEY" => Some("pk_live_x".to_owned()),
            "ACCOUNT_CENTER_TWILIO_ACCOUNT_SID" => Some("AC123".to_owned()),
            "ACCOUNT_CENTER_TRUST_PROXY" => Some("true".to_owned()),
            "ACCOUNT_CENTER_LOG_JSON" => Some("false".to_owned()),
            "SOMETHING_ELSE" => Some("ignored".to_owned()),
            _ => None,
        };
        let flags = Config::flags_from(named);
        assert!(
            flags.contains(&"--stripe-secret-key=sk_live_x".to_owned()),
            "{flags:?}"
        );
        assert!(flags.contains(&"--trust-proxy".to_owned()), "{flags:?}");
        assert!(
            !flags.iter().any(|f| f.starts_with("--log-json")),
            "{flags:?}"
        );
        assert_eq!(flags.len(), 5, "{flags:?}");

        let config =
            Config::try_parse_from(std::iter::once("account-center".to_owned()).chain(flags))
                .unwrap();
        assert!(matches!(config.key_source(), KeySource::Given(given) if given.to_text() == keys));
        assert!(config.stripe_secret_key.is_some());
        assert_eq!(config.stripe_publishable_key.as_deref(), Some("pk_live_x"));
        assert_eq!(config.twilio_account_sid.as_deref(), Some("AC123"));
        assert!(config.trust_proxy && !config.log_json);
    }
}
