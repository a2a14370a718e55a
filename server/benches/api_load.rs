//! API load: the release router on a temp SQLite file with 1,000 accounts, each with a
//! session of its own besides the clients' (as if signed in elsewhere), driven at a fixed concurrency over keep-alive connections on 127.0.0.1. Each load prints
//! req/s, p50 and p99, and its ratio to the ceiling — a route that touches nothing — measured
//! in the same run, in turns with it ([`ROUNDS`]). Targets: reads at least 50 % of the
//! ceiling's req/s; the filtered unsubscribe listing of an account with 10,000 instances at
//! p99 ≤ 20 ms. On PostgreSQL the seeded tables are vacuumed and analysed before the loads
//! (`support::analyze`), as on a live database.
//!
//! `cargo bench -p server --bench api_load`

mod support;

use server::auth::SessionRead;
use server::clock::DurationMs;
use server::state::AppState;
use std::sync::Arc;
use std::time::Duration;
use support::{Figures, Seeded, client, drive, ms, print_header, print_row, seed_accounts};

const ACCOUNTS: usize = 1_000;
const INSTANCES: usize = 10_000;
const CONCURRENCY: usize = 16;
/// Each load's measured time in all, split into `ROUNDS` slices.
const DURATION: Duration = Duration::from_secs(5);
/// The loads take turns, one slice each, round after round, so that a neighbour's build
/// starting mid-run slows the ceiling as much as the loads compared with it: measured one
/// after the other, the read's share of the ceiling swung between 37 and 75 % on the same code.
const ROUNDS: u32 = 5;
/// The listing's filter: one product of the four, about a quarter of the instances.
const LISTING: &str = "/api/unsubscribe?tab=resource&product=rds&page=1&page_size=20";

#[tokio::main]
async fn main() {
    let server = support::start_server().await;
    let base = Arc::new(server.base.clone());
    let accounts = seed_accounts(&server.state, ACCOUNTS, "load").await;
    let heavy = &accounts[0];
    seed_instances(&server.state, heavy, INSTANCES).await;
    support::seed_sessions(&server.state, &accounts).await;
    support::analyze(&server.state.db).await;
    let http = client();
    let mut sessions = Vec::new();
    for account in accounts.iter().skip(1).take(CONCURRENCY) {
        sessions.push(support::sign_in(&http, &base, &account.email).await);
    }
    let sessions = Arc::new(sessions);
    let (heavy_cookie, _) = support::sign_in(&http, &base, &heavy.email).await;
    let heavy_cookie = Arc::new(heavy_cookie);

    println!(
        "API load: {ACCOUNTS} accounts, {CONCURRENCY} concurrent keep-alive clients, {} s per load; {}",
        DURATION.as_secs(),
        support::machine()
    );

    // The API's catch-all: a 404 error body, through every middleware, no database.
    let ceiling = {
        let (http, base) = (http.clone(), base.clone());
        move |_, _| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let r = http.get(format!("{base}/api/bench-ceiling")).send().await;
                r.is_ok_and(|r| r.status() == 404)
            }
        }
    };

    let account_read = {
        let (http, base, sessions) = (http.clone(), base.clone(), sessions.clone());
        move |worker: usize, _| {
            let (http, base, sessions) = (http.clone(), base.clone(), sessions.clone());
            async move {
                let r = http
                    .get(format!("{base}/api/session"))
                    .header("cookie", &sessions[worker].0)
                    .send()
                    .await;
                ok(r).await
            }
        }
    };

    let listing = {
        let (http, base, cookie) = (http.clone(), base.clone(), heavy_cookie.clone());
        move |_, _| {
            let (http, base, cookie) = (http.clone(), base.clone(), cookie.clone());
            async move {
                let r = http
                    .get(format!("{base}{LISTING}"))
                    .header("cookie", cookie.as_str())
                    .send()
                    .await;
                ok(r).await
            }
        }
    };

    // Four reads to one write: the write saves the billing address (BEGIN IMMEDIATE, one
    // fsync per commit).
    let mixed = {
        let (http, base, sessions) = (http.clone(), base.clone(), sessions.clone());
        move |worker: usize, n: u64| {
            let (http, base, sessions) = (http.clone(), base.clone(), sessions.clone());
            async move {
                let (cookie, csrf) = &sessions[worker];
                let r = if n % 5 == 4 {
                    http.put(format!("{base}/api/billing-address"))
                        .header("cookie", cookie)
                        .header("x-csrf-token", csrf)
                        .json(&support::address(n))
                        .send()
                        .await
                } else {
                    http.get(format!("{base}/api/session"))
                        .header("cookie", cookie)
                        .send()
                        .await
                };
                ok(r).await
            }
        }
    };

    let slice = DURATION / ROUNDS;
    let mut figures: [Figures; 4] = Default::default();
    // PostgreSQL's batched session reads: statements sent during the account reads, warm-up
    // included (as `cpu_requests` counts).
    let batcher = server.state.batched_reads[SessionRead::SessionAndAccount as usize].as_ref();
    let mut statements = 0;
    // One load alone for 30 s, to watch under a profiler: `API_LOAD_ONLY=ceiling` or `read`.
    if let Ok(only) = std::env::var("API_LOAD_ONLY") {
        let alone = Duration::from_secs(30);
        let figures = match only.as_str() {
            "ceiling" => drive(CONCURRENCY, alone, ceiling).await,
            "read" => drive(CONCURRENCY, alone, account_read).await,
            _ => panic!("API_LOAD_ONLY is `ceiling` or `read`, not {only:?}"),
        };
        print_header();
        print_row(&format!("{only}, alone"), &figures, &figures);
        return;
    }
    for _ in 0..ROUNDS {
        figures[0].add(drive(CONCURRENCY, slice, ceiling.clone()).await);
        let before = batcher.map(|b| b.statements());
        figures[1].add(drive(CONCURRENCY, slice, account_read.clone()).await);
        statements += batcher.map_or(0, |b| b.statements()) - before.unwrap_or(0);
        figures[2].add(drive(CONCURRENCY, slice, listing.clone()).await);
        figures[3].add(drive(CONCURRENCY, slice, mixed.clone()).await);
    }
    let [ceiling, account_read, listing, mixed] = figures;

    println!();
    print_header();
    print_row(
        "ceiling: GET /api/bench-ceiling (404, no db)",
        &ceiling,
        &ceiling,
    );
    print_row("account read: GET /api/session", &account_read, &ceiling);
    if statements > 0 {
        println!(
            "{:50} {:.1} reads a statement",
            "  batched: account reads on PostgreSQL",
            account_read.cpu_requests as f64 / statements as f64
        );
    }
    print_row(
        "listing: 10,000 instances, product filter",
        &listing,
        &ceiling,
    );
    print_row("mixed: 4 reads : 1 billing-address write", &mixed, &ceiling);
    println!();
    verdict(
        "reads ≥ 50 % of the ceiling's req/s",
        account_read.per_second() >= 0.5 * ceiling.per_second(),
    );
    verdict(
        &format!(
            "filtered listing p99 ≤ 20 ms (was {:.2} ms)",
            ms(listing.p99())
        ),
        ms(listing.p99()) <= 20.0,
    );
    let failed: usize = [&ceiling, &account_read, &listing, &mixed]
        .iter()
        .map(|f: &&Figures| f.failures)
        .sum();
    if failed > 0 {
        eprintln!("{failed} requests failed");
        std::process::exit(1);
    }
}

