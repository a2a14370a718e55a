//! The database: SQLite by default, PostgreSQL for several instances (`DATABASE_URL`
//! `postgres://…`). Both run the same queries through sqlx's `Any` driver, written with
//! numbered `$1` parameters and types both understand (BIGINT times and money in minor units,
//! TEXT, booleans read through [`Flag`]); where the two must differ this module says so. One
//! read leaves `Any` on PostgreSQL: the batched session reads (`batched_reads`), on
//! connections of their own, whose rows [`Flag`] and [`Stored`] also decode.

use crate::metrics;
use anyhow::Context;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyTypeInfo, AnyTypeInfoKind};
use sqlx::error::BoxDynError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgTypeInfo, PgValueRef, Postgres};
use sqlx::{
    Any, AnyPool, Connection, Database, Decode, Either, Execute, Executor, Transaction, Type,
};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// The database's connections.
/// - SQLite: a pool of readers and one writing connection. SQLite lets one connection write at
///   a time, and its own wait for that lock polls: a writer that commits and begins again at
///   once (the scheduler catching up on thousands of due jobs) wins nearly every poll, and a
///   request's write waiting beside it failed when the busy timeout ran out. Writers here
///   queue for the writing connection instead, first come first served, so each waits only
///   for the transactions ahead of it. The readers are `query_only`: a write that does not go
///   through [`begin_write`] (or [`Db::writer`]) fails at once rather than racing the queue.
/// - PostgreSQL: one pool, reading and writing.
///
/// Queries run on `&Db` go to the readers, as do connections and transactions taken from
/// [`Db::readers`].
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    writer: Option<AnyPool>,
    /// Write transactions waiting to begin, in this process.
    waiting: Arc<AtomicUsize>,
}

impl Db {
    fn new(pool: AnyPool, writer: Option<AnyPool>) -> Db {
        Db {
            pool,
            writer,
            waiting: Arc::default(),
        }
    }

    /// Where reads go: SQLite's readers (`query_only`), or PostgreSQL's one pool. A
    /// transaction taken here reads; one that writes comes from [`begin_write`], or from
    /// [`begin_write_on`] on a connection held from here (which SQLite leaves unused: taking
    /// its writing connection to hold would keep every other writer waiting).
    pub fn readers(&self) -> &AnyPool {
        &self.pool
    }

    /// Where writes go: SQLite's one writing connection, or PostgreSQL's pool.
    pub fn writer(&self) -> &AnyPool {
        self.writer.as_ref().unwrap_or(&self.pool)
    }

    /// How many write transactions of this process wait to begin ([`begin_write`]): on SQLite
    /// for their turn at the writing connection, on PostgreSQL for a pooled connection.
    pub fn writers_waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Closes every connection; what is in flight finishes first.
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
    }
}

/// `&Db` runs queries as its readers' pool does.
impl<'p> Executor<'p> for &'p Db {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, sqlx::Result<Either<sqlx::any::AnyQueryResult, sqlx::any::AnyRow>>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        (&self.pool).fetch_many(query)
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, sqlx::Result<Option<sqlx::any::AnyRow>>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        (&self.pool).fetch_optional(query)
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, sqlx::Result<sqlx::any::AnyStatement<'q>>>
    where
        'p: 'e,
    {
        (&self.pool).prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, sqlx::Result<sqlx::Describe<Any>>>
    where
        'p: 'e,
    {
        (&self.pool).describe(sql)
    }
}

pub type Tx = Transaction<'static, Any>;
/// A transaction on a connection the caller holds (see [`begin_write_on`]). Code that takes
/// `&mut HeldTx<'_>` takes a [`Tx`] too.
pub type HeldTx<'c> = Transaction<'c, Any>;

/// Which database a pool talks to, for the few places where the SQL must differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("unsupported database URL {url}: use sqlite://… or postgres://…")
        }
    }

    /// The database a connection (or a transaction) talks to.
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

pub fn backend(db: &Db) -> Backend {
    match db.readers().connect_options().database_url.scheme() {
        "sqlite" => Backend::Sqlite,
        _ => Backend::Postgres,
    }
}

/// Opens the pool and brings the schema up to date.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    connect_sized(url, None).await
}

