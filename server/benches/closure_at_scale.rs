//! Closure decisions at scale: 100,000 accounts whose cool-down ends at the
//! same moment, seeded as the closure flow leaves them (account `closing`, its closure row, the
//! service-linked role, the pending `closure_decide` job, the "closure started" messages, and
//! what sign-up, contact verification and the system check left before). One in ten got a new
//! overdue bill during the cool-down, so its closure fails and the account is restored.
//!
//! 1. In this process: the time to settle all of them (`jobs::run_due`) against the time to
//!    merely scan the same rows (target: settled within 10 s on SQLite).
//! 2. The real release binary, killed with SIGKILL midway and started again: afterwards every
//!    closure is decided exactly once and each notification is in the outbox exactly once.
//!    The counts are printed; the process exits non-zero if any is wrong.
//!
//! On PostgreSQL each seeded database is analysed (`ANALYZE`) before the decisions start, so
//! they are planned with statistics as on a live database, not with the planner's guesses
//! about tables it has never seen (autovacuum would get there only minutes later).
//!
//! `cargo bench -p server --bench closure_at_scale` (ACCOUNTS=… to change the 100,000)

mod support;

use clap::Parser;
use server::clock::DurationMs;
use server::config::Config;
use server::db::Db;
use server::state::AppState;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every tenth account got an overdue bill during its cool-down.
const FAILING_EVERY: i64 = 10;

