//! What an operator's Prometheus scrapes, at `/metrics` on a listener of its own
//! (`--metrics-bind`): never on the public one, whose answers it describes.
//!
//! Counted as they happen, in this server's own [`Registry`] (the tests run many servers in one
//! process, so nothing is process-wide): every answer by method, route template and status, its
//! latency, the 429s by their code, and the wait to begin each write transaction. Read when
//! scraped: the job queue's and the outbox's backlogs (two queries, by the app's clock), the
//! password-hashing queue and the database pool.

use crate::clock::{DurationMs, Millis};
use crate::db::Db;
use crate::passwords::HashLoad;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use shared::ErrorCode;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

/// The route label of a request no route matched: the built app's files and pages.
pub const UNMATCHED: &str = "unmatched";

/// Request latencies, in seconds: Prometheus's usual buckets, which span a cached read (a few
/// ms) to a gateway call that times out (10 s); a sign-in's hash lands near 0.05 to 0.25.
const REQUEST_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Waits to begin a write transaction, in seconds: most take well under a millisecond, a queue
/// behind SQLite's one writer a few, and a wait gives up at 10 s for a pooled connection and
/// 30 s for SQLite's writing one.
const WRITE_WAIT_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0, 30.0,
];

/// The longest a scrape waits for the database: a scrape when every connection is taken
/// answers with what it has in memory rather than waiting out the pool's 10 s.
const DATABASE_READ_LIMIT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answer {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Refusal {
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobKind {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Messages {
    channel: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Held {
    state: &'static str,
}

/// One server's metrics, in the app state.
pub struct Metrics {
    registry: Registry,
    requests: Family<Answer, Counter>,
    request_seconds: Family<Route, Histogram>,
    too_many_requests: Family<Refusal, Counter>,
    write_wait_seconds: Histogram,
    jobs_due: Family<JobKind, Gauge>,
    oldest_due_job_seconds: Family<JobKind, Gauge<f64, AtomicU64>>,
    outbox_messages: Family<Messages, Gauge>,
    database_read: Gauge,
    password_hashes: Family<Held, Gauge>,
    password_hash_limit: Gauge,
    pool_connections: Family<Held, Gauge>,
    pool_max_connections: Gauge,
    writers_waiting: Gauge,
    /// One scrape at a time: each sets the gauges it then encodes.
    scraping: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("account_center");
        let requests = Family::<Answer, Counter>::default();
        registry.register(
            "http_requests",
            "Answers given by the public listener, by method, route template (`unmatched`: the \
             app's files and pages) and status code",
            requests.clone(),
        );
        let request_seconds =
            Family::<Route, Histogram>::new_with_constructor(|| Histogram::new(REQUEST_BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer's headers, by method and route template",
            Unit::Seconds,
            request_seconds.clone(),
        );
        let too_many_requests = Family::<Refusal, Counter>::default();
        registry.register(
            "http_too_many_requests",
            "Answers with status 429, by error code: a limit reached (rate_limited, \
             sign_in_throttled, too_many_codes, resend_too_soon, code_attempts_exceeded) or the \
             server busy (server_busy: the password-hashing queue is full, or PostgreSQL broke \
             a deadlock)",
            too_many_requests.clone(),
        );
        let write_wait_seconds = Histogram::new(WRITE_WAIT_BUCKETS);
        registry.register_with_unit(
            "db_write_wait",
            "Time to begin a write transaction: waiting for a pooled connection and, on SQLite, \
             for the turn at the database's one writing connection; by requests and the scheduler",
            Unit::Seconds,
            write_wait_seconds.clone(),
        );
        let jobs_due = Family::<JobKind, Gauge>::default();
        registry.register(
            "jobs_due",
            "Jobs a scheduler could claim now (due and pending, or their lease ran out), by kind; \
             read from the database when scraped",
            jobs_due.clone(),
        );
        let oldest_due_job_seconds = Family::<JobKind, Gauge<f64, AtomicU64>>::default();
        registry.register_with_unit(
            "jobs_oldest_due_age",
            "How long the longest-waiting claimable job of each kind has been due, by the \
             server's clock (0 when none is due)",
            Unit::Seconds,
            oldest_due_job_seconds.clone(),
        );
        let outbox_messages = Family::<Messages, Gauge>::default();
        registry.register(
            "outbox_messages",
            "Outbox messages not sent, by channel and status: pending (queued, or waiting for \
             a retry) and failed (given up)",
            outbox_messages.clone(),
        );
        let database_read = Gauge::default();
        registry.register(
            "metrics_database_read",
            "1 when this scrape read the job and outbox backlogs from the database; 0 when it \
             could not (the server's log says why) and those gauges are left out",
            database_read.clone(),
        );
        let password_hashes = Family::<Held, Gauge>::default();
        registry.register(
            "password_hashes",
            "Password hashes (argon2id) admitted, by state: running on a hashing thread, or \
             waiting for one",
            password_hashes.clone(),
        );
        let password_hash_limit = Gauge::default();
        registry.register(
            "password_hash_limit",
            "Password hashes that may be running and waiting together; past it a request that \
             hashes is answered 429 server_busy",
            password_hash_limit.clone(),
        );
        let pool_connections = Family::<Held, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Open connections of the database pool (on SQLite its readers), by state: in_use or idle",
            pool_connections.clone(),
        );
        let pool_max_connections = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most connections the database pool opens (--database-pool-size; on SQLite its \
             readers, beside the one writing connection)",
            pool_max_connections.clone(),
        );
        let writers_waiting = Gauge::default();
        registry.register(
            "db_writers_waiting",
            "Write transactions waiting to begin: on SQLite for their turn at the one writing \
             connection, on PostgreSQL for a pooled connection",
            writers_waiting.clone(),
        );
        Metrics {
            registry,
            requests,
            request_seconds,
            too_many_requests,
            write_wait_seconds,
            jobs_due,
            oldest_due_job_seconds,
            outbox_messages,
            database_read,
            password_hashes,
            password_hash_limit,
            pool_connections,
            pool_max_connections,
            writers_waiting,
            scraping: tokio::sync::Mutex::new(()),
        }
    }

    fn count_answer(&self, method: &'static str, route: String, answer: &Response, took: Duration) {
        let status = answer.status();
        self.request_seconds
            .get_or_create(&Route {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&Answer {
                method,
                route,
                status: status.as_u16(),
            })
            .inc();
        if status == StatusCode::TOO_MANY_REQUESTS {
            // Every 429 is an `ApiError`, which leaves its code on the answer; `unknown` would
            // be one that is not.
            let code = answer
                .extensions()
                .get::<ErrorCode>()
                .copied()
                .unwrap_or(ErrorCode::Unknown);
            self.too_many_requests
                .get_or_create(&Refusal {
                    code: code.as_str(),
                })
                .inc();
        }
    }

    fn set_hash_load(&self, load: HashLoad) {
        let gauge = |state| self.password_hashes.get_or_create_owned(&Held { state });
        gauge("running").set(as_gauge(load.running));
        gauge("waiting").set(as_gauge(load.waiting));
        self.password_hash_limit.set(as_gauge(load.limit));
    }

    fn set_pool(&self, db: &Db) {
        let open = db.readers().size() as usize;
        let idle = db.readers().num_idle().min(open);
        let gauge = |state| self.pool_connections.get_or_create_owned(&Held { state });
        gauge("in_use").set(as_gauge(open - idle));
        gauge("idle").set(as_gauge(idle));
        self.pool_max_connections
            .set(i64::from(db.readers().options().get_max_connections()));
        self.writers_waiting.set(as_gauge(db.writers_waiting()));
    }

    fn set_backlog(&self, backlog: Option<Backlog>) {
        self.jobs_due.clear();
        self.oldest_due_job_seconds.clear();
        self.outbox_messages.clear();
        let Some(backlog) = backlog else {
            self.database_read.set(0);
            return;
        };
        self.database_read.set(1);
        for (kind, due, oldest_s) in backlog.jobs {
            let kind = JobKind { kind };
            self.jobs_due.get_or_create(&kind).set(due);
            self.oldest_due_job_seconds
                .get_or_create(&kind)
                .set(oldest_s);
        }
        for (channel, status, count) in backlog.outbox {
            self.outbox_messages
                .get_or_create(&Messages { channel, status })
                .set(count);
        }
    }

    /// The registry in the Prometheus text format.
    fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

fn as_gauge(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The method as a label: the ones the API uses by name, any other as `other`, so a client
/// inventing methods cannot add series without end.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts each answer of the public router by its route's template (`/api/instances/{id}`,
/// never the path asked for: one series per route, not per instance), and times it. Added
/// with `Router::layer`, it runs after routing, when the matched route is known. The request
/// runs with this server's write-wait histogram at hand for [`time_write_wait`].
pub async fn count_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let answer = with_write_waits(&metrics, next.run(request)).await;
    metrics.count_answer(method, route, &answer, started.elapsed());
    answer
}

tokio::task_local! {
    /// The write-wait histogram of the server whose request (or scheduler) this task runs.
    /// `db::begin_write` takes only the pool, from some fifty callers; a task-local lets it
    /// record into the right server's registry without threading the state through each.
    static WRITE_WAITS: Histogram;
}

/// Runs `work` with `metrics`' write-wait histogram at hand for [`time_write_wait`]. Work it
/// spawns onto other tasks is not timed.
pub async fn with_write_waits<F: Future>(metrics: &Metrics, work: F) -> F::Output {
    WRITE_WAITS
        .scope(metrics.write_wait_seconds.clone(), work)
        .await
}

/// Awaits `begin`, the start of a write transaction, and records how long it took in the
/// histogram of [`with_write_waits`], when there is one: a failure too (a pool that timed out
/// is the wait most worth seeing).
pub async fn time_write_wait<F: Future>(begin: F) -> F::Output {
    let started = Instant::now();
    let begun = begin.await;
    let _outside_a_server =
        WRITE_WAITS.try_with(|waits| waits.observe(started.elapsed().as_secs_f64()));
    begun
}

/// What a scrape read from the database.
struct Backlog {
    /// Kind, jobs claimable now, seconds the oldest has been claimable.
    jobs: Vec<(String, i64, f64)>,
    /// Channel, status, messages.
    outbox: Vec<(String, String, i64)>,
}

/// The job and outbox backlogs at `now`. Every kind of job and every channel is listed, at 0
/// when nothing waits, so that a series does not vanish when its backlog empties.
async fn read_backlog(db: &Db, now: Millis) -> sqlx::Result<Backlog> {
    let due = crate::queue::claimable_by_kind(db, now).await?;
    let mut jobs: Vec<(String, i64, f64)> = crate::jobs::kinds()
        .into_iter()
        .map(|kind| (kind.to_owned(), 0, 0.0))
        .collect();
    for (kind, count, since) in due {
        let age = (now - since).max(DurationMs::ZERO).as_millis() as f64 / 1_000.0;
        match jobs.iter_mut().find(|(known, _, _)| *known == kind) {
            Some(entry) => *entry = (kind, count, age),
            None => jobs.push((kind, count, age)),
        }
    }
    let unsent = crate::notify::unsent_counts(db).await?;
    let mut outbox: Vec<(String, String, i64)> = Vec::new();
    for channel in ["email", "sms", "voice"] {
        for status in ["pending", "failed"] {
            let count = unsent
                .iter()
                .find(|(c, s, _)| c == channel && s == status)
                .map_or(0, |(_, _, n)| *n);
            outbox.push((channel.to_owned(), status.to_owned(), count));
        }
    }
    Ok(Backlog { jobs, outbox })
}

/// The metrics listener's router: `GET /metrics`, nothing else.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(state)
}

/// Reads the gauges, then answers every metric. A database that cannot be read within
/// [`DATABASE_READ_LIMIT`] leaves its gauges out and says so, and the rest is answered anyway.
async fn scrape(State(state): State<AppState>) -> Response {
    let metrics = &state.metrics;
    let _one_at_a_time = metrics.scraping.lock().await;
    metrics.set_hash_load(state.hasher.load());
    metrics.set_pool(&state.db);
    let read = tokio::time::timeout(
        DATABASE_READ_LIMIT,
        read_backlog(&state.db, state.clock.now()),
    )
    .await;
    let backlog = match read {
        Ok(Ok(backlog)) => Some(backlog),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: cannot read the job and outbox backlogs");
            None
        }
        Err(_) => {
            tracing::warn!(
                limit_s = DATABASE_READ_LIMIT.as_secs(),
                "metrics: the database did not answer in time for the backlogs"
            );
            None
        }
    };
    metrics.set_backlog(backlog);
    (
        [(
            header::CONTENT_TYPE,
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        )],
        metrics.encode(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_wait_is_recorded_by_the_server_whose_work_waited() {
        let (one, other) = (Metrics::new(), Metrics::new());
        // Outside any server's work (a test, a command): nothing to record in, nothing fails.
        assert_eq!(time_write_wait(async { 7 }).await, 7);
        with_write_waits(&one, async {
            time_write_wait(async {}).await;
            time_write_wait(async {}).await;
        })
        .await;
        assert!(
            one.encode()
                .contains("\naccount_center_db_write_wait_seconds_count 2\n")
        );
        assert!(
            other
                .encode()
                .contains("\naccount_center_db_write_wait_seconds_count 0\n")
        );
    }

    #[test]
    fn a_method_the_api_does_not_use_is_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "other");
        assert_eq!(method_label(&Method::CONNECT), "other");
    }
}
