//! The server SIGKILLed during a stream of unsubscribes, cycle after cycle: each
//! restart retries what went unanswered, until every unsubscribe is answered; then it is killed
//! again while the scheduler settles the refunds, and at last the database file is checked. No
//! refund is lost or doubled, and every balance is the sum of its ledger entries. Like `closure_restart.rs`, this runs the real
//! binary as a child process on one database (SQLite, or PostgreSQL with `TEST_DB=postgres`);
//! `Child::kill` is SIGKILL.

mod common;

use common::process::{self, Server};
use common::usd_minor;

use reqwest::{Client, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use server::db::Db;
use shared::api::{AccountTies, LedgerView, Purchased, SessionInfo, SignupStarted, Unsubscribed};
use shared::money::Money;
use shared::{ErrorBody, ErrorCode};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Subscriptions bought before the first kill.
const INSTANCES: usize = 80;
/// Clients unsubscribing at once.
const CLIENTS: usize = 4;
/// How many unsubscribes each cycle sees answered before its kill: the kill lands at a
/// different point of the stream each time, with the other clients' requests in flight.
const KILL_AFTER_ANSWERS: [usize; 8] = [1, 5, 2, 9, 3, 7, 4, 6];
/// Top-up the purchases are paid from, so their refunds go back to the balance and settle
/// through the ledger (a refund to the balance settles at once).
const TOP_UP_MINOR: i64 = 100_000_000;
/// How many more refunds each settling cycle sees settled before its kill.
const SETTLED_BEFORE_KILL: [i64; 3] = [2, 9, 5];
const PASSWORD: &str = "Harbour7Lights";

/// The signed-in owner, its session sent by hand: the cookie must outlive the server's port.
#[derive(Clone)]
struct Owner {
    http: Client,
    cookie: String,
    csrf: String,
    account_id: String,
}

impl Owner {
    async fn sign_up(base: &str) -> Owner {
        let http = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let email = format!("crash.{}@example.com", uuid::Uuid::new_v4().simple());
        let form = json!({"country": "SG", "email": email, "password": PASSWORD, "password_confirmation": PASSWORD, "accept_agreement": true});
        let started: SignupStarted = common::body_as(
            http.post(format!("{base}/api/signup"))
                .json(&form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let id = started.signup_id;
        http.post(format!("{base}/api/signup/{id}/code"))
            .json(&json!({"channel": "email"}))
            .send()
            .await
            .unwrap();
        let code = common::newest_code(&http, base, &email).await;
        let verified = http
            .post(format!("{base}/api/signup/{id}/verify"))
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(verified.status(), StatusCode::OK);
        let cookie = verified.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let session: SessionInfo = common::body_as(verified).await;
        Owner {
            http,
            cookie,
            csrf: session.csrf_token,
            account_id: session.account.id,
        }
    }

    fn post(&self, base: &str, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{base}{path}"))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(body)
    }

    async fn get<T: DeserializeOwned>(&self, base: &str, path: &str) -> T {
        let response = self
            .http
            .get(format!("{base}{path}"))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        common::body_as(response).await
    }

    async fn buy(&self, base: &str, months: u32) -> String {
        let form = json!({"product": "oss", "region": "ap-southeast-1", "billing": "subscription", "period_months": months, "pay_with": "balance"});
        let response = self
            .post(base, "/api/orders", &form)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        common::body_as::<Purchased>(response).await.instance.id
    }

    /// Moves the dev clock past the idempotency keys a dead server left unanswered (a retry
    /// within five minutes is told the first is still running) and past its job leases, then
    /// enters the password again: unsubscribing needs a sign-in within the hour.
    async fn advance_past_abandoned_work(&self, base: &str) {
        let response = self
            .post(base, "/api/dev/clock", &json!({"advance_seconds": 301}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let response = self
            .post(base, "/api/session/reauth", &json!({"password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}

/// What became of one instance's unsubscribe.
#[derive(Debug)]
enum Outcome {
    /// Answered 200: the unsubscription IDs and the total refund the answer promised.
    Acknowledged { records: Vec<String>, total: Money },
    /// An earlier attempt committed but its answer was lost with the server: `already_released`.
    CommittedUnanswered,
}

#[derive(Default)]
struct Stream {
    pending: Vec<String>,
    outcomes: BTreeMap<String, Outcome>,
    answered_this_cycle: usize,
    /// Requests the kills left unanswered, retried later (reported, not asserted: how many
    /// a kill catches in flight is a matter of timing).
    unanswered: usize,
}

/// One client: unsubscribes pending instances, one request each with the instance's own
/// Idempotency-Key, until none is left or the server is gone.
async fn unsubscribe_client(owner: Owner, base: String, stream: Arc<Mutex<Stream>>) {
    loop {
        let Some(instance) = stream.lock().unwrap().pending.pop() else {
            return;
        };
        let form = json!({"instance_ids": [instance], "confirm_refund_amount": true, "confirm_data_backed_up": true});
        let sent = owner
            .post(&base, "/api/unsubscribe", &form)
            .header("idempotency-key", format!("unsubscribe-{instance}"))
            .send()
            .await;
        let answer = match sent {
            Ok(response) => {
                let status = response.status();
                match response.json::<Value>().await {
                    Ok(body) => Some((status, body)),
                    Err(_) => None, // killed while answering
                }
            }
            Err(_) => None,
        };
        let mut state = stream.lock().unwrap();
        let code = |body: &Value| serde_json::from_value::<ErrorBody>(body.clone()).map(|e| e.code);
        let outcome = match answer {
            Some((StatusCode::OK, body)) => {
                let done: Unsubscribed = serde_json::from_value(body).unwrap();
                Outcome::Acknowledged {
                    records: done.records.into_iter().map(|r| r.id).collect(),
                    total: done.total_refund,
                }
            }
            Some((StatusCode::CONFLICT, body))
                if code(&body).ok() == Some(ErrorCode::AlreadyReleased) =>
            {
                Outcome::CommittedUnanswered
            }
            // A dead server's request may hold the key for five minutes: try again later.
            Some((StatusCode::CONFLICT, body))
                if code(&body).ok() == Some(ErrorCode::IdempotencyInProgress) =>
            {
                state.pending.insert(0, instance);
                continue;
            }
            Some((status, body)) => panic!("unexpected answer {status}: {body}"),
            None => {
                // Unanswered: the server is gone. Retried after the restart.
                state.pending.push(instance);
                state.unanswered += 1;
                return;
            }
        };
        state.answered_this_cycle += 1;
        state.outcomes.insert(instance, outcome);
    }
}

/// Streams the pending unsubscribes from `CLIENTS` clients; with `kill_after`, SIGKILLs the
/// server once that many were answered (or the stream ran dry), else lets every one finish.
async fn run_cycle(
    server: Server,
    owner: &Owner,
    stream: &Arc<Mutex<Stream>>,
    kill_after: Option<usize>,
) {
    stream.lock().unwrap().answered_this_cycle = 0;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(unsubscribe_client(
                owner.clone(),
                server.base.clone(),
                stream.clone(),
            ))
        })
        .collect();
    if let Some(kill_after) = kill_after {
        // Polls the stream's progress, not the time: no assertion depends on timing.
        loop {
            let done = clients.iter().all(|c| c.is_finished());
            if done || stream.lock().unwrap().answered_this_cycle >= kill_after {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.sigkill();
        for client in clients {
            client.await.unwrap();
        }
    } else {
        for client in clients {
            client.await.unwrap();
        }
        server.sigkill();
    }
}

async fn scalar(db: &Db, sql: &str, account_id: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(account_id)
        .fetch_one(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn ids(db: &Db, sql: &str, account_id: &str) -> Vec<String> {
    sqlx::query_scalar(sql)
        .bind(account_id)
        .fetch_all(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn a_server_killed_again_and_again_while_unsubscribing_loses_and_doubles_no_refund() {
    let data = tempfile::tempdir().unwrap();
    let server = process::start(data.path(), "seed.log", &[]).await;
    let db = server::db::open(&common::database_for(data.path()).await)
        .await
        .unwrap();
    let owner = Owner::sign_up(&server.base).await;
    // Seeded straight into the file: a billing address (purchases need one) and a cash top-up.
    sqlx::query(
        "INSERT INTO billing_addresses (account_id, account_type, last_name, first_name, country, address_line1, city, state, postal_code, updated_at)
         VALUES ($1, 'individual', 'Tan', 'Mei', 'SG', '1 Main Street', 'Singapore', 'Singapore', '048616', 0)",
    )
    .bind(&owner.account_id)
    .execute(db.writer())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ledger_entries (id, account_id, kind, bucket, amount_minor, currency, payment_method_id, reference, memo, created_at)
         VALUES ($1, $2, 'top_up', 'cash', $3, 'USD', NULL, NULL, 'Crash test top-up', 0)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&owner.account_id)
    .bind(TOP_UP_MINOR)
    .execute(db.writer())
    .await
    .unwrap();
    let mut instances = Vec::new();
    for n in 0..INSTANCES {
        // Several prices, so a doubled or lost refund shows in the sums.
        instances.push(owner.buy(&server.base, [1, 6, 12][n % 3]).await);
    }
    server.sigkill();

    let stream = Arc::new(Mutex::new(Stream {
        pending: instances.clone(),
        ..Stream::default()
    }));
    for (cycle, kill_after) in KILL_AFTER_ANSWERS.into_iter().enumerate() {
        let server = process::start(data.path(), &format!("cycle-{cycle}.log"), &[]).await;
        owner.advance_past_abandoned_work(&server.base).await;
        run_cycle(server, &owner, &stream, Some(kill_after)).await;
    }

    // Restarts without a kill: every unanswered unsubscribe is retried until answered.
    for round in 0..3 {
        if stream.lock().unwrap().pending.is_empty() {
            break;
        }
        let server = process::start(data.path(), &format!("final-{round}.log"), &[]).await;
        owner.advance_past_abandoned_work(&server.base).await;
        run_cycle(server, &owner, &stream, None).await;
    }
    assert!(
        stream.lock().unwrap().pending.is_empty(),
        "every unsubscribe was answered"
    );

    // The refunds settle, by the scheduler that catches up at each start, under kills too: each
    // cycle is killed once a few more refunds have settled, with the scheduler mid-way.
    for (cycle, settled_more) in SETTLED_BEFORE_KILL.into_iter().enumerate() {
        let server = process::start(data.path(), &format!("settle-{cycle}.log"), &[]).await;
        owner.advance_past_abandoned_work(&server.base).await;
        let refunded = "SELECT COUNT(*) FROM refunds WHERE account_id = $1 AND status = 'refunded'";
        let target = scalar(&db, refunded, &owner.account_id).await + settled_more;
        let processing =
            "SELECT COUNT(*) FROM refunds WHERE account_id = $1 AND status = 'processing'";
        // Polls progress, bounded; the kill comes whether or not the target was reached.
        for _ in 0..2_000 {
            if scalar(&db, refunded, &owner.account_id).await >= target
                || scalar(&db, processing, &owner.account_id).await == 0
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.sigkill();
    }

    // The last start: the dev runner runs what is due until no refund is left processing.
    let server = process::start(data.path(), "settle.log", &[]).await;
    owner.advance_past_abandoned_work(&server.base).await;
    let base = server.base.clone();
    for _ in 0..50 {
        let response = owner
            .post(&base, "/api/dev/run-jobs", &json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let processing = scalar(
            &db,
            "SELECT COUNT(*) FROM refunds WHERE account_id = $1 AND status = 'processing'",
            &owner.account_id,
        )
        .await;
        if processing == 0 {
            break;
        }
    }
    let ledger: LedgerView = owner.get(&base, "/api/ledger").await;
    let ties: AccountTies = owner.get(&base, "/api/closure/ties").await;
    server.sigkill();

    let account = owner.account_id.as_str();
    let settled_again = scalar(
        &db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'refund_settle' AND attempts > 1 AND subject IN (SELECT id FROM refunds WHERE account_id = $1)",
        account,
    )
    .await;
    // Everything the stream saw, out of its lock: the checks below await the database.
    let stream = std::mem::take(&mut *stream.lock().unwrap());
    let committed_unanswered = stream
        .outcomes
        .values()
        .filter(|o| matches!(o, Outcome::CommittedUnanswered))
        .count();
    eprintln!(
        "{} kills; {} requests unanswered and retried; {committed_unanswered} unsubscribes committed whose answer was lost; {settled_again} refund settlements taken again after a kill",
        KILL_AFTER_ANSWERS.len() + SETTLED_BEFORE_KILL.len(),
        stream.unanswered
    );
    assert_eq!(stream.outcomes.len(), INSTANCES);
    let acknowledged = stream
        .outcomes
        .values()
        .filter(|o| matches!(o, Outcome::Acknowledged { .. }))
        .count();
    assert!(acknowledged > 0, "{:?}", stream.outcomes);

    // Every instance is released by exactly one unsubscription, each of its orders refunded
    // exactly once, never more than its cash.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM instances WHERE account_id = $1 AND status <> 'released'",
            account
        )
        .await,
        0
    );
    assert_eq!(
        ids(&db, "SELECT instance_id FROM unsubscriptions WHERE account_id = $1 GROUP BY instance_id HAVING COUNT(*) <> 1", account).await,
        Vec::<String>::new(),
        "one unsubscription per instance"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(DISTINCT instance_id) FROM unsubscriptions WHERE account_id = $1",
            account
        )
        .await,
        INSTANCES as i64
    );
    assert_eq!(
        ids(&db, "SELECT o.id FROM orders o LEFT JOIN refunds r ON r.order_id = o.id WHERE o.account_id = $1
                  GROUP BY o.id HAVING COUNT(r.id) <> 1 OR MAX(o.status) <> 'unsubscribed' OR COALESCE(MAX(r.amount_minor), 0) > MAX(o.cash_minor)", account).await,
        Vec::<String>::new(),
        "each order unsubscribed with exactly one refund, at most its cash"
    );
    assert_eq!(
        ids(&db, "SELECT r.id FROM refunds r JOIN unsubscriptions u ON u.id = r.unsubscription_id JOIN orders o ON o.id = r.order_id
                  WHERE r.account_id = $1 AND u.instance_id <> o.instance_id", account).await,
        Vec::<String>::new(),
        "a refund belongs to its own instance's unsubscription"
    );

    // Every acknowledged unsubscribe has the refunds its answer promised.
    for (instance, outcome) in stream.outcomes.iter() {
        if let Outcome::Acknowledged { records, total } = outcome {
            assert_eq!(records.len(), 1, "{instance}");
            let (stored, refund_minor, refunded_minor): (String, i64, i64) = sqlx::query_as(
                "SELECT u.instance_id, u.refund_minor, CAST(COALESCE((SELECT SUM(r.amount_minor) FROM refunds r WHERE r.unsubscription_id = u.id), 0) AS BIGINT)
                 FROM unsubscriptions u WHERE u.id = $1",
            )
            .bind(&records[0])
            .fetch_one(&db)
            .await
            .unwrap_or_else(|e| panic!("the acknowledged unsubscription of {instance} is stored: {e}"));
            assert_eq!(
                (stored, usd_minor(refund_minor), usd_minor(refunded_minor)),
                (instance.clone(), *total, *total),
                "{instance}"
            );
        }
    }

    // Every refund settled, by exactly one finished job and exactly one ledger entry of its
    // amount; no refund entry without its refund.
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM refunds WHERE account_id = $1 AND (status <> 'refunded' OR refunded_at IS NULL)", account).await,
        0,
        "every refund settled"
    );
    assert_eq!(
        ids(&db, "SELECT r.id FROM refunds r LEFT JOIN jobs j ON j.kind = 'refund_settle' AND j.subject = r.id AND j.status = 'done'
                  WHERE r.account_id = $1 GROUP BY r.id HAVING COUNT(j.id) <> 1", account).await,
        Vec::<String>::new(),
        "one finished settlement job per refund"
    );
    assert_eq!(
        ids(&db, "SELECT r.id FROM refunds r LEFT JOIN ledger_entries l ON l.kind = 'refund' AND l.reference = r.id
                  WHERE r.account_id = $1 GROUP BY r.id HAVING COUNT(l.id) <> 1 OR COALESCE(SUM(l.amount_minor), 0) <> MAX(r.amount_minor)", account).await,
        Vec::<String>::new(),
        "one ledger entry of its amount per refund"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM ledger_entries l WHERE l.account_id = $1 AND l.kind = 'refund'
                     AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.id = l.reference)",
            account
        )
        .await,
        0
    );

    // The balances: the server's figures are the sums of the entries, and the cash bucket is
    // the top-up less what the orders took plus what the refunds gave back.
    let cash = scalar(&db, "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE account_id = $1 AND bucket = 'cash'", account).await;
    let credit = scalar(&db, "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE account_id = $1 AND bucket = 'credit'", account).await;
    assert_eq!(ties.cash_balance, usd_minor(cash));
    assert_eq!(ledger.credit_balance, usd_minor(credit));
    let paid = scalar(&db, "SELECT CAST(COALESCE(SUM(cash_minor), 0) AS BIGINT) FROM orders WHERE account_id = $1 AND paid_with = 'balance'", account).await;
    let debited = scalar(&db, "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE account_id = $1 AND kind = 'payment'", account).await;
    let refunded = scalar(
        &db,
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds WHERE account_id = $1",
        account,
    )
    .await;
    assert_eq!(debited, -paid, "each order's payment debited once");
    assert!(refunded > 0);
    assert_eq!(cash, TOP_UP_MINOR - paid + refunded);
    let holds = scalar(&db, "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE account_id = $1 AND bucket = 'hold'", account).await;
    assert_eq!(holds, 0, "card holds net to zero");
}
