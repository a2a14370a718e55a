//! Sign-in storm: 200 sign-ins at once while signed-in reads go on. Prints
//! the read p99 during the storm as a multiple of the idle read p99 measured just before
//! (target ≤ 2), the share of sign-ins answered 429 with `Retry-After` (the bounded argon2
//! queue of `passwords.rs`), and every sign-in that timed out or failed otherwise (target: none;
//! the process exits non-zero if there is one). On PostgreSQL the seeded tables are analysed
//! (`ANALYZE`) first, so queries are planned with statistics as on a live database.
//!
//! `cargo bench -p server --bench signin_storm`

mod support;

use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{client, drive, drive_until, ms, print_header, print_row, seed_accounts};

const ACCOUNTS: usize = 1_000;
const READERS: usize = 16;
const STORM: usize = 200;
const IDLE: Duration = Duration::from_secs(5);

#[derive(Default, Debug)]
struct Answers {
    signed_in: usize,
    busy_with_retry_after: usize,
    busy_without_retry_after: usize,
    timed_out: usize,
    other: Vec<String>,
}

#[tokio::main]
async fn main() {
    // The storm comes from many people, each at an address of their own (`X-Forwarded-For`
    // through a trusted proxy): from one address, the per-client sign-in throttle, which
    // counts attempts under way, would refuse all but the first twenty before the hasher.
    let server = support::start_server_with(&["--trust-proxy"]).await;
    let base = Arc::new(server.base.clone());
    let accounts = seed_accounts(&server.state, ACCOUNTS, "storm").await;
    support::analyze(&server.state.db).await;
    let http = client();
    let mut sessions = Vec::new();
    for account in accounts.iter().take(READERS) {
        sessions.push(support::sign_in(&http, &base, &account.email).await.0);
    }
    let sessions = Arc::new(sessions);
    println!(
        "Sign-in storm: {STORM} sign-ins at once while {READERS} clients read GET /api/session; {}",
        support::machine()
    );

    let read = {
        let (http, base, sessions) = (http.clone(), base.clone(), sessions.clone());
        move |worker: usize, _| {
            let (http, base, sessions) = (http.clone(), base.clone(), sessions.clone());
            async move {
                let r = http
                    .get(format!("{base}/api/session"))
                    .header("cookie", &sessions[worker])
                    .send()
                    .await;
                match r {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                }
            }
        }
    };
    let idle = drive(READERS, IDLE, read.clone()).await;

    // The reads start, and once their warm-up is over the storm begins; the reads stop when
    // the last sign-in is answered, so their figures cover the storm.
    let stop = Arc::new(AtomicBool::new(false));
    let reads = tokio::spawn(drive_until(READERS, None, stop.clone(), read));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let storm_started = Instant::now();
    let storm_client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let sign_ins: Vec<_> = accounts
        .iter()
        .skip(READERS)
        .take(STORM)
        .enumerate()
        .map(|(n, account)| {
            let (http, base, email) = (storm_client.clone(), base.clone(), account.email.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let r = http
                    .post(format!("{base}/api/session"))
                    .header("x-forwarded-for", format!("10.0.{}.{}", n / 256, n % 256))
                    .json(&json!({"email": email, "password": support::PASSWORD}))
                    .send()
                    .await;
                (r, started.elapsed())
            })
        })
        .collect();
    let mut answers = Answers::default();
    let mut slowest = Duration::ZERO;
    for sign_in in sign_ins {
        let (response, took) = sign_in.await.unwrap();
        slowest = slowest.max(took);
        match response {
            Ok(r) if r.status() == StatusCode::OK => answers.signed_in += 1,
            Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS => {
                if r.headers().contains_key("retry-after") {
                    answers.busy_with_retry_after += 1;
                } else {
                    answers.busy_without_retry_after += 1;
                }
            }
            Ok(r) => answers.other.push(format!("status {}", r.status())),
            Err(e) if e.is_timeout() => answers.timed_out += 1,
            Err(e) => answers.other.push(e.to_string()),
        }
    }
    let storm_took = storm_started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let during = reads.await.unwrap();

    println!();
    print_header();
    print_row("reads, idle (baseline)", &idle, &idle);
    print_row("reads during the storm", &during, &idle);
    println!();
    let ratio = ms(during.p99()) / ms(idle.p99()).max(0.001);
    println!(
        "storm: {STORM} sign-ins answered in {:.0} ms (slowest {:.0} ms)",
        ms(storm_took),
        ms(slowest)
    );
    println!("  signed in:                  {}", answers.signed_in);
    println!(
        "  429 with Retry-After:       {} ({:.0} %)",
        answers.busy_with_retry_after,
        100.0 * answers.busy_with_retry_after as f64 / STORM as f64
    );
    println!(
        "  429 without Retry-After:    {}",
        answers.busy_without_retry_after
    );
    println!("  timed out:                  {}", answers.timed_out);
    println!("  failed otherwise:           {}", answers.other.len());
    for failure in &answers.other {
        println!("    {failure}");
    }
    println!(
        "read p99 during the storm: {:.2} ms = {ratio:.2} × the idle p99 ({:.2} ms)",
        ms(during.p99()),
        ms(idle.p99())
    );
    println!(
        "target {}: read p99 during the storm ≤ 2 × idle",
        if ratio <= 2.0 { "met   " } else { "MISSED" }
    );
    let broken = answers.timed_out
        + answers.other.len()
        + answers.busy_without_retry_after
        + idle.failures
        + during.failures;
    println!(
        "target {}: no sign-in timed out or failed otherwise, no read failed",
        if broken == 0 { "met   " } else { "MISSED" }
    );
    if broken > 0 {
        std::process::exit(1);
    }
}
