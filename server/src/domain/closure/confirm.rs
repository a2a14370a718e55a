//! Giving up renounceable items (Confirm Discard or Release, seed 001 step 2.3) and the final,
//! irreversible confirmation that starts the cool-down.

use super::check::check_on;
use super::decision::DecideClosure;
use super::identity::{alipay_available, require_identity};
use super::system_check::SYSTEM_CHECK_VALID;
use crate::auth::CurrentSession;
use crate::clock::{DurationMs, Millis, rfc3339};
use crate::db::Tx;
use crate::domain::account::{self, AccountStatus, Writer};
use crate::domain::ledger::{Bucket, LedgerKind};
use crate::error::ApiError;
use crate::notices::Notice;
use crate::notify::OwnerNotice;
use crate::oplog::{self, Operation};
use crate::queue;
use crate::state::AppState;
use crate::tables::ledger_entries::{self, Entry};
use crate::tables::{
    accounts, bills, closure_checks, closures, instances, service_linked_roles, sessions,
};
use shared::api::{ClosureState, ClosureStatus, ConfirmClosureForm, RenounceForm};
use shared::closure::{BlockingKind, CheckItem, ClosureCheck, SERVICE_LINKED_ROLE, Severity};
use shared::money::Money;

/// Confirm Discard or Release (seed 001, step 2.3): the selected renounceable items are given
/// up now, in one transaction through the account's write gate, measured by the check made
/// inside it. An item no longer in the check (renounced by an earlier call, or resolved) is
/// skipped, so a retry or a double click changes nothing; an item that must be processed is
/// refused, and nothing is written. Answers the check as it stands afterwards.
pub async fn renounce_selected(
    state: &AppState,
    session: &CurrentSession,
    form: &RenounceForm,
) -> Result<ClosureCheck, ApiError> {
    form.check()?;
    let now = state.clock.now();
    let account_id = &session.account_id;
    require_identity(session, now)?;
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let live = check_on(&mut tx, state, account_id).await?;
    let mut renounced = Vec::new();
    for key in &form.renounce {
        match live.items.iter().find(|i| &i.key == key) {
            Some(item)
                if item.severity == Severity::Renounceable
                    && !renounced.iter().any(|(key, _)| key == &item.key) =>
            {
                renounce(&mut tx, now, account_id, item).await?;
                renounced.push((item.key.clone(), item.kind));
            }
            // Named twice in one request: given up once.
            Some(item) if item.severity == Severity::Renounceable => {}
            Some(_) => {
                return Err(ApiError::ClosureBlocked(
                    "An item you chose must now be processed, not renounced: run the closure check again to see what resolves it."
                        .to_owned(),
                ));
            }
            None => {}
        }
    }
    let after = check_on(&mut tx, state, account_id).await?;
    if !renounced.is_empty() {
        let items_renounced = Operation::ClosureItemsRenounced {
            items: renounced.iter().map(|(_, kind)| *kind).collect(),
        };
        oplog::record(&mut tx, account_id, items_renounced, now).await?;
    }
    tx.commit().await?;
    if !renounced.is_empty() {
        tracing::info!(account = %account_id, renounced = ?renounced, "closure items renounced");
    }
    Ok(after)
}

