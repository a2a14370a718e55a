//! `real_name_registrations`: at most one per account (its primary key), never changed once
//! written; the ID number is kept masked only.

use crate::clock::Millis;
use crate::db::{Db, Flag, HeldTx, Stored};
use shared::realname::RealNameKind;

/// An account's registration.
#[derive(sqlx::FromRow)]
pub struct Registration {
    pub kind: Stored<RealNameKind>,
    pub name: String,
    pub id_masked: String,
    pub verified_at: Millis,
}

pub async fn find(db: &Db, account_id: &str) -> sqlx::Result<Option<Registration>> {
    sqlx::query_as("SELECT kind, name, id_masked, verified_at FROM real_name_registrations WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(db)
        .await
}

/// Whether the account passed real-name registration.
pub async fn exists(db: &Db, account_id: &str) -> sqlx::Result<bool> {
    let Flag(registered) = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM real_name_registrations WHERE account_id = $1)",
    )
    .bind(account_id)
    .fetch_one(db)
    .await?;
    Ok(registered)
}

/// Inserts the account's registration; a second one is a unique violation.
pub async fn insert(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    kind: RealNameKind,
    name: &str,
    id_masked: &str,
    verified_at: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO real_name_registrations (account_id, kind, name, id_masked, verified_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account_id)
    .bind(kind.as_str())
    .bind(name)
    .bind(id_masked)
    .bind(verified_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
