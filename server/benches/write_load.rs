//! Writes of many accounts at once on PostgreSQL: 64 accounts, each written by its
//! own client (in turn a billing-address update, a purchase paid by card through the
//! simulator, a bill paid by card; see [`SERVER`]), with per-account locks, against the same with one lock
//! for every writer (`db::serialise_all_writers`, kept for this comparison), and on two
//! instances of the server sharing the database. One account's client is watched apart: the
//! p99 of its writes while the 63 others write, against its p99 when it writes alone. The
//! loads take turns in [`ROUNDS`] slices, as in `api_load`. Printed as ratios; nothing asserted.
//!
//! `BENCH_DB=postgres bash .ci/with-postgres cargo bench -p server --bench write_load`
//! (SQLite has one writer for the whole database: there is nothing to compare.)

mod support;

use reqwest::Client;
use serde_json::json;
use server::clock::DurationMs;
use server::state::AppState;
use std::sync::Arc;
use std::time::Duration;
use support::{Figures, Seeded, Server, client, drive, ms, seed_accounts};

const ACCOUNTS: usize = 64;
/// Unpaid bills seeded for the watched account and for each other one: more than each pays in
/// the whole run (the watched one writes in every load).
const BILLS: (usize, usize) = (3_000, 300);
const DURATION: Duration = Duration::from_secs(6);
const ROUNDS: u32 = 6;
/// Dev mode, for the simulated card gateway, answering in 5 ms rather than its default 300: a
/// gateway call holds no lock, so a slow one would only hide what the locks cost.
const SERVER: &[&str] = &["--mode", "dev", "--simulator-latency-ms", "5"];

/// One account's client: its session and the bills it has not paid yet.
struct Writer {
    cookie: String,
    csrf: String,
    bills: Vec<String>,
}

