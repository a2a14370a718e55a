//! Closing an account (SPEC §6, seed 001), one file a step: the closure
//! [`check`](mod@check), the owner's [`identity`](mod@identity), the
//! [`system_check`](mod@system_check), renouncing items and the irreversible confirmation
//! ([`confirm`](mod@confirm)), what resolves each blocking item ([`resolve`](mod@resolve)),
//! the [`export`](mod@export), and the [`decision`](mod@decision) when the cool-down ends.

pub mod check;
pub mod confirm;
pub mod decision;
pub mod export;
pub mod identity;
pub mod resolve;
pub mod system_check;

pub use check::check;
pub use confirm::{confirm, renounce_selected};
pub use export::export;
pub use identity::{
    alipay_authorize, send_identity_code, verify_identity, verify_identity_by_authenticator,
};
pub use resolve::{
    cancel_icp_filing, end_partnership, pay_bill, remove_relationship, set_auto_renew, ties,
    transfer_domain_out,
};
pub use system_check::{advance_system_check, start_system_check, system_check};

use crate::auth::CurrentSession;
use crate::clock::{DurationMs, rfc3339};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tables::closures;
use crate::tables::service_linked_roles;
use identity::{alipay_available, identity_fresh};
use shared::api::{ClosureFailure, ClosureState, ClosureStatus};

pub async fn status(state: &AppState, session: &CurrentSession) -> Result<ClosureStatus, ApiError> {
    let now = state.clock.now();
    let account_id = &session.account_id;
    let cooling = closures::cooling_down_ends_at(&state.db, account_id).await?;
    let last_failure = closures::last_failure(&state.db, account_id).await?;
    // Written by the decision as a `ClosureFailure`: anything else is a corrupt row.
    let last_failure: Option<ClosureFailure> = last_failure
        .map(|failure| serde_json::from_str(&failure))
        .transpose()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a closure's failure is corrupt: {e}")))?;
    let roles = service_linked_roles::of_account(&state.db, account_id).await?;
    Ok(ClosureStatus {
        state: if cooling.is_some() {
            ClosureState::CoolingDown
        } else {
            ClosureState::Open
        },
        ends_at: cooling.map(rfc3339),
        remaining_seconds: cooling.map(|end| (end - now).max(DurationMs::ZERO).as_secs()),
        service_linked_roles: roles,
        last_failure: if cooling.is_some() {
            None
        } else {
            last_failure
        },
        cool_down_days: state.config.cool_down_days,
        identity_verified: identity_fresh(session, now),
        alipay_available: alipay_available(state, account_id).await?,
        authenticator_available: crate::tables::two_step::enabled_at(&state.db, account_id)
            .await?
            .is_some(),
    })
}
