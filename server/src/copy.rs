//! Moving an install from SQLite to PostgreSQL (`account-center copy-to-postgres --to …`):
//! every row of every table, in one target transaction that commits only when the row counts
//! and the money sums of both sides agree. A non-empty target is refused, so a second run can
//! never double anything. It carries nothing secret: the HMAC keys live outside the database
//! (`secrets`), and a source that still holds an earlier version's key rows is refused.

use crate::db::{self, Backend, Db};
use crate::secrets::LEGACY_ROWS;
use crate::tables::settings;
use anyhow::{Context, bail, ensure};
use sqlx::{Any, Row};

/// Rows per INSERT: well under PostgreSQL's 65,535 parameters for the widest table.
const BATCH: usize = 500;

/// One table's figures on one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCheck {
    pub table: String,
    pub rows: i64,
    /// Sum of each `*_minor` money column, by column name.
    pub money: Vec<(String, i64)>,
}

/// What the copy moved: the checks, equal on both sides.
#[derive(Debug)]
pub struct Report {
    pub tables: Vec<TableCheck>,
}

impl Report {
    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// A column as the SQLite schema declares it: TEXT, or an integer of either width.
struct Column {
    name: String,
    text: bool,
}

pub async fn copy_to_postgres(source_url: &str, target_url: &str) -> anyhow::Result<Report> {
    ensure!(
        Backend::of_url(source_url)? == Backend::Sqlite,
        "the source must be an SQLite database (sqlite://…), not {}",
        db::redact(source_url)
    );
    ensure!(
        Backend::of_url(target_url)? == Backend::Postgres,
        "the target must be a PostgreSQL database (postgres://…)"
    );
    let source = db::connect(source_url).await.context("the source")?;
    refuse_secrets(&source).await?;
    let target = db::open(target_url).await.context("the target")?;
    refuse_non_empty(&target).await?;
    db::migrate(&target).await.context("the target's schema")?;

    let mut tables = Vec::new();
    for table in list_tables(&source).await? {
        let columns = columns(&source, &table).await?;
        tables.push((table, columns));
    }
    let mut tx = target.writer().begin().await?;
    // Rows arrive as the source holds them, figures kept by triggers included (the account's
    // summary, migration 0022): the triggers would count them a second time. Foreign keys,
    // PostgreSQL's own triggers, stay on.
    for (table, columns) in &tables {
        sqlx::query(&format!("ALTER TABLE {table} DISABLE TRIGGER USER"))
            .execute(&mut *tx)
            .await?;
        copy_table(&source, &mut tx, table, columns).await?;
        sqlx::query(&format!("ALTER TABLE {table} ENABLE TRIGGER USER"))
            .execute(&mut *tx)
            .await?;
    }
    let mut checks = Vec::new();
    for (table, columns) in &tables {
        let from = check(&source, table, columns).await?;
        let to = check(&mut *tx, table, columns).await?;
        if from != to {
            tx.rollback().await?;
            bail!(
                "table {table} differs after the copy: source {from:?}, target {to:?}; nothing was kept"
            );
        }
        checks.push(from);
    }
    tx.commit().await?;
    Ok(Report { tables: checks })
}

/// Tables in the order the migrations made them, so that foreign keys find their rows.
async fn list_tables(source: &Db) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY rowid",
    )
    .fetch_all(source)
    .await?)
}

async fn columns(source: &Db, table: &str) -> anyhow::Result<Vec<Column>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
            .bind(table)
            .fetch_all(source)
            .await?;
    rows.into_iter()
        .map(|(name, kind)| match kind.to_ascii_uppercase().as_str() {
            "TEXT" => Ok(Column { name, text: true }),
            "BIGINT" | "INTEGER" => Ok(Column { name, text: false }),
            other => bail!("{table}.{name} has type {other}, which the copy does not know"),
        })
        .collect()
}

/// An install last run by a version that kept its HMAC keys in `settings` still holds them
/// there. Copied, they would sit beside the hashes they protect; left behind, the copy's
/// fingerprints and codes could not be checked. Its server moves them into its key file.
async fn refuse_secrets(source: &Db) -> anyhow::Result<()> {
    let held = settings::count_of(source, &LEGACY_ROWS).await?;
    ensure!(
        held == 0,
        "the source still holds its HMAC keys in its settings table (it was last run by an \
         earlier version): start the server on it once, which moves them into its key file, \
         stop it, then copy, and give the PostgreSQL instances that key file. Nothing was copied."
    );
    Ok(())
}

async fn refuse_non_empty(target: &Db) -> anyhow::Result<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'
         AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(target)
    .await?;
    for table in tables {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(target)
            .await?;
        ensure!(
            rows == 0,
            "the target is not empty ({table} holds {rows} rows): copy into a new database"
        );
    }
    Ok(())
}

async fn copy_table(
    source: &Db,
    tx: &mut sqlx::Transaction<'static, Any>,
    table: &str,
    columns: &[Column],
) -> anyhow::Result<()> {
    let names = columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!("SELECT {names} FROM {table}"))
        .fetch_all(source)
        .await?;
    for batch in rows.chunks(BATCH) {
        let values: Vec<String> = (0..batch.len())
            .map(|r| {
                format!(
                    "({})",
                    db::placeholders(r * columns.len() + 1, columns.len())
                )
            })
            .collect();
        let sql = format!("INSERT INTO {table} ({names}) VALUES {}", values.join(", "));
        let mut insert = sqlx::query(&sql);
        for row in batch {
            for (i, column) in columns.iter().enumerate() {
                insert = if column.text {
                    insert.bind(row.try_get::<Option<String>, _>(i)?)
                } else {
                    insert.bind(row.try_get::<Option<i64>, _>(i)?)
                };
            }
        }
        insert
            .execute(&mut **tx)
            .await
            .with_context(|| format!("copying {table}"))?;
    }
    Ok(())
}

async fn check<'e, E>(db: E, table: &str, columns: &[Column]) -> anyhow::Result<TableCheck>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let money: Vec<&str> = columns
        .iter()
        .filter(|c| !c.text && c.name.ends_with("_minor"))
        .map(|c| c.name.as_str())
        .collect();
    let mut select = vec!["COUNT(*)".to_owned()];
    select.extend(
        money
            .iter()
            .map(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT)")),
    );
    let row = sqlx::query(&format!("SELECT {} FROM {table}", select.join(", ")))
        .fetch_one(db)
        .await?;
    let mut sums = Vec::new();
    for (i, column) in money.iter().enumerate() {
        sums.push((column.to_string(), row.try_get::<i64, _>(i + 1)?));
    }
    Ok(TableCheck {
        table: table.to_owned(),
        rows: row.try_get(0)?,
        money: sums,
    })
}
