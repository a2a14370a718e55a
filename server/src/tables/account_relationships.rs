//! `account_relationships`: the account's ties to other accounts (a resource directory, a
//! finance trusteeship, …, seed 001), each blocking its closure until removed.

use crate::clock::Millis;
use crate::db::Stored;
use shared::api::RelationshipRole;
use shared::closure::RelationshipKind;
use sqlx::{Any, Executor};

/// A relationship and the account at its other end.
#[derive(sqlx::FromRow)]
pub struct Relationship {
    pub id: String,
    pub kind: Stored<RelationshipKind>,
    pub role: Stored<RelationshipRole>,
    pub peer: String,
}

/// The account's relationships with their peers, oldest first.
pub async fn of_account<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<Relationship>> {
    sqlx::query_as("SELECT id, kind, role, peer FROM account_relationships WHERE account_id = $1 ORDER BY created_at, id")
        .bind(account_id)
        .fetch_all(db)
        .await
}

/// The account's relationships as the closure check reads them: `(id, kind, role)`, oldest
/// first.
pub async fn kinds_of_account<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<(String, Stored<RelationshipKind>, Stored<RelationshipRole>)>> {
    sqlx::query_as(
        "SELECT id, kind, role FROM account_relationships WHERE account_id = $1 ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// Removes the account's relationship `id`; false when there is none.
pub async fn remove<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let deleted =
        sqlx::query("DELETE FROM account_relationships WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(db)
            .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Writes a relationship.
pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    account_id: &str,
    kind: RelationshipKind,
    role: RelationshipRole,
    peer: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO account_relationships (id, account_id, kind, role, peer, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(account_id)
        .bind(kind.as_str())
        .bind(role.as_str())
        .bind(peer)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