/// [`connect`] with `connections` in the pool rather than [`default_pool_size`].
pub async fn connect_sized(url: &str, connections: Option<u32>) -> anyhow::Result<Db> {
    let db = open_sized(url, connections).await?;
    migrate(&db).await?;
    Ok(db)
}

/// Opens the pool without touching the schema.
pub async fn open(url: &str) -> anyhow::Result<Db> {
    open_sized(url, None).await
}

/// [`open`], for tools that read an install's database: an SQLite file that is not there is an
/// error, not a new empty database (a mistyped data folder would otherwise look empty).
pub async fn open_existing(url: &str) -> anyhow::Result<Db> {
    if Backend::of_url(url)? == Backend::Sqlite && !url.contains("mode=") {
        let separator = if url.contains('?') { '&' } else { '?' };
        return open(&format!("{url}{separator}mode=rw")).await;
    }
    open(url).await
}

/// How many connections a pool keeps when not told.
/// - SQLite: 8 readers, beside the one writing connection (WAL), which is not counted here;
///   the session read every request makes does not come here (`inline_reads`).
/// - PostgreSQL: twice this machine's cores, at least 4: PostgreSQL's own advice for the
///   database's machine, and with the database beside the server (as here) more connections
///   only queue on the same cores. On 2 cores, 4 against 16 took the filtered listing's p99
///   from 19–22 to 15 ms and the mixed load's from 10–13 to 5 ms (README "Performance").
///   Several instances on one database each keep a pool of their own: size it with
///   `DATABASE_POOL_SIZE` so that their sum fits the database.
pub fn default_pool_size(backend: Backend) -> u32 {
    match backend {
        Backend::Sqlite => 8,
        Backend::Postgres => {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            u32::try_from(cores * 2).unwrap_or(u32::MAX).max(4)
        }
    }
}

async fn open_sized(url: &str, connections: Option<u32>) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url)?;
    let url = match backend {
        // Creates the file on first start, as the embedded default should.
        Backend::Sqlite if !url.contains("mode=") => {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        }
        _ => url.to_owned(),
    };
    let options = AnyConnectOptions::from_str(&url)
        .with_context(|| format!("bad database URL {}", redact(&url)))?;
    let connections = connections.unwrap_or_else(|| default_pool_size(backend));
    let opened = |role: Role, connections: u32| {
        let connecting = pool_options(backend, role, connections).connect_with(options.clone());
        let url = &url;
        async move {
            connecting
                .await
                .with_context(|| format!("cannot open the database at {}", redact(url)))
        }
    };
    match backend {
        // The writer first: it creates the file and puts it in WAL mode, which a reader,
        // query-only, could not.
        Backend::Sqlite => {
            let writer = opened(Role::Writer, 1).await?;
            let pool = opened(Role::Reader, connections).await?;
            Ok(Db::new(pool, Some(writer)))
        }
        Backend::Postgres => Ok(Db::new(opened(Role::Both, connections).await?, None)),
    }
}

/// What a pool's connections are for (see [`Db`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// SQLite's one writing connection.
    Writer,
    /// SQLite's readers, refused any write.
    Reader,
    /// PostgreSQL's connections, which do both.
    Both,
}

/// How long a write waits for its turn at SQLite's writing connection before it fails. The
/// turn comes after every transaction queued before it, each short; the longest seen is a
/// dev-mode seed of ten thousand subscriptions, some seconds.
const WRITER_QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

fn pool_options(backend: Backend, role: Role, connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(match role {
            Role::Writer => WRITER_QUEUE_TIMEOUT,
            Role::Reader | Role::Both => Duration::from_secs(10),
        })
        // sqlx pings a connection when it goes back to the pool, and by default again when it
        // is taken out: on SQLite each ping is a round trip to the connection's thread, on
        // PostgreSQL one over the network, and a signed-in read paid two for every query.
        // A connection released within the last second passed its release ping just now;
        // only one idle for longer (the server may have dropped it) is pinged before use.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers run beside the one writer. FULL, not NORMAL: in WAL
                    // mode NORMAL may lose the last commits on power loss, and a lost commit
                    // here can be a lost refund. The cost is one fsync per commit. The busy
                    // timeout is for another process writing the same file (the server's
                    // own writers queue for the writing connection).
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                    if role == Role::Reader {
                        conn.execute("PRAGMA query_only = ON").await?;
                    }
                }
                Ok(())
            })
        })
}

