//! The randomized concurrency and crash test. Simulated users on a few accounts do random
//! operations at once (buy, renew, unsubscribe, cancel renewals, pay bills, add and remove
//! payment methods, switch the default, turn auto-renewal on and off, close an account) against
//! the real binary, which is SIGKILLed and restarted at random points; the gateway's faults come
//! from the simulator's test cards (answers lost, charges declined). Then the clock runs on until
//! every intent, refund and closure is settled, and the invariants of SPEC §9 are checked in the
//! database: every balance is its ledger, every charge the gateway made is held by its purpose or
//! was returned, no order paid twice, no write after a closure's confirmation, every refund paid,
//! no job abandoned, and a closed account leaves no row.
//!
//! One seed draws every choice: `CHAOS_SEED=<n>` replays the same operations and kill points (the
//! interleaving is the machine's), and the seed is printed with any failure. On PostgreSQL
//! (`TEST_DB=postgres`) two instances share the database and are killed in turn.

mod common;

use common::process::{self, Server};
use common::{DurationMs, usd_minor};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use server::db::Db;
use shared::api::{
    AccountTies, ClosureStatus, LedgerView, SessionInfo, SystemCheckView, WithdrawalsView,
};
use shared::closure::Severity;
use shared::{ErrorBody, ErrorCode};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 3;
const CLIENTS_PER_ACCOUNT: usize = 2;
/// Kills in one run, each after a random number of answers; `CHAOS_KILLS` for a longer run.
const KILLS: usize = 8;
const ANSWERS_BETWEEN_KILLS: std::ops::Range<usize> = 30..90;
const PASSWORD: &str = "Harbour7Lights";
/// The simulated gateway's network fails before one call in ten and loses one answer in ten.
const FAULTS: &[&str] = &["--simulator-fault-percent", "10"];
/// Cash put in each balance at the start: little enough to renounce (at most 1,000 CNY).
const TOP_UP_MINOR: i64 = 50_00;

/// The instances of the run and how to reach them: one on SQLite, two on PostgreSQL.
struct Cluster {
    data: tempfile::TempDir,
    servers: tokio::sync::Mutex<Vec<Server>>,
    /// Base URLs of the instances up now; clients pick one per request.
    live: Mutex<Vec<String>>,
    restarts: AtomicUsize,
}

impl Cluster {
    async fn start(instances: usize) -> Arc<Cluster> {
        let data = tempfile::tempdir().unwrap();
        let mut servers = Vec::new();
        for n in 0..instances {
            servers.push(process::start(data.path(), &format!("instance-{n}.0.log"), FAULTS).await);
        }
        let live = servers.iter().map(|s| s.base.clone()).collect();
        Arc::new(Cluster {
            data,
            servers: tokio::sync::Mutex::new(servers),
            live: Mutex::new(live),
            restarts: AtomicUsize::new(0),
        })
    }

    fn base(&self, rng: &mut fastrand::Rng) -> Option<String> {
        let live = self.live.lock().unwrap();
        (!live.is_empty()).then(|| live[rng.usize(..live.len())].clone())
    }

    /// SIGKILLs instance `n` with whatever it had in flight, and starts it again.
    async fn kill_and_restart(&self, n: usize) {
        let mut servers = self.servers.lock().await;
        let base = servers[n].base.clone();
        self.live.lock().unwrap().retain(|b| *b != base);
        servers[n].child.kill().unwrap();
        servers[n].child.wait().unwrap();
        let restart = self.restarts.fetch_add(1, Ordering::SeqCst) + 1;
        let log = format!("instance-{n}.{restart}.log");
        servers[n] = process::start(self.data.path(), &log, FAULTS).await;
        self.live.lock().unwrap().push(servers[n].base.clone());
    }

    /// Stops every instance and starts one that runs no jobs: the checks below then read a
    /// database nothing writes to (a job due a second later would change it between queries).
    async fn quiesce(&self) {
        let mut servers = self.servers.lock().await;
        self.live.lock().unwrap().clear();
        for server in servers.drain(..) {
            server.sigkill();
        }
        let quiet =
            process::start(self.data.path(), "quiet.log", &["--run-scheduler", "false"]).await;
        self.live.lock().unwrap().push(quiet.base.clone());
        servers.push(quiet);
    }

    /// Moves every instance's clock forward by the same amount (the dev clock is each
    /// instance's, kept in the database for the next start).
    async fn advance(&self, by: DurationMs) {
        let servers = self.servers.lock().await;
        let http = reqwest::Client::new();
        for server in servers.iter() {
            let moved = http
                .post(format!("{}/api/dev/clock", server.base))
                .json(&json!({"advance_seconds": by.as_secs()}))
                .send()
                .await
                .unwrap();
            assert_eq!(moved.status(), StatusCode::OK);
        }
    }

    async fn db(&self) -> Db {
        server::db::open_existing(&common::database_for(self.data.path()).await)
            .await
            .unwrap()
    }
}

/// What the clients saw, for the report and the no-5xx check.
#[derive(Default)]
struct Tally {
    answers: AtomicUsize,
    unanswered: AtomicUsize,
    outcomes: Mutex<BTreeMap<String, usize>>,
    server_errors: Mutex<Vec<String>>,
    /// The account being closed, and when its Confirm Deletion was answered 200.
    closing: Mutex<Option<(String, Instant)>>,
    /// Writes of the closing account's members sent after that answer and accepted.
    late_writes: Mutex<Vec<String>>,
}

/// One account as the test set it up.
#[derive(Clone)]
struct Account {
    id: String,
    email: String,
    phone: String,
}

