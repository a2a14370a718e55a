//! The closure check (seed 001, step 2.1): everything that blocks closing the account now, each
//! item with its severity, what resolves it, and where.

use crate::clock::{Millis, rfc3339};
use crate::domain::bills;
use crate::domain::ledger::{self, Bucket};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tables::instances::{self, Instance};
use crate::tables::{account_relationships, icp_filings, reseller_partnerships};
use shared::catalog::{Billing, DOMAIN};
use shared::closure::{
    BALANCE_LIMIT_CNY, BlockingKind, CheckItem, ClosureCheck, OVERDUE_LIMIT_CNY, Severity, classify,
};
use shared::money::Money;

/// The items that list what must be processed, one row a kind: its severity and the page that
/// resolves it. The console words each kind (`app/src/words.rs`).
struct Listed {
    kind: BlockingKind,
    severity: Severity,
    resolve_path: &'static str,
}

const LISTED: [Listed; 5] = [
    Listed {
        kind: BlockingKind::UnexpiredDomains,
        severity: Severity::MustProcess,
        resolve_path: "/closure/resolve#domains",
    },
    Listed {
        kind: BlockingKind::RunningSubscriptions,
        severity: Severity::MustProcess,
        resolve_path: "/unsubscribe",
    },
    Listed {
        kind: BlockingKind::AutoRenewingSubscriptions,
        severity: Severity::MustProcess,
        resolve_path: "/closure/resolve#auto-renew",
    },
    Listed {
        kind: BlockingKind::PayAsYouGoResources,
        severity: Severity::Renounceable,
        resolve_path: "/products",
    },
    Listed {
        kind: BlockingKind::IcpFilings,
        severity: Severity::MustProcess,
        resolve_path: "/closure/resolve#icp",
    },
];

/// Whether `instance` is one of `kind`'s subjects.
fn is_subject(instance: &Instance, kind: BlockingKind) -> bool {
    let subscription = instance.is_subscription();
    match kind {
        BlockingKind::UnexpiredDomains => subscription && instance.product == DOMAIN,
        BlockingKind::RunningSubscriptions => subscription && instance.product != DOMAIN,
        BlockingKind::AutoRenewingSubscriptions => subscription && instance.auto_renew,
        BlockingKind::PayAsYouGoResources => instance.billing.0 == Billing::Payg,
        _ => false,
    }
}

fn item(
    kind: BlockingKind,
    severity: Severity,
    resolve_path: &str,
    subjects: Vec<String>,
) -> CheckItem {
    CheckItem {
        // The kind's wire name, as `renounce` lists it.
        key: serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        kind,
        severity,
        resolve_path: resolve_path.to_owned(),
        count: subjects.len() as u32,
        amount: None,
        amount_cny: None,
        totals: Vec::new(),
        role: None,
        subjects,
    }
}

/// Everything that blocks closing the account right now.
pub async fn check(state: &AppState, account_id: &str) -> Result<ClosureCheck, ApiError> {
    let mut conn = state.db.readers().acquire().await?;
    check_on(&mut conn, state, account_id).await
}

/// [`check`] on `conn`: inside the confirmation's transaction, so nothing it found can change
/// before the closure is written.
pub(super) async fn check_on(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    account_id: &str,
) -> Result<ClosureCheck, ApiError> {
    let now = state.clock.now();
    let mut items = Vec::new();
    items.extend(overdue_item(conn, state, account_id, now).await?);
    items.extend(balance_item(conn, state, account_id).await?);

    let running = instances::running(&mut *conn, account_id).await?;
    let icp = icp_filings::active_ids(&mut *conn, account_id).await?;
    for listed in &LISTED {
        let subjects: Vec<String> = if listed.kind == BlockingKind::IcpFilings {
            icp.clone()
        } else {
            running
                .iter()
                .filter(|r| is_subject(r, listed.kind))
                .map(|r| r.id.clone())
                .collect()
        };
        if subjects.is_empty() {
            continue;
        }
        items.push(item(
            listed.kind,
            listed.severity,
            listed.resolve_path,
            subjects,
        ));
    }

    let relationships = account_relationships::kinds_of_account(&mut *conn, account_id).await?;
    for (id, kind, role) in relationships {
        let mut it = item(
            kind.0.blocking_kind(),
            Severity::MustProcess,
            "/closure/resolve#relationships",
            vec![id.clone()],
        );
        it.key = format!("relationship:{id}");
        it.role = Some(role.0);
        items.push(it);
    }

    let partner = reseller_partnerships::partner_of(&mut *conn, account_id).await?;
    if let Some(partner) = partner {
        items.push(item(
            BlockingKind::ResellerPartnership,
            Severity::MustProcess,
            "/closure/resolve#partner",
            vec![partner],
        ));
    }

    let can_close = !items.iter().any(|i| i.severity == Severity::MustProcess);
    Ok(ClosureCheck {
        items,
        can_close,
        checked_at: rfc3339(now),
    })
}

/// The overdue bills, over 10 CNY to be paid, at or under it renounceable.
async fn overdue_item(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    account_id: &str,
    now: Millis,
) -> Result<Option<CheckItem>, ApiError> {
    let overdue = crate::tables::bills::overdue(conn, [account_id], now).await?;
    let totals = bills::totals(&overdue);
    let Some(first) = totals.first() else {
        return Ok(None);
    };
    let mut cny = state.rates.to_cny(*first)?;
    for total in &totals[1..] {
        cny.amount += state.rates.to_cny(*total)?.amount;
    }
    let Some(severity) = classify(cny.amount, OVERDUE_LIMIT_CNY) else {
        return Ok(None);
    };
    let mut it = item(
        BlockingKind::OverduePayments,
        severity,
        "/closure/resolve#bills",
        overdue.into_iter().map(|b| b.id).collect(),
    );
    // One amount when the bills share a currency; their CNY value in any case.
    it.amount = (totals.len() == 1).then_some(*first);
    it.amount_cny = Some(cny);
    it.totals = totals;
    Ok(Some(it))
}

/// The cash balance, over 1,000 CNY to be withdrawn or spent, at or under it renounceable.
async fn balance_item(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    account_id: &str,
) -> Result<Option<CheckItem>, ApiError> {
    let cash: Money = ledger::balance(&mut *conn, account_id, Bucket::Cash).await?;
    let cash_cny = state.rates.to_cny(cash)?;
    let Some(severity) = classify(cash_cny.amount, BALANCE_LIMIT_CNY) else {
        return Ok(None);
    };
    let mut it = item(
        BlockingKind::CashBalance,
        severity,
        // Withdraw the balance or spend it (SPEC §6.5).
        "/billing/withdraw",
        vec![],
    );
    it.count = 1;
    it.amount = Some(cash);
    it.amount_cny = Some(cash_cny);
    Ok(Some(it))
}