/// How long a pooled connection may sit unused before it is pinged again before use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Runs the migrations of the pool's database: `migrations/sqlite` or `migrations/postgres`,
/// the same tables, columns and indexes (the `schema` test compares them).
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    match backend(db) {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(db.writer()).await,
        Backend::Postgres => {
            sqlx::migrate!("./migrations/postgres")
                .run(db.writer())
                .await
        }
    }
    .context("migrations failed")
}

/// Starts a transaction that will write. The two databases need different words for it:
/// - SQLite: on the one writing connection, once this writer's turn comes (see [`Db`]), with
///   `BEGIN IMMEDIATE`, which takes the database's write lock up front (a plain `BEGIN` that
///   reads and then writes can fail with "database is locked" when another process wrote in
///   between). Writers run one at a time and nothing more is needed.
/// - PostgreSQL: a plain transaction, so that writers of different accounts run side by side
///   on every instance. What must not interleave is serialised where it lives: one account's
///   writes by the lock on its row (`account::begin_write`, first in the transaction); a check
///   of rows shared by accounts (a rate limit, a code's tries) by [`lock_keys`]; invariants
///   across accounts by unique constraints (one live account per email, one account per card,
///   PayPal or Paytm identity, the free credit once per identity, one refund per order).
///   Reads never wait for any of them.
///
/// The wait to begin is timed for the metrics (`db_write_wait_seconds`), and counted while
/// it lasts ([`Db::writers_waiting`]).
pub async fn begin_write(db: &Db) -> sqlx::Result<Tx> {
    let mut tx = {
        let _waiting = Waiting::count(&db.waiting);
        match backend(db) {
            Backend::Sqlite => {
                metrics::time_write_wait(db.writer().begin_with("BEGIN IMMEDIATE")).await?
            }
            Backend::Postgres => metrics::time_write_wait(db.writer().begin()).await?,
        }
    };
    serialise_all_if_asked(&mut tx).await?;
    Ok(tx)
}

/// One writer counted in [`Db::writers_waiting`] until it drops, however its wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Waiting<'a> {
        waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// [`begin_write`] on a connection the caller holds across several transactions, on
/// PostgreSQL: a long run of write transactions (the scheduler's batches) then does not go
/// back to the pool between them. On SQLite every write goes through the one writing
/// connection, which keeps its page cache from one transaction to the next (no other
/// connection changes the file under it), and `conn` is not used.
pub async fn begin_write_on<'c>(
    db: &Db,
    conn: &'c mut PoolConnection<Any>,
) -> sqlx::Result<HeldTx<'c>> {
    match backend(db) {
        Backend::Sqlite => begin_write(db).await,
        Backend::Postgres => {
            let mut tx = metrics::time_write_wait(conn.begin()).await?;
            serialise_all_if_asked(&mut tx).await?;
            Ok(tx)
        }
    }
}

