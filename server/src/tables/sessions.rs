//! `sessions`: one row per signed-in browser, keyed by its token's SHA-256 (`token_hash`),
//! of the owner or (`ram_user_id`) one of the account's RAM users.
//!
//! The read every signed-in request makes ([`SessionRead`]) runs on the request's thread on
//! SQLite (`inline_reads`) and batched on PostgreSQL (`batched_reads`), whose plan a
//! PostgreSQL test checks: its text is kept byte for byte.

use crate::batched_reads::BatchedReads;
use crate::clock::Millis;
use crate::db::{Db, HeldTx, Stored};
use crate::inline_reads::InlineRow;
use crate::tables::accounts::AccountStatus;
use crate::tables::accounts::{self, ViewRow};
use std::sync::LazyLock;

/// The session's columns, and what they are read from: a live session by its token's hash.
const SESSION_COLUMNS: &str =
    "s.token_hash, s.account_id, s.csrf_token, s.expires_at, s.authenticated_at, s.ram_user_id,
    r.username, r.permissions, a.status AS account_status, s.identity_verified_at, s.last_used_at";
const SESSION_JOINS: &str = "sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN ram_users r ON r.id = s.ram_user_id";

/// Which of the two session reads a request makes.
#[derive(Debug, Clone, Copy)]
pub enum SessionRead {
    /// The live session by its token's hash: a [`SessionRow`].
    Session,
    /// The same, with the account's view columns ([`accounts::VIEW_COLUMNS`]): a
    /// [`SessionAndAccountRow`].
    SessionAndAccount,
}

impl SessionRead {
    fn columns(self) -> String {
        match self {
            SessionRead::Session => SESSION_COLUMNS.to_owned(),
            SessionRead::SessionAndAccount => {
                format!("{SESSION_COLUMNS}, {}", accounts::VIEW_COLUMNS)
            }
        }
    }

    /// The read of one session: its token's hash at `$1`, the time at `$2`.
    pub fn sql(self) -> &'static str {
        static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
            [SessionRead::Session, SessionRead::SessionAndAccount].map(|read| {
                format!(
                    "SELECT {} FROM {SESSION_JOINS} WHERE s.token_hash = $1 AND s.expires_at > $2",
                    read.columns()
                )
            })
        });
        &SQL[self as usize]
    }

    /// Its batcher on PostgreSQL (see [`BatchedReads`]).
    pub fn batcher(self, db: &Db) -> Option<BatchedReads> {
        BatchedReads::start(db, &self.columns(), SESSION_JOINS, "s.expires_at > ask.now")
    }

    /// The session live at `now` whose token hashes to `token_hash`, read through the pool.
    pub async fn fetch<R>(self, db: &Db, token_hash: &str, now: Millis) -> sqlx::Result<Option<R>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        sqlx::query_as(self.sql())
            .bind(token_hash)
            .bind(now)
            .fetch_optional(db)
            .await
    }
}

/// A live session as [`SessionRead::Session`] reads it, with its RAM user and account status.
#[derive(sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub account_id: String,
    pub csrf_token: String,
    pub expires_at: Millis,
    pub authenticated_at: Millis,
    pub ram_user_id: Option<String>,
    pub username: Option<String>,
    pub permissions: Option<String>,
    pub account_status: Stored<AccountStatus>,
    pub identity_verified_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
}

impl InlineRow for SessionRow {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
        Ok(SessionRow {
            token_hash: row.get("token_hash")?,
            account_id: row.get("account_id")?,
            csrf_token: row.get("csrf_token")?,
            expires_at: Millis(row.get("expires_at")?),
            authenticated_at: Millis(row.get("authenticated_at")?),
            ram_user_id: row.get("ram_user_id")?,
            username: row.get("username")?,
            permissions: row.get("permissions")?,
            account_status: row.get("account_status")?,
            identity_verified_at: row
                .get::<_, Option<i64>>("identity_verified_at")?
                .map(Millis),
            last_used_at: row.get::<_, Option<i64>>("last_used_at")?.map(Millis),
        })
    }
}

/// What [`SessionRead::SessionAndAccount`] reads.
#[derive(sqlx::FromRow)]
pub struct SessionAndAccountRow {
    #[sqlx(flatten)]
    pub session: SessionRow,
    #[sqlx(flatten)]
    pub account: ViewRow,
}

impl InlineRow for SessionAndAccountRow {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionAndAccountRow> {
        Ok(SessionAndAccountRow {
            session: SessionRow::from_sqlite(row)?,
            account: ViewRow::from_sqlite(row)?,
        })
    }
}

/// A session to insert; it is authenticated and last used when created.
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub account_id: &'a str,
    pub csrf_token: &'a str,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub ram_user_id: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub ip: &'a str,
}

pub async fn insert(tx: &mut HeldTx<'_>, session: &NewSession<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, authenticated_at, expires_at, ram_user_id, user_agent, ip, last_used_at)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $4)",
    )
    .bind(session.token_hash)
    .bind(session.account_id)
    .bind(session.csrf_token)
    .bind(session.created_at)
    .bind(session.expires_at)
    .bind(session.ram_user_id)
    .bind(session.user_agent)
    .bind(session.ip)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_last_used(db: &Db, token_hash: &str, now: Millis) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(token_hash)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// The password was entered again in the session at `now`.
pub async fn set_authenticated(
    tx: &mut HeldTx<'_>,
    token_hash: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET authenticated_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The session proved the owner's identity for closure at `now`.
pub async fn set_identity_verified(
    tx: &mut HeldTx<'_>,
    token_hash: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET identity_verified_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A session as the account's list of sessions shows it.
#[derive(sqlx::FromRow)]
pub struct ListedSession {
    pub token_hash: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    /// The RAM user's, when not the owner's.
    pub username: Option<String>,
}

/// The account's sessions live at `now`, the most recently used first.
pub async fn live_of_account(
    db: &Db,
    account_id: &str,
    now: Millis,
) -> sqlx::Result<Vec<ListedSession>> {
    sqlx::query_as(
        "SELECT s.token_hash, s.user_agent, s.ip, s.created_at, s.last_used_at, r.username
         FROM sessions s LEFT JOIN ram_users r ON r.id = s.ram_user_id
         WHERE s.account_id = $1 AND s.expires_at > $2
         ORDER BY COALESCE(s.last_used_at, s.created_at) DESC, s.created_at DESC",
    )
    .bind(account_id)
    .bind(now)
    .fetch_all(db)
    .await
}

pub async fn delete(db: &Db, token_hash: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Deletes the account's session whose public id (`auth::public_id`, lower case) is
/// `public_id`; answers its user agent, if there was one such session.
pub async fn delete_by_public_id(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    public_id: &str,
) -> sqlx::Result<Option<Option<String>>> {
    sqlx::query_scalar(&format!(
        "DELETE FROM sessions WHERE account_id = $1 AND substr(token_hash, 1, {}) = $2 RETURNING user_agent",
        crate::auth::PUBLIC_ID_CHARS
    ))
    .bind(account_id)
    .bind(public_id)
    .fetch_optional(&mut **tx)
    .await
}

/// Deletes every session of the account, the owner's and its RAM users'.
pub async fn delete_of_account(tx: &mut HeldTx<'_>, account_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes the owner's sessions but `kept` (a token's hash); answers how many.
pub async fn delete_other_owner_sessions(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    kept: &str,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query(
        "DELETE FROM sessions WHERE account_id = $1 AND ram_user_id IS NULL AND token_hash <> $2",
    )
    .bind(account_id)
    .bind(kept)
    .execute(&mut **tx)
    .await?;
    Ok(deleted.rows_affected())
}
