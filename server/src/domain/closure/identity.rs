//! The owner's identity (seed 001, step 2.1): a code sent to the verified mobile number, the
//! authenticator app, or (dev mode, real-name accounts) the simulated Alipay authorization.
//! A session that proved it may renounce items and confirm for the next 30 minutes.

use crate::auth::CurrentSession;
use crate::clock::{DurationMs, Millis};
use crate::db::Tx;
use crate::domain::account;
use crate::domain::verification;
use crate::error::ApiError;
use crate::oplog::{self, Operation};
use crate::state::AppState;
use crate::tables::{accounts, real_name_registrations, sessions};
use shared::account::{Channel, Delivery, Phone, VerificationCode};
use shared::api::CodeSent;
use shared::api::IdentityMethod;

/// The identity step stays valid this long within a session.
const IDENTITY_VALID: DurationMs = DurationMs::minutes(30);

/// Whether the session proved the owner's identity recently enough.
pub(super) fn identity_fresh(session: &CurrentSession, now: Millis) -> bool {
    session
        .identity_verified_at
        .is_some_and(|at| now - at <= IDENTITY_VALID)
}

pub(super) fn require_identity(session: &CurrentSession, now: Millis) -> Result<(), ApiError> {
    if !identity_fresh(session, now) {
        return Err(ApiError::IdentityNotVerified(
            "Verify your identity first (phone code or Alipay).".into(),
        ));
    }
    Ok(())
}

/// Sends the identity code to the account's verified mobile number (SMS).
pub async fn send_identity_code(
    state: &AppState,
    session: &CurrentSession,
    client: &str,
) -> Result<CodeSent, ApiError> {
    let (phone, verified): (Option<String>, Option<Millis>) =
        accounts::phone(&state.db, &session.account_id).await?;
    let Some(phone) = phone.filter(|_| verified.is_some()) else {
        return Err(ApiError::ContactNotVerified {
            needed: Channel::Phone,
        });
    };
    let shown = Phone::from_stored(phone.clone()).masked();
    verification::send_to_account(
        state,
        verification::Purpose::Closure,
        &session.account_id,
        (Channel::Phone, &phone, Some(Delivery::Sms)),
        shown,
        client,
    )
    .await
}

/// The session proved the owner's identity, by `method`, for the next 30 minutes.
async fn mark_identity(
    session: &CurrentSession,
    tx: &mut Tx,
    now: Millis,
    method: IdentityMethod,
) -> Result<(), ApiError> {
    sessions::set_identity_verified(tx, &session.token_hash, now).await?;
    oplog::record(
        tx,
        &session.account_id,
        Operation::ClosureIdentityVerified { method },
        now,
    )
    .await
}

pub async fn verify_identity(
    state: &AppState,
    session: &CurrentSession,
    code: &VerificationCode,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let tx = account::begin_locked(&state.db, &session.account_id).await?;
    let (mut tx, _) = verification::check(
        tx,
        &state.secrets,
        now,
        &verification::Purpose::Closure.subject(&session.account_id),
        code,
    )
    .await?;
    mark_identity(session, &mut tx, now, IdentityMethod::SmsCode).await?;
    tx.commit().await?;
    Ok(())
}

/// Proves the identity with the authenticator's code (or a recovery code), which is then used
/// up like at sign-in.
pub async fn verify_identity_by_authenticator(
    state: &AppState,
    session: &CurrentSession,
    form: &shared::api::TwoStepCodeForm,
    client: &str,
) -> Result<(), ApiError> {
    let mut tx = crate::domain::two_step::prove_identity(state, session, form, client).await?;
    mark_identity(
        session,
        &mut tx,
        state.clock.now(),
        IdentityMethod::Authenticator,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the Alipay authorization is open to the account: real-name registration (seed 001),
/// and the simulated Alipay of dev mode.
pub(super) async fn alipay_available(state: &AppState, account_id: &str) -> Result<bool, ApiError> {
    Ok(state.config.is_dev() && real_name_registrations::exists(&state.db, account_id).await?)
}

/// The simulated Alipay authorization: open to real-name-verified accounts only (seed 001).
pub async fn alipay_authorize(state: &AppState, session: &CurrentSession) -> Result<(), ApiError> {
    if !state.config.is_dev() {
        // Only the simulated Alipay exists; production verifies by phone code.
        return Err(ApiError::IdentityNotVerified(
            "Alipay authorization is not available on this server: use the phone code.".into(),
        ));
    }
    if !real_name_registrations::exists(&state.db, &session.account_id).await? {
        return Err(ApiError::IdentityNotVerified(
            "Alipay authorization needs real-name registration. Verify with a phone code instead."
                .into(),
        ));
    }
    let now = state.clock.now();
    let mut tx = account::begin_locked(&state.db, &session.account_id).await?;
    mark_identity(session, &mut tx, now, IdentityMethod::Alipay).await?;
    tx.commit().await?;
    Ok(())
}
