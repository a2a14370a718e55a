use crate::acceptance::CardAcceptance;
use crate::batched_reads::BatchedReads;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::gateway::PaymentGateway;
use crate::inline_reads::InlineReads;
use crate::metrics::Metrics;
use crate::notify::Outbox;
use crate::passwords::PasswordHasher;
use crate::secrets::Secrets;
use std::sync::Arc;

/// Everything a handler may need, passed by axum's `State`: its [`Services`] behind one
/// `Arc`. Every middleware and extractor that takes the state clones it, several times a
/// request, so a clone is one reference count rather than one per service (`perf` put the
/// clone and drop of a dozen `Arc`s at 3 % of a session-read load's samples).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }

    /// The same services with `gateway` in place of this one's (a test's gateway outage).
    pub fn with_gateway(&self, gateway: Option<Arc<dyn PaymentGateway>>) -> AppState {
        let mut services = (*self.0).clone();
        services.gateway = gateway;
        AppState::new(services)
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services of a running server, shared by every request and job ([`AppState`]).
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    /// The session read on the request's thread, on SQLite (see [`InlineReads`]).
    pub inline_reads: Option<Arc<InlineReads>>,
    /// The session reads batched on PostgreSQL, by [`SessionRead`](crate::auth::SessionRead)
    /// (see [`BatchedReads`]).
    pub batched_reads: Arc<[Option<BatchedReads>; 2]>,
    pub clock: Arc<Clock>,
    pub config: Arc<Config>,
    pub hasher: PasswordHasher,
    pub secrets: Arc<Secrets>,
    /// Where queued messages go: the postmen of this process.
    pub outbox: Arc<Outbox>,
    /// The card network and PayPal: the simulator in dev mode, none in production yet.
    pub gateway: Option<Arc<dyn PaymentGateway>>,
    pub acceptance: Arc<CardAcceptance>,
    pub rates: Arc<crate::rates::CnyRates>,
    /// What `/metrics` answers, on its own listener (`--metrics-bind`).
    pub metrics: Arc<Metrics>,
    /// Held by each pass over the due jobs ([`run_due`](crate::jobs::run_due)), so this
    /// process runs one at a time.
    pub job_pass: Arc<tokio::sync::Mutex<()>>,
}
