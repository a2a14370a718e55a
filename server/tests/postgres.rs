//! What only PostgreSQL has to show: its migrations build the same schema as SQLite's, times
//! are stored alike, and readiness follows the database. Needs `TEST_POSTGRES_URL` (`bash .ci/with-postgres`), whatever
//! `TEST_DB` says.

mod common;

use common::*;
use reqwest::StatusCode;
use server::clock::{DurationMs, Millis};
use server::db::{self, Db};
use sqlx::Row;
use std::collections::BTreeMap;

/// A table as both databases can describe it: columns in order with their type and whether
/// they may be NULL, and the names of the indexes made by CREATE INDEX.
#[derive(Debug, PartialEq, Eq)]
struct Table {
    columns: Vec<(String, String, bool)>,
    indexes: Vec<String>,
}

/// PostgreSQL's name for each type the SQLite migrations use.
fn portable_type(sqlite: &str) -> String {
    match sqlite.to_ascii_uppercase().as_str() {
        "TEXT" => "text",
        "BIGINT" => "bigint",
        "INTEGER" => "integer",
        other => panic!("the SQLite migrations use {other}: give it a PostgreSQL twin here"),
    }
    .to_owned()
}

async fn sqlite_schema(db: &Db) -> BTreeMap<String, Table> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut tables = BTreeMap::new();
    for name in names {
        let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(db)
        .await
        .unwrap();
        let mut indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL",
        )
        .bind(&name)
        .fetch_all(db)
        .await
        .unwrap();
        indexes.sort();
        let columns = columns
            .into_iter()
            // SQLite lets a TEXT PRIMARY KEY hold NULL unless told otherwise; PostgreSQL never
            // does, and neither side ever stores one.
            .map(|(c, t, notnull, pk)| (c, portable_type(&t), notnull == 0 && pk == 0))
            .collect();
        tables.insert(name, Table { columns, indexes });
    }
    tables
}

async fn postgres_schema(db: &Db) -> BTreeMap<String, Table> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut tables = BTreeMap::new();
    for name in names {
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(db)
        .await
        .unwrap();
        let mut indexes: Vec<String> = sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1
             AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        )
        .bind(&name)
        .fetch_all(db)
        .await
        .unwrap();
        indexes.sort();
        let columns = columns
            .into_iter()
            .map(|(c, t, nullable)| (c, t, nullable == "YES"))
            .collect();
        tables.insert(name, Table { columns, indexes });
    }
    tables
}

#[tokio::test]
async fn both_migration_sets_build_the_same_tables_columns_and_indexes() {
    let folder = tempfile::tempdir().unwrap();
    let sqlite = db::connect(&format!(
        "sqlite://{}",
        folder.path().join("schema.db").display()
    ))
    .await
    .unwrap();
    let postgres = db::connect(&new_postgres_database().await).await.unwrap();

    let lite = sqlite_schema(&sqlite).await;
    let pg = postgres_schema(&postgres).await;
    assert!(
        lite.len() >= 20,
        "the SQLite schema is there: {:?}",
        lite.keys()
    );
    assert_eq!(
        lite.keys().collect::<Vec<_>>(),
        pg.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (name, table) in &lite {
        assert_eq!(
            table, &pg[name],
            "table {name} differs between the two migration sets"
        );
    }

    // Both ran the same migrations, by version and description.
    let versions = "SELECT version, description FROM _sqlx_migrations ORDER BY version";
    let lite_versions: Vec<(i64, String)> =
        sqlx::query_as(versions).fetch_all(&sqlite).await.unwrap();
    let pg_versions: Vec<(i64, String)> =
        sqlx::query_as(versions).fetch_all(&postgres).await.unwrap();
    assert_eq!(lite_versions, pg_versions);
}

/// A time goes into a BIGINT column as its milliseconds and comes back the same, to the ends
/// of the range, on both databases; and each database orders times as the server does.
#[tokio::test]
async fn a_time_round_trips_through_both_databases_and_keeps_its_order() {
    let folder = tempfile::tempdir().unwrap();
    let sqlite = db::connect(&format!(
        "sqlite://{}",
        folder.path().join("times.db").display()
    ))
    .await
    .unwrap();
    let postgres = db::connect(&new_postgres_database().await).await.unwrap();
    let now = Millis(1_800_000_000_123);
    let times = [
        Millis(i64::MIN),
        Millis(-1),
        Millis(0),
        now - DurationMs::millis(1),
        now,
        Millis::MAX,
    ];
    for (name, db) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        for (n, at) in times.iter().enumerate() {
            sqlx::query("INSERT INTO rate_events (scope, subject, at) VALUES ('time', $1, $2)")
                .bind(n.to_string())
                .bind(at)
                .execute(db.writer())
                .await
                .unwrap();
        }
        let read: Vec<Millis> =
            sqlx::query_scalar("SELECT at FROM rate_events WHERE scope = 'time' ORDER BY at")
                .fetch_all(db)
                .await
                .unwrap();
        assert_eq!(read, times, "{name}");
        let until_now: Vec<Millis> = sqlx::query_scalar(
            "SELECT at FROM rate_events WHERE scope = 'time' AND at <= $1 ORDER BY at",
        )
        .bind(now)
        .fetch_all(db)
        .await
        .unwrap();
        assert_eq!(until_now, times[..5], "{name}");
        let none: Option<Millis> =
            sqlx::query_scalar("SELECT MAX(at) FROM rate_events WHERE scope = 'none'")
                .fetch_one(db)
                .await
                .unwrap();
        assert_eq!(none, None, "{name}");
    }
}

