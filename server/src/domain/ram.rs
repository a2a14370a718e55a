//! RAM users (SPEC actors): sub-users the owner creates, who sign in under the owner's account
//! alias and hold named permissions. They never close the account nor touch another's data.

use crate::auth::{self, NewSession, Origin};
use crate::clock::{Millis, rfc3339};
use crate::db;
use crate::domain::account::{self, AccountStatus};
use crate::domain::session::{begin_attempt, ram_sign_in_key};
use crate::error::ApiError;
use crate::ids::RamUserId;
use crate::oplog::{self, Operation};
use crate::state::AppState;
use crate::tables::ram_users::{self, NewRamUser};
use shared::api::OperationActor;
use shared::api::{Permission, RamSignIn, RamUserForm, RamUserView};

fn permissions_text(permissions: &[Permission]) -> String {
    let mut names: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

fn to_view(id: String, username: String, permissions: &str, created_at: Millis) -> RamUserView {
    RamUserView {
        id,
        username,
        permissions: permissions
            .split_whitespace()
            .filter_map(Permission::parse)
            .collect(),
        created_at: rfc3339(created_at),
    }
}

pub async fn create(
    state: &AppState,
    account_id: &str,
    form: &RamUserForm,
) -> Result<RamUserView, ApiError> {
    let (username, password) = form.parse()?;
    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    let id = format!("ram-{}", uuid::Uuid::new_v4().simple());
    let now = state.clock.now();
    let permissions = permissions_text(&form.permissions);
    let mut tx = account::begin_locked(&state.db, account_id).await?;
    let user = NewRamUser {
        id: &id,
        account_id,
        username: &username,
        password_hash: &hash,
        permissions: &permissions,
        created_at: now,
    };
    let inserted = ram_users::insert(&mut tx, &user).await;
    match inserted {
        Err(e) if db::is_unique_violation(&e) => return Err(ApiError::UsernameTaken),
        other => other?,
    };
    let created = Operation::RamUserCreated {
        name: username.clone(),
        permissions: permissions
            .split_whitespace()
            .filter_map(Permission::parse)
            .collect(),
    };
    oplog::record(&mut tx, account_id, created, now).await?;
    tx.commit().await?;
    Ok(to_view(id, username, &permissions, now))
}

pub async fn list(state: &AppState, account_id: &str) -> Result<Vec<RamUserView>, ApiError> {
    let rows = ram_users::of_account(&state.db, account_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| to_view(r.id, r.username, &r.permissions, r.created_at))
        .collect())
}

pub async fn view(state: &AppState, account_id: &str, id: &str) -> Result<RamUserView, ApiError> {
    let r = ram_users::find(&state.db, account_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(to_view(r.id, r.username, &r.permissions, r.created_at))
}

/// Deleting a RAM user ends its sessions too (they cascade).
pub async fn delete(state: &AppState, account_id: &str, id: &RamUserId) -> Result<(), ApiError> {
    let mut tx = account::begin_locked(&state.db, account_id).await?;
    let username = ram_users::delete(&mut tx, account_id, id.as_str())
        .await?
        .ok_or(ApiError::NotFound)?;
    let now = state.clock.now();
    let deleted = Operation::RamUserDeleted { name: username };
    oplog::record(&mut tx, account_id, deleted, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Returns the owner account, the RAM user and a new session.
pub async fn sign_in(
    state: &AppState,
    form: RamSignIn,
    origin: &Origin,
) -> Result<(String, String, NewSession), ApiError> {
    let alias = form.account_alias.as_str();
    let username = form.username;
    let throttle_key = ram_sign_in_key(alias, &username);
    let attempt = begin_attempt(state, &throttle_key, &origin.ip).await?;
    let found = ram_users::for_sign_in(&state.db, alias, &username).await?;
    let (ids, stored) = match found {
        Some((account_id, ram_id, hash)) => (Some((account_id, ram_id)), Some(hash)),
        None => (None, None),
    };
    let matches = attempt.check(state, form.password, stored).await?;
    let Some((account_id, ram_id)) = ids.filter(|_| matches) else {
        attempt.failed(state).await?;
        return Err(ApiError::InvalidCredentials);
    };
    // The status read under the account's lock: a closure confirmed meanwhile is seen.
    let mut tx = db::begin_write(&state.db).await?;
    let status = account::lock(&mut tx, &account_id).await?;
    if status != Some(AccountStatus::Active) {
        // During the owner's closure cool-down, RAM users cannot sign in at all; the password
        // was right, so the attempt is no failure.
        attempt.succeeded(&mut tx).await?;
        tx.commit().await?;
        return Err(ApiError::AccountClosing);
    }
    let now = state.clock.now();
    attempt.signed_in(&mut tx).await?;
    let session = auth::create(&mut tx, &account_id, Some(&ram_id), now, origin).await?;
    oplog::set_actor(OperationActor::RamUser {
        name: username.clone(),
    });
    let signed_in = crate::domain::session::signed_in(origin, false);
    oplog::record(&mut tx, &account_id, signed_in, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, ram_user = %ram_id, "RAM user signed in");
    Ok((account_id, ram_id, session))
}
