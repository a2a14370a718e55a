//! The session read on SQLite, run on the request's own thread.
//!
//! sqlx runs each SQLite connection on a thread of its own: a statement is a message to that
//! thread and its rows a message back, and the pool pings the connection when it comes back,
//! a second round trip. Every signed-in request reads its session first, a few microseconds
//! of SQLite work by primary key, and under the API load (`benches/api_load.rs`) `perf` puts a
//! fifth of the request threads' time in the four thread wake-ups around it.
//!
//! So that one read goes through a read-only connection each thread keeps for itself, on the
//! thread that asks, with no hop. In WAL mode such a reader never waits for the writer and sees
//! the last commit, as a pooled reader would. A read that fails here (a busy or missing file,
//! a schema being migrated) is not answered from here: the caller reads through the pool,
//! which stays the one source of errors. Only short reads by key belong here; anything that
//! scans would hold up the other requests of its runtime thread.

use rusqlite::{Connection, OpenFlags, Params, Row};
use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;
use thread_local::ThreadLocal;

/// How long a read here waits for a lock before the caller falls back to the pool. Readers in
/// WAL mode wait only while a connection recovers the WAL after a crash.
const BUSY_TIMEOUT: Duration = Duration::from_millis(20);

pub struct InlineReads {
    path: PathBuf,
    connections: ThreadLocal<RefCell<Option<Connection>>>,
}

/// A row read here: built from a `rusqlite` row by column name, as `sqlx::FromRow` builds it
/// from a pooled one.
pub trait InlineRow: Sized {
    fn from_sqlite(row: &Row<'_>) -> rusqlite::Result<Self>;
}

impl InlineReads {
    /// Reads for a `sqlite://path` database URL; none for PostgreSQL or an in-memory SQLite,
    /// which a second connection would not see.
    pub fn for_url(url: &str) -> Option<InlineReads> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
            return None;
        }
        Some(InlineReads {
            path: PathBuf::from(path),
            connections: ThreadLocal::new(),
        })
    }

    /// The one row `sql` reads with `params`, if any, on this thread's connection.
    pub fn row<T: InlineRow>(&self, sql: &str, params: impl Params) -> rusqlite::Result<Option<T>> {
        let cell = self.connections.get_or(|| RefCell::new(None));
        let mut slot = cell.borrow_mut();
        let connection = match &mut *slot {
            Some(connection) => connection,
            empty => empty.insert(self.open()?),
        };
        let mut statement = connection.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        match rows.next()? {
            Some(row) => T::from_sqlite(row).map(Some),
            None => Ok(None),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Value(i64);

    impl InlineRow for Value {
        fn from_sqlite(row: &Row<'_>) -> rusqlite::Result<Value> {
            row.get("v").map(Value)
        }
    }

    #[test]
    fn only_a_sqlite_file_is_read_here() {
        assert!(InlineReads::for_url("sqlite://data/account-center.db").is_some());
        assert!(InlineReads::for_url("sqlite:///tmp/x/a.db?mode=rwc").is_some());
        assert!(InlineReads::for_url("sqlite::memory:").is_none());
        assert!(InlineReads::for_url("sqlite://a.db?mode=memory&cache=shared").is_none());
        assert!(InlineReads::for_url("postgres://localhost/ac").is_none());
    }

    /// The connection is kept between reads, so each read must see the commits made through
    /// the pool since the one before: a snapshot left open would keep a signed-out session
    /// alive.
    #[tokio::test]
    async fn each_read_sees_every_commit_made_through_the_pool_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = crate::db::open(&url).await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL)")
            .execute(db.writer())
            .await
            .unwrap();
        let reads = InlineReads::for_url(&url).unwrap();
        let read = || {
            reads
                .row::<Value>("SELECT v FROM t WHERE k = $1", ("a",))
                .unwrap()
                .map(|v| v.0)
        };
        assert_eq!(read(), None);
        for (sql, expected) in [
            ("INSERT INTO t (k, v) VALUES ('a', 1)", Some(1)),
            ("UPDATE t SET v = 2 WHERE k = 'a'", Some(2)),
            ("DELETE FROM t WHERE k = 'a'", None),
        ] {
            sqlx::raw_sql(sql).execute(db.writer()).await.unwrap();
            assert_eq!(read(), expected, "after {sql}");
        }
    }

    #[test]
    fn a_database_it_cannot_open_is_an_error_for_the_caller_to_read_around() {
        let reads = InlineReads::for_url("sqlite:///nonexistent-folder/a.db").unwrap();
        assert!(reads.row::<Value>("SELECT 1 AS v", ()).is_err());
    }
}