/// Serialises `tx` with every other transaction holding one of `keys` (PostgreSQL; SQLite's
/// writers are serialised already), until it ends: for a check of rows that several accounts,
/// or none yet, share, read and then written in the same transaction. The keys are taken in
/// one order, so two transactions taking overlapping sets cannot deadlock; a transaction that
/// also writes an account takes the account first. Keys are namespaced by their caller
/// (`"code-address:…"`); two that hash alike only wait for each other.
pub async fn lock_keys(tx: &mut HeldTx<'_>, keys: &[&str]) -> sqlx::Result<()> {
    if Backend::of(tx) == Backend::Sqlite || keys.is_empty() {
        return Ok(());
    }
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    // One round trip; the select list is evaluated left to right, in the keys' order.
    let locks: Vec<String> = (1..=keys.len())
        .map(|n| format!("pg_advisory_xact_lock(hashtextextended(${n}, 0))"))
        .collect();
    let sql = format!("SELECT {}", locks.join(", "));
    let mut query = sqlx::query(&sql);
    for key in keys {
        query = query.bind(key);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Whether every writing transaction on PostgreSQL also takes one lock shared by all of them,
/// so that the whole service writes one transaction at a time. Off in the product; the
/// `write_load` bench turns it on to measure what per-account locking gives against it.
static SERIALISE_ALL: AtomicBool = AtomicBool::new(false);

/// See [`SERIALISE_ALL`]: for benchmarks only.
pub fn serialise_all_writers(on: bool) {
    SERIALISE_ALL.store(on, Ordering::Relaxed);
}

async fn serialise_all_if_asked(tx: &mut HeldTx<'_>) -> sqlx::Result<()> {
    if SERIALISE_ALL.load(Ordering::Relaxed) && Backend::of(tx) == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ALL_WRITERS_KEY)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The advisory lock key of [`SERIALISE_ALL`] ("acct" in ASCII).
const ALL_WRITERS_KEY: i64 = 0x6163_6374;

/// Whether a statement failed because PostgreSQL broke a deadlock by aborting this
/// transaction, or could not serialise it: nothing of it was written, and the same work tried
/// again can succeed.
pub fn is_retryable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")))
}

/// True when the database answers a trivial query: the readiness probe.
pub async fn ping(db: &Db) -> bool {
    match db.readers().acquire().await {
        Ok(mut conn) => conn.ping().await.is_ok(),
        Err(_) => false,
    }
}

/// A list bound as one parameter: `$n` holds a JSON array, and the list is a table with one row
/// per element in the column `value` — text for an array of strings ([`JsonList::Texts`]),
/// JSON for an array of arrays ([`JsonList::Rows`], read as `value ->> 0`, `value ->> 1`, … on
/// both databases). For lists of hundreds or thousands: SQLite's driver finds each numbered
/// parameter by walking the statement's list of them, so binding costs grow with the square
/// of a statement's parameters, while one JSON array costs one parameter.
pub fn json_table(backend: Backend, n: usize, alias: &str, list: JsonList) -> String {
    match (backend, list) {
        (Backend::Sqlite, _) => format!("json_each(${n}) AS {alias}"),
        (Backend::Postgres, JsonList::Texts) => {
            format!("jsonb_array_elements_text(${n}::jsonb) AS {alias}(value)")
        }
        (Backend::Postgres, JsonList::Rows) => {
            format!("jsonb_array_elements(${n}::jsonb) AS {alias}(value)")
        }
    }
}

/// What a [`json_table`] parameter holds.
#[derive(Debug, Clone, Copy)]
pub enum JsonList {
    Texts,
    Rows,
}

/// `(SELECT j.value FROM …)`: the right side of `IN` for a list of strings bound at `$n` as
/// [`json_texts`] makes it.
pub fn in_json(backend: Backend, n: usize) -> String {
    format!(
        "(SELECT j.value FROM {})",
        json_table(backend, n, "j", JsonList::Texts)
    )
}

/// The JSON array of `items`, for a [`json_table`] or [`in_json`] parameter.
pub fn json_texts<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.into_iter().collect();
    serde_json::to_string(&items).expect("a list of strings is always JSON")
}

/// `$from, $from+1, …`: `count` numbered placeholders, for IN lists and multi-row inserts.
pub fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when `e` is a unique-constraint violation: the loser of a race for one email or card.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// A yes/no column or expression. PostgreSQL answers booleans; SQLite has none and answers
/// 0 or 1, which `Any` will not read as `bool`. Read through this and call `.0` or `bool::from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        matches!(ty.kind(), AnyTypeInfoKind::Bool) || ty.kind().is_integer()
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        use sqlx::{Value, ValueRef};
        let owned = ValueRef::to_owned(&value);
        match <bool as Decode<Any>>::decode(owned.as_ref()) {
            Ok(b) => Ok(Flag(b)),
            Err(_) => Ok(Flag(<i64 as Decode<Any>>::decode(owned.as_ref())? != 0)),
        }
    }
}

