//! `refunds`: the money an unsubscription gives back, one row per order refunded, and where it
//! stands. No partial index reads a refund's status or destination, so they are bound by their
//! stored names. (The closure decision's check for money in flight reads `refunds.status` in a
//! statement across several tables: it stays with the decision, in `domain/closure`.)

use crate::clock::Millis;
use crate::db::{self, Backend, Stored};
use shared::money::Currency;
use shared::refund::RefundDestination;
use sqlx::{Any, Executor};
use strum::{IntoStaticStr, VariantArray};

/// A refund is on its way until the gateway (or the balance) has paid it: `refunds.status`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RefundStatus {
    Processing,
    Refunded,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A refund as its settlement reads it, with its order's charge reference and its owner's
/// email.
#[derive(sqlx::FromRow)]
pub struct Refund {
    pub account_id: String,
    pub amount_minor: i64,
    pub currency: Stored<Currency>,
    pub destination: Stored<RefundDestination>,
    pub status: Stored<RefundStatus>,
    pub gateway_reference: Option<String>,
    pub email: String,
}

/// One refund of an unsubscription, as its record reads it.
#[derive(sqlx::FromRow)]
pub struct RecordRefund {
    pub unsubscription_id: String,
    pub destination: Stored<RefundDestination>,
    /// The payment method's label, while it is still bound.
    pub label: Option<String>,
    pub status: Stored<RefundStatus>,
    pub refunded_at: Option<Millis>,
    pub order_id: String,
}

/// A refund as the spending report shows it.
#[derive(sqlx::FromRow)]
pub struct SpentRefund {
    pub id: String,
    pub order_id: String,
    pub amount_minor: i64,
    pub currency: Stored<Currency>,
    pub destination: Stored<RefundDestination>,
    pub status: Stored<RefundStatus>,
    pub created_at: Millis,
}

/// A refund as the closure's export keeps it: the spending report's, and when it arrived.
#[derive(sqlx::FromRow)]
pub struct ExportedRefund {
    #[sqlx(flatten)]
    pub refund: SpentRefund,
    pub refunded_at: Option<Millis>,
}

/// A refund to write, processing from `created_at`.
pub struct NewRefund<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub unsubscription_id: &'a str,
    pub order_id: &'a str,
    pub amount_minor: i64,
    pub currency: Currency,
    pub destination: RefundDestination,
    /// The method it goes back to; none for the balance.
    pub payment_method_id: Option<&'a str>,
    pub created_at: Millis,
}

/// Writes a processing refund. An order is refunded once: a second refund of it fails the
/// unique constraint (see [`db::is_unique_violation`]).
pub async fn insert_processing<'e>(
    db: impl Executor<'e, Database = Any>,
    refund: &NewRefund<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO refunds (id, account_id, unsubscription_id, order_id, amount_minor, currency, destination, payment_method_id, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(refund.id)
    .bind(refund.account_id)
    .bind(refund.unsubscription_id)
    .bind(refund.order_id)
    .bind(refund.amount_minor)
    .bind(refund.currency.code())
    .bind(refund.destination.as_str())
    .bind(refund.payment_method_id)
    .bind(RefundStatus::Processing.as_str())
    .bind(refund.created_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The refund `id`, if it exists.
pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<Refund>> {
    sqlx::query_as(
        "SELECT r.account_id, r.amount_minor, r.currency, r.destination, r.status, o.gateway_reference, a.email
         FROM refunds r JOIN orders o ON o.id = r.order_id JOIN accounts a ON a.id = r.account_id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Who the refund `id` belongs to.
pub async fn account_of<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT account_id FROM refunds WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Marks the processing refund `id` refunded to `destination` at `now`; false when it is not
/// processing (any more).
pub async fn mark_refunded<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    destination: RefundDestination,
    now: Millis,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE refunds SET status = $4, refunded_at = $1, destination = $3 WHERE id = $2 AND status = $5",
    )
    .bind(now)
    .bind(id)
    .bind(destination.as_str())
    .bind(RefundStatus::Refunded.as_str())
    .bind(RefundStatus::Processing.as_str())
    .execute(db)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Moves the refund `id`, refunded to a card, to the balance at `now` (the card network
/// returned it).
pub async fn move_card_to_balance<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE refunds SET destination = $3, refunded_at = $1 WHERE id = $2 AND destination = $4 AND status = $5",
    )
    .bind(now)
    .bind(id)
    .bind(RefundDestination::Balance.as_str())
    .bind(RefundDestination::Card.as_str())
    .bind(RefundStatus::Refunded.as_str())
    .execute(db)
    .await?;
    Ok(())
}

/// The account's refunds of the unsubscriptions `ids`, oldest first, with each payment
/// method's label while it is still bound.
pub async fn of_unsubscriptions(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    ids: &[&str],
) -> sqlx::Result<Vec<RecordRefund>> {
    let list = db::in_json(Backend::of(conn), 2);
    sqlx::query_as(&format!(
        "SELECT r.unsubscription_id, r.destination, p.label, r.status, r.refunded_at, r.order_id
         FROM refunds r LEFT JOIN payment_methods p ON p.id = r.payment_method_id
         WHERE r.account_id = $1 AND r.unsubscription_id IN {list} ORDER BY r.created_at, r.id"
    ))
    .bind(account_id)
    .bind(db::json_texts(ids.iter().copied()))
    .fetch_all(&mut *conn)
    .await
}

/// The account's refunds for the spending report.
pub async fn spent<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<SpentRefund>> {
    sqlx::query_as(
        "SELECT id, order_id, amount_minor, currency, destination, status, created_at FROM refunds WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// The account's refunds for the closure's export, oldest first.
pub async fn exported<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<ExportedRefund>> {
    sqlx::query_as(
        "SELECT id, order_id, amount_minor, currency, destination, status, created_at, refunded_at FROM refunds WHERE account_id = $1 ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}