#[tokio::test]
async fn readiness_fails_while_the_database_is_unreachable_and_liveness_does_not() {
    let url = new_postgres_database().await;
    let app = spawn_app_with(&["--database-url", &url]).await;
    assert_eq!(app.get("/api/ready").await.status(), StatusCode::OK);

    // The database goes away under the running server: dropped, its connections cut.
    let name = url.rsplit('/').next().unwrap();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_url())
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();

    let not_ready = app.get("/api/ready").await;
    assert_eq!(not_ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: shared::api::Health = body_as(not_ready).await;
    assert_eq!(body.status, shared::api::Serving::Unavailable);
    assert_eq!(body.database, Some(shared::api::DatabaseState::Unreachable));
    assert_eq!(app.get("/api/health").await.status(), StatusCode::OK);
}

/// Reads that arrive together share one statement, each gets its own row (or none: an unknown
/// token, an expired session), and a batch that fails answers no one, so each reads on its own.
#[tokio::test]
async fn session_reads_waiting_together_are_one_statement() {
    use server::auth::SessionRead;
    let database = new_postgres_database().await;
    let mut app = spawn_app_with(&["--database-url", &database]).await;
    let mut emails = vec![app.signed_up("batch-0").await];
    for n in 1..4 {
        let mut other = app.another_client();
        emails.push(other.signed_up(&format!("batch-{n}")).await);
    }
    let sessions: Vec<(String, String, Millis)> = sqlx::query_as(
        "SELECT s.token_hash, a.email, s.expires_at FROM sessions s
         JOIN accounts a ON a.id = s.account_id",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(sessions.len(), 4);
    let batcher = app.state.batched_reads[SessionRead::SessionAndAccount as usize]
        .as_ref()
        .expect("a batcher on PostgreSQL");
    let now = app.state.clock.now();

    let before = batcher.statements();
    let mut asks: Vec<(String, Millis)> =
        sessions.iter().map(|(h, _, _)| (h.clone(), now)).collect();
    asks.push(("no-such-token".to_owned(), now));
    let expires_at = sessions[0].2;
    asks.push((sessions[0].0.clone(), expires_at));
    let rows = join_all(asks.iter().map(|(hash, at)| batcher.read(hash, *at))).await;
    assert_eq!(
        batcher.statements() - before,
        1,
        "six reads waiting together, one statement"
    );
    let read_emails: Vec<Option<String>> = rows
        .into_iter()
        .map(|row| {
            row.unwrap()
                .map(|r| sqlx::Row::get::<String, _>(&r, "email"))
        })
        .collect();
    let mut expected: Vec<Option<String>> =
        sessions.iter().map(|(_, e, _)| Some(e.clone())).collect();
    expected.extend([None, None]);
    assert_eq!(read_emails, expected);
    for email in &emails {
        assert!(read_emails.contains(&Some(email.clone())));
    }

    let broken = server::batched_reads::BatchedReads::start(
        &app.state.db,
        "s.no_such_column",
        "sessions s",
        "true",
    )
    .unwrap();
    assert!(broken.read(&sessions[0].0, now).await.is_err());
}

/// A read that arrives while the batcher is about to send its statement, from a request that
/// was already runnable, joins that statement rather than waiting for the next: the batcher
/// lets such tasks run first. Under load this is what makes batches larger than a couple of
/// reads. The test's runtime runs one task at a time, in the order they became runnable.
#[tokio::test]
async fn a_read_runnable_when_the_batcher_wakes_joins_its_statement() {
    use server::auth::SessionRead;
    let database = new_postgres_database().await;
    let mut app = spawn_app_with(&["--database-url", &database]).await;
    app.signed_up("wakes-0").await;
    app.another_client().signed_up("wakes-1").await;
    let hashes: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(hashes.len(), 2);
    let batcher = app.state.batched_reads[SessionRead::SessionAndAccount as usize]
        .as_ref()
        .expect("a batcher on PostgreSQL");
    let now = app.state.clock.now();

    let before = batcher.statements();
    // The first read wakes the batcher; the second asks once its task runs again, which is
    // after the batcher has woken.
    let (first, second) = tokio::join!(batcher.read(&hashes[0], now), async {
        tokio::task::yield_now().await;
        batcher.read(&hashes[1], now).await
    });
    assert_eq!(batcher.statements() - before, 1, "two reads, one statement");
    for (row, hash) in [first, second].into_iter().zip(&hashes) {
        let row = row.unwrap().expect("a live session");
        assert_eq!(&sqlx::Row::get::<String, _>(&row, "token_hash"), hash);
    }
}

/// The batched statements run on connections of their own: a read is answered while every
/// pooled connection is taken, and none once the pool is closed. (Through the pool, each
/// statement also paid sqlx's check of the connection going back: a round trip more, the
/// batched read's largest cost after its own.)
#[tokio::test]
async fn batched_session_reads_need_no_pooled_connection() {
    use server::auth::SessionRead;
    let database = new_postgres_database().await;
    let mut app = spawn_app_with(&["--database-url", &database, "--database-pool-size", "1"]).await;
    app.signed_up("own-connection").await;
    let hash: String = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let batcher = app.state.batched_reads[SessionRead::SessionAndAccount as usize]
        .as_ref()
        .expect("a batcher on PostgreSQL");

    let held = app.state.db.readers().acquire().await.unwrap();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        batcher.read(&hash, app.state.clock.now()),
    )
    .await
    .expect("answered while the pool's one connection is held");
    let row = read.unwrap().expect("a live session");
    assert_eq!(row.get::<String, _>("token_hash"), hash);

    // Closing the pool (the server shutting down) ends them too: each asker meets the closed pool.
    drop(held);
    app.state.db.close().await;
    assert!(batcher.read(&hash, app.state.clock.now()).await.is_err());
}

