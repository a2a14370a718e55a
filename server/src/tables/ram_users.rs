//! `ram_users`: the sub-users an owner creates, each with a username unique in its account,
//! a password hash and its permissions (their names, space-separated). Deleting one deletes
//! its sessions (`ON DELETE CASCADE`).

use crate::clock::Millis;
use crate::db::{Db, HeldTx};

/// A RAM user as its owner sees it.
#[derive(sqlx::FromRow)]
pub struct RamUserRow {
    pub id: String,
    pub username: String,
    pub permissions: String,
    pub created_at: Millis,
}

pub struct NewRamUser<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub permissions: &'a str,
    pub created_at: Millis,
}

/// Inserts `user`; a username the account already has is a unique violation.
pub async fn insert(tx: &mut HeldTx<'_>, user: &NewRamUser<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ram_users (id, account_id, username, password_hash, permissions, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user.id)
    .bind(user.account_id)
    .bind(user.username)
    .bind(user.password_hash)
    .bind(user.permissions)
    .bind(user.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The account's RAM users by username.
pub async fn of_account(db: &Db, account_id: &str) -> sqlx::Result<Vec<RamUserRow>> {
    sqlx::query_as("SELECT id, username, permissions, created_at FROM ram_users WHERE account_id = $1 ORDER BY username")
        .bind(account_id)
        .fetch_all(db)
        .await
}

/// The account's RAM user `id`.
pub async fn find(db: &Db, account_id: &str, id: &str) -> sqlx::Result<Option<RamUserRow>> {
    sqlx::query_as("SELECT id, username, permissions, created_at FROM ram_users WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .fetch_optional(db)
        .await
}

/// Deletes the account's RAM user `id`; answers its username, if there was one.
pub async fn delete(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("DELETE FROM ram_users WHERE id = $1 AND account_id = $2 RETURNING username")
        .bind(id)
        .bind(account_id)
        .fetch_optional(&mut **tx)
        .await
}

/// The owner account's id, the RAM user's id and its password hash, of the user `username`
/// of the account whose UID (its alias at sign-in) is `account_uid`.
pub async fn for_sign_in(
    db: &Db,
    account_uid: &str,
    username: &str,
) -> sqlx::Result<Option<(String, String, String)>> {
    sqlx::query_as(
        "SELECT a.id, r.id, r.password_hash FROM ram_users r JOIN accounts a ON a.id = r.account_id
         WHERE a.uid = $1 AND r.username = $2",
    )
    .bind(account_uid)
    .bind(username)
    .fetch_optional(db)
    .await
}

/// The owner account's email, the RAM user's username and its password hash.
pub async fn for_reauthentication(db: &Db, id: &str) -> sqlx::Result<(String, String, String)> {
    sqlx::query_as(
        "SELECT a.email, r.username, r.password_hash FROM ram_users r JOIN accounts a ON a.id = r.account_id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await
}