#[tokio::main]
async fn main() {
    if support::database_name() != "postgres" {
        println!(
            "write_load: SQLite has one writer for the whole database; run it with BENCH_DB=postgres"
        );
        return;
    }
    let one = support::start_server_with(SERVER).await;
    let two = support::start_another_instance(&one, SERVER).await;
    let http = client();
    let accounts = seed_accounts(&one.state, ACCOUNTS, "writes").await;
    let mut writers = Vec::with_capacity(ACCOUNTS);
    for (n, account) in accounts.iter().enumerate() {
        writers.push(ready(&one, &http, account, n).await);
    }
    seed_bills(&one.state, &accounts, &mut writers).await;
    support::analyze(&one.state.db).await;
    let writers: Arc<Vec<tokio::sync::Mutex<Writer>>> =
        Arc::new(writers.into_iter().map(tokio::sync::Mutex::new).collect());
    println!(
        "Write load: {ACCOUNTS} accounts, one client each, {} s per load; {}",
        DURATION.as_secs(),
        support::machine()
    );

    // Worker `w` of a load writes account `first + w`, pausing `pause` before each write; the
    // bases are the instances the accounts are spread over, round robin.
    let load = |first: usize, bases: Vec<String>, pause: Duration| {
        let (http, writers) = (http.clone(), writers.clone());
        let bases = Arc::new(bases);
        move |worker: usize, n: u64| {
            let (http, writers, bases) = (http.clone(), writers.clone(), bases.clone());
            async move {
                tokio::time::sleep(pause).await;
                let account = first + worker;
                let base = &bases[account % bases.len()];
                write(&http, base, &writers[account], n).await
            }
        }
    };
    let one_base = vec![one.base.clone()];
    let both_bases = vec![one.base.clone(), two.base.clone()];
    let flat_out = Duration::ZERO;

    // Flat out: the 63 others write as fast as they are answered, which on a small machine
    // saturates its cores, so the watched account waits for the CPU as much as for any lock.
    let slice = DURATION / ROUNDS;
    let mut alone = Figures::default();
    let mut watched = [Figures::default(), Figures::default(), Figures::default()];
    let mut all = [Figures::default(), Figures::default(), Figures::default()];
    let loads = [
        (one_base.clone(), false),
        (one_base.clone(), true),
        (both_bases.clone(), false),
    ];
    for _ in 0..ROUNDS {
        alone.add(drive(1, slice, load(0, one_base.clone(), flat_out)).await);
        for (n, (bases, serialise_all)) in loads.iter().cloned().enumerate() {
            server::db::serialise_all_writers(serialise_all);
            let (watch, others) = tokio::join!(
                drive(1, slice, load(0, bases.clone(), flat_out)),
                drive(ACCOUNTS - 1, slice, load(1, bases, flat_out)),
            );
            server::db::serialise_all_writers(false);
            let mut total = watch.clone();
            total.add(others);
            watched[n].add(watch);
            all[n].add(total);
        }
    }

    // Paced: the 63 others together offer a quarter of what they wrote flat out with
    // per-account locks, so the cores have time to spare and what the watched account waits for is the
    // locks. (The others' latencies include their pause and are not printed.)
    let offered = all[0].per_second() / 4.0;
    let pause = Duration::from_secs_f64((ACCOUNTS - 1) as f64 / offered);
    let mut paced_watched = [Figures::default(), Figures::default()];
    let mut paced_others = [Figures::default(), Figures::default()];
    for _ in 0..ROUNDS {
        for (n, serialise_all) in [false, true].into_iter().enumerate() {
            server::db::serialise_all_writers(serialise_all);
            let (watch, others) = tokio::join!(
                drive(1, slice, load(0, one_base.clone(), flat_out)),
                drive(ACCOUNTS - 1, slice, load(1, one_base.clone(), pause)),
            );
            server::db::serialise_all_writers(false);
            paced_watched[n].add(watch);
            paced_others[n].add(others);
        }
    }

    println!();
    println!(
        "{:<64} {:>9} {:>9} {:>9} {:>7}",
        "load", "writes/s", "p50 ms", "p99 ms", "failed"
    );
    let row = |name: &str, f: &Figures| {
        println!(
            "{:<64} {:>9.0} {:>9.2} {:>9.2} {:>7}",
            name,
            f.per_second(),
            ms(f.p50()),
            ms(f.p99()),
            f.failures
        );
    };
    row("one account alone", &alone);
    let names = [
        "flat out, per-account locks, one instance",
        "flat out, one lock for every writer, one instance",
        "flat out, per-account locks, two instances",
    ];
    for (name, (watch, total)) in names.iter().zip(watched.iter().zip(&all)) {
        row(&format!("{name}: all 64"), total);
        row(&format!("{name}: the watched one"), watch);
    }
    for (name, (watch, others)) in [
        "paced, per-account locks",
        "paced, one lock for every writer",
    ]
    .iter()
    .zip(paced_watched.iter().zip(&paced_others))
    {
        println!(
            "{:<64} {:>9.0}",
            format!("{name}: the 63 others"),
            others.per_second()
        );
        row(&format!("{name}: the watched one"), watch);
    }
    println!();
    let p99 = |f: &Figures| ms(f.p99()).max(0.001);
    println!(
        "watched p99 ÷ alone, others paced at {offered:.0} writes/s: per-account locks {:.1}×, one lock for all {:.1}× (target ≤ 3×)",
        p99(&paced_watched[0]) / p99(&alone),
        p99(&paced_watched[1]) / p99(&alone),
    );
    println!(
        "watched p99 ÷ alone, others flat out: per-account locks {:.1}×, one lock for all {:.1}×",
        p99(&watched[0]) / p99(&alone),
        p99(&watched[1]) / p99(&alone),
    );
    println!(
        "writes/s flat out, per-account locks ÷ one lock for all: {:.2} (target > 1)",
        all[0].per_second() / all[1].per_second()
    );
    println!(
        "writes/s flat out, two instances ÷ one: {:.2} (both share this machine's cores)",
        all[2].per_second() / all[0].per_second()
    );
    let failed: usize = all
        .iter()
        .chain(&paced_watched)
        .chain(&paced_others)
        .chain([&alone])
        .map(|f| f.failures)
        .sum();
    if failed > 0 {
        eprintln!("{failed} writes failed");
        std::process::exit(1);
    }
}

