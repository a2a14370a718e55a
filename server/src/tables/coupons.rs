//! `coupons`: amounts off a subscription, given to an account, spent in parts until empty or
//! expired.

use crate::clock::Millis;
use crate::db::Stored;
use shared::money::Currency;
use sqlx::{Any, Executor};

/// A coupon with something left, as the purchase form lists it.
#[derive(sqlx::FromRow)]
pub struct Coupon {
    pub id: String,
    pub description: String,
    pub amount_minor: i64,
    pub remaining_minor: i64,
    pub currency: Stored<Currency>,
    pub expires_at: Millis,
}

/// A coupon to give.
pub struct NewCoupon<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub description: &'a str,
    pub amount_minor: i64,
    pub currency: Currency,
    pub expires_at: Millis,
    pub created_at: Millis,
}

/// Gives a coupon, with all of its amount left.
pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    coupon: &NewCoupon<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO coupons (id, account_id, description, amount_minor, remaining_minor, currency, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(coupon.id)
    .bind(coupon.account_id)
    .bind(coupon.description)
    .bind(coupon.amount_minor)
    .bind(coupon.amount_minor)
    .bind(coupon.currency.code())
    .bind(coupon.expires_at)
    .bind(coupon.created_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The account's coupon `id` if it is unexpired at `now` and not empty: what is left of it
/// and its currency.
pub async fn usable<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    now: Millis,
) -> sqlx::Result<Option<(i64, Stored<Currency>)>> {
    sqlx::query_as(
        "SELECT remaining_minor, currency FROM coupons WHERE id = $1 AND account_id = $2 AND expires_at > $3 AND remaining_minor > 0",
    )
    .bind(id)
    .bind(account_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// The account's coupons with something left at `now`, soonest to expire first.
pub async fn usable_of_account<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    now: Millis,
) -> sqlx::Result<Vec<Coupon>> {
    sqlx::query_as(
        "SELECT id, description, amount_minor, remaining_minor, currency, expires_at FROM coupons
         WHERE account_id = $1 AND remaining_minor > 0 AND expires_at > $2 ORDER BY expires_at, id",
    )
    .bind(account_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// Takes `minor` off the account's coupon `id`; false when less than that is left.
pub async fn take<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    minor: i64,
) -> sqlx::Result<bool> {
    let taken = sqlx::query(
        "UPDATE coupons SET remaining_minor = remaining_minor - $1 WHERE id = $2 AND account_id = $3 AND remaining_minor >= $4",
    )
    .bind(minor)
    .bind(id)
    .bind(account_id)
    .bind(minor)
    .execute(db)
    .await?;
    Ok(taken.rows_affected() == 1)
}
