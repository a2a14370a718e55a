//! `verification_codes`: the codes sent for a subject (a sign-up, a reset, a contact, a
//! closure's identity), kept as keyed hashes. The newest of a subject is the one that counts;
//! a new one supersedes those not yet used.

use crate::clock::Millis;
use crate::db::{HeldTx, Stored};
use shared::account::{Channel, Delivery};

/// When the newest code of `subject` was made, if any was.
pub async fn newest_at(tx: &mut HeldTx<'_>, subject: &str) -> sqlx::Result<Option<Millis>> {
    sqlx::query_scalar("SELECT MAX(created_at) FROM verification_codes WHERE subject = $1")
        .bind(subject)
        .fetch_one(&mut **tx)
        .await
}

/// How many codes went to `address` after `since`, and when the oldest of them did.
pub async fn sent_to_since(
    tx: &mut HeldTx<'_>,
    address: &str,
    since: Millis,
) -> sqlx::Result<(i64, Option<Millis>)> {
    sqlx::query_as(
        "SELECT COUNT(*), MIN(created_at) FROM verification_codes WHERE address = $1 AND created_at > $2",
    )
    .bind(address)
    .bind(since)
    .fetch_one(&mut **tx)
    .await
}

/// Marks the codes of `subject` neither used nor superseded yet superseded at `now`.
pub async fn supersede(tx: &mut HeldTx<'_>, subject: &str, now: Millis) -> sqlx::Result<()> {
    sqlx::query("UPDATE verification_codes SET superseded_at = $1 WHERE subject = $2 AND superseded_at IS NULL AND consumed_at IS NULL")
        .bind(now)
        .bind(subject)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A code to insert.
pub struct NewCode<'a> {
    pub id: &'a str,
    pub subject: &'a str,
    pub channel: Channel,
    pub address: &'a str,
    pub delivery: Option<Delivery>,
    pub code_hash: &'a str,
    pub created_at: Millis,
    pub expires_at: Millis,
}

pub async fn insert(tx: &mut HeldTx<'_>, code: &NewCode<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO verification_codes (id, subject, channel, address, delivery, code_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(code.id)
    .bind(code.subject)
    .bind(code.channel.as_str())
    .bind(code.address)
    .bind(code.delivery.map(Delivery::as_str))
    .bind(code.code_hash)
    .bind(code.created_at)
    .bind(code.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The newest code of a subject, as a check reads it.
#[derive(sqlx::FromRow)]
pub struct LiveCode {
    pub id: String,
    pub channel: Stored<Channel>,
    pub address: String,
    pub code_hash: String,
    pub attempts: i64,
    pub expires_at: Millis,
    pub consumed_at: Option<Millis>,
}

pub async fn newest(tx: &mut HeldTx<'_>, subject: &str) -> sqlx::Result<Option<LiveCode>> {
    sqlx::query_as(
        "SELECT id, channel, address, code_hash, attempts, expires_at, consumed_at
         FROM verification_codes WHERE subject = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(subject)
    .fetch_optional(&mut **tx)
    .await
}

/// The tries and the use of the newest code of `subject`.
pub async fn newest_tries(
    tx: &mut HeldTx<'_>,
    subject: &str,
) -> sqlx::Result<Option<(i64, Option<Millis>)>> {
    sqlx::query_as(
        "SELECT attempts, consumed_at FROM verification_codes WHERE subject = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(subject)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn set_attempts(tx: &mut HeldTx<'_>, id: &str, attempts: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE verification_codes SET attempts = $1 WHERE id = $2")
        .bind(attempts)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn mark_consumed(tx: &mut HeldTx<'_>, id: &str, now: Millis) -> sqlx::Result<()> {
    sqlx::query("UPDATE verification_codes SET consumed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