/// The account's `n`th write: an address, a purchase or a bill payment, in turn.
async fn write(http: &Client, base: &str, writer: &tokio::sync::Mutex<Writer>, n: u64) -> bool {
    let mut writer = writer.lock().await;
    let request = match n % 3 {
        0 => http
            .put(format!("{base}/api/billing-address"))
            .json(&support::address(n)),
        1 => http
            .post(format!("{base}/api/orders"))
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(
                &json!({"product": "oss", "region": "ap-southeast-1", "billing": "subscription",
                          "period_months": 1, "pay_with": "default_method"}),
            ),
        _ => {
            let Some(bill) = writer.bills.pop() else {
                return false;
            };
            http.post(format!("{base}/api/bills/{bill}/pay"))
                .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        }
    };
    let answer = request
        .header("cookie", &writer.cookie)
        .header("x-csrf-token", &writer.csrf)
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
        Ok(r) => {
            eprintln!(
                "write {n} answered {}: {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
            false
        }
        Err(e) => {
            eprintln!("write {n} failed: {e}");
            false
        }
    }
}

/// Signs the account in, saves its billing address and binds a card through the API.
async fn ready(server: &Server, http: &Client, account: &Seeded, n: usize) -> Writer {
    let (cookie, csrf) = support::sign_in(http, &server.base, &account.email).await;
    let saved = http
        .put(format!("{}/api/billing-address", server.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&support::address(0))
        .send()
        .await
        .unwrap();
    assert!(saved.status().is_success(), "address of {}", account.email);
    let card = http
        .post(format!("{}/api/payment-methods/cards", server.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({
            "number": visa(n),
            "exp_month": "12",
            "exp_year": "2031",
            "cvv": "123",
            "first_name": "Mei",
            "last_name": "Tan",
            "billing_address": support::address(0),
        }))
        .send()
        .await
        .unwrap();
    let status = card.status();
    assert!(
        status.is_success(),
        "card of {}: {status} {}",
        account.email,
        card.text().await.unwrap_or_default()
    );
    Writer {
        cookie,
        csrf,
        bills: Vec::new(),
    }
}

/// A Luhn-valid Visa number of its own for account `n`.
fn visa(n: usize) -> String {
    let body = format!("4111{:011}", 31_337 + n);
    let check = (0..10)
        .find(|d| shared::payment::luhn_valid(&format!("{body}{d}")))
        .unwrap();
    format!("{body}{check}")
}

/// [`BILLS`] unpaid usage bills of 0.50 USD per account, due yesterday.
async fn seed_bills(state: &AppState, accounts: &[Seeded], writers: &mut [Writer]) {
    let now = state.clock.now();
    let mut tx = server::db::begin_write(&state.db).await.unwrap();
    for (n, (account, writer)) in accounts.iter().zip(writers).enumerate() {
        let count = if n == 0 { BILLS.0 } else { BILLS.1 };
        let prefix = format!("bill-{}-", &account.id[..8]);
        sqlx::query(
            "INSERT INTO bills (id, account_id, description, amount_minor, currency, status, due_at, created_at)
             SELECT $1 || n, $2, 'Pay-as-you-go usage', 50, 'USD', 'unpaid', $3, $3 FROM generate_series(1, $4) AS n",
        )
        .bind(&prefix)
        .bind(&account.id)
        .bind(now - DurationMs::days(1))
        .bind(count as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
        writer.bills = (1..=count).map(|n| format!("{prefix}{n}")).collect();
    }
    tx.commit().await.unwrap();
}