async fn ok(response: reqwest::Result<reqwest::Response>) -> bool {
    match response {
        // Read the body: a response counts when it has fully arrived.
        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}

fn verdict(target: &str, met: bool) {
    println!("target {}: {target}", if met { "met   " } else { "MISSED" });
}

/// `count` running subscriptions over the four products, each with its paid order, created
/// a minute apart over the last weeks.
async fn seed_instances(state: &AppState, account: &Seeded, count: usize) {
    let now = state.clock.now();
    let products = [
        ("ecs", "regular_cloud_resource", 2_000),
        ("rds", "regular_cloud_resource", 3_500),
        ("oss", "resource_plan", 990),
        ("domain", "regular_cloud_resource", 1_200),
    ];
    let mut tx = server::db::begin_write(&state.db).await.unwrap();
    for n in 0..count {
        let (product, kind, price) = products[n % products.len()];
        let id = format!("i-{}", &uuid::Uuid::new_v4().simple().to_string()[..20]);
        let created = now - DurationMs::minutes((count - n) as i64);
        let ends = created + DurationMs::days(30 * 12);
        sqlx::query(
            "INSERT INTO instances (id, account_id, product, region, billing, resource_kind, activated, auto_renew, started_at, expires_at, created_at)
             VALUES ($1, $2, $3, 'ap-southeast-1', 'subscription', $4, 1, 0, $5, $6, $5)",
        )
        .bind(&id)
        .bind(&account.id)
        .bind(product)
        .bind(kind)
        .bind(created)
        .bind(ends)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO orders (id, account_id, instance_id, kind, period_months, starts_at, ends_at, currency, list_minor, cash_minor, credit_minor,
                                 paid_with, status, paid_at, created_at)
             VALUES ($1, $2, $3, 'new', 12, $4, $5, 'USD', $6, $6, 0, 'card', 'paid', $4, $4)",
        )
        .bind(format!("ord-{}", uuid::Uuid::new_v4().simple()))
        .bind(&account.id)
        .bind(&id)
        .bind(created)
        .bind(ends)
        .bind(price * 12)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}
