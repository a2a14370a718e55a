//! The session read on PostgreSQL, several requests' reads in one statement.
//!
//! Every signed-in request reads its session first: one row by primary key, microseconds of
//! PostgreSQL's work and a round trip to another process around it — messages through the
//! kernel, the backend woken, the answer parsed. Under load the round trips, not the work,
//! are what the read costs.
//!
//! So the reads that arrive together share one: a request puts its token's hash in a queue,
//! and a batcher sends every read waiting there as one statement, whose rows it hands back
//! to each asker. A read joins a statement only before that statement is sent, so it sees
//! every commit made before its request arrived, as a read of its own would. Alone, a read
//! is a batch of one; at most [`IN_FLIGHT`] statements run at once, and what arrives
//! meanwhile waits for the next, so the busier the server the larger the batch. A batch that
//! fails answers no one from here: each asker reads through the pool, which stays the one
//! source of errors.
//!
//! The statements run on connections of their own, outside the pool, in PostgreSQL's own
//! driver rather than sqlx's `Any`. A pooled connection costs a round trip more than its
//! statement: sqlx checks it as it goes back to the pool (a `Sync`, and PostgreSQL's answer),
//! which wakes the backend a second time. And `Any` copies every row into values of its own
//! before the caller decodes them. Under the API load the two cost about 10 µs of the server's
//! CPU per read and 5 µs of PostgreSQL's, a fifth of the read's (README "Performance"). They
//! are at most [`IN_FLIGHT`] connections a batcher beside the pool, opened when first needed.
//!
//! SQLite has no round trip to save (its reads run on the request's thread, see
//! [`InlineReads`](crate::inline_reads::InlineReads)).

use crate::clock::Millis;
use crate::db::{self, Backend, Db, JsonList};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{Connection, Row};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Statements of one batcher that may run at once, each on a connection of its own. Under the
/// API load (16 clients) one read a little better than two (42–45 % of the ceiling against
/// 41–43 %, in turns; larger batches), but two keep one slow statement (a page not in
/// PostgreSQL's memory) from holding up every signed-in request behind it.
const IN_FLIGHT: usize = 2;
/// The most reads one statement carries.
const MAX_BATCH: usize = 64;

/// One request's read: its parameters, and where its row (if any) goes.
struct Ask {
    token_hash: String,
    now: Millis,
    answer: oneshot::Sender<Option<PgRow>>,
}

/// The connections the statements run on, opened when first needed and kept while they
/// work: at most [`IN_FLIGHT`], one per statement running.
struct Connections {
    options: PgConnectOptions,
    idle: Mutex<Vec<PgConnection>>,
}

impl Connections {
    /// The rows of `sql` with `asks` at `$1`, on an idle connection or a new one. A connection
    /// whose statement failed is dropped, as it may be broken: the next statement opens another.
    async fn fetch(&self, sql: &str, asks: String) -> sqlx::Result<Vec<PgRow>> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => PgConnection::connect_with(&self.options).await?,
        };
        let rows = sqlx::query(sql).bind(asks).fetch_all(&mut conn).await?;
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        Ok(rows)
    }
}

/// A batcher for one statement.
pub struct BatchedReads {
    asks: mpsc::UnboundedSender<Ask>,
    statements: Arc<AtomicU64>,
    sql: Arc<str>,
}

impl BatchedReads {
    /// Starts a batcher that reads `columns` of `joins` (tables joined to `sessions s`) for
    /// each waiting read: the row whose `s.token_hash` is the read's, kept if `filter` holds,
    /// which may name the read's time as `ask.now`. PostgreSQL only: `None` on SQLite.
    pub fn start(db: &Db, columns: &str, joins: &str, filter: &str) -> Option<BatchedReads> {
        if db::backend(db) != Backend::Postgres {
            return None;
        }
        let url = db.readers().connect_options().database_url.clone();
        let options = match PgConnectOptions::from_str(url.as_str()) {
            Ok(options) => options,
            Err(error) => {
                tracing::warn!(%error, "no batched session reads: the database URL");
                return None;
            }
        };
        let asks_table = db::json_table(Backend::Postgres, 1, "q", JsonList::Rows);
        // Each ask is looked up by its key, in a subquery of its own. In a plain join the
        // planner, which guesses a hundred rows for any JSON array, would hash the asks and
        // scan every session while there are a few thousand: far more work than the handful
        // of lookups a batch needs. `OFFSET 0` keeps the subquery from being folded back into
        // such a join.
        let sql = format!(
            "SELECT ask.i AS ask_index, found.*
             FROM (SELECT (q.value ->> 0)::bigint AS i, q.value ->> 1 AS hash,
                          (q.value ->> 2)::bigint AS now FROM {asks_table}) ask
             CROSS JOIN LATERAL (
                 SELECT {columns} FROM {joins}
                 WHERE s.token_hash = ask.hash AND {filter}
                 OFFSET 0
             ) found"
        );
        let sql: Arc<str> = sql.into();
        let (asks, queue) = mpsc::unbounded_channel();
        let statements = Arc::new(AtomicU64::new(0));
        let connections = Connections {
            options,
            idle: Mutex::default(),
        };
        tokio::spawn(run(
            db.clone(),
            Arc::new(connections),
            sql.clone(),
            queue,
            statements.clone(),
        ));
        Some(BatchedReads {
            asks,
            statements,
            sql,
        })
    }