/// The same, read by PostgreSQL's own driver (the batched session reads, `batched_reads`):
/// a boolean, or an integer that is not 0.
impl Type<Postgres> for Flag {
    fn type_info() -> PgTypeInfo {
        <bool as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <bool as Type<Postgres>>::compatible(ty)
            || <i16 as Type<Postgres>>::compatible(ty)
            || <i32 as Type<Postgres>>::compatible(ty)
            || <i64 as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Flag {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        use sqlx::ValueRef;
        let ty = value.type_info().into_owned();
        Ok(Flag(if <bool as Type<Postgres>>::compatible(&ty) {
            <bool as Decode<Postgres>>::decode(value)?
        } else if <i16 as Type<Postgres>>::compatible(&ty) {
            <i16 as Decode<Postgres>>::decode(value)? != 0
        } else if <i32 as Type<Postgres>>::compatible(&ty) {
            <i32 as Decode<Postgres>>::decode(value)? != 0
        } else {
            <i64 as Decode<Postgres>>::decode(value)? != 0
        }))
    }
}

/// A value kept in a text column by its name, the name serde gives it (the API's: `USD`,
/// `card`, `payg`, `resource_plan`). Reading a name the server does not know fails the query:
/// a corrupt value is an error, never a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored<T>(pub T);

impl<T> Type<Any> for Stored<T> {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<T: serde::de::DeserializeOwned> Stored<T> {
    fn from_name(name: &str) -> Result<Self, BoxDynError> {
        serde_json::from_value(serde_json::Value::String(name.to_owned()))
            .map(Stored)
            .map_err(|_| {
                format!(
                    "unknown {} {name:?} in the database",
                    std::any::type_name::<T>()
                )
                .into()
            })
    }
}

impl<'r, T: serde::de::DeserializeOwned> Decode<'r, Any> for Stored<T> {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Stored::from_name(<&str as Decode<Any>>::decode(value)?)
    }
}

impl<T> Type<Postgres> for Stored<T> {
    fn type_info() -> PgTypeInfo {
        <String as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <String as Type<Postgres>>::compatible(ty)
    }
}

impl<'r, T: serde::de::DeserializeOwned> Decode<'r, Postgres> for Stored<T> {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Stored::from_name(<&str as Decode<Postgres>>::decode(value)?)
    }
}

/// A value kept in a text column as its JSON (the shared API type's own form): an operation
/// log entry's detail. JSON that does not read as `T` fails the query, as [`Stored`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredJson<T>(pub T);

impl<T> Type<Any> for StoredJson<T> {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<'r, T: serde::de::DeserializeOwned> Decode<'r, Any> for StoredJson<T> {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let json = <&str as Decode<Any>>::decode(value)?;
        serde_json::from_str(json).map(StoredJson).map_err(|e| {
            format!(
                "corrupt {} {json:?} in the database: {e}",
                std::any::type_name::<T>()
            )
            .into()
        })
    }
}

/// The same decoding for the rows read on the request's thread (`inline_reads`).
impl<T: serde::de::DeserializeOwned> rusqlite::types::FromSql for Stored<T> {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let name = value.as_str()?;
        serde_json::from_value(serde_json::Value::String(name.to_owned()))
            .map(Stored)
            .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}

/// An empty SQLite database in a temporary folder, for unit tests that read values through
/// the driver; the folder goes when the first half is dropped.
#[cfg(test)]
pub(crate) async fn scratch() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    (dir, db)
}

