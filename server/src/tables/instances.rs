//! `instances`: what each account bought and whether it still runs. No partial index reads a
//! status, billing or kind here, so those values are bound by their stored names.

use super::listing::{Filter, Page, RESOURCE_COLUMNS};
use crate::clock::Millis;
use crate::db::{Flag, Stored};
use shared::api::{InstanceStatus, OrderStatus, ResourceSort, SortDirection, UnsubscribeQuery};
use shared::catalog::{Billing, Product};
use shared::money::Currency;
use shared::refund::{PaidWith, RefundType, ResourceKind};
use sqlx::{Any, Executor};

/// The columns [`Instance`] reads, of `instances`.
pub const COLUMNS: &str = "id, account_id, product, region, billing, resource_kind, activated, used, \
                           auto_renew, status, created_at, started_at, expires_at, billed_until, \
                           released_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Instance {
    pub id: String,
    pub account_id: String,
    pub product: String,
    pub region: String,
    pub billing: Stored<Billing>,
    pub resource_kind: Stored<ResourceKind>,
    #[sqlx(try_from = "crate::db::Flag")]
    pub activated: bool,
    /// Pay-as-you-go usage has drawn on this resource plan.
    #[sqlx(try_from = "crate::db::Flag")]
    pub used: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    pub auto_renew: bool,
    pub status: Stored<InstanceStatus>,
    pub created_at: Millis,
    pub started_at: Millis,
    pub expires_at: Option<Millis>,
    /// Pay-as-you-go: the end of the last hour billed.
    pub billed_until: Option<Millis>,
    pub released_at: Option<Millis>,
}

/// A new instance: what every insert writes.
pub struct NewInstance<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub product: &'a str,
    pub region: &'a str,
    pub kind: ResourceKind,
    /// When it starts running, and is created.
    pub started_at: Millis,
}

/// The instance `id`, whoever holds it.
pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<Instance>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM instances WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The instance `id` if `account_id` holds it: another account's is not found.
pub async fn owned<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<Instance>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM instances WHERE id = $1 AND account_id = $2"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// Who holds the instance `id`.
pub async fn account_of<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT account_id FROM instances WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The account's running instances, oldest first.
pub async fn running<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<Instance>> {
    running_by(db, account_id, "created_at, id").await
}

/// The account's 500 newest running instances, newest first.
pub async fn newest_running<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<Instance>> {
    running_by(db, account_id, "created_at DESC, id LIMIT 500").await
}

/// The account's running instances `ORDER BY order` (and its limit).
async fn running_by<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    order: &str,
) -> sqlx::Result<Vec<Instance>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM instances WHERE account_id = $1 AND status = $2 ORDER BY {order}"
    ))
    .bind(account_id)
    .bind(InstanceStatus::Running.as_str())
    .fetch_all(db)
    .await
}

/// The expiry of the instance `id` while it runs: `None` once released (or not there).
pub async fn running_expiry<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<Option<Millis>>> {
    sqlx::query_scalar("SELECT expires_at FROM instances WHERE id = $1 AND status = $2")
        .bind(id)
        .bind(InstanceStatus::Running.as_str())
        .fetch_optional(db)
        .await
}

/// Binds `$1` to `$6` of an insert of an instance: its id, account, product, region, billing
/// and kind.
fn bind_new<'q>(
    insert: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    new: &NewInstance<'q>,
    billing: Billing,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    insert
        .bind(new.id)
        .bind(new.account_id)
        .bind(new.product)
        .bind(new.region)
        .bind(billing.as_str())
        .bind(new.kind.as_str())
}

/// A pay-as-you-go instance, running and billed from its start.
pub async fn insert_payg<'e>(
    db: impl Executor<'e, Database = Any>,
    new: &NewInstance<'_>,
) -> sqlx::Result<()> {
    let insert = sqlx::query(
        "INSERT INTO instances (id, account_id, product, region, billing, resource_kind, activated, auto_renew, started_at, billed_until, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, 0, $7, $8, $9)",
    );
    bind_new(insert, new, Billing::Payg)
        .bind(new.started_at)
        .bind(new.started_at)
        .bind(new.started_at)
        .execute(db)
        .await?;
    Ok(())
}