/// A batched statement whose connection was cut answers no one (each asker reads through the
/// pool), and the next statement opens a new connection and is answered.
#[tokio::test]
async fn a_batched_read_after_its_connection_was_cut_opens_another() {
    use server::auth::SessionRead;
    let database = new_postgres_database().await;
    let mut app = spawn_app_with(&["--database-url", &database]).await;
    app.signed_up("cut-connection").await;
    let hash: String = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let batcher = app.state.batched_reads[SessionRead::Session as usize]
        .as_ref()
        .expect("a batcher on PostgreSQL");
    let now = app.state.clock.now();
    assert!(batcher.read(&hash, now).await.unwrap().is_some());

    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_url())
        .await
        .unwrap();
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND query LIKE '%ask_index%'",
    )
    .bind(database.rsplit('/').next().unwrap())
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(cut, [true], "the batcher's one connection");

    assert!(batcher.read(&hash, now).await.is_err(), "the cut statement");
    let again = batcher.read(&hash, now).await.expect("a new connection");
    assert_eq!(again.unwrap().get::<String, _>("token_hash"), hash);
}

/// The batched session read looks each ask's session up by its key, whatever the number of
/// sessions: its plan, the generic one a prepared statement settles on, scans neither the
/// sessions nor the accounts.
#[tokio::test]
async fn batched_session_reads_look_sessions_up_by_key() {
    use server::auth::SessionRead;
    let database = new_postgres_database().await;
    let app = spawn_app_with(&["--database-url", &database]).await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database)
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO accounts (id, email, password_hash, country, verified_channel, created_at)
         SELECT 'many-' || i, 'many-' || i || '@example.com', 'x', 'US', 'email', 0
         FROM generate_series(1, 5000) i;
         INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, authenticated_at,
                               expires_at)
         SELECT 'many-' || i, 'many-' || i, 'csrf', 0, 0, 0 FROM generate_series(1, 5000) i",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::raw_sql("ANALYZE; SET plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .await
        .unwrap();

    for read in [SessionRead::Session, SessionRead::SessionAndAccount] {
        let batcher = app.state.batched_reads[read as usize]
            .as_ref()
            .expect("a batcher on PostgreSQL");
        let asks = r#"'[[0, "many-1", 0], [1, "many-2", 0]]'"#;
        let plan = generic_plan(&mut conn, batcher.sql(), "text", asks).await;
        let mut scans = Vec::new();
        seq_scans(&plan, &mut scans);
        assert!(
            !scans.iter().any(|t| t == "sessions" || t == "accounts"),
            "{read:?}: the plan scans {scans:?}: {plan:#}"
        );
    }
}

