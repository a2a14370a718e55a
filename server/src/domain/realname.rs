//! Real-name registration (SPEC §2): checked by the ID's own check character; only a masked
//! form of the number is kept. Once verified it cannot be changed here.

use crate::clock::rfc3339;
use crate::db;
use crate::domain::account::{self, Writer};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tables::real_name_registrations;
use shared::api::{RealNameStatus, RealNameView};
use shared::realname::{RealName, mask_id};

pub async fn view(state: &AppState, account_id: &str) -> Result<RealNameView, ApiError> {
    Ok(
        match real_name_registrations::find(&state.db, account_id).await? {
            None => RealNameView {
                status: RealNameStatus::NotRegistered,
                kind: None,
                name: None,
                id_masked: None,
                verified_at: None,
            },
            Some(r) => RealNameView {
                status: RealNameStatus::Verified,
                kind: Some(r.kind.0),
                name: Some(r.name),
                id_masked: Some(r.id_masked),
                verified_at: Some(rfc3339(r.verified_at)),
            },
        },
    )
}

pub async fn register(
    state: &AppState,
    account_id: &str,
    real_name: RealName,
) -> Result<RealNameView, ApiError> {
    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let inserted = real_name_registrations::insert(
        &mut tx,
        account_id,
        real_name.kind,
        &real_name.name,
        &mask_id(&real_name.id_number),
        now,
    )
    .await;
    match inserted {
        Err(e) if db::is_unique_violation(&e) => return Err(ApiError::RealNameAlreadyVerified),
        other => other?,
    };
    tx.commit().await?;
    view(state, account_id).await
}