#[tokio::main]
async fn main() {
    support::log_from_env();
    let accounts: i64 = std::env::var("ACCOUNTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    println!(
        "Closure decisions: {accounts} cool-downs ending at once; {}",
        support::machine()
    );
    let mut problems = Vec::new();

    // 1. Settle in this process, against a scan of the same rows.
    let data = tempfile::tempdir().unwrap();
    let url = support::database_url(data.path()).await;
    let state = open(data.path(), &url).await;
    let seeding = Instant::now();
    seed(&state, accounts).await;
    println!(
        "seeded {accounts} closing accounts in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let scan_started = Instant::now();
    let scanned: Vec<(String, String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT j.id, c.account_id, a.email, a.phone, COALESCE(b.unpaid, 0)
         FROM jobs j JOIN closures c ON c.id = j.subject JOIN accounts a ON a.id = c.account_id
         LEFT JOIN (SELECT account_id, COUNT(*) AS unpaid FROM bills WHERE status = 'unpaid' GROUP BY account_id) b
           ON b.account_id = c.account_id
         WHERE j.kind = 'closure_decide' AND j.status = 'pending'",
    )
    .fetch_all(&state.db)
    .await
    .unwrap();
    let scan = scan_started.elapsed();
    assert_eq!(scanned.len() as i64, accounts);
    let settle_started = Instant::now();
    let ran = server::jobs::run_due(&state).await.unwrap();
    let settle = settle_started.elapsed();
    println!();
    println!(
        "scan of the same rows (baseline): {:>8.3} s",
        scan.as_secs_f64()
    );
    println!(
        "settle all {ran} decisions:      {:>8.3} s = {:.0} × the scan, {:.0} decisions/s",
        settle.as_secs_f64(),
        settle.as_secs_f64() / scan.as_secs_f64(),
        ran as f64 / settle.as_secs_f64()
    );
    println!(
        "target {}: settled within 10 s",
        if settle <= Duration::from_secs(10) {
            "met   "
        } else {
            "MISSED"
        }
    );
    problems.extend(check_exactly_once(&state.db, accounts, "in process").await);
    state.db.close().await;
    drop(data);

    // 2. The release binary, killed midway with SIGKILL, then started again.
    println!();
    let data = tempfile::tempdir().unwrap();
    let url = support::database_url(data.path()).await;
    let state = open(data.path(), &url).await;
    seed(&state, accounts).await;
    state.db.close().await;
    let db = server::db::open(&url).await.unwrap();
    let started = Instant::now();
    let (mut first, _) = start(data.path(), &url, "first.log");
    let half = accounts / 2;
    let done_before_kill = loop {
        let done = count(
            &db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'done'",
        )
        .await;
        // Midway, and while a claimed batch is being decided rather than just committed.
        let claimed = count(
            &db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'running'",
        )
        .await;
        if done >= half && claimed > 0 {
            break done;
        }
        if let Some(exit) = first.try_wait().unwrap() {
            panic!("the first server exited on its own: {exit:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let leased = count(
        &db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'running'",
    )
    .await;
    let done_at_kill = count(
        &db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'done'",
    )
    .await;
    println!(
        "killed (SIGKILL) after {:.2} s with {done_at_kill} decided ({done_before_kill} seen just before), {leased} claimed under a lease and not committed",
        started.elapsed().as_secs_f64()
    );
    let restarted = Instant::now();
    let (mut second, base) = start(data.path(), &url, "second.log");
    // The dead server's leases run out after a minute: move the dev clock past them.
    reqwest::Client::new()
        .post(format!("{base}/api/dev/clock"))
        .json(&serde_json::json!({"advance_seconds": 61}))
        .send()
        .await
        .unwrap();
    loop {
        let open = count(&db, "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status IN ('pending', 'running')").await;
        if open == 0 {
            break;
        }
        if restarted.elapsed() > Duration::from_secs(600) {
            problems.push(format!(
                "{open} decisions still open 10 minutes after the restart"
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "restarted: the rest settled {:.2} s after the restart",
        restarted.elapsed().as_secs_f64()
    );
    second.kill().unwrap();
    second.wait().unwrap();
    problems.extend(check_exactly_once(&db, accounts, "killed and restarted").await);

    println!();
    if problems.is_empty() {
        println!("every count is right: each closure decided once, each message queued once");
    } else {
        for problem in &problems {
            println!("WRONG: {problem}");
        }
        std::process::exit(1);
    }
}

/// The state of a server in dev mode (the movable clock the restart needs) on `data`, with its
/// migrations run; no scheduler, no listener.
async fn open(data: &Path, url: &str) -> AppState {
    let dir = data.to_str().unwrap();
    let config = Config::try_parse_from([
        "account-center",
        "--database-url",
        url,
        "--mode",
        "dev",
        "--data-dir",
        dir,
        "--site-dir",
        dir,
        "--run-scheduler",
        "false",
    ])
    .unwrap();
    server::build_state(config).await.unwrap()
}

/// The rows, generated in SQL (one statement per table), as sign-up, contact verification,
/// the system check and the confirmed closure leave them. The cool-down of every account ended
/// a second ago.
async fn seed(state: &AppState, accounts: i64) {
    let hash = state.hasher.hash(support::PASSWORD.into()).await.unwrap();
    let ends = state.clock.now() - DurationMs::seconds(1);
    let started = ends - DurationMs::days(1);
    let signed_up = started - DurationMs::days(7);
    let statements = [
        "INSERT INTO accounts (id, uid, email, password_hash, country, verified_channel, email_verified_at, phone, phone_verified_at, status, created_at)
         SELECT 'ac-' || n, 'u' || n, 'close.' || n || '@example.com', $1, 'SG', 'email', $3, '+65' || (80000000 + n), $3, 'closing', $3 FROM n",
        "INSERT INTO signups (id, email, password_hash, country, created_at, expires_at, account_id)
         SELECT 'su-' || n, 'close.' || n || '@example.com', '', 'SG', $3, $3 + 86400000, 'ac-' || n FROM n",
        "INSERT INTO verification_codes (id, subject, channel, address, delivery, code_hash, created_at, expires_at, consumed_at)
         SELECT 'vs-' || n, 'signup:su-' || n, 'email', 'close.' || n || '@example.com', NULL, 'h', $3, $3 + 600000, $3 FROM n
         UNION ALL SELECT 'vc-' || n, 'account:ac-' || n || ':contact', 'phone', '+65' || (80000000 + n), 'sms', 'h', $3, $3 + 600000, $3 FROM n
         UNION ALL SELECT 'vi-' || n, 'account:ac-' || n || ':closure', 'phone', '+65' || (80000000 + n), 'sms', 'h', $2, $2 + 600000, $2 FROM n",
        "INSERT INTO outbox (id, account_id, channel, recipient, subject, body, created_at, status)
         SELECT 'os-' || n, NULL, 'email', 'close.' || n || '@example.com', 'Your sign-up code', 'Your code is 123456.', $3, 'sent' FROM n
         UNION ALL SELECT 'oc-' || n, 'ac-' || n, 'sms', '+65' || (80000000 + n), 'Your verification code', 'Your code is 123456.', $3, 'sent' FROM n
         UNION ALL SELECT 'oi-' || n, 'ac-' || n, 'sms', '+65' || (80000000 + n), 'Your verification code', 'Your code is 123456.', $2, 'sent' FROM n
         UNION ALL SELECT 'oe-' || n, 'ac-' || n, 'email', 'close.' || n || '@example.com', 'Account closure started', 'The cool-down ends tomorrow.', $2, 'sent' FROM n
         UNION ALL SELECT 'om-' || n, 'ac-' || n, 'sms', '+65' || (80000000 + n), 'Account closure started', '[Account Center] Account closure started.', $2, 'sent' FROM n",
        "INSERT INTO billing_addresses (account_id, account_type, last_name, first_name, country, address_line1, city, state, postal_code, updated_at)
         SELECT 'ac-' || n, 'individual', 'Tan', 'Mei', 'SG', '1 Main Street', 'Singapore', '', '048616', $3 FROM n",
        "INSERT INTO closure_checks (id, account_id, progress, status, result, created_at, done_at)
         SELECT 'cc-' || n, 'ac-' || n, 100, 'done', '{\"items\":[],\"can_close\":true}', $2, $2 FROM n",
        "INSERT INTO closures (id, account_id, status, reason, renounced, started_at, ends_at)
         SELECT 'cl-' || n, 'ac-' || n, 'cooling_down', 'other', '', $2, $4 FROM n",
        "INSERT INTO service_linked_roles (account_id, role_name, created_at)
         SELECT 'ac-' || n, 'AliyunServiceRoleForAccountDeletion', $2 FROM n",
        "INSERT INTO jobs (id, kind, subject, due_at, status, attempts, created_at, done_at)
         SELECT 'jc-' || n, 'closure_system_check', 'cc-' || n, $2, 'done', 1, $2, $2 FROM n
         UNION ALL SELECT 'jd-' || n, 'closure_decide', 'cl-' || n, $4, 'pending', 0, $2, NULL FROM n",
        "INSERT INTO bills (id, account_id, description, amount_minor, currency, status, due_at, created_at)
         SELECT 'bill-' || n, 'ac-' || n, 'Pay-as-you-go usage', 500, 'USD', 'unpaid', $2 + 3600000, $2 FROM n WHERE n % $5 = 0",
    ];
    let mut tx = server::db::begin_write(&state.db).await.unwrap();
    for statement in statements {
        let sql = format!(
            "WITH RECURSIVE n(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM n WHERE n < $6) {statement}"
        );
        sqlx::query(&sql)
            .bind(&hash)
            .bind(started)
            .bind(signed_up)
            .bind(ends)
            .bind(FAILING_EVERY)
            .bind(accounts)
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    tx.commit().await.unwrap();
    support::analyze(&state.db).await;
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// Counts what the decisions left and compares each count with what exactly-once means.
async fn check_exactly_once(db: &Db, accounts: i64, run: &str) -> Vec<String> {
    let failing = accounts / FAILING_EVERY;
    let closed = accounts - failing;
    let expected = [
        (
            "decision jobs done",
            "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'done'",
            accounts,
        ),
        (
            "decision jobs not done",
            "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status <> 'done'",
            0,
        ),
        (
            "accounts left (restored)",
            "SELECT COUNT(*) FROM accounts",
            failing,
        ),
        (
            "accounts still closing",
            "SELECT COUNT(*) FROM accounts WHERE status = 'closing'",
            0,
        ),
        (
            "closures failed",
            "SELECT COUNT(*) FROM closures WHERE status = 'failed'",
            failing,
        ),
        (
            "closures still cooling down",
            "SELECT COUNT(*) FROM closures WHERE status = 'cooling_down'",
            0,
        ),
        (
            "'Account closed' emails",
            "SELECT COUNT(*) FROM outbox WHERE subject = 'Account closed' AND channel = 'email'",
            closed,
        ),
        (
            "  to distinct addresses",
            "SELECT COUNT(DISTINCT recipient) FROM outbox WHERE subject = 'Account closed' AND channel = 'email'",
            closed,
        ),
        (
            "'Account closed' SMS",
            "SELECT COUNT(*) FROM outbox WHERE subject = 'Account closed' AND channel = 'sms'",
            closed,
        ),
        (
            "  to distinct numbers",
            "SELECT COUNT(DISTINCT recipient) FROM outbox WHERE subject = 'Account closed' AND channel = 'sms'",
            closed,
        ),
        (
            "'Account closure failed' emails",
            "SELECT COUNT(*) FROM outbox WHERE subject = 'Account closure failed' AND channel = 'email'",
            failing,
        ),
        (
            "  to distinct addresses",
            "SELECT COUNT(DISTINCT recipient) FROM outbox WHERE subject = 'Account closure failed' AND channel = 'email'",
            failing,
        ),
        (
            "'Account closure failed' SMS",
            "SELECT COUNT(*) FROM outbox WHERE subject = 'Account closure failed' AND channel = 'sms'",
            failing,
        ),
        (
            "verification codes of closed accounts",
            "SELECT COUNT(*) FROM verification_codes WHERE address NOT IN (SELECT email FROM accounts UNION ALL SELECT phone FROM accounts)",
            0,
        ),
        (
            "service-linked roles left",
            "SELECT COUNT(*) FROM service_linked_roles",
            0,
        ),
    ];
    println!("counts after the decisions ({run}):");
    let mut problems = Vec::new();
    for (what, sql, want) in expected {
        let got = count(db, sql).await;
        let mark = if got == want { "ok" } else { "WRONG" };
        println!("  {what:<40} {got:>8}  (expected {want:>8})  {mark}");
        if got != want {
            problems.push(format!("{run}: {what}: {got}, expected {want}"));
        }
    }
    problems
}

/// Starts the release binary in dev mode on `data`, waits for its address.
fn start(data: &Path, url: &str, log_name: &str) -> (Child, String) {
    let log_path = data.join(log_name);
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_account-center"))
        .args(["--mode", "dev", "--bind", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .arg("--database-url")
        .arg(url)
        .arg("--site-dir")
        .arg(data)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the server binary starts");
    for _ in 0..1_000 {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find(|l| l.starts_with("Account Center is running at "))
        {
            let base = line
                .trim_start_matches("Account Center is running at ")
                .split('/')
                .take(3)
                .collect::<Vec<_>>()
                .join("/");
            return (child, base);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "the server did not start: {}",
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );
}
