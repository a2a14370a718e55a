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

/// Everything a handler may need, passed by axum's `State`.
#[derive(Clone)]
pub struct AppState {
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
}
