//! What resolves each must-process item (seed 001): the account's bills, ICP filings,
//! relationships and reseller partnership, and the resolutions themselves. Each touches only
//! the caller's account.

use crate::clock::rfc3339;
use crate::db::Tx;
use crate::domain::account::{self, Writer};
use crate::domain::ledger::{self, Bucket};
use crate::error::ApiError;
use crate::ids::{BillId, IcpFilingId, InstanceId, RelationshipId};
use crate::state::AppState;
use crate::tables::{account_relationships, bills, icp_filings, instances, reseller_partnerships};
use shared::api::{AccountTies, BillStatus, BillView, IcpFilingView, RelationshipView};
use shared::catalog::DOMAIN;

pub async fn ties(state: &AppState, account_id: &str) -> Result<AccountTies, ApiError> {
    let now = state.clock.now();
    let bills = bills::latest_with_overdue(&state.db, account_id, now).await?;
    let icp = icp_filings::active(&state.db, account_id).await?;
    let relationships = account_relationships::of_account(&state.db, account_id).await?;
    let partner = reseller_partnerships::partner_of(&state.db, account_id).await?;
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
            .map(|f| IcpFilingView {
                id: f.id,
                number: f.number,
                website: f.website,
            })
            .collect(),
        relationships: relationships
            .into_iter()
            .map(|r| RelationshipView {
                id: r.id,
                kind: r.kind.0,
                role: r.role.0,
                peer: r.peer,
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
    let mut tx = begin(state, account_id).await?;
    let cancelled = icp_filings::cancel(&mut *tx, account_id, id.as_str()).await?;
    finish(tx, cancelled).await
}

pub async fn remove_relationship(
    state: &AppState,
    account_id: &str,
    id: &RelationshipId,
) -> Result<(), ApiError> {
    let mut tx = begin(state, account_id).await?;
    let removed = account_relationships::remove(&mut *tx, account_id, id.as_str()).await?;
    finish(tx, removed).await
}

pub async fn end_partnership(state: &AppState, account_id: &str) -> Result<(), ApiError> {
    let mut tx = begin(state, account_id).await?;
    let ended = reseller_partnerships::end(&mut *tx, account_id).await?;
    finish(tx, ended).await
}

/// Transfers a domain name out: it leaves this account (no refund: the registration went with it).
pub async fn transfer_domain_out(
    state: &AppState,
    account_id: &str,
    instance_id: &InstanceId,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = begin(state, account_id).await?;
    let released =
        instances::release_product(&mut *tx, account_id, instance_id.as_str(), DOMAIN, now).await?;
    finish(tx, released).await
}

pub async fn set_auto_renew(
    state: &AppState,
    account_id: &str,
    instance_id: &InstanceId,
    enabled: bool,
) -> Result<(), ApiError> {
    let mut tx = begin(state, account_id).await?;
    let set =
        instances::set_auto_renew(&mut *tx, account_id, instance_id.as_str(), enabled).await?;
    finish(tx, set).await
}

/// Opens the account's write gate for one resolution (a member's write: none once the
/// closure is confirmed).
async fn begin(state: &AppState, account_id: &str) -> Result<Tx, ApiError> {
    account::begin_write(&state.db, account_id, Writer::Member).await
}

/// Commits a resolution that `matched` a row of the account's; `NotFound` when it matched
/// nothing.
async fn finish(tx: Tx, matched: bool) -> Result<(), ApiError> {
    if !matched {
        return Err(ApiError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}
