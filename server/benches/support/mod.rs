//! What the benchmarks share: a server on a temp SQLite file (or, with `BENCH_DB=postgres`, a
//! new database in the PostgreSQL cluster of `TEST_POSTGRES_URL`: `bash .ci/bench` runs each
//! bench on both and prints both), rows seeded with SQL in big
//! transactions (one argon2 hash reused: hashing per account would take minutes), real
//! sessions signed in through the API, and a fixed-concurrency driver that reports req/s, p50
//! and p99. These machines are shared and noisy, so every figure is printed beside a baseline
//! measured in the same run, as a ratio; nothing here asserts a time.

#![allow(dead_code)] // each bench uses its own share of these

use clap::Parser;
use reqwest::{Client, StatusCode};
use serde_json::json;
use server::Application;
use server::config::Config;
use server::state::AppState;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The server binary's allocator (`src/main.rs`), so the benchmarks measure what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub const PASSWORD: &str = "Harbour7Lights";

/// The release router in this process, on 127.0.0.1 port 0, over a fresh SQLite file.
pub struct Server {
    pub base: String,
    pub state: AppState,
    /// The `--database-url` it runs on: another instance can be started on the same database.
    pub database: String,
    _data: TempDir,
}

/// The database this run measures: `sqlite` (default) or `postgres`.
pub fn database_name() -> &'static str {
    match std::env::var("BENCH_DB").as_deref() {
        Ok("postgres") => "postgres",
        Ok("sqlite") | Err(_) => "sqlite",
        Ok(other) => panic!("BENCH_DB={other}: use sqlite or postgres"),
    }
}