/// Asserts that each variant of `T`, written by its strum name, reads back as itself through
/// [`Stored`] (serde's name).
#[cfg(test)]
pub(crate) async fn stored_name_reads_back<T>(db: &Db)
where
    T: strum::VariantArray + Into<&'static str> + serde::de::DeserializeOwned,
    T: PartialEq + std::fmt::Debug + Copy + Send + Unpin,
{
    for &value in T::VARIANTS {
        let name: &'static str = value.into();
        let read: Stored<T> = sqlx::query_scalar("SELECT $1")
            .bind(name)
            .fetch_one(db)
            .await
            .unwrap();
        assert_eq!(read.0, value, "{name}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pool_keeps_the_connections_it_is_given_or_its_default() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("p.db").display());
        let sized = open_sized(&url, Some(3)).await.unwrap();
        assert_eq!(sized.readers().options().get_max_connections(), 3);
        let default = open(&url).await.unwrap();
        assert_eq!(default.readers().options().get_max_connections(), 8);
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(default_pool_size(Backend::Postgres), (2 * cores).max(4));
    }

    #[tokio::test]
    async fn a_stored_name_reads_as_its_value_and_an_unknown_one_fails_the_query() {
        use shared::money::Currency;
        use shared::refund::ResourceKind;
        let (_dir, db) = scratch().await;
        let read =
            |sql: &'static str| sqlx::query_scalar::<_, Stored<Currency>>(sql).fetch_one(&db);
        assert_eq!(read("SELECT 'CNY'").await.unwrap(), Stored(Currency::CNY));
        let corrupt = read("SELECT 'XYZ'").await.unwrap_err();
        assert!(corrupt.to_string().contains("\"XYZ\""), "{corrupt}");
        let kind: Stored<ResourceKind> = sqlx::query_scalar("SELECT 'resource_plan'")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(kind.0, ResourceKind::ResourcePlan);
    }

    /// What the server writes by `as_str` (strum's name) reads back as the same value (serde's
    /// name), for every variant of each enum kept by its name.
    #[tokio::test]
    async fn each_stored_name_written_reads_back_as_itself() {
        use crate::domain::purchase::OrderKind;
        use crate::domain::refund::RefundStatus;
        use crate::queue::JobStatus;
        use shared::api::*;
        use shared::billing::AccountType;
        use shared::catalog::Billing;
        use shared::closure::RelationshipKind;
        use shared::payment::CardBrand;
        use shared::realname::RealNameKind;
        use shared::refund::{PaidWith, RefundDestination, RefundType, ResourceKind};
        let (_dir, db) = scratch().await;
        stored_name_reads_back::<JobStatus>(&db).await;
        stored_name_reads_back::<crate::domain::account::AccountStatus>(&db).await;
        stored_name_reads_back::<RefundStatus>(&db).await;
        stored_name_reads_back::<OrderKind>(&db).await;
        stored_name_reads_back::<shared::account::Channel>(&db).await;
        stored_name_reads_back::<shared::account::Delivery>(&db).await;
        stored_name_reads_back::<OperationCategory>(&db).await;
        stored_name_reads_back::<OperationAction>(&db).await;
        stored_name_reads_back::<ClosureReason>(&db).await;
        stored_name_reads_back::<BillStatus>(&db).await;
        stored_name_reads_back::<WithdrawalStatus>(&db).await;
        stored_name_reads_back::<SystemCheckStatus>(&db).await;
        stored_name_reads_back::<crate::tables::closures::Status>(&db).await;
        stored_name_reads_back::<RelationshipRole>(&db).await;
        stored_name_reads_back::<ResourceSort>(&db).await;
        stored_name_reads_back::<SortDirection>(&db).await;
        stored_name_reads_back::<UnsubscribeScope>(&db).await;
        stored_name_reads_back::<OrderStatus>(&db).await;
        stored_name_reads_back::<shared::api::InstanceStatus>(&db).await;
        stored_name_reads_back::<PaymentMethodKind>(&db).await;
        stored_name_reads_back::<LedgerKind>(&db).await;
        stored_name_reads_back::<Bucket>(&db).await;
        stored_name_reads_back::<RelationshipKind>(&db).await;
        stored_name_reads_back::<Billing>(&db).await;
        stored_name_reads_back::<AccountType>(&db).await;
        stored_name_reads_back::<ResourceKind>(&db).await;
        stored_name_reads_back::<RefundType>(&db).await;
        stored_name_reads_back::<RefundDestination>(&db).await;
        stored_name_reads_back::<PaidWith>(&db).await;
        stored_name_reads_back::<CardBrand>(&db).await;
        stored_name_reads_back::<RealNameKind>(&db).await;
        stored_name_reads_back::<crate::notify::Medium>(&db).await;
        crate::domain::intent::stored_names_read_back(&db).await;
    }

    #[tokio::test]
    async fn a_corrupt_status_fails_the_read_naming_its_column_and_value() {
        use shared::api::OrderStatus;
        #[derive(Debug, sqlx::FromRow)]
        struct Order {
            #[allow(dead_code)]
            status: Stored<OrderStatus>,
        }
        let (_dir, db) = scratch().await;
        let corrupt = sqlx::query_as::<_, Order>("SELECT 'payed' AS status")
            .fetch_one(&db)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            corrupt.contains("status") && corrupt.contains("OrderStatus"),
            "{corrupt}"
        );
        assert!(corrupt.contains("\"payed\""), "{corrupt}");
    }

    #[tokio::test]
    async fn stored_json_reads_as_its_value_and_json_of_another_shape_fails_the_query() {
        use shared::money::{Currency, Money};
        let (_dir, db) = scratch().await;
        let read =
            |sql: &'static str| sqlx::query_scalar::<_, StoredJson<Money>>(sql).fetch_one(&db);
        assert_eq!(
            read(r#"SELECT '{"amount": "1.50", "currency": "CNY"}'"#)
                .await
                .unwrap(),
            StoredJson(Money::from_minor(150, Currency::CNY))
        );
        for corrupt in [r#"SELECT '{"amount": 1.5}'"#, "SELECT 'CNY 1.50'"] {
            let error = read(corrupt).await.unwrap_err().to_string();
            assert!(error.contains("Money"), "{error}");
        }
    }

    /// On SQLite a write that skips the queue for the writing connection is refused, not left
    /// to race it; reads see what the writer committed.
    #[tokio::test]
    async fn a_write_on_the_readers_fails_and_the_writers_commits_are_read() {
        let (_dir, db) = scratch().await;
        sqlx::raw_sql("CREATE TABLE t (n BIGINT NOT NULL)")
            .execute(db.writer())
            .await
            .unwrap();
        let refused = sqlx::query("INSERT INTO t (n) VALUES (1)")
            .execute(&db)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("readonly"), "{refused}");
        let mut tx = begin_write(&db).await.unwrap();
        sqlx::query("INSERT INTO t (n) VALUES (2)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let read: Vec<i64> = sqlx::query_scalar("SELECT n FROM t")
            .fetch_all(&db)
            .await
            .unwrap();
        assert_eq!(read, [2]);
    }

    /// SQLite's own wait for its write lock polls, and a writer that commits and begins again
    /// at once (the job runner catching up) wins nearly every poll: another writer, a request,
    /// waited out the 5 s busy timeout and failed (the API fuzzing's `POST /api/dev/clock`
    /// while the scheduler caught up on 20,000 expiries). Fails on the old code, 3 runs of 3,
    /// with "database is locked" at the first write. Writers now queue for the one writing
    /// connection, first come first served (sqlx's pool is fair), so each waits only for the
    /// transactions ahead of it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_gets_its_turn_beside_one_that_writes_without_pause() {
        let (_dir, db) = scratch().await;
        sqlx::raw_sql("CREATE TABLE t (n BIGINT NOT NULL)")
            .execute(db.writer())
            .await
            .unwrap();
        let busy = db.clone();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let (running, started) = tokio::sync::oneshot::channel();
        let mut running = Some(running);
        let job_runner = tokio::spawn(async move {
            let mut conn = busy.readers().acquire().await.unwrap();
            let mut commits = 0_u64;
            while !stopped.load(Ordering::Relaxed) {
                let mut tx = begin_write_on(&busy, &mut conn).await.unwrap();
                for _ in 0..500 {
                    sqlx::query("INSERT INTO t (n) VALUES (1)")
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
                commits += 1;
                if let Some(running) = running.take() {
                    running.send(()).unwrap();
                }
            }
            commits
        });
        // Ours begin once the runner is in its stride.
        started.await.unwrap();
        for _ in 0..20 {
            let mut tx = begin_write(&db).await.expect("a turn to write");
            sqlx::query("INSERT INTO t (n) VALUES (2)")
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(job_runner.await.unwrap() > 0);
        let ours: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t WHERE n = 2")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(ours, 20);
    }

    #[test]
    fn a_row_read_on_the_requests_thread_decodes_stored_names_the_same_way() {
        use shared::money::Currency;
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let read = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, Stored<Currency>>(0));
        assert_eq!(read("SELECT 'CNY'").unwrap(), Stored(Currency::CNY));
        let corrupt = read("SELECT 'XYZ'").unwrap_err();
        assert!(corrupt.to_string().contains("XYZ"), "{corrupt}");
    }
}
