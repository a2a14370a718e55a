//! The Unsubscribe Resource page's three tabs (seed 002): the resources that can be
//! unsubscribed, with their groups and the refund each would get now; the pending renewals;
//! and the unsubscription records. Every tab is counted and paged in SQL: only the page's rows
//! are read.

use super::record::records;
use super::{OrderRow, destination, place};
use crate::clock::{DurationMs, Millis, rfc3339};
use crate::db::{Flag, Stored};
use crate::tables::instances::{self, Instance};
use crate::error::ApiError;
use crate::state::AppState;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use shared::api::{
    GroupCount, OrderRefund, PendingRenewal, QuotaDrawn, RefundPlace, ResourceSort, SortDirection,
    UnsubscribableResource, UnsubscribeList, UnsubscribeQuery, UnsubscribeTab,
};
use shared::catalog::Product;
use shared::money::{Currency, Money};
use shared::refund::{PaidWith, RefundType, ResourceKind, refund_breakdown, refund_type};
use std::collections::BTreeMap;

/// A pending renewal on the renewals tab, with its payment method while still bound.
#[derive(sqlx::FromRow)]
struct RenewalRow {
    id: String,
    instance_id: String,
    product: String,
    starts_at: Millis,
    ends_at: Millis,
    cash_minor: i64,
    currency: Stored<Currency>,
    paid_with: Stored<PaidWith>,
    paid_at: Millis,
    method_label: Option<String>,
}

/// `YYYY-MM-DD` (start of that day, UTC) or RFC 3339.
fn parse_time(raw: &str, end_of_day: bool) -> Result<Millis, ApiError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(Millis(t.timestamp_millis()));
    }
    let bad = || {
        shared::Invalid::new(shared::ErrorCode::BadRequest, "Use a date like 2026-11-23.")
            .at(if end_of_day { "order_to" } else { "order_from" })
    };
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| bad())?;
    let day = Millis(
        Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))
            .timestamp_millis(),
    );
    Ok(if end_of_day {
        day + DurationMs::days(1)
    } else {
        day
    })
}

/// An instance of a listed page beside one of its paid orders still in force (running or
/// pending), or beside none: the page and its orders come in one statement.
#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    instance: Instance,
    order_id: Option<String>,
    starts_at: Option<Millis>,
    ends_at: Option<Millis>,
    cash_minor: Option<i64>,
    credit_minor: Option<i64>,
    currency: Option<Stored<Currency>>,
    paid_with: Option<Stored<PaidWith>>,
    payment_method_id: Option<String>,
    paid_at: Option<Millis>,
    drawn_milli: Option<i64>,
    /// The order's payment method, if it is still bound to the account.
    method_label: Option<String>,
}

impl PageRow {
    fn order(&self) -> Option<OrderRow> {
        Some(OrderRow {
            id: self.order_id.clone()?,
            starts_at: self.starts_at?,
            ends_at: self.ends_at?,
            cash_minor: self.cash_minor?,
            credit_minor: self.credit_minor?,
            currency: self.currency?,
            paid_with: self.paid_with?,
            payment_method_id: self.payment_method_id.clone(),
            paid_at: self.paid_at?,
            drawn_milli: self.drawn_milli?,
        })
    }
}

/// A tab's filter as SQL holding only the conditions asked for. A form such as
/// `($2 IS NULL OR product = $2)` keeps one statement for every query, but the database then
/// cannot look the product up in `instances_listing` (SQLite) nor in a generic plan
/// (PostgreSQL): it counted every running instance of the account for each page.
struct Filter<'a> {
    account_id: &'a str,
    product: Option<&'a str>,
    instance_like: Option<&'a str>,
    from: Option<Millis>,
    to: Option<Millis>,
}

/// What a tab calls the columns its filter reads.
struct Columns {
    account: &'static str,
    product: &'static str,
    instance: &'static str,
    /// The order time the From and To dates bound.
    time: &'static str,
}

const RESOURCE_COLUMNS: Columns = Columns {
    account: "account_id",
    product: "product",
    instance: "id",
    time: "created_at",
};

