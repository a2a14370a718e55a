//! `orders`: each period of an instance paid for, and what was paid. No partial index reads
//! an order's status, so it is bound by its stored name; the listing's dynamic statements
//! spell it from the enum (see [`pending_renewals`]).

use super::listing::{Filter, Page, RENEWAL_COLUMNS};
use crate::clock::Millis;
use crate::db::Stored;
use shared::api::{InstanceStatus, OrderStatus};
use shared::catalog::Billing;
use shared::money::Currency;
use shared::refund::{PaidWith, ResourceKind};
use sqlx::{Any, Executor};
use strum::{IntoStaticStr, VariantArray};

/// What an order paid for: `orders.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OrderKind {
    /// The instance's first period.
    New,
    /// A period after the current one.
    Renewal,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The columns [`PaidOrder`] reads, of `orders`.
const PAID_COLUMNS: &str = "id, starts_at, ends_at, cash_minor, credit_minor, currency, paid_with, payment_method_id, paid_at, drawn_milli";

/// A paid order's period and money: what its refund is computed from.
#[derive(sqlx::FromRow, Clone)]
pub struct PaidOrder {
    pub id: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub cash_minor: i64,
    pub credit_minor: i64,
    pub currency: Stored<Currency>,
    pub paid_with: Stored<PaidWith>,
    pub payment_method_id: Option<String>,
    pub paid_at: Millis,
    /// What pay-as-you-go usage drew of a plan's quota in this period (thousandths of its unit).
    pub drawn_milli: i64,
}

/// An order as the spending report shows it, with its instance's product.
#[derive(sqlx::FromRow)]
pub struct SpentOrder {
    pub id: String,
    pub product: String,
    pub kind: Stored<OrderKind>,
    pub cash_minor: i64,
    pub credit_minor: i64,
    pub currency: Stored<Currency>,
    pub status: Stored<OrderStatus>,
    pub paid_at: Millis,
}

/// An order as the closure's export keeps it, with its instance's product.
#[derive(sqlx::FromRow)]
pub struct ExportedOrder {
    pub id: String,
    pub instance_id: String,
    pub product: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub currency: Stored<Currency>,
    pub cash_minor: i64,
    pub credit_minor: i64,
    pub paid_with: Stored<PaidWith>,
    pub status: Stored<OrderStatus>,
    pub paid_at: Millis,
}

/// A pending renewal on the Unsubscribe page's renewals tab, with its payment method's label
/// while the method is still bound.
#[derive(sqlx::FromRow)]
pub struct ListedRenewal {
    pub id: String,
    pub instance_id: String,
    pub product: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub cash_minor: i64,
    pub currency: Stored<Currency>,
    pub paid_with: Stored<PaidWith>,
    pub paid_at: Millis,
    pub method_label: Option<String>,
}

/// A paid order to write: a period of `instance_id` and how it was paid, in minor units.
pub struct NewOrder<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub instance_id: &'a str,
    pub kind: OrderKind,
    pub months: u32,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub currency: Currency,
    pub list_minor: i64,
    pub cash_minor: i64,
    pub credit_minor: i64,
    pub paid_with: PaidWith,
    pub payment_method_id: Option<&'a str>,
    pub gateway_reference: Option<&'a str>,
    /// When it was paid, and written.
    pub paid_at: Millis,
}

/// Binds `$1` to `$17` of an insert of a paid order, in the columns' order.
fn bind_paid<'q>(
    insert: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    order: &NewOrder<'q>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    insert
        .bind(order.id)
        .bind(order.account_id)
        .bind(order.instance_id)
        .bind(order.kind.as_str())
        .bind(i64::from(order.months))
        .bind(order.starts_at)
        .bind(order.ends_at)
        .bind(order.currency.code())
        .bind(order.list_minor)
        .bind(order.cash_minor)
        .bind(order.credit_minor)
        .bind(order.paid_with.as_str())
        .bind(order.payment_method_id)
        .bind(order.gateway_reference)
        .bind(OrderStatus::Paid.as_str())
        .bind(order.paid_at)
        .bind(order.paid_at)
}

/// Writes a paid order.
pub async fn insert_paid<'e>(
    db: impl Executor<'e, Database = Any>,
    order: &NewOrder<'_>,
) -> sqlx::Result<()> {
    let insert = sqlx::query(
        "INSERT INTO orders (id, account_id, instance_id, kind, period_months, starts_at, ends_at, currency, list_minor, cash_minor, credit_minor,
                             paid_with, payment_method_id, gateway_reference, status, paid_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    );
    bind_paid(insert, order).execute(db).await?;
    Ok(())
}

/// Writes a paid order of which a plan's usage already drew `drawn_milli` (demo data).
pub async fn insert_paid_drawn<'e>(
    db: impl Executor<'e, Database = Any>,
    order: &NewOrder<'_>,
    drawn_milli: i64,
) -> sqlx::Result<()> {
    let insert = sqlx::query(
        "INSERT INTO orders (id, account_id, instance_id, kind, period_months, starts_at, ends_at, currency, list_minor, cash_minor, credit_minor,
                             paid_with, payment_method_id, gateway_reference, status, paid_at, created_at, drawn_milli)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    );
    bind_paid(insert, order)
        .bind(drawn_milli)
        .execute(db)
        .await?;
    Ok(())
}

