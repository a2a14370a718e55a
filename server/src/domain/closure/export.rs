//! The export the owner may take before closing (seed 001: "export critical configuration
//! information and operation logs"): bills, orders, refunds and invoices, the ledger and the
//! operation log.

use super::resolve::ties;
use crate::clock::{Millis, rfc3339};
use crate::db::Stored;
use crate::domain::ledger;
use crate::domain::refund::RefundStatus;
use crate::error::ApiError;
use crate::oplog;
use crate::state::AppState;
use shared::api::OrderStatus;
use shared::money::{Currency, Money};
use shared::refund::{PaidWith, RefundDestination};

#[derive(sqlx::FromRow)]
struct OrderRecord {
    id: String,
    instance_id: String,
    product: String,
    starts_at: Millis,
    ends_at: Millis,
    currency: Stored<Currency>,
    cash_minor: i64,
    credit_minor: i64,
    paid_with: Stored<PaidWith>,
    status: Stored<OrderStatus>,
    paid_at: Millis,
}

#[derive(sqlx::FromRow)]
struct RefundRecord {
    id: String,
    order_id: String,
    amount_minor: i64,
    currency: Stored<Currency>,
    destination: Stored<RefundDestination>,
    status: Stored<RefundStatus>,
    created_at: Millis,
    refunded_at: Option<Millis>,
}

/// Everything the owner may want to keep: bills, orders, refunds and invoices, and the ledger.
pub async fn export(state: &AppState, account_id: &str) -> Result<serde_json::Value, ApiError> {
    use serde_json::json;
    let db = &state.db;
    let orders: Vec<OrderRecord> = sqlx::query_as(
        "SELECT o.id, o.instance_id, i.product, o.starts_at, o.ends_at, o.currency, o.cash_minor, o.credit_minor, o.paid_with, o.status, o.paid_at
         FROM orders o JOIN instances i ON i.id = o.instance_id WHERE o.account_id = $1 ORDER BY o.created_at, o.id",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?;
    let refunds: Vec<RefundRecord> = sqlx::query_as(
        "SELECT id, order_id, amount_minor, currency, destination, status, created_at, refunded_at FROM refunds WHERE account_id = $1 ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?;
    let orders_json: Vec<serde_json::Value> = orders
        .iter()
        .map(|o| {
            json!({"id": o.id, "instance_id": o.instance_id, "product": o.product, "starts_at": rfc3339(o.starts_at),
                   "ends_at": rfc3339(o.ends_at), "cash_paid": Money::from_minor(o.cash_minor, o.currency.0),
                   "credit_paid": Money::from_minor(o.credit_minor, o.currency.0), "paid_with": o.paid_with.0, "status": o.status.0,
                   "paid_at": rfc3339(o.paid_at)})
        })
        .collect();
    // An invoice is issued for what was paid in cash.
    let invoices: Vec<serde_json::Value> = orders
        .iter()
        .filter(|o| o.cash_minor > 0)
        .map(|o| json!({"invoice_for": o.id, "description": o.product, "amount": Money::from_minor(o.cash_minor, o.currency.0), "issued_at": rfc3339(o.paid_at)}))
        .collect();
    let refunds_json: Vec<serde_json::Value> = refunds
        .iter()
        .map(|r| {
            json!({"id": r.id, "order_id": r.order_id, "amount": Money::from_minor(r.amount_minor, r.currency.0), "destination": r.destination.0,
                   "status": r.status.0, "created_at": rfc3339(r.created_at), "refunded_at": r.refunded_at.map(rfc3339)})
        })
        .collect();
    Ok(json!({
        "exported_at": rfc3339(state.clock.now()),
        "account": crate::domain::account::view(db, account_id).await?,
        "billing_address": crate::tables::billing_addresses::get(db, account_id).await?,
        "orders": orders_json,
        "invoices": invoices,
        "refunds": refunds_json,
        "bills": ties(state, account_id).await?.bills,
        "ledger": ledger::entries(db, account_id).await?,
        // Seed 001: "export critical configuration information and operation logs".
        "operation_log": oplog::all(state, account_id).await?,
    }))
}
