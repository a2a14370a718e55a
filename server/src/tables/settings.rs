//! `settings`: named values of the install (`key` → `value`, both text): the dev clock's
//! offset, the check value of the HMAC keys, and the keys an earlier version kept here.

use crate::db::{self, Db, Flag, HeldTx};
use sqlx::{Any, Executor};

/// The value of `key`, if set.
pub async fn value(
    ex: impl Executor<'_, Database = Any>,
    key: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(ex)
        .await
}

/// Whether `key` is set.
pub async fn exists(db: &Db, key: &str) -> sqlx::Result<bool> {
    let Flag(set) = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM settings WHERE key = $1)")
        .bind(key)
        .fetch_one(db)
        .await?;
    Ok(set)
}

/// The keys among `keys` that are set, with their values.
pub async fn values_of(db: &Db, keys: &[&str]) -> sqlx::Result<Vec<(String, String)>> {
    let sql = format!(
        "SELECT key, value FROM settings WHERE key IN ({})",
        db::placeholders(1, keys.len())
    );
    let mut query = sqlx::query_as(&sql);
    for key in keys {
        query = query.bind(*key);
    }
    query.fetch_all(db).await
}

/// How many of `keys` are set.
pub async fn count_of(db: &Db, keys: &[&str]) -> sqlx::Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM settings WHERE key IN ({})",
        db::placeholders(1, keys.len())
    );
    let mut query = sqlx::query_scalar(&sql);
    for key in keys {
        query = query.bind(*key);
    }
    query.fetch_one(db).await
}

/// Sets `key` to `value`, whether it was set or not.
pub async fn set(db: &Db, key: &str, value: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Sets `key` to `value` unless it is set already.
pub async fn set_if_unset(tx: &mut HeldTx<'_>, key: &str, value: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Unsets each of `keys`.
pub async fn delete(tx: &mut HeldTx<'_>, keys: &[&str]) -> sqlx::Result<()> {
    let sql = format!(
        "DELETE FROM settings WHERE key IN ({})",
        db::placeholders(1, keys.len())
    );
    let mut query = sqlx::query(&sql);
    for key in keys {
        query = query.bind(*key);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}
