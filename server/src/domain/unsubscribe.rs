//! Unsubscribing prepaid resources (SPEC §5, seed 002): the three tabs, the refund of each
//! order by the formula in `shared::refund`, where each refund goes, and the release of the
//! resource, all in one transaction. An order's refund row is unique, so no race, retry or
//! double click refunds twice.

use crate::clock::rfc3339;
use crate::db::{self, Flag, Stored, Tx};
use crate::domain::account::{self, Writer};
use crate::domain::expiry::Expire;
use crate::domain::refund::{self as refund_job, SettleRefund};
use crate::error::ApiError;
use crate::notify::{self, Medium, Outgoing};
use crate::oplog::{self, Action};
use crate::queue;
use crate::state::AppState;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use shared::api::{
    GroupCount, OrderRefund, PendingRenewal, QuotaDrawn, UnsubscribableResource, UnsubscribeForm,
    UnsubscribeList, UnsubscribeQuery, UnsubscribeRecord, UnsubscribeRenewalForm, UnsubscribeTab,
    Unsubscribed,
};
use shared::catalog::Product;
use shared::money::{Currency, Money};
use shared::refund::{
    Drawn, PaidPeriod, REFUND_RULE, RefundDestination, RefundType, ResourceKind, refund,
    refund_breakdown, refund_destination, refund_type,
};
use std::collections::BTreeMap;

#[derive(sqlx::FromRow, Clone)]
struct InstanceRow {
    id: String,
    product: String,
    region: String,
    billing: String,
    resource_kind: String,
    #[sqlx(try_from = "crate::db::Flag")]
    activated: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    used: bool,
    status: String,
    created_at: i64,
    expires_at: Option<i64>,
}

fn kind_of(resource_kind: &str) -> ResourceKind {
    if resource_kind == "resource_plan" {
        ResourceKind::ResourcePlan
    } else {
        ResourceKind::RegularCloudResource
    }
}

impl InstanceRow {
    fn kind(&self) -> ResourceKind {
        kind_of(&self.resource_kind)
    }

    /// An instance of a product no longer sold keeps its refund rule: partly refundable.
    fn refundable(&self) -> bool {
        Product::find(&self.product).is_none_or(|p| p.refundable)
    }

    fn product_name(&self) -> String {
        Product::find(&self.product).map_or_else(|| self.product.clone(), |p| p.name.to_owned())
    }

    fn refund_type(&self) -> RefundType {
        refund_type(self.kind(), self.refundable(), self.activated, self.used)
    }

    /// The quota each paid period of a resource plan holds (thousandths of its unit); 0 for
    /// regular resources.
    fn quota_milli(&self) -> i64 {
        match self.kind() {
            ResourceKind::ResourcePlan => {
                Product::find(&self.product).map_or(0, Product::quota_milli)
            }
            ResourceKind::RegularCloudResource => 0,
        }
    }
}

#[derive(sqlx::FromRow, Clone)]
struct OrderRow {
    id: String,
    starts_at: i64,
    ends_at: i64,
    cash_minor: i64,
    credit_minor: i64,
    currency: Stored<Currency>,
    paid_with: String,
    payment_method_id: Option<String>,
    paid_at: i64,
    /// What pay-as-you-go usage drew of a plan's quota in this period (thousandths of its unit).
    drawn_milli: i64,
}

impl OrderRow {
    fn currency(&self) -> Currency {
        self.currency.0
    }

    /// The one refund the list, the review and the unsubscription all pay; `quota_milli` is
    /// the plan's quota per period ([`InstanceRow::quota_milli`]).
    fn refund(&self, refund_type: RefundType, quota_milli: i64, now: i64) -> Money {
        refund(&self.period(quota_milli), refund_type, now)
    }

    fn period(&self, quota_milli: i64) -> PaidPeriod {
        PaidPeriod {
            cash: Money::from_minor(self.cash_minor, self.currency()),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            drawn: Drawn {
                amount: self.drawn_milli,
                quota: quota_milli,
            },
        }
    }

