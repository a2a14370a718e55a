//! The Unsubscribe Resource page's three tabs (seed 002): the resources that can be
//! unsubscribed, with their groups and the refund each would get now; the pending renewals;
//! and the unsubscription records. Every tab is counted and paged in SQL: only the page's rows
//! are read.

use super::record::records;
use super::{destination, place};
use crate::clock::{DurationMs, Millis, rfc3339};
use crate::db::{Flag, Stored};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tables::instances::{self, Instance, ListedInstance};
use crate::tables::listing::{Filter, Page};
use crate::tables::orders::{self, PaidOrder};
use crate::tables::unsubscriptions;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use shared::api::{
    GroupCount, OrderRefund, PendingRenewal, QuotaDrawn, RefundPlace, UnsubscribableResource,
    UnsubscribeList, UnsubscribeQuery, UnsubscribeTab,
};
use shared::catalog::Product;
use shared::money::{Currency, Money};
use shared::refund::{RefundType, ResourceKind, refund_breakdown, refund_type};
use std::collections::BTreeMap;

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

/// The paid order a listed instance is beside, if any.
fn listed_order(row: &ListedInstance) -> Option<PaidOrder> {
    Some(PaidOrder {
        id: row.order_id.clone()?,
        starts_at: row.starts_at?,
        ends_at: row.ends_at?,
        cash_minor: row.cash_minor?,
        credit_minor: row.credit_minor?,
        currency: row.currency?,
        paid_with: row.paid_with?,
        payment_method_id: row.payment_method_id.clone(),
        paid_at: row.paid_at?,
        drawn_milli: row.drawn_milli?,
    })
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
    // One connection for both statements: each trip through the pool costs a ping on release
    // and, under load, another wait in its queue.
    let mut conn = state.db.readers().acquire().await?;
    let counts = instances::listed_groups(&mut *conn, filter).await?;
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
    let rows = instances::listed_page(&mut *conn, filter, q, page).await?;
    drop(conn);
    let mut resources = Vec::new();
    for same_instance in rows.chunk_by(|a, b| a.instance.id == b.instance.id) {
        let orders: Vec<(PaidOrder, Option<&str>)> = same_instance
            .iter()
            .filter_map(|r| Some((listed_order(r)?, r.method_label.as_deref())))
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
    let mut conn = state.db.readers().acquire().await?;
    let total = orders::count_pending_renewals(&mut *conn, filter, now).await?;
    let rows = orders::pending_renewals(&mut *conn, filter, now, page).await?;
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
    let mut conn = state.db.readers().acquire().await?;
    let total = unsubscriptions::count_listed(&mut *conn, filter).await?;
    let ids = unsubscriptions::listed_ids(&mut *conn, filter, page).await?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let records = records(&mut conn, filter.account_id, &ids).await?;
    Ok((u32::try_from(total).unwrap_or(u32::MAX), records))
}

/// One resource as the list and the review show it; `orders` are its paid orders, each with
/// its payment method's label while that method is still bound.
fn resource_view(
    row: &Instance,
    orders: &[(PaidOrder, Option<&str>)],
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
    let paid = |minor: fn(&PaidOrder) -> i64| {
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
    order: &PaidOrder,
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