/// The paid orders of the instance, in period order.
pub async fn paid_of_instance<'e>(
    db: impl Executor<'e, Database = Any>,
    instance_id: &str,
) -> sqlx::Result<Vec<PaidOrder>> {
    sqlx::query_as(&format!(
        "SELECT {PAID_COLUMNS} FROM orders WHERE status = $1 AND instance_id = $2 ORDER BY starts_at"
    ))
    .bind(OrderStatus::Paid.as_str())
    .bind(instance_id)
    .fetch_all(db)
    .await
}

/// Marks a paid order unsubscribed; false when it is not paid (any more).
pub async fn mark_unsubscribed<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<bool> {
    let updated = sqlx::query("UPDATE orders SET status = $1 WHERE id = $2 AND status = $3")
        .bind(OrderStatus::Unsubscribed.as_str())
        .bind(id)
        .bind(OrderStatus::Paid.as_str())
        .execute(db)
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// How many months the instance's latest period paid for.
pub async fn last_period_months<'e>(
    db: impl Executor<'e, Database = Any>,
    instance_id: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT period_months FROM orders WHERE instance_id = $1 ORDER BY starts_at DESC LIMIT 1",
    )
    .bind(instance_id)
    .fetch_optional(db)
    .await
}

/// The account's paid periods in force at `at` of activated, running resource plans of
/// `product` with less than `quota_milli` drawn, soonest to end first: `(order id, plan
/// instance id, drawn so far)`.
pub async fn plan_periods_to_draw<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    product: &str,
    at: Millis,
    quota_milli: i64,
) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT o.id, i.id, o.drawn_milli FROM orders o JOIN instances i ON i.id = o.instance_id
         WHERE i.account_id = $1 AND i.product = $2 AND i.resource_kind = $5
           AND i.billing = $6 AND i.status = $7 AND i.activated = 1
           AND o.status = $8 AND o.starts_at <= $3 AND o.ends_at > $3 AND o.drawn_milli < $4
         ORDER BY o.ends_at, o.id",
    )
    .bind(account_id)
    .bind(product)
    .bind(at)
    .bind(quota_milli)
    .bind(ResourceKind::ResourcePlan.as_str())
    .bind(Billing::Subscription.as_str())
    .bind(InstanceStatus::Running.as_str())
    .bind(OrderStatus::Paid.as_str())
    .fetch_all(db)
    .await
}

/// Draws `milli` more on the order's quota, unless more than `at_most` is drawn already
/// (another draw got there first); false then.
pub async fn draw<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    milli: i64,
    at_most: i64,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE orders SET drawn_milli = drawn_milli + $1 WHERE id = $2 AND drawn_milli <= $3",
    )
    .bind(milli)
    .bind(id)
    .bind(at_most)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// The account's orders for the spending report.
pub async fn spent<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<SpentOrder>> {
    sqlx::query_as(
        "SELECT o.id, i.product, o.kind, o.cash_minor, o.credit_minor, o.currency, o.status, o.paid_at
         FROM orders o JOIN instances i ON i.id = o.instance_id WHERE o.account_id = $1",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// The account's orders for the closure's export, oldest first.
pub async fn exported<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<ExportedOrder>> {
    sqlx::query_as(
        "SELECT o.id, o.instance_id, i.product, o.starts_at, o.ends_at, o.currency, o.cash_minor, o.credit_minor, o.paid_with, o.status, o.paid_at
         FROM orders o JOIN instances i ON i.id = o.instance_id WHERE o.account_id = $1 ORDER BY o.created_at, o.id",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// The renewals tab's rows: paid renewals of running instances that begin after `now`. The
/// statuses are spelled into the text from the enums, not bound: the filter numbers the
/// placeholders.
fn pending_renewals_from(filter: &Filter<'_>) -> (String, usize) {
    let (conditions, next) = filter.sql(&RENEWAL_COLUMNS);
    let from = format!(
        "FROM orders o JOIN instances i ON i.id = o.instance_id
         LEFT JOIN payment_methods m ON m.id = o.payment_method_id AND m.account_id = o.account_id
         WHERE {conditions} AND o.status = '{}' AND o.starts_at > ${next} AND i.status = '{}'",
        OrderStatus::Paid.as_str(),
        InstanceStatus::Running.as_str()
    );
    (from, next)
}

/// How many pending renewals the filter matches at `now`.
pub async fn count_pending_renewals<'e>(
    db: impl Executor<'e, Database = Any>,
    filter: &Filter<'_>,
    now: Millis,
) -> sqlx::Result<i64> {
    let (from, _) = pending_renewals_from(filter);
    let (total,): (i64,) = filter
        .bind(sqlx::query_as(&format!("SELECT COUNT(*) {from}")))
        .bind(now)
        .fetch_one(db)
        .await?;
    Ok(total)
}

/// One page of the pending renewals the filter matches at `now`, by instance and start.
pub async fn pending_renewals<'e>(
    db: impl Executor<'e, Database = Any>,
    filter: &Filter<'_>,
    now: Millis,
    page: Page,
) -> sqlx::Result<Vec<ListedRenewal>> {
    let (from, next) = pending_renewals_from(filter);
    filter
        .bind(sqlx::query_as(&format!(
            "SELECT o.id, o.instance_id, i.product, o.starts_at, o.ends_at, o.cash_minor, o.currency,
                    o.paid_with, o.paid_at, m.label AS method_label
             {from}
             ORDER BY o.instance_id, o.starts_at, o.id LIMIT ${} OFFSET ${}",
            next + 1,
            next + 2
        )))
        .bind(now)
        .bind(page.size)
        .bind(page.offset)
        .fetch_all(db)
        .await
}