/// A subscription running until `expires_at`.
pub async fn insert_subscription<'e>(
    db: impl Executor<'e, Database = Any>,
    new: &NewInstance<'_>,
    activated: bool,
    auto_renew: bool,
    expires_at: Millis,
) -> sqlx::Result<()> {
    let insert = sqlx::query(
        "INSERT INTO instances (id, account_id, product, region, billing, resource_kind, activated, auto_renew, started_at, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    );
    bind_new(insert, new, Billing::Subscription)
        .bind(i64::from(activated))
        .bind(i64::from(auto_renew))
        .bind(new.started_at)
        .bind(expires_at)
        .bind(new.started_at)
        .execute(db)
        .await?;
    Ok(())
}

/// A subscription bought in the past (demo data): `used` when usage has drawn on it, and no
/// auto-renewal.
pub async fn insert_past_subscription<'e>(
    db: impl Executor<'e, Database = Any>,
    new: &NewInstance<'_>,
    activated: bool,
    used: bool,
    expires_at: Millis,
) -> sqlx::Result<()> {
    let insert = sqlx::query(
        "INSERT INTO instances (id, account_id, product, region, billing, resource_kind, activated, used, auto_renew, started_at, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11)",
    );
    bind_new(insert, new, Billing::Subscription)
        .bind(i64::from(activated))
        .bind(i64::from(used))
        .bind(new.started_at)
        .bind(expires_at)
        .bind(new.started_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Moves the instance's expiry (a renewal added or cancelled).
pub async fn set_expiry<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    expires_at: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE instances SET expires_at = $1 WHERE id = $2")
        .bind(expires_at)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Activates the account's running resource plan `id`; false when there is none.
pub async fn activate_plan<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE instances SET activated = 1 WHERE id = $1 AND account_id = $2 AND resource_kind = $3 AND status = $4",
    )
    .bind(id)
    .bind(account_id)
    .bind(ResourceKind::ResourcePlan.as_str())
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Turns the auto-renewal of the account's running subscription `id` on or off; false when
/// there is none.
pub async fn set_auto_renew<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    enabled: bool,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE instances SET auto_renew = $1 WHERE id = $2 AND account_id = $3 AND billing = $4 AND status = $5",
    )
    .bind(i64::from(enabled))
    .bind(id)
    .bind(account_id)
    .bind(Billing::Subscription.as_str())
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Moves a pay-as-you-go instance's billed hours from `from` to `until`, unless another run
/// moved them first; false then.
pub async fn claim_billed_hours<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    from: Millis,
    until: Millis,
) -> sqlx::Result<bool> {
    let claimed = sqlx::query(
        "UPDATE instances SET billed_until = $1 WHERE id = $2 AND COALESCE(billed_until, $3) = $4",
    )
    .bind(until)
    .bind(id)
    .bind(from)
    .bind(from)
    .execute(db)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Marks a resource plan as drawn on by pay-as-you-go usage.
pub async fn mark_used<'e>(db: impl Executor<'e, Database = Any>, id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE instances SET used = 1 WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Releases the account's running instance `id`; false when there is none.
pub async fn release_running<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let released = sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2 WHERE id = $3 AND account_id = $4 AND status = $5",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(id)
    .bind(account_id)
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(released.rows_affected() > 0)
}

/// Releases the account's running pay-as-you-go instance `id`; false when there is none.
pub async fn release_payg<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let released = sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2 WHERE id = $3 AND account_id = $4 AND billing = $5 AND status = $6",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(id)
    .bind(account_id)
    .bind(Billing::Payg.as_str())
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(released.rows_affected() > 0)
}

/// Releases the running instance `id` if it has expired by `now`; false when it has not (or
/// is released already).
pub async fn release_expired<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let released = sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2 WHERE id = $3 AND status = $4 AND expires_at <= $5",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(id)
    .bind(InstanceStatus::Running.as_str())
    .bind(now)
    .execute(db)
    .await?;
    Ok(released.rows_affected() == 1)
}

