//! What resolves each must-process item (seed 001): the account's bills, ICP filings,
//! relationships and reseller partnership, and the resolutions themselves. Each touches only
//! the caller's account.

use crate::clock::rfc3339;
use crate::db::Stored;
use crate::domain::account::{self, Writer};
use crate::domain::ledger::{self, Bucket};
use crate::error::ApiError;
use crate::ids::{BillId, IcpFilingId, InstanceId, RelationshipId};
use crate::state::AppState;
use crate::tables::bills;
use shared::api::{
    AccountTies, BillStatus, BillView, IcpFilingView, RelationshipRole, RelationshipView,
};
use shared::closure::RelationshipKind;

pub async fn ties(state: &AppState, account_id: &str) -> Result<AccountTies, ApiError> {
    let now = state.clock.now();
    let bills = bills::latest_with_overdue(&state.db, account_id, now).await?;
    let icp: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, number, website FROM icp_filings WHERE account_id = $1 AND status = 'active'",
    )
    .bind(account_id)
    .fetch_all(&state.db)
    .await?;
    let relationships: Vec<(
        String,
        Stored<RelationshipKind>,
        Stored<RelationshipRole>,
        String,
    )> =
        sqlx::query_as("SELECT id, kind, role, peer FROM account_relationships WHERE account_id = $1 ORDER BY created_at, id")
            .bind(account_id)
            .fetch_all(&state.db)
            .await?;
    let partner: Option<String> =
        sqlx::query_scalar("SELECT partner_name FROM reseller_partnerships WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&state.db)
            .await?;
    Ok(AccountTies {
        bills: bills
            .into_iter()
            .map(|tie| {
                let b = tie.bill;
                let status = if tie.waived_at.is_some() {
                    BillStatus::Waived
                } else {
                    b.status.0
                };
                BillView {
                    overdue: tie.overdue.0,
                    amount: b.amount(),
                    id: b.id,
                    description: b.description,
                    status,
                    due_at: rfc3339(b.due_at),
                }
            })
            .collect(),
        icp_filings: icp
            .into_iter()
            .map(|(id, number, website)| IcpFilingView {
                id,
                number,
                website,
            })
            .collect(),
        relationships: relationships
            .into_iter()
            .map(|(id, kind, role, peer)| RelationshipView {
                id,
                kind: kind.0,
                role: role.0,
                peer,
            })
            .collect(),
        reseller_partner: partner,
        cash_balance: ledger::balance(&state.db, account_id, Bucket::Cash).await?,
    })
}

/// Pays an unpaid bill of the account with its default payment method.
pub async fn pay_bill(state: &AppState, account_id: &str, id: &BillId) -> Result<(), ApiError> {
    if !bills::is_unpaid(&state.db, id.as_str(), account_id).await? {
        return Err(ApiError::NotFound);
    }
    match crate::domain::purchase::charge_bill(state, account_id, Writer::Member, id.as_str())
        .await?
    {
        crate::domain::purchase::BillCharge::Refused => Err(ApiError::PaymentDeclined),
        _ => Ok(()),
    }
}

/// Resolutions of must-process items. Each touches only the caller's account.
pub async fn cancel_icp_filing(
    state: &AppState,
    account_id: &str,
    id: &IcpFilingId,
) -> Result<(), ApiError> {
    write_one(state, account_id, sqlx::query("UPDATE icp_filings SET status = 'cancelled' WHERE id = $1 AND account_id = $2 AND status = 'active'").bind(id).bind(account_id)).await
}

pub async fn remove_relationship(
    state: &AppState,
    account_id: &str,
    id: &RelationshipId,
) -> Result<(), ApiError> {
    write_one(
        state,
        account_id,
        sqlx::query("DELETE FROM account_relationships WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id),
    )
    .await
}

pub async fn end_partnership(state: &AppState, account_id: &str) -> Result<(), ApiError> {
    write_one(
        state,
        account_id,
        sqlx::query("DELETE FROM reseller_partnerships WHERE account_id = $1").bind(account_id),
    )
    .await
}

/// Transfers a domain name out: it leaves this account (no refund: the registration went with it).
pub async fn transfer_domain_out(
    state: &AppState,
    account_id: &str,
    instance_id: &InstanceId,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    write_one(
        state,
        account_id,
        sqlx::query("UPDATE instances SET status = 'released', released_at = $1, auto_renew = 0 WHERE id = $2 AND account_id = $3 AND product = 'domain' AND status = 'running'")
            .bind(now)
            .bind(instance_id)
            .bind(account_id),
    )
    .await
}

pub async fn set_auto_renew(
    state: &AppState,
    account_id: &str,
    instance_id: &InstanceId,
    enabled: bool,
) -> Result<(), ApiError> {
    write_one(
        state,
        account_id,
        sqlx::query("UPDATE instances SET auto_renew = $1 WHERE id = $2 AND account_id = $3 AND billing = 'subscription' AND status = 'running'")
            .bind(i64::from(enabled))
            .bind(instance_id)
            .bind(account_id),
    )
    .await
}

/// Runs one resolution's statement through the account's write gate (a member's write: none
/// once the closure is confirmed); `NotFound` when it matched nothing of the account's.
async fn write_one<'q>(
    state: &AppState,
    account_id: &str,
    statement: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<(), ApiError> {
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    if statement.execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}