/// The `--database-url` for a bench server whose files live in `data`: the SQLite file there,
/// or a new database in the PostgreSQL cluster.
pub async fn database_url(data: &std::path::Path) -> String {
    if database_name() == "sqlite" {
        return format!("sqlite://{}", data.join("account-center.db").display());
    }
    use sqlx::Connection;
    let admin = std::env::var("TEST_POSTGRES_URL")
        .expect("BENCH_DB=postgres needs TEST_POSTGRES_URL: run under bash .ci/with-postgres");
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// Brings the seeded PostgreSQL tables to the state of a live database: statistics for the
/// planner, and the visibility map that lets index-only scans skip the table. Autovacuum would
/// do both (it vacuums after inserts too), but only after the bench has run its queries against
/// a planner that guesses and indexes whose every hit still reads the row. SQLite keeps no
/// statistics unless `ANALYZE` is run, which the server never does, so there the bench
/// measures what production does.
pub async fn analyze(db: &server::db::Db) {
    if database_name() == "postgres" {
        sqlx::raw_sql("VACUUM ANALYZE")
            .execute(db.writer())
            .await
            .unwrap();
    }
}

pub async fn start_server() -> Server {
    start_server_with(&[]).await
}

/// [`start_server`] with `extra` arguments.
pub async fn start_server_with(extra: &[&str]) -> Server {
    let data = tempfile::tempdir().expect("temp dir");
    let database = database_url(data.path()).await;
    start_server_on(data, database, extra).await
}

/// Another instance on `first`'s database, as a second machine behind a load balancer would be
/// (PostgreSQL), with `extra` arguments (those `first` was started with).
pub async fn start_another_instance(first: &Server, extra: &[&str]) -> Server {
    let data = tempfile::tempdir().expect("temp dir");
    // The same keys: card fingerprints and codes must mean the same on both.
    let keys = first._data.path().join("secrets.key");
    let mut args = vec!["--secrets-file", keys.to_str().unwrap()];
    args.extend_from_slice(extra);
    start_server_on(data, first.database.clone(), &args).await
}

async fn start_server_on(data: TempDir, database: String, extra: &[&str]) -> Server {
    let dir = data.path().to_str().unwrap().to_owned();
    let mut args = vec![
        "account-center",
        "--database-url",
        &database,
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        &dir,
        "--site-dir",
        &dir,
        // Timed jobs would compete with the load; none is due in these benchmarks anyway.
        "--run-scheduler",
        "false",
    ];
    args.extend_from_slice(extra);
    let config = Config::try_parse_from(args).expect("bench config");
    let app = Application::build(config).await.expect("server builds");
    let base = format!("http://{}", app.local_addr());
    let state = app.state();
    tokio::spawn(app.run_until(std::future::pending()));
    Server {
        base,
        state,
        database,
        _data: data,
    }
}

/// A keep-alive client without a cookie jar: the production server's cookie is `Secure`, so
/// the session cookie is sent by hand.
pub fn client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[derive(Clone)]
pub struct Seeded {
    pub id: String,
    pub email: String,
}

/// `count` verified Singapore accounts (email and phone proven, so they may save a billing
/// address), all with the password [`PASSWORD`] hashed once.
pub async fn seed_accounts(state: &AppState, count: usize, tag: &str) -> Vec<Seeded> {
    let hash = state.hasher.hash(PASSWORD.into()).await.unwrap();
    let now = state.clock.now();
    let mut accounts = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(5_000) {
        let mut tx = server::db::begin_write(&state.db).await.unwrap();
        for &n in chunk {
            let id = uuid::Uuid::new_v4().to_string();
            let email = format!("{tag}.{n}@example.com");
            sqlx::query(
                "INSERT INTO accounts (id, uid, email, password_hash, country, verified_channel, email_verified_at, phone, phone_verified_at, created_at)
                 VALUES ($1, $2, $3, $4, 'SG', 'email', $5, $6, $5, $5)",
            )
            .bind(&id)
            .bind(format!("5{:015}", n))
            .bind(&email)
            .bind(&hash)
            .bind(now)
            .bind(format!("+658{:07}", n))
            .execute(&mut *tx)
            .await
            .unwrap();
            accounts.push(Seeded { id, email });
        }
        tx.commit().await.unwrap();
    }
    accounts
}

/// A session of each of `accounts`, as if each were signed in on another device: a live
/// service's sessions table holds one or more per active account, and the plan of the session
/// read depends on its size. Their tokens are never sent.
pub async fn seed_sessions(state: &AppState, accounts: &[Seeded]) {
    let now = state.clock.now();
    let mut tx = server::db::begin_write(&state.db).await.unwrap();
    for account in accounts {
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, authenticated_at, expires_at, last_used_at)
             VALUES ($1, $2, $3, $4, $4, $5, $4)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&account.id)
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(now)
        .bind(now + server::clock::DurationMs::days(1))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// A real session: signed in through the API. Returns the `Cookie` header and the CSRF token.
pub async fn sign_in(client: &Client, base: &str, email: &str) -> (String, String) {
    loop {
        let response = client
            .post(format!("{base}/api/session"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(response.status(), StatusCode::OK, "sign-in of {email}");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("ac_session="))
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let body: serde_json::Value = response.json().await.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        return (cookie, csrf);
    }
}

/// A Singapore individual's billing address, its street numbered by `n` (so that successive
/// saves of it differ).
pub fn address(n: u64) -> serde_json::Value {
    json!({
        "account_type": "individual",
        "last_name": "Tan",
        "first_name": "Mei",
        "country": "SG",
        "address_line1": format!("{} Main Street", n % 1000 + 1),
        "city": "Singapore",
        "state": "",
        "postal_code": "048616",
    })
}

/// Latencies and failures of one load.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub requests: usize,
    pub failures: usize,
    pub elapsed: Duration,
    /// Sorted.
    pub latencies: Vec<Duration>,
    /// The CPU time the load took, warm-up included, and the requests it was spent on.
    pub cpu: Cpu,
    pub cpu_requests: usize,
}

/// CPU time spent, user and system: by this process (the server under load and the load's
/// client, which share it) and by every PostgreSQL process of the machine (its backends and
/// helpers; none on SQLite). Read from Linux's `/proc` in its clock ticks of 10 ms, so a
/// figure means something over many requests, not one.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cpu {
    pub this_process: Duration,
    pub postgres: Duration,
}

impl Cpu {
    pub fn now() -> Cpu {
        let mut postgres = Duration::ZERO;
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let dir = entry.path();
            let is_postgres = std::fs::read_to_string(dir.join("comm"))
                .is_ok_and(|comm| comm.trim_end() == "postgres");
            if is_postgres {
                postgres += cpu_of(&dir.join("stat"));
            }
        }
        Cpu {
            this_process: cpu_of(std::path::Path::new("/proc/self/stat")),
            postgres,
        }
    }

    fn since(self, earlier: Cpu) -> Cpu {
        Cpu {
            this_process: self.this_process.saturating_sub(earlier.this_process),
            postgres: self.postgres.saturating_sub(earlier.postgres),
        }
    }

    fn add(&mut self, other: Cpu) {
        self.this_process += other.this_process;
        self.postgres += other.postgres;
    }
}