/// Every lookup of an account by its email is served by `accounts_live_email`, also as a
/// prepared statement's generic plan, which knows no parameter's value: a status bound as a
/// parameter, where the index's condition needs it spelled, reads every account instead.
#[tokio::test]
async fn accounts_are_looked_up_by_email_in_the_live_email_index() {
    let database = new_postgres_database().await;
    let _app = spawn_app_with(&["--database-url", &database]).await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database)
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO accounts (id, email, password_hash, country, verified_channel, created_at,
                               email_verified_at)
         SELECT 'many-' || i, 'many-' || i || '@example.com', 'x', 'US', 'email', 0, 0
         FROM generate_series(1, 5000) i;
         ANALYZE; SET plan_cache_mode = force_generic_plan",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    for sql in server::tables::accounts::BY_EMAIL {
        let plan = generic_plan(&mut conn, sql, "text", "'many-1@example.com'").await;
        let mut scans = Vec::new();
        seq_scans(&plan, &mut scans);
        assert!(
            scans.is_empty(),
            "{sql}: the plan scans {scans:?}: {plan:#}"
        );
        assert!(
            plan.to_string().contains("accounts_live_email"),
            "{sql}: {plan:#}"
        );
    }
}

/// The plan PostgreSQL runs `sql` by once prepared, with `plan_cache_mode` set to
/// `force_generic_plan`: the generic plan, made without the parameters' values (`EXPLAIN` of a
/// statement with bound values plans for those values instead). `types` and `args` are SQL
/// lists, e.g. `text` and `'a'`.
async fn generic_plan(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    types: &str,
    args: &str,
) -> serde_json::Value {
    let plan = sqlx::raw_sql(&format!(
        "PREPARE explained({types}) AS {sql};
         EXPLAIN (FORMAT JSON) EXECUTE explained({args})"
    ))
    .fetch_one(&mut *conn)
    .await
    .unwrap()
    .get(0);
    sqlx::raw_sql("DEALLOCATE explained")
        .execute(conn)
        .await
        .unwrap();
    plan
}

fn seq_scans(node: &serde_json::Value, into: &mut Vec<String>) {
    match node {
        serde_json::Value::Object(fields) => {
            if fields.get("Node Type").and_then(|t| t.as_str()) == Some("Seq Scan")
                && let Some(table) = fields.get("Relation Name").and_then(|t| t.as_str())
            {
                into.push(table.to_owned());
            }
            fields.values().for_each(|v| seq_scans(v, into));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| seq_scans(v, into)),
        _ => {}
    }
}