    /// The row the statement reads for `token_hash` at `now`, if any; `Err` when the batch
    /// failed (or the batcher is gone) and the caller should read on its own.
    pub async fn read(&self, token_hash: &str, now: Millis) -> Result<Option<PgRow>, Unanswered> {
        let (answer, answered) = oneshot::channel();
        let ask = Ask {
            token_hash: token_hash.to_owned(),
            now,
            answer,
        };
        self.asks.send(ask).map_err(|_| Unanswered)?;
        answered.await.map_err(|_| Unanswered)
    }

    /// How many statements the batcher has sent.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// The statement: the asks as a JSON array of `[index, token hash, time]` at `$1`.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// A read the batcher could not answer.
#[derive(Debug)]
pub struct Unanswered;

/// Takes what waits in the queue, up to [`MAX_BATCH`], once a statement may run; ends when
/// the server's state (the last sender) is dropped.
async fn run(
    db: Db,
    connections: Arc<Connections>,
    sql: Arc<str>,
    mut queue: mpsc::UnboundedReceiver<Ask>,
    statements: Arc<AtomicU64>,
) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = queue.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        // Let the tasks already runnable on this thread go first: requests being parsed
        // whose reads come a moment later. At rest none is, and this costs nothing; under the
        // API load it took a statement from 2.7 reads to 6, and PostgreSQL's CPU per read
        // from 43–44 µs to 25–26 (three runs in turns, docs/performance-history.md).
        tokio::task::yield_now().await;
        // Waiting for a slot is when the batch grows.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(ask) => batch.push(ask),
                Err(_) => break,
            }
        }
        // A closed pool means the server is shutting down: the connections go with it, and
        // each asker meets the closed pool.
        if db.readers().is_closed() {
            drop(batch);
            let idle =
                std::mem::take(&mut *connections.idle.lock().unwrap_or_else(|e| e.into_inner()));
            for conn in idle {
                let _ = conn.close().await;
            }
            continue;
        }
        let (connections, sql) = (connections.clone(), sql.clone());
        statements.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            answer(&connections, &sql, batch).await;
            drop(slot);
        });
    }
}

async fn answer(connections: &Connections, sql: &str, batch: Vec<Ask>) {
    let asks: Vec<(usize, &str, Millis)> = batch
        .iter()
        .enumerate()
        .map(|(i, ask)| (i, ask.token_hash.as_str(), ask.now))
        .collect();
    let rows = match serde_json::to_string(&asks) {
        Ok(asks) => connections.fetch(sql, asks).await,
        Err(e) => Err(sqlx::Error::Encode(e.into())),
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => {
            tracing::debug!(%error, "batched session read failed; each reads on its own");
            // Dropping the answers tells each asker to read on its own.
            return;
        }
    };
    let mut found: Vec<Option<PgRow>> = (0..batch.len()).map(|_| None).collect();
    for row in rows {
        match row.try_get::<i64, _>("ask_index") {
            Ok(i) if (0..batch.len() as i64).contains(&i) => found[i as usize] = Some(row),
            _ => {
                tracing::warn!("batched session read: a row for no ask");
                return;
            }
        }
    }
    for (ask, row) in batch.into_iter().zip(found) {
        // An asker that gave up (its request was cancelled) needs no answer.
        let _ = ask.answer.send(row);
    }
}