/// The account's cards, the destinations of a withdrawal.
const CARDS: &str =
    "SELECT id FROM payment_methods WHERE account_id = $1 AND kind = 'card' ORDER BY id";

/// One signed-in user of an account: its own session, its own share of the seed.
struct User {
    http: reqwest::Client,
    cookie: String,
    csrf: String,
    account: Account,
    rng: fastrand::Rng,
    cluster: Arc<Cluster>,
    tally: Arc<Tally>,
    /// When the last request left.
    last_sent: Instant,
}

enum Answer {
    Got(StatusCode, Value),
    /// The instance died with the request.
    Lost,
}

impl Answer {
    fn ok(&self) -> Option<&Value> {
        match self {
            Answer::Got(status, body) if status.is_success() => Some(body),
            _ => None,
        }
    }

    /// A success's body as the `shared` type the server answers with.
    fn ok_as<T: DeserializeOwned>(&self) -> Option<T> {
        self.ok().map(|body| {
            serde_json::from_value(body.clone())
                .unwrap_or_else(|e| panic!("{body}\nis not a {}: {e}", std::any::type_name::<T>()))
        })
    }
}

/// The code of an error body; none for any other body.
fn error_code(body: &Value) -> Option<ErrorCode> {
    serde_json::from_value::<ErrorBody>(body.clone())
        .ok()
        .map(|e| e.code)
}

impl User {
    async fn new(account: Account, seed: u64, cluster: Arc<Cluster>, tally: Arc<Tally>) -> User {
        let mut user = User {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            cookie: String::new(),
            csrf: String::new(),
            account,
            rng: fastrand::Rng::with_seed(seed),
            cluster,
            tally,
            last_sent: Instant::now(),
        };
        user.sign_in().await;
        user
    }

    async fn sign_in(&mut self) -> bool {
        let Some(base) = self.cluster.base(&mut self.rng) else {
            return false;
        };
        let form = json!({"email": self.account.email, "password": PASSWORD});
        let Ok(response) = self
            .http
            .post(format!("{base}/api/session"))
            .json(&form)
            .send()
            .await
        else {
            return false;
        };
        if response.status() != StatusCode::OK {
            return false;
        }
        let Some(cookie) = response.headers().get("set-cookie") else {
            return false;
        };
        self.cookie = cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let Ok(session) = response.json::<SessionInfo>().await else {
            return false;
        };
        self.csrf = session.csrf_token;
        true
    }

