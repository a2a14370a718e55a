//! `unsubscriptions`: one row per resource unsubscribed (or per batch of renewals cancelled),
//! with the total its refunds came to; the refunds themselves are in `refunds`.

use super::listing::{Filter, Page, RECORD_COLUMNS};
use crate::clock::Millis;
use crate::db::{self, Backend, Stored};
use shared::api::UnsubscribeScope;
use shared::money::Currency;
use shared::refund::RefundType;
use sqlx::{Any, Executor};

/// An unsubscription as its record reads it.
#[derive(sqlx::FromRow)]
pub struct Unsubscription {
    pub id: String,
    pub instance_id: String,
    pub product: String,
    pub scope: Stored<UnsubscribeScope>,
    pub refund_type: Stored<RefundType>,
    pub refund_minor: i64,
    pub currency: Stored<Currency>,
    pub created_at: Millis,
}

/// An unsubscription to write; its refund total is set once its refunds are written
/// ([`set_total`]).
pub struct NewUnsubscription<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub scope: UnsubscribeScope,
    pub instance_id: &'a str,
    pub product: &'a str,
    pub refund_type: RefundType,
    pub created_at: Millis,
}

/// Writes an unsubscription that refunds nothing yet.
pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    new: &NewUnsubscription<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO unsubscriptions (id, account_id, scope, instance_id, product, refund_type, refund_minor, currency, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, 'USD', $7)",
    )
    .bind(new.id)
    .bind(new.account_id)
    .bind(new.scope.as_str())
    .bind(new.instance_id)
    .bind(new.product)
    .bind(new.refund_type.as_str())
    .bind(new.created_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Sets what the unsubscription's refunds came to.
pub async fn set_total<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    refund_minor: i64,
    currency: Currency,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE unsubscriptions SET refund_minor = $1, currency = $2 WHERE id = $3")
        .bind(refund_minor)
        .bind(currency.code())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The account's unsubscriptions among `ids`, in no particular order.
pub async fn of_account(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    ids: &[&str],
) -> sqlx::Result<Vec<Unsubscription>> {
    let list = db::in_json(Backend::of(conn), 2);
    sqlx::query_as(&format!(
        "SELECT id, instance_id, product, scope, refund_type, refund_minor, currency, created_at
         FROM unsubscriptions WHERE account_id = $1 AND id IN {list}"
    ))
    .bind(account_id)
    .bind(db::json_texts(ids.iter().copied()))
    .fetch_all(&mut *conn)
    .await
}

/// How many unsubscriptions the records tab's filter matches.
pub async fn count_listed<'e>(
    db: impl Executor<'e, Database = Any>,
    filter: &Filter<'_>,
) -> sqlx::Result<i64> {
    let (conditions, _) = filter.sql(&RECORD_COLUMNS);
    let (total,): (i64,) = filter
        .bind(sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM unsubscriptions WHERE {conditions}"
        )))
        .fetch_one(db)
        .await?;
    Ok(total)
}

/// The ids of one page of the unsubscriptions the filter matches, newest first.
pub async fn listed_ids<'e>(
    db: impl Executor<'e, Database = Any>,
    filter: &Filter<'_>,
    page: Page,
) -> sqlx::Result<Vec<String>> {
    let (conditions, next) = filter.sql(&RECORD_COLUMNS);
    filter
        .bind(sqlx::query_as(&format!(
            "SELECT id FROM unsubscriptions WHERE {conditions}
             ORDER BY created_at DESC, id LIMIT ${next} OFFSET ${}",
            next + 1
        )))
        .bind(page.size)
        .bind(page.offset)
        .fetch_all(db)
        .await
        .map(|ids: Vec<(String,)>| ids.into_iter().map(|(id,)| id).collect())
}
