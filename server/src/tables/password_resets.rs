//! `password_resets`: a reset asked for an address, with the account that verified it, or
//! none (a decoy: nothing is sent, and what is asked looks the same).

use crate::clock::Millis;
use crate::db::{HeldTx, Stored};
use shared::account::{Channel, Delivery};

#[derive(sqlx::FromRow)]
pub struct Reset {
    /// `None` for a decoy.
    pub account_id: Option<String>,
    pub channel: Stored<Channel>,
    pub address: String,
    pub delivery: Option<Stored<Delivery>>,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
}

pub async fn find(tx: &mut HeldTx<'_>, id: &str) -> sqlx::Result<Option<Reset>> {
    sqlx::query_as(
        "SELECT account_id, channel, address, delivery, expires_at, used_at FROM password_resets WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// A reset to insert.
pub struct NewReset<'a> {
    pub id: &'a str,
    pub account_id: Option<&'a str>,
    pub channel: Channel,
    pub address: &'a str,
    pub delivery: Option<Delivery>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

pub async fn insert(tx: &mut HeldTx<'_>, reset: &NewReset<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO password_resets (id, account_id, channel, address, delivery, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(reset.id)
    .bind(reset.account_id)
    .bind(reset.channel.as_str())
    .bind(reset.address)
    .bind(reset.delivery.map(Delivery::as_str))
    .bind(reset.created_at)
    .bind(reset.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn mark_used(tx: &mut HeldTx<'_>, id: &str, now: Millis) -> sqlx::Result<()> {
    sqlx::query("UPDATE password_resets SET used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