    fn refund_destination(&self, method_still_bound: bool, now: i64) -> RefundDestination {
        destination(&self.paid_with, self.paid_at, method_still_bound, now)
    }
}

/// Where an order's refund goes at `now`: back the way it was paid while the seed's window
/// lasts, unless that method was removed since (it cannot take the money back); otherwise the
/// account balance.
fn destination(
    paid_with: &str,
    paid_at: i64,
    method_still_bound: bool,
    now: i64,
) -> RefundDestination {
    if method_still_bound {
        refund_destination(paid_with, paid_at, now)
    } else {
        RefundDestination::Balance
    }
}

/// A pending renewal on the renewals tab, with its payment method while still bound.
#[derive(sqlx::FromRow)]
struct RenewalRow {
    id: String,
    instance_id: String,
    product: String,
    starts_at: i64,
    ends_at: i64,
    cash_minor: i64,
    currency: Stored<Currency>,
    paid_with: String,
    paid_at: i64,
    method_label: Option<String>,
}

/// A refund's destination as the review and the records name it; `label` is the payment
/// method's (e.g. "•••• 1111").
fn destination_name(destination: &str, label: Option<&str>) -> String {
    match (destination, label) {
        ("balance", _) => "Account balance".to_owned(),
        ("paypal", label) => label.unwrap_or("PayPal").to_owned(),
        ("paytm", label) => label.unwrap_or("Paytm").to_owned(),
        (_, Some(label)) => format!("Bank card {label}"),
        (_, None) => "Bank card".to_owned(),
    }
}

/// Where a set of refunds goes, each place named once in order: "No refund" when there is none.
fn refund_to(names: impl IntoIterator<Item = String>) -> String {
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    if unique.is_empty() {
        "No refund".to_owned()
    } else {
        unique.join("; ")
    }
}

const INSTANCE_COLUMNS: &str =
    "id, product, region, billing, resource_kind, activated, used, status, created_at, expires_at";
const ORDER_COLUMNS: &str = "id, starts_at, ends_at, cash_minor, credit_minor, currency, paid_with, payment_method_id, paid_at, drawn_milli";

/// `YYYY-MM-DD` (start of that day, UTC) or RFC 3339.
fn parse_time(raw: &str, end_of_day: bool) -> Result<i64, ApiError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.timestamp_millis());
    }
    let bad = || {
        shared::Invalid::new(shared::ErrorCode::BadRequest, "Use a date like 2026-11-23.")
            .at(if end_of_day { "order_to" } else { "order_from" })
    };
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| bad())?;
    let day = Utc
        .from_utc_datetime(&date.and_time(NaiveTime::MIN))
        .timestamp_millis();
    Ok(if end_of_day { day + 86_400_000 } else { day })
}

/// An instance of a listed page beside one of its paid orders still in force (running or
/// pending), or beside none: the page and its orders come in one statement.
#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    instance: InstanceRow,
    order_id: Option<String>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    cash_minor: Option<i64>,
    credit_minor: Option<i64>,
    currency: Option<Stored<Currency>>,
    paid_with: Option<String>,
    payment_method_id: Option<String>,
    paid_at: Option<i64>,
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
            paid_with: self.paid_with.clone()?,
            payment_method_id: self.payment_method_id.clone(),
            paid_at: self.paid_at?,
            drawn_milli: self.drawn_milli?,
        })
    }
}

/// The resource tab's filter as SQL holding only the conditions asked for. A form such as
/// `($2 IS NULL OR product = $2)` keeps one statement for every query, but the database then
/// cannot look the product up in `instances_listing` (SQLite) nor in a generic plan
/// (PostgreSQL): it counted every running instance of the account for each page.
struct ResourceFilter<'a> {
    account_id: &'a str,
    product: Option<&'a str>,
    instance_like: Option<&'a str>,
    from: Option<i64>,
    to: Option<i64>,
}