/// Releases the account's running instance `id` of `product` (a domain name transferred
/// out), with its auto-renewal off; false when there is none.
pub async fn release_product<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    product: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let released = sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2, auto_renew = 0 WHERE id = $3 AND account_id = $4 AND product = $5 AND status = $6",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(id)
    .bind(account_id)
    .bind(product)
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(released.rows_affected() > 0)
}

/// Releases the instance `id` for good on unsubscription: it expires now, without renewal.
pub async fn release_unsubscribed<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2, expires_at = $3, auto_renew = 0 WHERE id = $4",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// The Unsubscribe page's resources: the account's running subscriptions the filter matches.
/// The dynamic statements below spell their statuses and kinds from the enums into the text
/// rather than binding them: the filter numbers the placeholders, and the values are the
/// enums' stored names, never user input.
fn listed_conditions(filter: &Filter<'_>) -> (String, usize) {
    let (conditions, next) = filter.sql(&RESOURCE_COLUMNS);
    let conditions = format!(
        "{conditions} AND status = '{}' AND billing = '{}'",
        InstanceStatus::Running.as_str(),
        Billing::Subscription.as_str()
    );
    (conditions, next)
}

/// The listed resources counted by product, kind, activation and use: the tab's groups.
pub async fn listed_groups<'e>(
    db: impl Executor<'e, Database = Any>,
    filter: &Filter<'_>,
) -> sqlx::Result<Vec<(String, Stored<ResourceKind>, Flag, Flag, i64)>> {
    let (conditions, _) = listed_conditions(filter);
    filter
        .bind(sqlx::query_as(&format!(
            "SELECT product, resource_kind, activated, used, COUNT(*) FROM instances WHERE {conditions}
             GROUP BY product, resource_kind, activated, used"
        )))
        .fetch_all(db)
        .await
}

/// An instance of a listed page beside one of its paid orders still in force (running or
/// pending), or beside none: the page and its orders come in one statement.
#[derive(sqlx::FromRow)]
pub struct ListedInstance {
    #[sqlx(flatten)]
    pub instance: Instance,
    pub order_id: Option<String>,
    pub starts_at: Option<Millis>,
    pub ends_at: Option<Millis>,
    pub cash_minor: Option<i64>,
    pub credit_minor: Option<i64>,
    pub currency: Option<Stored<Currency>>,
    pub paid_with: Option<Stored<PaidWith>>,
    pub payment_method_id: Option<String>,
    pub paid_at: Option<Millis>,
    pub drawn_milli: Option<i64>,
    /// The order's payment method, if it is still bound to the account.
    pub method_label: Option<String>,
}

/// One page of the listed resources that also match `q`'s type, refund-type and activation
/// filters, in its order, each beside its paid orders.
pub async fn listed_page<'e>(
    db: impl Executor<'e, Database = Any>,
    filter: &Filter<'_>,
    q: &UnsubscribeQuery,
    page: Page,
) -> sqlx::Result<Vec<ListedInstance>> {
    let (conditions, next) = listed_conditions(filter);
    let page_conditions = format!("{conditions}{}", facet_sql(q));
    let inner_order = resource_order(q, "instances.");
    let outer_order = resource_order(q, "p.");
    let paid = OrderStatus::Paid.as_str();
    filter
        .bind(sqlx::query_as(&format!(
            "SELECT p.*, o.id AS order_id, o.starts_at, o.ends_at, o.cash_minor, o.credit_minor, o.currency,
                    o.paid_with, o.payment_method_id, o.paid_at, o.drawn_milli, m.label AS method_label
             FROM (SELECT {COLUMNS} FROM instances WHERE {page_conditions}
                   ORDER BY {inner_order} LIMIT ${next} OFFSET ${}) p
             LEFT JOIN orders o ON o.instance_id = p.id AND o.status = '{paid}'
             LEFT JOIN payment_methods m ON m.id = o.payment_method_id AND m.account_id = o.account_id
             ORDER BY {outer_order}, o.starts_at, o.id",
            next + 1,
        )))
        .bind(page.size)
        .bind(page.offset)
        .fetch_all(db)
        .await
}

