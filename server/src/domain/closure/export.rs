//! The export the owner may take before closing (seed 001: "export critical configuration
//! information and operation logs"): bills, orders, refunds and invoices, the ledger and the
//! operation log.

use super::resolve::ties;
use crate::clock::rfc3339;
use crate::domain::ledger;
use crate::error::ApiError;
use crate::oplog;
use crate::state::AppState;
use crate::tables::{orders, refunds};
use shared::money::Money;

/// Everything the owner may want to keep: bills, orders, refunds and invoices, and the ledger.
pub async fn export(state: &AppState, account_id: &str) -> Result<serde_json::Value, ApiError> {
    use serde_json::json;
    let db = &state.db;
    let orders = orders::exported(db, account_id).await?;
    let refunds = refunds::exported(db, account_id).await?;
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
        .map(|exported| {
            let (r, refunded_at) = (&exported.refund, exported.refunded_at);
            json!({"id": r.id, "order_id": r.order_id, "amount": Money::from_minor(r.amount_minor, r.currency.0), "destination": r.destination.0,
                   "status": r.status.0, "created_at": rfc3339(r.created_at), "refunded_at": refunded_at.map(rfc3339)})
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