const RENEWAL_COLUMNS: Columns = Columns {
    account: "o.account_id",
    product: "i.product",
    instance: "i.id",
    time: "o.created_at",
};

const RECORD_COLUMNS: Columns = Columns {
    account: "account_id",
    product: "product",
    instance: "instance_id",
    time: "created_at",
};

impl<'a> Filter<'a> {
    /// The `WHERE` conditions over `columns`, and the number of the next free placeholder.
    fn sql(&self, columns: &Columns) -> (String, usize) {
        let mut sql = format!("{} = $1", columns.account);
        let mut next = 2;
        for (asked, column, op) in [
            (self.product.is_some(), columns.product, "="),
            (self.instance_like.is_some(), columns.instance, "LIKE"),
            (self.from.is_some(), columns.time, ">="),
            (self.to.is_some(), columns.time, "<"),
        ] {
            if asked {
                sql.push_str(&format!(" AND {column} {op} ${next}"));
                next += 1;
            }
        }
        (sql, next)
    }

    /// Binds the values of [`Filter::sql`]'s placeholders, in its order.
    fn bind<'q, O>(
        &self,
        query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>
    where
        'a: 'q,
    {
        let mut query = query.bind(self.account_id);
        if let Some(product) = self.product {
            query = query.bind(product);
        }
        if let Some(like) = self.instance_like {
            query = query.bind(like);
        }
        if let Some(from) = self.from {
            query = query.bind(from);
        }
        if let Some(to) = self.to {
            query = query.bind(to);
        }
        query
    }
}

/// A page: how many rows it holds and how many come before it.
#[derive(Clone, Copy)]
struct Page {
    size: i64,
    offset: i64,
}

