//! Real-name registration (SPEC §2): checked by the ID's own check character; only a masked
//! form of the number is kept. Once verified it cannot be changed here.

use crate::clock::{Millis, rfc3339};
use crate::db::{self, Stored};
use crate::domain::account::{self, Writer};
use crate::error::ApiError;
use crate::state::AppState;
use shared::api::{RealNameStatus, RealNameView};
use shared::realname::{RealName, RealNameKind, mask_id};

pub async fn view(state: &AppState, account_id: &str) -> Result<RealNameView, ApiError> {
    let row: Option<(Stored<RealNameKind>, String, String, Millis)> =
        sqlx::query_as("SELECT kind, name, id_masked, verified_at FROM real_name_registrations WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&state.db)
            .await?;
    Ok(match row {
        None => RealNameView {
            status: RealNameStatus::NotRegistered,
            kind: None,
            name: None,
            id_masked: None,
            verified_at: None,
        },
        Some((kind, name, id_masked, verified_at)) => RealNameView {
            status: RealNameStatus::Verified,
            kind: Some(kind.0),
            name: Some(name),
            id_masked: Some(id_masked),
            verified_at: Some(rfc3339(verified_at)),
        },
    })
}

pub async fn register(
    state: &AppState,
    account_id: &str,
    real_name: RealName,
) -> Result<RealNameView, ApiError> {
    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let inserted = sqlx::query(
        "INSERT INTO real_name_registrations (account_id, kind, name, id_masked, verified_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account_id)
    .bind(real_name.kind.as_str())
    .bind(&real_name.name)
    .bind(mask_id(&real_name.id_number))
    .bind(now)
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(e) if db::is_unique_violation(&e) => return Err(ApiError::RealNameAlreadyVerified),
        other => other?,
    };
    tx.commit().await?;
    view(state, account_id).await
}