impl<'a> ResourceFilter<'a> {
    /// The `WHERE` conditions, and the number of the next free placeholder.
    fn sql(&self) -> (String, usize) {
        let mut sql =
            String::from("account_id = $1 AND status = 'running' AND billing = 'subscription'");
        let mut next = 2;
        for (asked, condition) in [
            (self.product.is_some(), "product ="),
            (self.instance_like.is_some(), "id LIKE"),
            (self.from.is_some(), "created_at >="),
            (self.to.is_some(), "created_at <"),
        ] {
            if asked {
                sql.push_str(&format!(" AND {condition} ${next}"));
                next += 1;
            }
        }
        (sql, next)
    }

    /// Binds the values of [`ResourceFilter::sql`]'s placeholders, in its order.
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

pub async fn list(
    state: &AppState,
    account_id: &str,
    q: &UnsubscribeQuery,
) -> Result<UnsubscribeList, ApiError> {
    q.check()?;
    let page = q.page.unwrap_or(1).max(1);
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
    let product = q.product.as_deref().filter(|s| !s.is_empty());
    let instance_like = q
        .instance_id
        .as_deref()
        .filter(|s| !s.is_empty())
        // Instance ids are lower case: lowering the search makes it case-blind on SQLite and
        // PostgreSQL alike (their LIKE differ on case).
        .map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
    let now = state.clock.now_ms();
    let mut list = UnsubscribeList {
        tab: q.tab,
        resources: vec![],
        renewals: vec![],
        records: vec![],
        groups: vec![],
        total: 0,
        page,
        page_size,
        refund_rule: REFUND_RULE.to_owned(),
    };
    // In u64: a far page (the fuzzer asked for page 2^31) overflowed u32 and panicked.
    let offset = usize::try_from(u64::from(page - 1) * u64::from(page_size)).unwrap_or(usize::MAX);
    match q.tab {
        UnsubscribeTab::Resource => {
            // Counted and grouped in SQL, and only the page's rows read: an account with
            // thousands of instances sent every one of them through the driver for each page.
            let filter = ResourceFilter {
                account_id,
                product,
                instance_like: instance_like.as_deref(),
                from,
                to,
            };
            let (conditions, next) = filter.sql();
            // One connection for both statements: each trip through the pool costs a ping on
            // release and, under load, another wait in its queue.
            let mut conn = state.db.acquire().await?;
            let counts: Vec<(String, String, Flag, Flag, i64)> = filter
                .bind(sqlx::query_as(&format!(
                    "SELECT product, resource_kind, activated, used, COUNT(*) FROM instances WHERE {conditions}
                     GROUP BY product, resource_kind, activated, used"
                )))
                .fetch_all(&mut *conn)
                .await?;
            let mut groups: BTreeMap<(String, String, bool), (ResourceKind, RefundType, u32)> =
                BTreeMap::new();
            for (product, resource_kind, Flag(activated), Flag(used), count) in counts {
                let kind = kind_of(&resource_kind);
                let refundable = Product::find(&product).is_none_or(|p| p.refundable);
                let refund_type = refund_type(kind, refundable, activated, used);
                let key = (resource_kind, format!("{refund_type:?}"), activated);
                groups.entry(key).or_insert((kind, refund_type, 0)).2 += count as u32;
            }
            list.groups = groups
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
            list.total = list
                .groups
                .iter()
                .filter(|g| g.matches(q))
                .map(|g| g.count)
                .sum();
            let page_conditions = format!("{conditions}{}", facet_sql(q));
            let rows: Vec<PageRow> = filter
                .bind(sqlx::query_as(&format!(
                    "SELECT p.*, o.id AS order_id, o.starts_at, o.ends_at, o.cash_minor, o.credit_minor, o.currency,
                            o.paid_with, o.payment_method_id, o.paid_at, o.drawn_milli, m.label AS method_label
                     FROM (SELECT {INSTANCE_COLUMNS} FROM instances WHERE {page_conditions}
                           ORDER BY created_at DESC, id LIMIT ${next} OFFSET ${}) p
                     LEFT JOIN orders o ON o.instance_id = p.id AND o.status = 'paid'
                     LEFT JOIN payment_methods m ON m.id = o.payment_method_id AND m.account_id = o.account_id
                     ORDER BY p.created_at DESC, p.id, o.starts_at, o.id",
                    next + 1
                )))
                .bind(i64::from(page_size))
                .bind(offset as i64)
                .fetch_all(&mut *conn)
                .await?;
            drop(conn);
            for same_instance in rows.chunk_by(|a, b| a.instance.id == b.instance.id) {
                let orders: Vec<(OrderRow, Option<&str>)> = same_instance
                    .iter()
                    .filter_map(|r| Some((r.order()?, r.method_label.as_deref())))
                    .collect();
                list.resources
                    .push(resource_view(&same_instance[0].instance, &orders, now));
            }
        }
        UnsubscribeTab::Renewal => {
            let renewals: Vec<RenewalRow> = sqlx::query_as(
                "SELECT o.id, o.instance_id, i.product, o.starts_at, o.ends_at, o.cash_minor, o.currency,
                        o.paid_with, o.paid_at, m.label AS method_label
                 FROM orders o JOIN instances i ON i.id = o.instance_id
                 LEFT JOIN payment_methods m ON m.id = o.payment_method_id AND m.account_id = o.account_id
                 WHERE o.account_id = $1 AND o.status = 'paid' AND o.starts_at > $6 AND i.status = 'running'
                   AND ($2 IS NULL OR i.product = $2) AND ($3 IS NULL OR i.id LIKE $3)
                   AND ($4 IS NULL OR o.created_at >= $4) AND ($5 IS NULL OR o.created_at < $5)
                 ORDER BY o.instance_id, o.starts_at",
            )
            .bind(account_id)
            .bind(product)
            .bind(&instance_like)
            .bind(from)
            .bind(to)
            .bind(now)
            .fetch_all(&state.db)
            .await?;
            list.total = renewals.len() as u32;
            for r in renewals.into_iter().skip(offset).take(page_size as usize) {
                let currency = r.currency.0;
                // A renewal that has not started is refunded in full, the way it was paid.
                let refund_to = refund_to((r.cash_minor > 0).then(|| {
                    let to = destination(&r.paid_with, r.paid_at, r.method_label.is_some(), now);
                    destination_name(to.as_str(), r.method_label.as_deref())
                }));
                list.renewals.push(PendingRenewal {
                    order_id: r.id,
                    instance_id: r.instance_id,
                    product_name: Product::find(&r.product)
                        .map_or(r.product.clone(), |p| p.name.to_owned()),
                    starts_at: rfc3339(r.starts_at),
                    ends_at: rfc3339(r.ends_at),
                    refund: Money::from_minor(r.cash_minor, currency),
                    refund_to,
                    updated_expiration: rfc3339(r.starts_at),
                });
            }
        }
        UnsubscribeTab::Records => {
            let ids: Vec<(String,)> = sqlx::query_as(
                "SELECT u.id FROM unsubscriptions u
                 WHERE u.account_id = $1 AND ($2 IS NULL OR u.product = $2) AND ($3 IS NULL OR u.instance_id LIKE $3)
                   AND ($4 IS NULL OR u.created_at >= $4) AND ($5 IS NULL OR u.created_at < $5)
                 ORDER BY u.created_at DESC, u.id",
            )
            .bind(account_id)
            .bind(product)
            .bind(&instance_like)
            .bind(from)
            .bind(to)
            .fetch_all(&state.db)
            .await?;
            list.total = ids.len() as u32;
            for (id,) in ids.into_iter().skip(offset).take(page_size as usize) {
                list.records.push(record(&state.db, account_id, &id).await?);
            }
        }
    }
    Ok(list)
}

/// One resource as the list and the review show it; `orders` are its paid orders, each with
/// its payment method's label while that method is still bound.
fn resource_view(
    row: &InstanceRow,
    orders: &[(OrderRow, Option<&str>)],
    now: i64,
) -> UnsubscribableResource {
    let refund_type = row.refund_type();
    let quota_milli = row.quota_milli();
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
        amounts.into_iter().fold(Money::zero(currency), |acc, m| {
            acc.checked_add(m).unwrap_or(acc)
        })
    };
    let paid = |minor: fn(&OrderRow) -> i64| {
        total(
            orders
                .iter()
                .map(|(o, _)| Money::from_minor(minor(o), o.currency()))
                .collect(),
        )
    };
    let refund_to = refund_to(
        orders
            .iter()
            .zip(&refunds)
            .filter(|(_, refund)| !refund.amount.is_zero())
            .map(|((order, label), _)| {
                let destination = order.refund_destination(label.is_some(), now);
                destination_name(destination.as_str(), *label)
            }),
    );
    UnsubscribableResource {
        instance_id: row.id.clone(),
        product: row.product.clone(),
        product_name: row.product_name(),
        region: row.region.clone(),
        resource_kind: row.kind(),
        refund_type,
        activated: row.activated,
        order_time: rfc3339(row.created_at),
        expires_at: rfc3339(row.expires_at.unwrap_or(now)),
        cash_paid: paid(|o| o.cash_minor),
        non_cash_paid: paid(|o| o.credit_minor),
        refund: total(refunds),
        refund_to,
        pending_renewals: orders.iter().filter(|(o, _)| o.starts_at > now).count() as u32,
        quota,
        breakdown: orders
            .iter()
            .map(|(order, label)| order_refund(order, *label, refund_type, quota_milli, now))
            .collect(),
    }
}

