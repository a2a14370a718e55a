//! The database: SQLite by default, opened for safe money handling, with migrations at start.

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub type Db = SqlitePool;
pub type Tx = Transaction<'static, Sqlite>;

pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("bad database URL {url}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and a
        // lost commit here can be a lost refund. The cost is one fsync per commit.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database at {url}"))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .context("migrations failed")?;
    Ok(pool)
}

/// Starts a transaction that will write. `BEGIN IMMEDIATE` takes SQLite's write lock up front:
/// a plain `BEGIN` that reads and then writes can fail with "database is locked" when another
/// writer got in between, whatever the busy timeout.
pub async fn begin_write(db: &Db) -> sqlx::Result<Tx> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// True when `e` is a unique-constraint violation: the loser of a race for one email or card.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
