//! `accounts`: one row per account, its contact addresses, password hash and status
//! ([`AccountStatus`], bound by its stored name). The partial unique index
//! `accounts_live_email` (`WHERE status <> 'closed'`) keeps one live account per email: the
//! statements that look an account up by its email spell a condition that implies it, literal
//! included, so that the index serves them ([`BY_EMAIL`]).

use crate::clock::Millis;
use crate::db::{self, Backend, Db, Flag, HeldTx, Stored};
use crate::inline_reads::InlineRow;
use shared::account::Channel;
use shared::country::Country;
use sqlx::{Any, Executor};
use std::sync::LazyLock;

/// An account's life: open, or cooling down before its closure is decided (SPEC §6.3). A closed
/// account is deleted; `closed` is the status of one whose deletion an older version left.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Closing,
    Closed,
}

impl AccountStatus {
    /// Its name in the `status` column.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Locks `account_id`'s row until `tx` ends and reads its status (`None`: no such account).
/// `FOR NO KEY UPDATE` on PostgreSQL leaves rows referring to the account (a log line, a
/// session) free to be inserted meanwhile; on SQLite the transaction holds the one write lock
/// already.
pub async fn lock(tx: &mut HeldTx<'_>, account_id: &str) -> sqlx::Result<Option<AccountStatus>> {
    let sql = match Backend::of(tx) {
        Backend::Sqlite => "SELECT status FROM accounts WHERE id = $1",
        Backend::Postgres => "SELECT status FROM accounts WHERE id = $1 FOR NO KEY UPDATE",
    };
    let status: Option<Stored<AccountStatus>> = sqlx::query_scalar(sql)
        .bind(account_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(status.map(|s| s.0))
}

/// Locks the accounts of the closures `closure_ids` on PostgreSQL (`FOR UPDATE`: most of them
/// are about to be deleted), in the order of their ids; nothing to do on SQLite.
pub async fn lock_of_closures(tx: &mut HeldTx<'_>, closure_ids: &[&str]) -> sqlx::Result<()> {
    let backend = Backend::of(tx);
    if backend == Backend::Sqlite {
        return Ok(());
    }
    sqlx::query(&format!(
        "SELECT a.id FROM accounts a JOIN closures c ON c.account_id = a.id
         WHERE c.id IN {} ORDER BY a.id FOR UPDATE OF a",
        db::in_json(backend, 1)
    ))
    .bind(db::json_texts(closure_ids.iter().copied()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The account a sign-up makes.
pub struct NewAccount<'a> {
    pub id: &'a str,
    pub uid: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub country: Country,
    pub verified_channel: Channel,
    pub email_verified_at: Option<Millis>,
    pub phone: Option<&'a str>,
    pub phone_verified_at: Option<Millis>,
    pub created_at: Millis,
}

/// Inserts `account`; a live account with its email already there is a unique violation.
pub async fn insert(tx: &mut HeldTx<'_>, account: &NewAccount<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO accounts (id, uid, email, password_hash, country, verified_channel, email_verified_at, phone, phone_verified_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(account.id)
    .bind(account.uid)
    .bind(account.email)
    .bind(account.password_hash)
    .bind(account.country.code())
    .bind(account.verified_channel.as_str())
    .bind(account.email_verified_at)
    .bind(account.phone)
    .bind(account.phone_verified_at)
    .bind(account.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The statements that find an account by its email (`$1`, their one parameter). Each spells
/// a status condition that implies `accounts_live_email`'s `status <> 'closed'`, so that the
/// index serves it: with the status bound instead, PostgreSQL's generic plan cannot tell, and
/// reads every account (`tests/postgres.rs` checks their plans).
pub const BY_EMAIL: [&str; 3] = [LIVE_EMAIL_EXISTS, LIVE_BY_EMAIL, ACTIVE_VERIFIED_BY_EMAIL];
const LIVE_EMAIL_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM accounts WHERE email = $1 AND status <> 'closed')";
const LIVE_BY_EMAIL: &str =
    "SELECT id, password_hash FROM accounts WHERE email = $1 AND status <> 'closed'";
const ACTIVE_VERIFIED_BY_EMAIL: &str = "SELECT id FROM accounts WHERE email = $1 AND email_verified_at IS NOT NULL AND status = 'active' LIMIT 2";

/// Whether an account not closed holds `email`.
pub async fn live_email_exists(tx: &mut HeldTx<'_>, email: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar::<_, Flag>(LIVE_EMAIL_EXISTS)
        .bind(email)
        .fetch_one(&mut **tx)
        .await
        .map(bool::from)
}

/// The id and password hash of the account not closed that holds `email`.
pub async fn live_by_email(db: &Db, email: &str) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as(LIVE_BY_EMAIL)
        .bind(email)
        .fetch_optional(db)
        .await
}

/// The active accounts that verified `address` on `channel`: at most two, enough to tell one
/// from several.
pub async fn active_verified_by(
    tx: &mut HeldTx<'_>,
    channel: Channel,
    address: &str,
) -> sqlx::Result<Vec<String>> {
    let query = match channel {
        Channel::Email => sqlx::query_scalar(ACTIVE_VERIFIED_BY_EMAIL).bind(address),
        Channel::Phone => sqlx::query_scalar(
            "SELECT id FROM accounts WHERE phone = $1 AND phone_verified_at IS NOT NULL AND status = $2 LIMIT 2",
        )
        .bind(address)
        .bind(AccountStatus::Active.as_str()),
    };
    query.fetch_all(&mut **tx).await
}

/// The account's email.
pub async fn email(
    ex: impl Executor<'_, Database = Any>,
    account_id: &str,
) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT email FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(ex)
        .await
}

/// The account's email and when it was verified.
pub async fn email_verified(
    tx: &mut HeldTx<'_>,
    account_id: &str,
) -> sqlx::Result<(String, Option<Millis>)> {
    sqlx::query_as("SELECT email, email_verified_at FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await
}

/// The account's email and mobile number, verified or not.
pub async fn email_and_phone(
    tx: &mut HeldTx<'_>,
    account_id: &str,
) -> sqlx::Result<(String, Option<String>)> {
    sqlx::query_as("SELECT email, phone FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await
}

/// The account's mobile number and when it was verified.
pub async fn phone(db: &Db, account_id: &str) -> sqlx::Result<(Option<String>, Option<Millis>)> {
    sqlx::query_as("SELECT phone, phone_verified_at FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// When the account's email and mobile number were verified.
pub async fn verified_at(
    tx: &mut HeldTx<'_>,
    account_id: &str,
) -> sqlx::Result<(Option<Millis>, Option<Millis>)> {
    sqlx::query_as("SELECT email_verified_at, phone_verified_at FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await
}

/// The account's addresses and when each was verified.
#[derive(sqlx::FromRow)]
pub struct Contact {
    pub email: String,
    pub email_verified_at: Option<Millis>,
    pub phone: Option<String>,
    pub phone_verified_at: Option<Millis>,
}

pub async fn contact(
    ex: impl Executor<'_, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Option<Contact>> {
    sqlx::query_as(
        "SELECT email, email_verified_at, phone, phone_verified_at FROM accounts WHERE id = $1",
    )
    .bind(account_id)
    .fetch_optional(ex)
    .await
}

/// Marks the account's email verified, if it is still `email`.
pub async fn mark_email_verified(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    email: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE accounts SET email_verified_at = $1 WHERE id = $2 AND email = $3")
        .bind(now)
        .bind(account_id)
        .bind(email)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets the account's mobile number, verified at `now`.
pub async fn set_verified_phone(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    phone: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE accounts SET phone = $1, phone_verified_at = $2 WHERE id = $3")
        .bind(phone)
        .bind(now)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The account's email and password hash.
pub async fn credentials(db: &Db, account_id: &str) -> sqlx::Result<(String, String)> {
    sqlx::query_as("SELECT email, password_hash FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// Sets the password hash of the account if it is active; answers whether it was.
pub async fn set_password_if_active(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let changed =
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2 AND status = $3")
            .bind(password_hash)
            .bind(account_id)
            .bind(AccountStatus::Active.as_str())
            .execute(&mut **tx)
            .await?;
    Ok(changed.rows_affected() == 1)
}

/// Replaces the password hash `current` of the account by `password_hash`; answers whether
/// `current` was still the account's.
pub async fn replace_password(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    current: &str,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let changed =
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(password_hash)
            .bind(account_id)
            .bind(current)
            .execute(&mut **tx)
            .await?;
    Ok(changed.rows_affected() == 1)
}

/// Sets the account's status.
pub async fn set_status(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    status: AccountStatus,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE accounts SET status = $1 WHERE id = $2")
        .bind(status.as_str())
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets the status of each of the accounts `account_ids`.
pub async fn set_status_of<'a>(
    tx: &mut HeldTx<'_>,
    account_ids: impl IntoIterator<Item = &'a str>,
    status: AccountStatus,
) -> sqlx::Result<()> {
    let backend = Backend::of(tx);
    sqlx::query(&format!(
        "UPDATE accounts SET status = $1 WHERE id IN {}",
        db::in_json(backend, 2)
    ))
    .bind(status.as_str())
    .bind(db::json_texts(account_ids))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The account's country and when it was registered.
pub async fn country_and_created(
    db: &Db,
    account_id: &str,
) -> sqlx::Result<Option<(Country, Millis)>> {
    let row: Option<(Stored<Country>, Millis)> =
        sqlx::query_as("SELECT country, created_at FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(Stored(country), created_at)| (country, created_at)))
}

/// The columns [`ViewRow`] reads, of `accounts a`: the account, its next steps and its credit,
/// all on its row (migration `0022_account_summary`: triggers keep the figures drawn from the
/// other tables). `GET /api/session` reads them on every page load with the session itself
/// (see `auth::SessionAndAccount`). The session read's plan is checked on PostgreSQL.
pub const VIEW_COLUMNS: &str = "a.status, a.id, a.uid, a.email, a.country, a.verified_channel,
    a.email_verified_at, a.phone, a.phone_verified_at, a.created_at, a.has_address, a.has_method,
    a.real_name, a.credit_granted, a.credit_minor";

/// The account as its owner sees it, with what its next steps depend on.
#[derive(sqlx::FromRow)]
pub struct ViewRow {
    pub status: Stored<AccountStatus>,
    pub id: String,
    pub uid: String,
    pub email: String,
    pub country: String,
    pub verified_channel: Stored<Channel>,
    pub email_verified_at: Option<Millis>,
    pub phone: Option<String>,
    pub phone_verified_at: Option<Millis>,
    pub created_at: Millis,
    #[sqlx(try_from = "Flag")]
    pub has_address: bool,
    #[sqlx(try_from = "Flag")]
    pub has_method: bool,
    #[sqlx(try_from = "Flag")]
    pub real_name: bool,
    #[sqlx(try_from = "Flag")]
    pub credit_granted: bool,
    pub credit_minor: i64,
}

impl InlineRow for ViewRow {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<ViewRow> {
        Ok(ViewRow {
            status: row.get("status")?,
            id: row.get("id")?,
            uid: row.get("uid")?,
            email: row.get("email")?,
            country: row.get("country")?,
            verified_channel: row.get("verified_channel")?,
            email_verified_at: row.get::<_, Option<i64>>("email_verified_at")?.map(Millis),
            phone: row.get("phone")?,
            phone_verified_at: row.get::<_, Option<i64>>("phone_verified_at")?.map(Millis),
            created_at: Millis(row.get("created_at")?),
            has_address: row.get("has_address")?,
            has_method: row.get("has_method")?,
            real_name: row.get("real_name")?,
            credit_granted: row.get("credit_granted")?,
            credit_minor: row.get("credit_minor")?,
        })
    }
}

/// The account's [`ViewRow`].
pub async fn view(db: &Db, account_id: &str) -> sqlx::Result<Option<ViewRow>> {
    static VIEW_SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {VIEW_COLUMNS} FROM accounts a WHERE a.id = $1"));
    sqlx::query_as(&VIEW_SQL)
        .bind(account_id)
        .fetch_optional(db)
        .await
}