/// A process's user and system time from its `/proc/<pid>/stat`: fields 14 and 15, in clock
/// ticks of 1/100 s (Linux's fixed `USER_HZ`); zero if it cannot be read (the process ended).
fn cpu_of(stat: &std::path::Path) -> Duration {
    let Ok(text) = std::fs::read_to_string(stat) else {
        return Duration::ZERO;
    };
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let Some((_, after_name)) = text.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

impl Figures {
    /// Adds the figures of another slice of the same load.
    pub fn add(&mut self, slice: Figures) {
        self.requests += slice.requests;
        self.failures += slice.failures;
        self.elapsed += slice.elapsed;
        self.latencies.extend(slice.latencies);
        self.latencies.sort_unstable();
        self.cpu.add(slice.cpu);
        self.cpu_requests += slice.cpu_requests;
    }

    /// Microseconds of CPU per request: this process's, and PostgreSQL's.
    pub fn cpu_per_request(&self) -> (f64, f64) {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / self.cpu_requests.max(1) as f64;
        (per(self.cpu.this_process), per(self.cpu.postgres))
    }

    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    pub fn p50(&self) -> Duration {
        self.percentile(50.0)
    }

    pub fn p99(&self) -> Duration {
        self.percentile(99.0)
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `request` from `concurrency` workers for `duration` (after a short warm-up that is
/// not counted). `request(worker, n)` answers whether the request succeeded.
pub async fn drive<F, Fut>(concurrency: usize, duration: Duration, request: F) -> Figures
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    drive_until(
        concurrency,
        Some(duration),
        Arc::new(AtomicBool::new(false)),
        request,
    )
    .await
}

/// Like [`drive`], but runs until `stop` is set when `duration` is `None`.
pub async fn drive_until<F, Fut>(
    concurrency: usize,
    duration: Option<Duration>,
    stop: Arc<AtomicBool>,
    request: F,
) -> Figures
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let warm_up = Duration::from_millis(500);
    let cpu_before = Cpu::now();
    let started = Instant::now();
    let measure_from = started + warm_up;
    let end = duration.map(|d| measure_from + d);
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let request = request.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut figures = Figures::default();
                let mut n = 0u64;
                loop {
                    let at = Instant::now();
                    if end.is_some_and(|end| at >= end) || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let ok = request(worker, n).await;
                    n += 1;
                    figures.cpu_requests += 1;
                    if at >= measure_from {
                        figures.requests += 1;
                        figures.latencies.push(at.elapsed());
                        if !ok {
                            figures.failures += 1;
                        }
                    }
                }
                figures
            })
        })
        .collect();
    let mut all = Figures::default();
    for worker in workers {
        let f = worker.await.unwrap();
        all.requests += f.requests;
        all.failures += f.failures;
        all.latencies.extend(f.latencies);
        all.cpu_requests += f.cpu_requests;
    }
    all.cpu = Cpu::now().since(cpu_before);
    all.elapsed = Instant::now().saturating_duration_since(measure_from);
    all.latencies.sort_unstable();
    all
}

pub fn print_header() {
    println!(
        "{:<46} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>12} {:>12}",
        "load",
        "req/s",
        "p50 ms",
        "p99 ms",
        "failed",
        "req/s ÷",
        "p99 ×",
        "µs CPU here",
        "µs CPU pg"
    );
}

/// One line: the figures, req/s as a share of the baseline's and p99 as a multiple of it, then
/// the CPU time a request took in this process (server and client) and in PostgreSQL.
pub fn print_row(name: &str, f: &Figures, baseline: &Figures) {
    let (here, postgres) = f.cpu_per_request();
    println!(
        "{:<46} {:>9.0} {:>9.2} {:>9.2} {:>9} {:>9.0}% {:>9.1}× {:>12.1} {:>12.1}",
        name,
        f.per_second(),
        ms(f.p50()),
        ms(f.p99()),
        f.failures,
        100.0 * f.per_second() / baseline.per_second(),
        ms(f.p99()) / ms(baseline.p99()).max(0.001),
        here,
        postgres,
    );
}

/// Logs to stderr what `RUST_LOG` asks for, if it is set: `RUST_LOG=sqlx::query=debug` prints
/// every statement with its time, the way the closure settle's growing deletion was found.
pub fn log_from_env() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init();
    }
}

pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}; database: {}", database_name())
}