    async fn send_once(
        &mut self,
        method: &Method,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> Answer {
        let Some(base) = self.cluster.base(&mut self.rng) else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Answer::Lost;
        };
        self.last_sent = Instant::now();
        let mut request = self
            .http
            .request(method.clone(), format!("{base}{path}"))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if *method != Method::GET {
            request = request.json(body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let Ok(response) = request.send().await else {
            return Answer::Lost;
        };
        let status = response.status();
        match response.bytes().await {
            Ok(bytes) => Answer::Got(
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            ),
            Err(_) => Answer::Lost,
        }
    }

    /// Sends a request as a person would: signs in again when the session is gone, enters the
    /// password again when asked. Counts the outcome under `op`.
    async fn send(
        &mut self,
        op: &str,
        method: Method,
        path: &str,
        body: Value,
        key: Option<&str>,
    ) -> Answer {
        let mut answer = self.send_once(&method, path, &body, key).await;
        // A lost answer is often tried again under the same key, once an instance is up.
        while matches!(answer, Answer::Lost) && key.is_some() && self.rng.bool() {
            self.tally.unanswered.fetch_add(1, Ordering::Relaxed);
            *self
                .tally
                .outcomes
                .lock()
                .unwrap()
                .entry(format!("{op}: lost, tried again"))
                .or_default() += 1;
            answer = self.send_once(&method, path, &body, key).await;
        }
        for _ in 0..2 {
            let code = match &answer {
                Answer::Got(_, body) => error_code(body),
                Answer::Lost => break,
            };
            match code {
                Some(ErrorCode::Unauthenticated) if self.sign_in().await => {}
                Some(ErrorCode::ReauthRequired) => {
                    let reauth = json!({"password": PASSWORD});
                    if self
                        .send_once(&Method::POST, "/api/session/reauth", &reauth, None)
                        .await
                        .ok()
                        .is_none()
                    {
                        break;
                    }
                }
                _ => break,
            }
            answer = self.send_once(&method, path, &body, key).await;
        }
        if let Answer::Got(status, _) = &answer
            && status.is_success()
            && method != Method::GET
            && let Some((account, confirmed)) = &*self.tally.closing.lock().unwrap()
            && *account == self.account.id
            && *confirmed < self.last_sent
        {
            let late = format!("{op} {path}: {status}");
            self.tally.late_writes.lock().unwrap().push(late);
        }
        let outcome = match &answer {
            Answer::Lost => {
                self.tally.unanswered.fetch_add(1, Ordering::Relaxed);
                "lost".to_owned()
            }
            Answer::Got(status, body) => {
                self.tally.answers.fetch_add(1, Ordering::Relaxed);
                if status.is_server_error()
                    && !matches!(
                        error_code(body),
                        Some(ErrorCode::GatewayTimeout | ErrorCode::GatewayError)
                    )
                {
                    self.tally
                        .server_errors
                        .lock()
                        .unwrap()
                        .push(format!("{op} {path}: {status} {body}"));
                }
                error_code(body).map_or_else(
                    || status.as_u16().to_string(),
                    |code| code.as_str().to_owned(),
                )
            }
        };
        *self
            .tally
            .outcomes
            .lock()
            .unwrap()
            .entry(format!("{op}: {outcome}"))
            .or_default() += 1;
        answer
    }

    /// What the account holds now, read from the database the way its pages list it.
    async fn pick(&mut self, db: &Db, sql: &str) -> Option<String> {
        let ids: Vec<String> = sqlx::query_scalar(sql)
            .bind(&self.account.id)
            .fetch_all(db)
            .await
            .unwrap();
        (!ids.is_empty()).then(|| ids[self.rng.usize(..ids.len())].clone())
    }

    /// A new Idempotency-Key.
    fn key(&mut self) -> String {
        format!("chaos-{:016x}", self.rng.u64(..))
    }

    /// One random operation.
    /// One random operation. `payg_only`: buys nothing prepaid (the other user of an account
    /// being closed, whose pay-as-you-go resources may be renounced but subscriptions not).
    async fn act(&mut self, db: &Db, payg_only: bool) {
        const RUNNING: &str = "SELECT id FROM instances WHERE account_id = $1 AND status = 'running' AND billing = 'subscription' ORDER BY id";
        match self.rng.u8(..100) {
            0..=24 => {
                let product = ["ecs", "rds", "oss"][self.rng.usize(..3)];
                let months = [1, 6][self.rng.usize(..2)];
                let billing = if product != "oss" && (payg_only || self.rng.bool()) { "payg" } else { "subscription" };
                let pay_with = ["default_method", "balance", "credit"][self.rng.usize(..3)];
                let form = json!({"product": product, "region": "ap-southeast-1", "billing": billing, "period_months": months, "auto_renew": self.rng.bool(), "pay_with": pay_with});
                let key = self.key();
                self.send("buy", Method::POST, "/api/orders", form, Some(&key)).await;
            }
            25..=36 if !payg_only => {
                if let Some(id) = self.pick(db, RUNNING).await {
                    let pay_with = ["default_method", "balance"][self.rng.usize(..2)];
                    let form = json!({"period_months": 1, "pay_with": pay_with});
                    let key = self.key();
                    self.send("renew", Method::POST, &format!("/api/instances/{id}/renew"), form, Some(&key)).await;
                }
            }
            37..=50 => {
                if let Some(id) = self.pick(db, RUNNING).await {
                    let form = json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true});
                    let key = self.key();
                    self.send("unsubscribe", Method::POST, "/api/unsubscribe", form, Some(&key)).await;
                }
            }
            51..=56 => {
                let renewal = self
                    .pick(db, "SELECT o.instance_id || ' ' || o.id FROM orders o JOIN instances i ON i.id = o.instance_id
                               WHERE o.account_id = $1 AND o.kind = 'renewal' AND o.status = 'paid' AND i.status = 'running' ORDER BY o.id")
                    .await;
                if let Some((instance, order)) = renewal.as_deref().and_then(|r| r.split_once(' ')) {
                    let form = json!({"instance_id": instance, "order_id": order, "confirm_refund_amount": true});
                    let key = self.key();
                    self.send("cancel renewals", Method::POST, "/api/unsubscribe/renewals", form, Some(&key)).await;
                }
            }
            57..=64 => {
                if let Some(id) = self.pick(db, "SELECT id FROM bills WHERE account_id = $1 AND status = 'unpaid' ORDER BY id").await {
                    let key = self.key();
                    self.send("pay bill", Method::POST, &format!("/api/bills/{id}/pay"), json!({}), Some(&key)).await;
                }
            }
            65..=72 => {
                let card = common::card_form(&common::unique_visa(), "123");
                let key = self.key();
                self.send("add card", Method::POST, "/api/payment-methods/cards", card, Some(&key)).await;
            }
            73..=80 => {
                if let Some(id) = self.pick(db, "SELECT id FROM payment_methods WHERE account_id = $1 ORDER BY id").await {
                    self.send("remove method", Method::DELETE, &format!("/api/payment-methods/{id}"), json!({}), None).await;
                }
            }
            81..=87 => {
                if let Some(id) = self.pick(db, "SELECT id FROM payment_methods WHERE account_id = $1 ORDER BY id").await {
                    self.send("set default", Method::POST, &format!("/api/payment-methods/{id}/default"), json!({}), None).await;
                }
            }
            88..=93 => {
                if let Some(id) = self.pick(db, RUNNING).await {
                    let form = json!({"enabled": self.rng.bool()});
                    self.send("auto-renew", Method::POST, &format!("/api/instances/{id}/auto-renew"), form, None).await;
                }
            }
            94..=96 => {
                if let Some(method) = self.pick(db, CARDS).await {
                    let amount = format!("{}.{:02}", self.rng.u32(0..30), self.rng.u32(1..100));
                    let form = json!({"amount": amount, "payment_method_id": method});
                    let key = self.key();
                    self.send("withdraw", Method::POST, "/api/withdrawals", form, Some(&key))
                        .await;
                }
            }
            _ => {
                if let Some(id) = self.pick(db, "SELECT id FROM instances WHERE account_id = $1 AND status = 'running' AND billing = 'payg' ORDER BY id").await {
                    self.send("release", Method::POST, &format!("/api/instances/{id}/release"), json!({}), None).await;
                }
            }
        }
    }

    /// Closes the account as its owner would: unsubscribes and releases what runs, proves the
    /// phone, runs the system check, renounces what may be renounced and confirms. True once
    /// the closure was confirmed.
    async fn try_to_close(&mut self, db: &Db) -> bool {
        let running: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, billing FROM instances WHERE account_id = $1 AND status = 'running' ORDER BY id",
        )
        .bind(&self.account.id)
        .fetch_all(db)
        .await
        .unwrap();
        for (id, billing) in running {
            if billing == "subscription" {
                let form = json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true});
                let key = format!("close-unsubscribe-{id}");
                self.send(
                    "closer: unsubscribe",
                    Method::POST,
                    "/api/unsubscribe",
                    form,
                    Some(&key),
                )
                .await;
            }
        }
        let bills: Vec<String> =
            sqlx::query_scalar("SELECT id FROM bills WHERE account_id = $1 AND status = 'unpaid'")
                .bind(&self.account.id)
                .fetch_all(db)
                .await
                .unwrap();
        for id in bills {
            let key = format!("close-pay-{id}");
            self.send(
                "closer: pay bill",
                Method::POST,
                &format!("/api/bills/{id}/pay"),
                json!({}),
                Some(&key),
            )
            .await;
        }
        // A balance over 1,000 CNY must go first: withdrawn to a card, all of it (SPEC §6.5).
        let view = self
            .send(
                "closer: balance",
                Method::GET,
                "/api/withdrawals",
                Value::Null,
                None,
            )
            .await;
        let view = view.ok_as::<WithdrawalsView>();
        if let (Some(view), Some(card)) = (view, self.pick(db, CARDS).await) {
            let cash = view.withdrawable.amount;
            if cash > Decimal::ONE_HUNDRED {
                let form = json!({"amount": cash.to_string(), "payment_method_id": card});
                let key = self.key();
                self.send(
                    "closer: withdraw",
                    Method::POST,
                    "/api/withdrawals",
                    form,
                    Some(&key),
                )
                .await;
            }
        }
        self.prove_identity().await;
        let started = self
            .send(
                "closer: system check",
                Method::POST,
                "/api/closure/system-check",
                json!({}),
                None,
            )
            .await;
        let Some(started) = started.ok_as::<SystemCheckView>() else {
            return false;
        };
        let check_id = started.id;
        let mut result = None;
        for _ in 0..40 {
            let view = self
                .send(
                    "closer: progress",
                    Method::GET,
                    &format!("/api/closure/system-check/{check_id}"),
                    Value::Null,
                    None,
                )
                .await;
            if let Some(view) = view.ok_as::<SystemCheckView>()
                && view.status == shared::api::SystemCheckStatus::Done
            {
                result = view.result;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let renounce: Vec<&str> = result
            .iter()
            .flat_map(|check| &check.items)
            .filter(|i| i.severity == Severity::Renounceable)
            .map(|i| i.key.as_str())
            .collect();
        self.prove_identity().await;
        let form = json!({"system_check_id": check_id, "agreement_accepted": true, "renounce": renounce, "risk_acknowledged": true, "reason": "no_longer_needed"});
        match self
            .send("closer: confirm", Method::POST, "/api/closure", form, None)
            .await
        {
            Answer::Got(status, _) if status.is_success() => {
                let confirmed = (self.account.id.clone(), Instant::now());
                *self.tally.closing.lock().unwrap() = Some(confirmed);
                true
            }
            Answer::Got(_, body) => {
                eprintln!("chaos: closure refused: {body}; check: {result:?}");
                false
            }
            Answer::Lost => false,
        }
    }

    /// Proves the owner's identity by a code to the phone, when this session has not in the
    /// last 30 minutes (the clock moves fast here).
    async fn prove_identity(&mut self) {
        let status = self
            .send(
                "closer: status",
                Method::GET,
                "/api/closure",
                Value::Null,
                None,
            )
            .await;
        if status
            .ok_as::<ClosureStatus>()
            .is_some_and(|s| !s.identity_verified)
        {
            self.send(
                "closer: identity code",
                Method::POST,
                "/api/closure/identity/code",
                json!({}),
                None,
            )
            .await;
            if let Ok(code) =
                tokio::time::timeout(Duration::from_secs(5), self.code_for_phone()).await
            {
                self.send(
                    "closer: identity",
                    Method::POST,
                    "/api/closure/identity/verify",
                    json!({"code": code}),
                    None,
                )
                .await;
            }
        }
    }

    async fn code_for_phone(&mut self) -> String {
        loop {
            if let Some(base) = self.cluster.base(&mut self.rng)
                && let Ok(Ok(code)) =
                    tokio::spawn(newest_code(base, self.account.phone.clone())).await
            {
                return code;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The newest code sent to `to`, read from the dev inbox of the instance at `base`; the
/// identity code is the newest message to the phone.
async fn newest_code(base: String, to: String) -> Result<String, ()> {
    let messages: Vec<common::InboxMessage> = reqwest::Client::new()
        .get(format!("{base}/api/dev/inbox"))
        .query(&[("to", to.as_str())])
        .send()
        .await
        .map_err(drop)?
        .json()
        .await
        .map_err(drop)?;
    let body = &messages.first().ok_or(())?.body;
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_owned)
        .ok_or(())
}

/// Signs up an account by the API, with a verified phone and a billing address; then tops up
/// its cash balance in the database and adds its cards: a plain Visa (its first card earns the
/// free credit), and for the second and third accounts a card whose charge answers are lost, or
/// one whose charges are declined.
async fn open_account(base: &str, db: &Db, n: usize) -> Account {
    let mut app = common::process::Browser::new(base);
    let email = app.sign_up(&format!("chaos{n}")).await;
    let national = format!("8123456{n}");
    let phone = format!("+65{national}");
    let sent = app
        .post(
            "/api/account/contact/code",
            json!({"channel": "phone", "phone": national}),
        )
        .await;
    assert_eq!(
        sent.status(),
        StatusCode::OK,
        "{}",
        sent.text().await.unwrap()
    );
    let code = app.code_for(&phone).await;
    let verified = app
        .post("/api/account/contact/verify", json!({"code": code}))
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    let saved = app
        .client
        .put(format!("{base}/api/billing-address"))
        .header("x-csrf-token", &app.csrf)
        .json(&common::address_in("SG"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        saved.status(),
        StatusCode::OK,
        "{}",
        saved.text().await.unwrap()
    );
    let session: shared::api::SessionInfo = app.get("/api/session").await;
    let id = session.account.id;
    let mut cards = vec![common::unique_visa()];
    match n {
        1 => cards.push(server::gateway::simulator::ANSWER_LOST.to_owned()),
        2 => cards.push(server::gateway::simulator::CHARGES_DECLINE.to_owned()),
        _ => {}
    }
    for (i, number) in cards.iter().enumerate() {
        let added = app
            .client
            .post(format!("{base}/api/payment-methods/cards"))
            .header("x-csrf-token", &app.csrf)
            .header("idempotency-key", format!("setup-{n}-{i}"))
            .json(&common::card_form(number, "123"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            added.status(),
            StatusCode::CREATED,
            "{}",
            added.text().await.unwrap()
        );
    }
    sqlx::query(
        "INSERT INTO ledger_entries (id, account_id, kind, bucket, amount_minor, currency, payment_method_id, reference, memo, created_at)
         VALUES ($1, $2, 'top_up', 'cash', $3, 'USD', NULL, NULL, 'Chaos test top-up', 0)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&id)
    .bind(TOP_UP_MINOR)
    .execute(db.writer())
    .await
    .unwrap();
    Account { id, email, phone }
}

/// The dev clock's now: real time moved as far as the instances were told.
async fn now_ms(db: &Db) -> i64 {
    let offset: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(server::clock::DEV_OFFSET_KEY)
        .fetch_optional(db)
        .await
        .unwrap();
    chrono::Utc::now().timestamp_millis() + offset.and_then(|o| o.parse::<i64>().ok()).unwrap_or(0)
}

/// Waits for the schedulers to run every job due by now; panics with them after a minute.
async fn jobs_caught_up(db: &Db) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = now_ms(db).await;
        let due: Vec<(String, String, i32, Option<String>)> = sqlx::query_as(
            "SELECT kind, subject, attempts, last_error FROM jobs WHERE status IN ('pending', 'running') AND due_at <= $1 ORDER BY due_at",
        )
        .bind(now)
        .fetch_all(db)
        .await
        .unwrap();
        if due.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "jobs due and not run: {due:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn strings(db: &Db, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql)
        .fetch_all(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn sum(db: &Db, sql: &str, account: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(account)
        .fetch_one(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Prints the seed with any panic of this test, spawned tasks included.
fn announce_seed_on_panic(seed: u64) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        eprintln!("chaos seed {seed}: replay with CHAOS_SEED={seed}");
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_operations_kills_and_gateway_faults_lose_or_double_no_money() {
    let seed = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("chaos seed {seed}");
    let started = Instant::now();
    let mark = |what: &str| eprintln!("chaos: {what} at {:.1} s", started.elapsed().as_secs_f64());
    announce_seed_on_panic(seed);
    let mut rng = fastrand::Rng::with_seed(seed);
    let instances = if common::on_postgres() { 2 } else { 1 };
    let cluster = Cluster::start(instances).await;
    let db = cluster.db().await;
    let base = cluster.base(&mut rng).unwrap();
    let mut accounts = Vec::new();
    for n in 0..ACCOUNTS {
        accounts.push(open_account(&base, &db, n).await);
    }

    mark("accounts open");
    // The storm: every user acts until the last kill; the first user of the first account
    // tries to close it half-way, while the account's other user goes on buying.
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let closer_go = Arc::new(AtomicBool::new(false));
    let confirmed = Arc::new(AtomicBool::new(false));
    let mut users = Vec::new();
    for (a, account) in accounts.iter().enumerate() {
        for c in 0..CLIENTS_PER_ACCOUNT {
            let mut user =
                User::new(account.clone(), rng.u64(..), cluster.clone(), tally.clone()).await;
            let (stop, closer_go, confirmed) = (stop.clone(), closer_go.clone(), confirmed.clone());
            let db = db.clone();
            let closer = a == 0 && c == 0;
            users.push(tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    if closer
                        && closer_go.load(Ordering::SeqCst)
                        && !confirmed.load(Ordering::SeqCst)
                    {
                        if user.try_to_close(&db).await {
                            confirmed.store(true, Ordering::SeqCst);
                        }
                        continue;
                    }
                    user.act(&db, a == 0 && closer_go.load(Ordering::SeqCst))
                        .await;
                }
            }));
        }
    }
    let kills = std::env::var("CHAOS_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(KILLS);
    for kill in 0..kills {
        let target = tally.answers.load(Ordering::SeqCst) + rng.usize(ANSWERS_BETWEEN_KILLS);
        let deadline = Instant::now() + Duration::from_secs(60);
        while tally.answers.load(Ordering::SeqCst) < target {
            assert!(
                Instant::now() < deadline,
                "the users stopped getting answers"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        cluster.kill_and_restart(rng.usize(..instances)).await;
        // Past the idempotency keys and job leases the dead instance left (five minutes), and
        // on towards expiries, renewals and usage bills.
        cluster
            .advance(DurationMs::seconds(rng.i64(301..3_600)))
            .await;
        if kill == 1 {
            closer_go.store(true, Ordering::SeqCst);
        }
    }
    stop.store(true, Ordering::SeqCst);
    for user in users {
        user.await.unwrap();
    }
    mark("storm over");
    eprintln!(
        "chaos: {} answers, {} lost to kills, {} restarts, closure confirmed: {}",
        tally.answers.load(Ordering::SeqCst),
        tally.unanswered.load(Ordering::SeqCst),
        cluster.restarts.load(Ordering::SeqCst),
        confirmed.load(Ordering::SeqCst)
    );
    for (outcome, count) in tally.outcomes.lock().unwrap().iter() {
        eprintln!("  {count:4} × {outcome}");
    }
    assert_eq!(
        *tally.server_errors.lock().unwrap(),
        Vec::<String>::new(),
        "no answer was a server error"
    );

    // The end of the day: each user still signed in releases its pay-as-you-go resources. Their
    // hourly bills would otherwise run for the weeks below, and each hour's charges would put new
    // intents in flight while the loop below waits for none to be.
    for account in &accounts {
        let mut user =
            User::new(account.clone(), rng.u64(..), cluster.clone(), tally.clone()).await;
        let payg = strings(&db, &format!("SELECT id FROM instances WHERE account_id = '{}' AND billing = 'payg' AND status = 'running'", account.id)).await;
        for id in payg {
            user.send(
                "end: release",
                Method::POST,
                &format!("/api/instances/{id}/release"),
                json!({}),
                None,
            )
            .await;
        }
    }

    // In flight: every intent the gateway may have acted on is pending or reversing with its
    // job (a payout's is its withdrawal's); the reconciliation settles them within minutes.
    let orphans = strings(
        &db,
        "SELECT i.id FROM gateway_intents i WHERE i.status IN ('pending', 'reversing')
           AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = 'gateway_intent' AND j.subject = i.id AND j.status IN ('pending', 'running'))
           AND NOT EXISTS (SELECT 1 FROM withdrawals w JOIN jobs j ON j.kind = 'withdrawal_payout' AND j.subject = w.id
                            WHERE w.intent_id = i.id AND j.status IN ('pending', 'running'))",
    )
    .await;
    assert_eq!(
        orphans,
        Vec::<String>::new(),
        "every unsettled intent has its job"
    );
    // The gateway's network still fails now and then, and the released instances' last usage
    // is billed some hours on: as many rounds as that takes, bounded.
    let unsettled = "SELECT id FROM gateway_intents WHERE status IN ('pending', 'reversing')";
    for _ in 0..60 {
        if strings(&db, unsettled).await.is_empty() {
            break;
        }
        cluster.advance(DurationMs::minutes(10)).await;
        jobs_caught_up(&db).await;
    }
    assert_eq!(
        strings(&db, "SELECT i.id || ' ' || i.status || ' ' || i.operation || ' ' || i.purpose || ' ' || COALESCE(i.last_error, '') || ' | job ' || COALESCE(j.status, 'none') || ' attempts ' || COALESCE(j.attempts, 0) || ' ' || COALESCE(j.last_error, '')
                        FROM gateway_intents i LEFT JOIN jobs j ON j.kind = 'gateway_intent' AND j.subject = i.id WHERE i.status IN ('pending', 'reversing')").await,
        Vec::<String>::new(),
        "every intent settled"
    );

    mark("intents settled");
    // No write after a closure's confirmation: once Confirm Deletion was answered, nothing the
    // account's members sent was accepted (the order a user sees; the rows' timestamps are read
    // before each request waits for the write lock, so they cannot tell it).
    let late = tally.late_writes.lock().unwrap().clone();
    let failed_closure = strings(
        &db,
        &format!(
            "SELECT id FROM closures WHERE account_id = '{}' AND status = 'failed'",
            accounts[0].id
        ),
    )
    .await;
    if failed_closure.is_empty() {
        assert_eq!(
            late,
            Vec::<String>::new(),
            "no member's write after Confirm Deletion"
        );
    } else {
        eprintln!("chaos: the closure failed within the storm; writes after it: {late:?}");
    }

    // What names each account, taken while every account still exists.
    let mut names = BTreeMap::new();
    for account in &accounts {
        let phones = [account.phone.as_str()];
        names.insert(
            account.id.clone(),
            common::catalog::names_of(&db, &account.id, &phones).await,
        );
    }

    // The clock runs on a week at a time, eight weeks or until nothing is in flight: refunds
    // arrive, cool-downs end, and a closure is decided once no money of its account is moving.
    // Then a day and an hourly pass more: housekeeping keeps a decision's finished job and its
    // "Account closed" notices a day, and one decided in the last week must be swept too.
    let in_flight = "SELECT id FROM refunds WHERE status = 'processing'
                     UNION ALL SELECT id FROM withdrawals WHERE status = 'processing'
                     UNION ALL SELECT id FROM closures WHERE status = 'cooling_down'";
    for week in 0.. {
        cluster.advance(DurationMs::days(7)).await;
        jobs_caught_up(&db).await;
        let waiting = strings(&db, in_flight).await;
        if week >= 7 && waiting.is_empty() {
            break;
        }
        assert!(
            week < 12,
            "still in flight after {} weeks: {waiting:?}",
            week + 1
        );
    }
    cluster
        .advance(DurationMs::days(1) + DurationMs::hours(1))
        .await;
    jobs_caught_up(&db).await;

    mark("clock run on");
    cluster.quiesce().await;
    let living: BTreeSet<String> = strings(&db, "SELECT id FROM accounts")
        .await
        .into_iter()
        .collect();
    if confirmed.load(Ordering::SeqCst) {
        // The cool-down ended: closed for good, or failed (new overdue bills) and open again.
        let failed = strings(
            &db,
            &format!(
                "SELECT status || ': ' || COALESCE(failure, '') FROM closures WHERE account_id = '{}'",
                accounts[0].id
            ),
        )
        .await;
        // A closure still cooling down waits for money in flight: name it, so a failure says
        // what never arrived.
        let account = &accounts[0].id;
        let waiting_on = strings(
            &db,
            &format!(
                "SELECT 'refund ' || id || ' ' || status FROM refunds WHERE account_id = '{account}' AND status = 'processing'
                 UNION ALL SELECT 'intent ' || id || ' ' || status || ' ' || operation || ' ' || purpose FROM gateway_intents
                   WHERE account_id = '{account}' AND status IN ('pending', 'reversing')
                 UNION ALL SELECT 'withdrawal ' || id || ' ' || status FROM withdrawals WHERE account_id = '{account}' AND status = 'processing'
                 UNION ALL SELECT 'job ' || j.kind || ' ' || j.subject || ' ' || j.status || ' attempts ' || j.attempts || ' ' || COALESCE(j.last_error, '')
                   FROM jobs j JOIN bills b ON b.id = j.subject WHERE b.account_id = '{account}' AND j.status IN ('pending', 'running')
                 UNION ALL SELECT 'decision ' || j.status || ' due ' || j.due_at || ' attempts ' || j.attempts || ' ' || COALESCE(j.last_error, '')
                   FROM jobs j JOIN closures c ON c.id = j.subject WHERE c.account_id = '{account}' AND j.kind = 'closure_decide'"
            ),
        )
        .await;
        assert!(
            !living.contains(&accounts[0].id) || failed.iter().all(|s| s.starts_with("failed")),
            "the closure was decided: {failed:?}; waiting on {waiting_on:?}"
        );
        eprintln!(
            "chaos: the closing account was {}",
            if living.contains(&accounts[0].id) {
                &failed[0]
            } else {
                "deleted"
            }
        );
    }
    for account in &accounts {
        if !living.contains(&account.id) {
            let left = common::catalog::rows_naming(&db, &names[&account.id]).await;
            if !left.is_empty() {
                // When each row left was written, against the clock: a sweep that did not run,
                // or a decision later than the weeks above, tell apart here.
                let jobs = strings(
                    &db,
                    "SELECT kind || ' ' || subject || ' ' || status || ' due ' || due_at || ' done ' || COALESCE(done_at, -1) || ' attempts ' || attempts
                     FROM jobs WHERE kind IN ('housekeeping', 'closure_decide')",
                )
                .await;
                let outbox = strings(
                    &db,
                    "SELECT recipient || ' created ' || created_at || ' ' || status FROM outbox",
                )
                .await;
                eprintln!(
                    "chaos: now {}; jobs {jobs:?}; outbox {outbox:?}",
                    now_ms(&db).await
                );
            }
            assert_eq!(left, vec![], "a closed account leaves no row");
            continue;
        }
        let mut user =
            User::new(account.clone(), rng.u64(..), cluster.clone(), tally.clone()).await;
        check_balances(&db, &mut user).await;
    }

    check_money_flows(&db).await;
}

/// Every balance of the account of `user` is its ledger: the server's figures against the sums
/// of the entries, and the `gateway` bucket against the gateway's own calls.
async fn check_balances(db: &Db, user: &mut User) {
    let a = user.account.id.clone();
    let a = a.as_str();
    let ties = user
        .send("check", Method::GET, "/api/closure/ties", Value::Null, None)
        .await;
    let ledger = user
        .send("check", Method::GET, "/api/ledger", Value::Null, None)
        .await;
    let (Some(ties), Some(ledger)) = (ties.ok_as::<AccountTies>(), ledger.ok_as::<LedgerView>())
    else {
        panic!("the account's figures are readable");
    };
    let bucket = |b: &str| {
        format!(
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE account_id = $1 AND bucket = '{b}'"
        )
    };
    assert_eq!(
        ties.cash_balance,
        usd_minor(sum(db, &bucket("cash"), a).await),
        "cash is its ledger"
    );
    assert_eq!(
        ledger.credit_balance,
        usd_minor(sum(db, &bucket("credit"), a).await),
        "credit is its ledger"
    );
    assert!(
        sum(db, &bucket("cash"), a).await >= 0,
        "no cash balance below zero"
    );
    assert_eq!(
        sum(db, &bucket("hold"), a).await,
        0,
        "every card hold released"
    );
    // The gateway bucket is what the gateway took less what it returned, plus what it paid
    // out, call by call.
    let gateway = sum(db, "SELECT CAST(COALESCE(SUM(c.amount_minor), 0) AS BIGINT) FROM sim_gateway_calls c
                              JOIN gateway_intents i ON i.id = c.idempotency_key
                             WHERE i.account_id = $1 AND i.operation = 'charge' AND c.operation = 'charge' AND c.outcome = 'ok'", a).await;
    let returned = sum(db, "SELECT CAST(COALESCE(SUM(c.amount_minor), 0) AS BIGINT) FROM sim_gateway_calls c
                              JOIN gateway_intents i ON c.idempotency_key = i.id || ':reverse'
                             WHERE i.account_id = $1 AND i.operation = 'charge' AND c.outcome = 'ok'", a).await;
    let paid_out = sum(db, "SELECT CAST(COALESCE(SUM(c.amount_minor), 0) AS BIGINT) FROM sim_gateway_calls c
                              JOIN gateway_intents i ON i.id = c.idempotency_key
                             WHERE i.account_id = $1 AND i.operation = 'payout' AND c.operation = 'payout' AND c.outcome = 'ok'", a).await;
    let in_bucket = sum(db, &bucket("gateway"), a).await;
    if in_bucket != returned - gateway + paid_out {
        // Name what could explain it: money still moving, and every gateway call of the
        // account whose intent did not end as its call did.
        let moving = strings(
            db,
            &format!(
                "SELECT 'withdrawal ' || w.id || ' ' || w.status || ' job ' || COALESCE(j.status, 'none') || ' ' || COALESCE(j.last_error, '')
                   FROM withdrawals w LEFT JOIN jobs j ON j.subject = w.id WHERE w.account_id = '{a}' AND w.status <> 'paid'
                 UNION ALL SELECT 'intent ' || i.id || ' ' || i.operation || ' ' || i.status || ' ' || i.amount_minor || ' call ' || COALESCE(c.operation, 'none') || ' ' || COALESCE(c.outcome, 'pending')
                   FROM gateway_intents i LEFT JOIN sim_gateway_calls c ON c.idempotency_key = i.id
                  WHERE i.account_id = '{a}' AND (i.status NOT IN ('captured', 'reversed', 'failed') OR c.outcome IS NULL OR c.outcome <> 'ok')"
            ),
        )
        .await;
        panic!(
            "the gateway bucket is the gateway's calls: ledger {in_bucket}, calls {}; {moving:?}",
            returned - gateway + paid_out
        );
    }
}

/// Across every account: refunds within their cash and back where it came from, every charge
/// held by its purpose or returned, nothing paid twice, every refund and withdrawal paid, no job
/// abandoned.
async fn check_money_flows(db: &Db) {
    // No refund above the cash its order was paid with.
    let over = strings(
        db,
        "SELECT r.id FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.amount_minor > o.cash_minor",
    )
    .await;
    assert_eq!(
        over,
        Vec::<String>::new(),
        "no refund above its order's cash"
    );
    // Each refund goes back where its cash came from (SPEC §5): to the balance only for a
    // balance payment, a payment over 150 days old, or a method no longer bound.
    let astray = strings(
        db,
        "SELECT r.id || ' to ' || r.destination || ', paid with ' || o.paid_with FROM refunds r JOIN orders o ON o.id = r.order_id
          WHERE r.amount_minor > 0 AND (
                r.destination = 'balance' AND o.paid_with IN ('card', 'paypal', 'paytm') AND r.created_at - o.paid_at < CAST(150 AS BIGINT) * 86400000
                AND EXISTS (SELECT 1 FROM payment_methods m WHERE m.id = o.payment_method_id)
             OR r.destination <> 'balance' AND r.destination <> o.paid_with)",
    )
    .await;
    assert_eq!(
        astray,
        Vec::<String>::new(),
        "every refund back to where it came from"
    );
    let flows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT bucket, kind, CAST(SUM(amount_minor) AS BIGINT) FROM ledger_entries GROUP BY bucket, kind ORDER BY bucket, kind",
    )
    .fetch_all(db)
    .await
    .unwrap();
    eprintln!("chaos: ledger by bucket and kind: {flows:?}");

    // Every charge the gateway made is held by its purpose or was returned, never both.
    let unmatched = strings(
        db,
        "SELECT c.idempotency_key || ' ' || COALESCE(i.status, 'no intent') || ' ' || COALESCE(i.purpose, '') FROM sim_gateway_calls c
           LEFT JOIN gateway_intents i ON i.id = c.idempotency_key
          WHERE c.operation = 'charge' AND c.outcome = 'ok'
            AND (i.id IS NULL AND EXISTS (SELECT 1 FROM payment_methods m WHERE m.gateway_token = c.target)
                 OR i.status NOT IN ('captured', 'reversed')
                 OR i.status = 'captured' AND NOT EXISTS (SELECT 1 FROM orders o WHERE 'order:' || o.id = i.purpose)
                                          AND NOT EXISTS (SELECT 1 FROM bills b WHERE 'bill:' || b.id = i.purpose AND b.status = 'paid')
                 OR i.status = 'reversed' AND NOT EXISTS (SELECT 1 FROM sim_gateway_calls r WHERE r.idempotency_key = i.id || ':reverse' AND r.outcome = 'ok'))",
    )
    .await;
    assert_eq!(
        unmatched,
        Vec::<String>::new(),
        "every charge held by its purpose or returned"
    );
    // No order or bill paid twice.
    let twice = strings(
        db,
        "SELECT purpose FROM gateway_intents WHERE status = 'captured' GROUP BY purpose HAVING COUNT(*) > 1",
    )
    .await;
    assert_eq!(twice, Vec::<String>::new(), "no purpose paid twice");
    assert_eq!(
        strings(db, "SELECT id FROM refunds WHERE status <> 'refunded'").await,
        Vec::<String>::new(),
        "every refund paid"
    );
    assert_eq!(
        strings(db, "SELECT id FROM withdrawals WHERE status <> 'paid'").await,
        Vec::<String>::new(),
        "every withdrawal paid out"
    );
    assert_eq!(
        strings(
            db,
            "SELECT kind || ' ' || subject FROM jobs WHERE status = 'failed'"
        )
        .await,
        Vec::<String>::new(),
        "no job abandoned"
    );
}