/// The resource tab's type, refund-type and activation filters as SQL over `instances`. A
/// refund type is the rule of [`refund_type`] spelled in SQL: it depends on the product's
/// refundability, which lives in the catalog, so the catalog's nonrefundable products are
/// written in as literals (catalog codes, never user input).
fn facet_sql(q: &UnsubscribeQuery) -> String {
    let mut sql = String::new();
    if let Some(kind) = q.kind {
        sql.push_str(match kind {
            ResourceKind::ResourcePlan => " AND resource_kind = 'resource_plan'",
            ResourceKind::RegularCloudResource => " AND resource_kind <> 'resource_plan'",
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
        let by_product = "(resource_kind <> 'resource_plan' OR (activated = 1 AND used = 1))";
        sql.push_str(&match refund_type {
            RefundType::UnactivatedSubscriptionRefund => {
                " AND resource_kind = 'resource_plan' AND activated = 0".to_owned()
            }
            RefundType::FullRefundForUnusedResources => {
                " AND resource_kind = 'resource_plan' AND activated = 1 AND used = 0".to_owned()
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
            "(SELECT COALESCE(SUM(po.cash_minor), 0) FROM orders po WHERE po.instance_id = {t}id AND po.status = 'paid')"
        ),
    };
    format!("{key} {dir}, {t}id")
}

/// One page of the tab `q` asks for, with its filters.
pub async fn list(
    state: &AppState,
    account_id: &str,
    q: &UnsubscribeQuery,
) -> Result<UnsubscribeList, ApiError> {
    q.check()?;
    let page = shared::api::page_number(q.page);
    let page_size = q.page_size.unwrap_or(20).max(1);
    let from = q
        .order_from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| parse_time(s, false))
        .transpose()?;
    let to = q
        .order_to
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| parse_time(s, true))
        .transpose()?;
    // `UnsubscribeQuery::check`'s rule, for times as well as dates: `to` is the end of its day
    // for a date, so a one-day range is `to > from`.
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(shared::api::order_time_reversed().into());
    }
    let instance_like = q
        .instance_id
        .as_deref()
        .filter(|s| !s.is_empty())
        // Instance ids are lower case: lowering the search makes it case-blind on SQLite and
        // PostgreSQL alike (their LIKE differ on case).
        .map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
    let filter = Filter {
        account_id,
        product: q.product.as_deref().filter(|s| !s.is_empty()),
        instance_like: instance_like.as_deref(),
        from,
        to,
    };
    let mut list = UnsubscribeList {
        tab: q.tab,
        resources: vec![],
        renewals: vec![],
        records: vec![],
        groups: vec![],
        total: 0,
        page,
        page_size,
    };
    // In u64: a far page times the page size does not fit a u32; past i64 there is no row.
    let offset = i64::try_from(u64::from(page - 1) * u64::from(page_size)).unwrap_or(i64::MAX);
    let page = Page {
        size: i64::from(page_size),
        offset,
    };
    let now = state.clock.now();
    match q.tab {
        UnsubscribeTab::Resource => {
            (list.groups, list.total, list.resources) =
                resources(state, &filter, q, page, now).await?;
        }
        UnsubscribeTab::Renewal => {
            (list.total, list.renewals) = renewals(state, &filter, page, now).await?;
        }
        UnsubscribeTab::Records => {
            (list.total, list.records) = records_tab(state, &filter, page).await?;
        }
    }
    Ok(list)
}

/// The resource tab: the groups with their counts, how many resources match, and the page.
async fn resources(
    state: &AppState,
    filter: &Filter<'_>,
    q: &UnsubscribeQuery,
    page: Page,
    now: Millis,
) -> Result<(Vec<GroupCount>, u32, Vec<UnsubscribableResource>), ApiError> {
    let (conditions, next) = filter.sql(&RESOURCE_COLUMNS);
    let conditions = format!("{conditions} AND status = 'running' AND billing = 'subscription'");
    // One connection for both statements: each trip through the pool costs a ping on release
    // and, under load, another wait in its queue.
    let mut conn = state.db.acquire().await?;
    let counts: Vec<(String, Stored<ResourceKind>, Flag, Flag, i64)> = filter
        .bind(sqlx::query_as(&format!(
            "SELECT product, resource_kind, activated, used, COUNT(*) FROM instances WHERE {conditions}
             GROUP BY product, resource_kind, activated, used"
        )))
        .fetch_all(&mut *conn)
        .await?;
    let mut groups: BTreeMap<(String, String, bool), (ResourceKind, RefundType, u32)> =
        BTreeMap::new();
    for (product, Stored(kind), Flag(activated), Flag(used), count) in counts {
        let refundable = Product::find(&product).is_none_or(|p| p.refundable);
        let refund_type = refund_type(kind, refundable, activated, used);
        let key = (format!("{kind:?}"), format!("{refund_type:?}"), activated);
        groups.entry(key).or_insert((kind, refund_type, 0)).2 += count as u32;
    }
    let groups: Vec<GroupCount> = groups
        .into_iter()
        .map(
            |((_, _, activated), (resource_kind, refund_type, count))| GroupCount {
                resource_kind,
                refund_type,
                activated,
                count,
            },
        )
        .collect();
    let total = groups
        .iter()
        .filter(|g| g.matches(q))
        .map(|g| g.count)
        .sum();
    let page_conditions = format!("{conditions}{}", facet_sql(q));
    let inner_order = resource_order(q, "instances.");
    let outer_order = resource_order(q, "p.");
    let rows: Vec<PageRow> = filter
        .bind(sqlx::query_as(&format!(
            "SELECT p.*, o.id AS order_id, o.starts_at, o.ends_at, o.cash_minor, o.credit_minor, o.currency,
                    o.paid_with, o.payment_method_id, o.paid_at, o.drawn_milli, m.label AS method_label
             FROM (SELECT {columns} FROM instances WHERE {page_conditions}
                   ORDER BY {inner_order} LIMIT ${next} OFFSET ${}) p
             LEFT JOIN orders o ON o.instance_id = p.id AND o.status = 'paid'
             LEFT JOIN payment_methods m ON m.id = o.payment_method_id AND m.account_id = o.account_id
             ORDER BY {outer_order}, o.starts_at, o.id",
            next + 1,
            columns = instances::COLUMNS,
        )))
        .bind(page.size)
        .bind(page.offset)
        .fetch_all(&mut *conn)
        .await?;
    drop(conn);
    let mut resources = Vec::new();
    for same_instance in rows.chunk_by(|a, b| a.instance.id == b.instance.id) {
        let orders: Vec<(OrderRow, Option<&str>)> = same_instance
            .iter()
            .filter_map(|r| Some((r.order()?, r.method_label.as_deref())))
            .collect();
        resources.push(resource_view(&same_instance[0].instance, &orders, now)?);
    }
    Ok((groups, total, resources))
}

/// The renewals tab: paid renewals of running instances that have not begun.
async fn renewals(
    state: &AppState,
    filter: &Filter<'_>,
    page: Page,
    now: Millis,
) -> Result<(u32, Vec<PendingRenewal>), ApiError> {
    let (conditions, next) = filter.sql(&RENEWAL_COLUMNS);
    let from = format!(
        "FROM orders o JOIN instances i ON i.id = o.instance_id
         LEFT JOIN payment_methods m ON m.id = o.payment_method_id AND m.account_id = o.account_id
         WHERE {conditions} AND o.status = 'paid' AND o.starts_at > ${next} AND i.status = 'running'"
    );
    let mut conn = state.db.acquire().await?;
    let total: i64 = filter
        .bind(sqlx::query_as(&format!("SELECT COUNT(*) {from}")))
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map(|(n,): (i64,)| n)?;
    let rows: Vec<RenewalRow> = filter
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
        .fetch_all(&mut *conn)
        .await?;
    let renewals = rows
        .into_iter()
        .map(|r| {
            // A renewal that has not started is refunded in full, the way it was paid.
            let refund_to = RefundPlace::each_once((r.cash_minor > 0).then(|| {
                let to = destination(r.paid_with.0, r.paid_at, r.method_label.is_some(), now);
                place(to, r.method_label.as_deref())
            }));
            PendingRenewal {
                order_id: r.id,
                instance_id: r.instance_id,
                product_name: Product::find(&r.product)
                    .map_or(r.product.clone(), |p| p.name.to_owned()),
                starts_at: rfc3339(r.starts_at),
                ends_at: rfc3339(r.ends_at),
                refund: Money::from_minor(r.cash_minor, r.currency.0),
                refund_to,
                updated_expiration: rfc3339(r.starts_at),
            }
        })
        .collect();
    Ok((u32::try_from(total).unwrap_or(u32::MAX), renewals))
}

/// The records tab: the unsubscriptions, newest first.
async fn records_tab(
    state: &AppState,
    filter: &Filter<'_>,
    page: Page,
) -> Result<(u32, Vec<shared::api::UnsubscribeRecord>), ApiError> {
    let (conditions, next) = filter.sql(&RECORD_COLUMNS);
    let mut conn = state.db.acquire().await?;
    let (total,): (i64,) = filter
        .bind(sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM unsubscriptions WHERE {conditions}"
        )))
        .fetch_one(&mut *conn)
        .await?;
    let ids: Vec<(String,)> = filter
        .bind(sqlx::query_as(&format!(
            "SELECT id FROM unsubscriptions WHERE {conditions}
             ORDER BY created_at DESC, id LIMIT ${next} OFFSET ${}",
            next + 1
        )))
        .bind(page.size)
        .bind(page.offset)
        .fetch_all(&mut *conn)
        .await?;
    let ids: Vec<&str> = ids.iter().map(|(id,)| id.as_str()).collect();
    let records = records(&mut conn, filter.account_id, &ids).await?;
    Ok((u32::try_from(total).unwrap_or(u32::MAX), records))
}