/// Confirm Deletion: everything checked again inside one transaction, the renounced items
/// given up, every session of the account ended, the role created, and the cool-down's end
/// scheduled. Nothing revokes it.
pub async fn confirm(
    state: &AppState,
    session: &CurrentSession,
    form: &ConfirmClosureForm,
) -> Result<ClosureStatus, ApiError> {
    form.check()?;
    let now = state.clock.now();
    let account_id = &session.account_id;
    require_identity(session, now)?;
    let done = closure_checks::done_at(&state.db, &form.system_check_id, account_id).await?;
    if done.is_none_or(|at| now - at > SYSTEM_CHECK_VALID) {
        return Err(ApiError::SystemCheckRequired);
    }
    // The account's status, the items and the renounced balance are read in the transaction
    // that writes the closure: a purchase or a payment that lands just before cannot slip
    // between the check and the confirmation (the write gate refuses any after it).
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let live = check_on(&mut tx, state, account_id).await?;
    if live.must_process().next().is_some() {
        return Err(ApiError::ClosureBlocked(
            "Something must be processed before closing: run the system check again to see what resolves it."
                .to_owned(),
        ));
    }
    if live.renounceable().any(|i| !form.renounce.contains(&i.key)) {
        return Err(ApiError::ClosureBlocked(
            "Renounce every renounceable item, or resolve it, before closing: run the system check again to see them."
                .to_owned(),
        ));
    }

    for item in live.renounceable() {
        renounce(&mut tx, now, account_id, item).await?;
    }
    let closure_id = format!("cl-{}", uuid::Uuid::new_v4().simple());
    let ends_at = now + DurationMs::days(state.config.cool_down_days);
    let renounced: Vec<&str> = live.renounceable().map(|i| i.key.as_str()).collect();
    let closure = closures::New {
        id: &closure_id,
        account_id,
        reason: form.reason.map(|r| r.as_str()),
        reason_detail: Some(form.reason_detail.trim()).filter(|d| !d.is_empty()),
        renounced: &renounced.join(" "),
        started_at: now,
        ends_at,
    };
    closures::insert(&mut tx, closure).await?;
    accounts::set_status(&mut tx, account_id, AccountStatus::Closing).await?;
    service_linked_roles::create(&mut *tx, account_id, SERVICE_LINKED_ROLE, now).await?;
    // All sessions end: the owner's everywhere, and every RAM user's.
    sessions::delete_of_account(&mut tx, account_id).await?;
    queue::schedule::<DecideClosure>(&mut tx, &closure_id, ends_at, now).await?;
    let (email, phone) = accounts::email_and_phone(&mut tx, account_id).await?;
    state
        .outbox
        .tell_owner(
            &mut tx,
            now,
            OwnerNotice {
                account_id: Some(account_id),
                email: Some(&email),
                phone: phone.as_deref(),
                notice: Notice::ClosureStarted { ends_at },
            },
        )
        .await?;
    let confirmed = Operation::ClosureConfirmed {
        cool_down_until: rfc3339(ends_at),
    };
    oplog::record(&mut tx, account_id, confirmed, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, closure = %closure_id, "account closure confirmed; cooling down");
    Ok(ClosureStatus {
        state: ClosureState::CoolingDown,
        ends_at: Some(rfc3339(ends_at)),
        remaining_seconds: Some((ends_at - now).as_secs()),
        service_linked_roles: vec![SERVICE_LINKED_ROLE.to_owned()],
        last_failure: None,
        cool_down_days: state.config.cool_down_days,
        identity_verified: true,
        alipay_available: alipay_available(state, account_id).await?,
        authenticator_available: false,
    })
}

async fn renounce(
    tx: &mut Tx,
    now: Millis,
    account_id: &str,
    item: &CheckItem,
) -> Result<(), ApiError> {
    match item.kind {
        BlockingKind::CashBalance => {
            if let Some(balance) = item.amount {
                let entry = Entry {
                    account_id,
                    kind: LedgerKind::Renounced,
                    bucket: Bucket::Cash,
                    amount: Money::new(-balance.amount, balance.currency),
                    payment_method_id: None,
                    reference: None,
                    memo: "Balance renounced with the account closure",
                };
                ledger_entries::insert(tx, now, entry).await?;
            }
        }
        BlockingKind::OverduePayments => {
            for id in &item.subjects {
                bills::waive(tx, id, account_id, now).await?;
            }
        }
        BlockingKind::PayAsYouGoResources => {
            for id in &item.subjects {
                instances::release_running(&mut **tx, account_id, id, now).await?;
            }
        }
        _ => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "{:?} cannot be renounced",
                item.kind
            )));
        }
    }
    Ok(())
}