/// The resource tab's type, refund-type and activation filters as SQL over `instances`. A
/// refund type is the rule of [`refund_type`](shared::refund::refund_type) spelled in SQL: it depends on the product's
/// refundability, which lives in the catalog, so the catalog's nonrefundable products are
/// written in as literals (catalog codes, never user input).
fn facet_sql(q: &UnsubscribeQuery) -> String {
    let plan = ResourceKind::ResourcePlan.as_str();
    let mut sql = String::new();
    if let Some(kind) = q.kind {
        sql.push_str(&match kind {
            ResourceKind::ResourcePlan => format!(" AND resource_kind = '{plan}'"),
            ResourceKind::RegularCloudResource => format!(" AND resource_kind <> '{plan}'"),
        });
    }
    if let Some(activated) = q.activated {
        sql.push_str(if activated {
            " AND activated = 1"
        } else {
            " AND activated = 0"
        });
    }
    if let Some(refund_type) = q.refund_type {
        let nonrefundable: Vec<String> = shared::catalog::PRODUCTS
            .iter()
            .filter(|p| !p.refundable)
            .map(|p| format!("'{}'", p.code))
            .collect();
        let in_nonrefundable = if nonrefundable.is_empty() {
            "1 = 0".to_owned()
        } else {
            format!("product IN ({})", nonrefundable.join(", "))
        };
        // Regular resources, and plans that usage has drawn on: refunded by their product's rule.
        let by_product = format!("(resource_kind <> '{plan}' OR (activated = 1 AND used = 1))");
        sql.push_str(&match refund_type {
            RefundType::UnactivatedSubscriptionRefund => {
                format!(" AND resource_kind = '{plan}' AND activated = 0")
            }
            RefundType::FullRefundForUnusedResources => {
                format!(" AND resource_kind = '{plan}' AND activated = 1 AND used = 0")
            }
            RefundType::PartialRefund => format!(" AND {by_product} AND NOT ({in_nonrefundable})"),
            RefundType::Nonrefundable => format!(" AND {by_product} AND {in_nonrefundable}"),
        });
    }
    sql
}

/// The resource tab's `ORDER BY` for the column and direction asked for, over the instance
/// columns of `t` (a table name or alias with its dot), with the instance ID as the last key
/// so that pages never overlap. Built from the enums alone, and the catalog's codes and names
/// (never user input).
fn resource_order(q: &UnsubscribeQuery, t: &str) -> String {
    let (sort, direction) = q.resource_order();
    let dir = match direction {
        SortDirection::Asc => "ASC",
        SortDirection::Desc => "DESC",
    };
    let key = match sort {
        ResourceSort::Instance => return format!("{t}id {dir}"),
        // By the name the page shows, which the catalog holds: its codes ranked by name.
        ResourceSort::Product => {
            let mut products: Vec<&Product> = shared::catalog::PRODUCTS.iter().collect();
            products.sort_by_key(|p| p.name);
            let ranks: String = products
                .iter()
                .enumerate()
                .map(|(rank, p)| format!(" WHEN '{}' THEN {rank}", p.code))
                .collect();
            format!("CASE {t}product{ranks} ELSE {} END", products.len())
        }
        ResourceSort::OrderTime => format!("{t}created_at"),
        // A subscription always has an expiry; COALESCE keeps NULLs in one place on SQLite and
        // PostgreSQL alike (they put them at opposite ends).
        ResourceSort::Expires => format!("COALESCE({t}expires_at, 0)"),
        // The cash the page shows as paid: the instance's paid orders.
        ResourceSort::Paid => format!(
            "(SELECT COALESCE(SUM(po.cash_minor), 0) FROM orders po WHERE po.instance_id = {t}id AND po.status = '{}')",
            OrderStatus::Paid.as_str()
        ),
    };
    format!("{key} {dir}, {t}id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refund_type_filter_names_only_catalog_codes() {
        // The codes are written into the SQL as literals: they must never need quoting.
        assert!(shared::catalog::PRODUCTS.iter().all(|p| {
            p.code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        }));
        let q = UnsubscribeQuery {
            refund_type: Some(RefundType::Nonrefundable),
            ..Default::default()
        };
        assert!(
            facet_sql(&q).contains("product IN ('domain'"),
            "{}",
            facet_sql(&q)
        );
    }
}