/// One resource as the list and the review show it; `orders` are its paid orders, each with
/// its payment method's label while that method is still bound.
fn resource_view(
    row: &Instance,
    orders: &[(OrderRow, Option<&str>)],
    now: Millis,
) -> Result<UnsubscribableResource, ApiError> {
    let refund_type = row.refund_type();
    let quota_milli = row.quota_milli();
    // A resource without a paid order shows zeros in the catalog's currency.
    let currency = orders.first().map_or(Currency::USD, |(o, _)| o.currency());
    let refunds: Vec<Money> = orders
        .iter()
        .map(|(order, _)| order.refund(refund_type, quota_milli, now))
        .collect();
    // The plan's period in force now: what its refund's drawn share is of.
    let quota = Product::find(&row.product)
        .and_then(|p| p.quota)
        .filter(|_| quota_milli > 0)
        .map(|q| {
            let in_force = orders
                .iter()
                .find(|(o, _)| o.starts_at <= now && now < o.ends_at);
            QuotaDrawn::from_milli(in_force.map_or(0, |(o, _)| o.drawn_milli), &q)
        });
    let total = |amounts: Vec<Money>| {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    };
    let paid = |minor: fn(&OrderRow) -> i64| {
        total(
            orders
                .iter()
                .map(|(o, _)| Money::from_minor(minor(o), o.currency()))
                .collect(),
        )
    };
    let refund_to = RefundPlace::each_once(
        orders
            .iter()
            .zip(&refunds)
            .filter(|(_, refund)| !refund.amount.is_zero())
            .map(|((order, label), _)| {
                place(order.refund_destination(label.is_some(), now), *label)
            }),
    );
    Ok(UnsubscribableResource {
        instance_id: row.id.clone(),
        product: row.product.clone(),
        product_name: row.product_name(),
        region: row.region.clone(),
        resource_kind: row.kind(),
        refund_type,
        activated: row.activated,
        order_time: rfc3339(row.created_at),
        expires_at: rfc3339(row.expires_at.unwrap_or(now)),
        cash_paid: paid(|o| o.cash_minor)?,
        non_cash_paid: paid(|o| o.credit_minor)?,
        refund: total(refunds)?,
        refund_to,
        pending_renewals: orders.iter().filter(|(o, _)| o.starts_at > now).count() as u32,
        quota,
        breakdown: orders
            .iter()
            .map(|(order, label)| order_refund(order, *label, refund_type, quota_milli, now))
            .collect(),
    })
}