/// One order's part of a resource's refund, by the same formula that pays it.
fn order_refund(
    order: &OrderRow,
    label: Option<&str>,
    refund_type: RefundType,
    quota_milli: i64,
    now: i64,
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
        paid_with: order.paid_with.clone(),
        paid_days_ago: u32::try_from((now - order.paid_at).max(0) / 86_400_000).unwrap_or(u32::MAX),
        destination,
        method_removed: order.payment_method_id.is_some() && label.is_none(),
        refund_to: if b.refund.amount.is_zero() {
            "No refund".to_owned()
        } else {
            destination_name(destination.as_str(), label)
        },
    }
}

/// One refund of an unsubscription, as its record reads it.
#[derive(sqlx::FromRow)]
struct RecordRefund {
    destination: String,
    /// The payment method's label, while it is still bound.
    label: Option<String>,
    status: String,
    refunded_at: Option<i64>,
    order_id: String,
}

/// One unsubscription as the records tab shows it.
pub async fn record(
    db: &db::Db,
    account_id: &str,
    id: &str,
) -> Result<UnsubscribeRecord, ApiError> {
    let (instance_id, product, scope, refund_type, refund_minor, currency, created_at): (String, String, String, String, i64, Stored<Currency>, i64) =
        sqlx::query_as(
            "SELECT instance_id, product, scope, refund_type, refund_minor, currency, created_at FROM unsubscriptions WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(account_id)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let refunds: Vec<RecordRefund> = sqlx::query_as(
        "SELECT r.destination, p.label, r.status, r.refunded_at, r.order_id FROM refunds r LEFT JOIN payment_methods p ON p.id = r.payment_method_id
         WHERE r.unsubscription_id = $1 ORDER BY r.created_at, r.id",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    let all_refunded = !refunds.is_empty() && refunds.iter().all(|r| r.status == "refunded");
    let refund_type = serde_json::from_value(serde_json::Value::String(refund_type.clone()))
        .map_err(|_| anyhow::anyhow!("stored refund type {refund_type}"))?;
    Ok(UnsubscribeRecord {
        id: id.to_owned(),
        instance_id,
        product_name: Product::find(&product).map_or(product.clone(), |p| p.name.to_owned()),
        scope,
        refund_type,
        order_status: "Unsubscribed".to_owned(),
        unsubscribe_to: refund_to(
            refunds
                .iter()
                .map(|r| destination_name(&r.destination, r.label.as_deref())),
        ),
        refunded_orders: refunds.iter().map(|r| r.order_id.clone()).collect(),
        refund_amount: Money::from_minor(refund_minor, currency.0),
        refund_status: if refunds.is_empty() {
            "none"
        } else if all_refunded {
            "refunded"
        } else {
            "processing"
        }
        .to_owned(),
        refund_time: if all_refunded {
            refunds
                .iter()
                .filter_map(|r| r.refunded_at)
                .max()
                .map(rfc3339)
        } else {
            None
        },
        unsubscribed_at: rfc3339(created_at),
    })
}

fn refund_type_name(t: RefundType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Writes the refunds of `orders` for one unsubscription, marks the orders unsubscribed and
/// schedules each refund's settlement. Returns the total refunded.
async fn refund_orders(
    tx: &mut Tx,
    now: i64,
    account_id: &str,
    unsubscription_id: &str,
    orders: &[OrderRow],
    refund_type: RefundType,
    quota_milli: i64,
) -> Result<Money, ApiError> {
    let mut total = Money::zero(orders.first().map_or(Currency::USD, OrderRow::currency));
    for order in orders {
        let updated = sqlx::query(
            "UPDATE orders SET status = 'unsubscribed' WHERE id = $1 AND status = 'paid'",
        )
        .bind(&order.id)
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(ApiError::AlreadyReleased);
        }
        let amount = order.refund(refund_type, quota_milli, now);
        if amount.amount.is_zero() {
            continue;
        }
        total = total.checked_add(amount)?;
        let method_exists: bool = match &order.payment_method_id {
            Some(id) => sqlx::query_scalar::<_, Flag>(
                "SELECT EXISTS (SELECT 1 FROM payment_methods WHERE id = $1 AND account_id = $2)",
            )
            .bind(id)
            .bind(account_id)
            .fetch_one(&mut **tx)
            .await?
            .0,
            None => false,
        };
        let destination = order.refund_destination(method_exists, now).as_str();
        let refund_id = format!("rf-{}", uuid::Uuid::new_v4().simple());
        let inserted = sqlx::query(
            "INSERT INTO refunds (id, account_id, unsubscription_id, order_id, amount_minor, currency, destination, payment_method_id, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'processing', $9)",
        )
        .bind(&refund_id)
        .bind(account_id)
        .bind(unsubscription_id)
        .bind(&order.id)
        .bind(amount.to_minor()?)
        .bind(amount.currency.code())
        .bind(destination)
        .bind(if destination == "balance" { None } else { order.payment_method_id.as_deref() })
        .bind(now)
        .execute(&mut **tx)
        .await;
        match inserted {
            Err(e) if db::is_unique_violation(&e) => return Err(ApiError::AlreadyReleased),
            other => other?,
        };
        queue::schedule::<SettleRefund>(
            tx,
            &refund_id,
            now + refund_job::settle_after_ms(destination),
            now,
        )
        .await?;
    }
    Ok(total)
}

async fn insert_unsubscription(
    tx: &mut Tx,
    now: i64,
    account_id: &str,
    scope: &str,
    instance: &InstanceRow,
    refund_type: RefundType,
) -> Result<String, ApiError> {
    let id = format!("us-{}", uuid::Uuid::new_v4().simple());
    sqlx::query(
        "INSERT INTO unsubscriptions (id, account_id, scope, instance_id, product, refund_type, refund_minor, currency, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, 'USD', $7)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(scope)
    .bind(&instance.id)
    .bind(&instance.product)
    .bind(refund_type_name(refund_type))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

async fn set_total(tx: &mut Tx, id: &str, total: Money) -> Result<(), ApiError> {
    sqlx::query("UPDATE unsubscriptions SET refund_minor = $1, currency = $2 WHERE id = $3")
        .bind(total.to_minor()?)
        .bind(total.currency.code())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn load_instance(tx: &mut Tx, account_id: &str, id: &str) -> Result<InstanceRow, ApiError> {
    let row: InstanceRow = sqlx::query_as(&format!(
        "SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = $1 AND account_id = $2"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    if row.status != "running" {
        return Err(ApiError::AlreadyReleased);
    }
    if row.billing != "subscription" {
        return Err(ApiError::NotUnsubscribable(
            "Pay-as-you-go resources need no unsubscription: back up the data and release them."
                .into(),
        ));
    }
    Ok(row)
}

async fn notify_unsubscribed(
    tx: &mut Tx,
    now: i64,
    account_id: &str,
    count: usize,
    total: Money,
) -> Result<(), ApiError> {
    let email: String = sqlx::query_scalar("SELECT email FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await?;
    let body = format!(
        "You unsubscribed {count} resource{}. The refund of {total} is being processed; it can take up to 30 business days to arrive.",
        if count == 1 { "" } else { "s" }
    );
    let message = Outgoing {
        account_id: Some(account_id),
        medium: Medium::Email,
        recipient: &email,
        subject: "Unsubscription confirmed",
        body,
    };
    notify::enqueue(tx, now, message).await?;
    Ok(())
}

/// Unsubscribes one instance, or a batch of at most 50 Partial Refund ones: each is released
/// for good, its active order and pending renewals refunded.
pub async fn unsubscribe(
    state: &AppState,
    account_id: &str,
    form: &UnsubscribeForm,
) -> Result<Unsubscribed, ApiError> {
    form.check()?;
    let mut ids = form.instance_ids.clone();
    ids.sort();
    ids.dedup();
    let now = state.clock.now_ms();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let mut instances = Vec::with_capacity(ids.len());
    for id in &ids {
        instances.push(load_instance(&mut tx, account_id, id).await?);
    }
    if instances.len() > 1
        && instances
            .iter()
            .any(|i| i.refund_type() != RefundType::PartialRefund)
    {
        return Err(ApiError::BatchMixedRefundTypes);
    }
    let orders = orders_of_tx(&mut tx, &ids).await?;
    let mut unsubscriptions = Vec::with_capacity(instances.len());
    let mut total = Money::zero(Currency::USD);
    for instance in &instances {
        let refund_type = instance.refund_type();
        let id = insert_unsubscription(&mut tx, now, account_id, "resource", instance, refund_type)
            .await?;
        let its_orders = orders.get(&instance.id).map_or(&[][..], Vec::as_slice);
        let refunded = refund_orders(
            &mut tx,
            now,
            account_id,
            &id,
            its_orders,
            refund_type,
            instance.quota_milli(),
        )
        .await?;
        set_total(&mut tx, &id, refunded).await?;
        total = total.checked_add(refunded)?;
        // Released for good: the data is deleted and nothing brings it back.
        sqlx::query("UPDATE instances SET status = 'released', released_at = $1, expires_at = $2, auto_renew = 0 WHERE id = $3")
            .bind(now)
            .bind(now)
            .bind(&instance.id)
            .execute(&mut *tx)
            .await?;
        unsubscriptions.push(id);
    }
    notify_unsubscribed(&mut tx, now, account_id, instances.len(), total).await?;
    let detail = format!(
        "{}: refund {total}",
        instances
            .iter()
            .map(|i| i.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    oplog::record(&mut tx, account_id, Action::Unsubscribe, &detail, now).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    tracing::info!(account = %account_id, count = instances.len(), total = %total, "unsubscribed");
    let mut records = Vec::with_capacity(unsubscriptions.len());
    for id in &unsubscriptions {
        records.push(record(&state.db, account_id, id).await?);
    }
    Ok(Unsubscribed {
        records,
        total_refund: total,
    })
}

async fn orders_of_tx(
    tx: &mut Tx,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<OrderRow>>, ApiError> {
    let mut by_instance: BTreeMap<String, Vec<OrderRow>> = BTreeMap::new();
    for id in ids {
        let orders: Vec<OrderRow> =
            sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE status = 'paid' AND instance_id = $1 ORDER BY starts_at"))
                .bind(id)
                .fetch_all(&mut **tx)
                .await?;
        by_instance.insert(id.clone(), orders);
    }
    Ok(by_instance)
}

/// Cancels the pending renewals of an instance from `order_id` on; the instance keeps running
/// and now expires when that renewal would have begun.
pub async fn unsubscribe_renewals(
    state: &AppState,
    account_id: &str,
    form: &UnsubscribeRenewalForm,
) -> Result<Unsubscribed, ApiError> {
    form.check()?;
    let now = state.clock.now_ms();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let instance = load_instance(&mut tx, account_id, &form.instance_id).await?;
    let orders = orders_of_tx(&mut tx, std::slice::from_ref(&instance.id))
        .await?
        .remove(&instance.id)
        .unwrap_or_default();
    let Some(target) = orders
        .iter()
        .find(|o| o.id == form.order_id && o.starts_at > now)
    else {
        return Err(ApiError::NotUnsubscribable("That renewal has started or is not pending: choose a renewal that has not taken effect.".into()));
    };
    let new_expiry = target.starts_at;
    let cancelled: Vec<OrderRow> = orders
        .iter()
        .filter(|o| o.starts_at >= new_expiry)
        .cloned()
        .collect();
    let refund_type = instance.refund_type();
    let id =
        insert_unsubscription(&mut tx, now, account_id, "renewal", &instance, refund_type).await?;
    let total = refund_orders(
        &mut tx,
        now,
        account_id,
        &id,
        &cancelled,
        refund_type,
        instance.quota_milli(),
    )
    .await?;
    set_total(&mut tx, &id, total).await?;
    sqlx::query("UPDATE instances SET expires_at = $1 WHERE id = $2")
        .bind(new_expiry)
        .bind(&instance.id)
        .execute(&mut *tx)
        .await?;
    // The expiry job may already wait for the end of the renewals just cancelled.
    queue::move_to::<Expire>(&mut tx, &instance.id, new_expiry).await?;
    notify_unsubscribed(&mut tx, now, account_id, 1, total).await?;
    let detail = format!(
        "{}: renewals not yet in effect, refund {total}",
        instance.id
    );
    oplog::record(&mut tx, account_id, Action::Unsubscribe, &detail, now).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(Unsubscribed {
        records: vec![record(&state.db, account_id, &id).await?],
        total_refund: total,
    })
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
        let mut filter = ResourceFilter {
            account_id: "acc",
            product: None,
            instance_like: None,
            from: None,
            to: None,
        };
        let base = "account_id = $1 AND status = 'running' AND billing = 'subscription'";
        assert_eq!(filter.sql(), (base.to_owned(), 2));
        filter.product = Some("rds");
        filter.to = Some(5);
        assert_eq!(
            filter.sql(),
            (format!("{base} AND product = $2 AND created_at < $3"), 4)
        );
        filter.instance_like = Some("%i-1%");
        filter.from = Some(1);
        assert_eq!(
            filter.sql(),
            (
                format!(
                    "{base} AND product = $2 AND id LIKE $3 AND created_at >= $4 AND created_at < $5"
                ),
                6
            )
        );
    }
}