/// One order's part of a resource's refund, by the same formula that pays it.
fn order_refund(
    order: &OrderRow,
    label: Option<&str>,
    refund_type: RefundType,
    quota_milli: i64,
    now: Millis,
) -> OrderRefund {
    let b = refund_breakdown(&order.period(quota_milli), refund_type, now);
    let destination = order.refund_destination(label.is_some(), now);
    OrderRefund {
        order_id: order.id.clone(),
        starts_at: rfc3339(order.starts_at),
        ends_at: rfc3339(order.ends_at),
        cash_paid: b.cash,
        non_cash_paid: Money::from_minor(order.credit_minor, order.currency()),
        used_by: b.used_by,
        used_share: b.used_share.round_dp(4).normalize(),
        consumed: b.consumed,
        refund: b.refund,
        paid_with: order.paid_with.0.as_str().to_owned(),
        paid_days_ago: u32::try_from(
            (now - order.paid_at).max(DurationMs::ZERO) / DurationMs::days(1),
        )
        .unwrap_or(u32::MAX),
        destination,
        method_removed: order.payment_method_id.is_some() && label.is_none(),
        method_label: place(destination, label).method_label,
    }
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

    #[test]
    fn the_filter_numbers_only_the_conditions_asked_for() {
        let mut filter = Filter {
            account_id: "acc",
            product: None,
            instance_like: None,
            from: None,
            to: None,
        };
        let base = "account_id = $1";
        assert_eq!(filter.sql(&RESOURCE_COLUMNS), (base.to_owned(), 2));
        filter.product = Some("rds");
        filter.to = Some(Millis(5));
        assert_eq!(
            filter.sql(&RESOURCE_COLUMNS),
            (format!("{base} AND product = $2 AND created_at < $3"), 4)
        );
        filter.instance_like = Some("%i-1%");
        filter.from = Some(Millis(1));
        assert_eq!(
            filter.sql(&RESOURCE_COLUMNS),
            (
                format!(
                    "{base} AND product = $2 AND id LIKE $3 AND created_at >= $4 AND created_at < $5"
                ),
                6
            )
        );
        // Each tab names its own columns.
        assert_eq!(
            filter.sql(&RENEWAL_COLUMNS).0,
            "o.account_id = $1 AND i.product = $2 AND i.id LIKE $3 AND o.created_at >= $4 AND o.created_at < $5"
        );
    }
}
