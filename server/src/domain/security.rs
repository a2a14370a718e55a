//! Account security self-service (SPEC §1 "Account security"): a forgotten password reset by a
//! code to the verified email or phone, a password change, and the account's sessions.
//!
//! A reset answers the same whether or not an account uses the address typed: one that names
//! none is stored and its code counted like any other, only never sent (a decoy). A reset and a
//! change each write in one transaction: the password, the sessions they end and the notices
//! they send, or nothing.

use crate::auth::{self, CurrentSession};
use crate::clock::{DurationMs, Millis, rfc3339};
use crate::db::{self, Tx};
use crate::domain::account;
use crate::domain::session::confirm_password;
use crate::domain::verification::{self, Destination};
use crate::error::ApiError;
use crate::ids::{ResetId, SessionListId};
use crate::notices::Notice;
use crate::notify::{Outbox, OwnerNotice};
use crate::oplog::{self, Operation};
use crate::state::AppState;
use crate::tables::password_resets::{self, NewReset, Reset};
use crate::tables::{accounts, sessions, verification_codes};
use shared::account::{Channel, Email, Password};
use shared::api::{
    ChangePasswordForm, CodeSent, PasswordResetForm, PasswordResetStarted, ResetAddress,
    ResetPasswordForm, SessionEntry, SessionList,
};

/// A reset may send codes (each living ten minutes) for an hour.
pub const RESET_TTL: DurationMs = DurationMs::hours(1);

/// The subject of a reset's codes.
pub fn subject(reset_id: &str) -> String {
    format!("reset:{reset_id}")
}

impl Reset {
    fn destination(&self) -> Destination<'_> {
        Destination {
            channel: self.channel.0,
            address: &self.address,
            delivery: self.delivery.as_ref().map(|d| d.0),
            account_id: self.account_id.as_deref(),
            decoy: self.account_id.is_none(),
        }
    }
}

/// A reset that can still be used, read inside `tx`.
async fn load(tx: &mut Tx, id: &ResetId, now: Millis) -> Result<Reset, ApiError> {
    let reset = password_resets::find(tx, id.as_str())
        .await?
        .ok_or(ApiError::ResetNotFound)?;
    if reset.used_at.is_some() || now >= reset.expires_at {
        return Err(ApiError::ResetExpired);
    }
    Ok(reset)
}

/// The active account that verified `address`. A number that several accounts verified names
/// none of them: the reset could not tell whose password to change (the email can). An
/// account in its closure cool-down is not active: nothing of it changes until the decision
/// (SPEC §6.3), so its address gets what an unknown one does.
async fn account_verifying(
    tx: &mut Tx,
    address: &ResetAddress,
) -> Result<Option<String>, ApiError> {
    let mut found = accounts::active_verified_by(tx, address.channel(), address.as_str()).await?;
    Ok(if found.len() == 1 { found.pop() } else { None })
}

/// Starts a reset and sends its first code, to an account's verified address or to nobody.
pub async fn start_reset(
    state: &AppState,
    form: &PasswordResetForm,
    client: &str,
) -> Result<PasswordResetStarted, ApiError> {
    let address = form.parse()?;
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    let account_id = account_verifying(&mut tx, &address).await?;
    if let Some(account_id) = &account_id {
        account::lock(&mut tx, account_id).await?;
    }
    let id = uuid::Uuid::new_v4().to_string();
    let reset = NewReset {
        id: &id,
        account_id: account_id.as_deref(),
        channel: address.channel(),
        address: address.as_str(),
        delivery: address.delivery(),
        created_at: now,
        expires_at: now + RESET_TTL,
    };
    password_resets::insert(&mut tx, &reset).await?;
    let to = Destination {
        channel: address.channel(),
        address: address.as_str(),
        delivery: address.delivery(),
        account_id: account_id.as_deref(),
        decoy: account_id.is_none(),
    };
    verification::issue(&mut tx, state, now, &subject(&id), &to, client).await?;
    tx.commit().await?;
    tracing::info!(reset = %id, "password reset started");
    Ok(PasswordResetStarted {
        reset_id: id,
        code: verification::code_sent(address.channel(), address.delivery(), address.masked()),
    })
}

/// Sends a reset's code again, after the same wait as any code.
pub async fn resend_code(
    state: &AppState,
    id: &ResetId,
    client: &str,
) -> Result<CodeSent, ApiError> {
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    let reset = load(&mut tx, id, now).await?;
    if let Some(account_id) = &reset.account_id {
        account::lock(&mut tx, account_id).await?;
    }
    let to = reset.destination();
    verification::issue(&mut tx, state, now, &subject(id.as_str()), &to, client).await?;
    tx.commit().await?;
    let sent_to = match to.channel {
        Channel::Email => Email::from_stored(reset.address.clone()).masked(),
        Channel::Phone => shared::account::Phone::from_stored(reset.address.clone()).masked(),
    };
    Ok(verification::code_sent(to.channel, to.delivery, sent_to))
}

/// Proves the reset with its code and sets the new password; every session of the account
/// ends, and its verified email and phone are told.
pub async fn complete_reset(
    state: &AppState,
    id: &ResetId,
    form: &ResetPasswordForm,
    client: &str,
) -> Result<(), ApiError> {
    // The page cannot know the account's email when the code went to a phone; the rule about
    // the email's name is checked again once the code has proven the account.
    let parsed = form.parse(None)?;
    let now = state.clock.now();
    // Refuse what cannot succeed before the hasher's work: a reset unknown, used or expired,
    // or a code already spent or tried five times. The transaction below checks it all again.
    {
        let mut tx = state.db.readers().begin().await?;
        load(&mut tx, id, now).await?;
        match verification_codes::newest_tries(&mut tx, &subject(id.as_str())).await? {
            None => return Err(ApiError::NoCodeSent),
            Some((_, Some(_))) => return Err(ApiError::CodeUsed),
            Some((attempts, None)) if attempts >= verification::MAX_ATTEMPTS => {
                return Err(ApiError::CodeAttemptsExceeded);
            }
            Some(_) => {}
        }
    }
    let password_hash = state
        .hasher
        .hash(parsed.password.expose().to_owned())
        .await?;

    let mut tx = db::begin_write(&state.db).await?;
    let reset = load(&mut tx, id, now).await?;
    if let Some(account_id) = &reset.account_id {
        account::lock(&mut tx, account_id).await?;
    }
    let (mut tx, _) =
        verification::check(tx, &state.secrets, now, &subject(id.as_str()), &parsed.code).await?;
    let channel = reset.destination().channel;
    // A decoy's code was never sent: it matches only by a one-in-a-million guess, which
    // changes nothing.
    let Some(account_id) = reset.account_id else {
        return Err(ApiError::ResetExpired);
    };
    let owner = Owner::read(&mut tx, &account_id).await?;
    if let Err(e) = Password::parse(form.password.as_str(), Some(&owner.email)) {
        // Dropping the transaction takes the code's use back: the same code may try again.
        return Err(e.at("password").into());
    }
    // A closure started since the reset began freezes the account: the reset is over.
    if !accounts::set_password_if_active(&mut tx, &account_id, &password_hash).await? {
        return Err(ApiError::ResetExpired);
    }
    password_resets::mark_used(&mut tx, id.as_str(), now).await?;
    sessions::delete_of_account(&mut tx, &account_id).await?;
    owner
        .tell(
            &state.outbox,
            &mut tx,
            now,
            Notice::PasswordReset { client },
        )
        .await?;
    let reset = Operation::PasswordReset { channel };
    oplog::record(&mut tx, &account_id, reset, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, "password reset");
    Ok(())
}

/// Changes the owner's password: the current one proven (throttled like a sign-in), the new
/// one by the sign-up rules. The owner's other sessions end; this one stays, freshly proven.
pub async fn change_password(
    state: &AppState,
    session: &CurrentSession,
    form: &ChangePasswordForm,
    client: &str,
) -> Result<(), ApiError> {
    let (email, stored) = accounts::credentials(&state.db, &session.account_id).await?;
    let change = form.parse(&Email::from_stored(email.clone()))?;
    let attempt = confirm_password(
        state,
        &email,
        client,
        change.current,
        stored.clone(),
        ApiError::WrongCurrentPassword,
    )
    .await?;
    let password_hash = state
        .hasher
        .hash(change.password.expose().to_owned())
        .await?;
    let now = state.clock.now();
    let mut tx = account::begin_locked(&state.db, &session.account_id).await?;
    attempt.succeeded(&mut tx).await?;
    // Only over the password just proven: a change made meanwhile by another session wins,
    // and this one must prove the password again.
    if !accounts::replace_password(&mut tx, &session.account_id, &stored, &password_hash).await? {
        return Err(ApiError::WrongCurrentPassword);
    }
    sessions::delete_other_owner_sessions(&mut tx, &session.account_id, &session.token_hash)
        .await?;
    sessions::set_authenticated(&mut tx, &session.token_hash, now).await?;
    Owner::read(&mut tx, &session.account_id)
        .await?
        .tell(
            &state.outbox,
            &mut tx,
            now,
            Notice::PasswordChanged { client },
        )
        .await?;
    oplog::record(
        &mut tx,
        &session.account_id,
        Operation::PasswordChanged,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %session.account_id, "password changed");
    Ok(())
}

/// The owner's addresses, for the notices of a password's change.
struct Owner {
    id: String,
    email: Email,
    /// Set when verified.
    verified_email: bool,
    verified_phone: Option<String>,
}

impl Owner {
    async fn read(tx: &mut Tx, account_id: &str) -> Result<Owner, ApiError> {
        let contact = accounts::contact(&mut **tx, account_id)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        Ok(Owner {
            id: account_id.to_owned(),
            email: Email::from_stored(contact.email),
            verified_email: contact.email_verified_at.is_some(),
            verified_phone: contact
                .phone
                .filter(|_| contact.phone_verified_at.is_some()),
        })
    }

    /// Queues the notice to the verified email and phone.
    async fn tell(
        &self,
        outbox: &Outbox,
        tx: &mut Tx,
        now: Millis,
        notice: Notice<'_>,
    ) -> Result<(), ApiError> {
        outbox
            .tell_owner(
                tx,
                now,
                OwnerNotice {
                    account_id: Some(&self.id),
                    email: self.verified_email.then_some(self.email.as_str()),
                    phone: self.verified_phone.as_deref(),
                    notice,
                },
            )
            .await?;
        Ok(())
    }
}

/// The account's live sessions, the owner's and its RAM users': the asking one first, then the
/// most recently used.
pub async fn list_sessions(
    state: &AppState,
    session: &CurrentSession,
) -> Result<SessionList, ApiError> {
    let rows = sessions::live_of_account(&state.db, &session.account_id, state.clock.now()).await?;
    let mut sessions: Vec<SessionEntry> = rows
        .into_iter()
        .map(|row| SessionEntry {
            id: auth::public_id(&row.token_hash).to_owned(),
            current: row.token_hash == session.token_hash,
            user_agent: row.user_agent,
            // NULL in a row written before migration 0012 added the column.
            ip: row.ip.unwrap_or_else(|| "unknown".to_owned()),
            started_at: rfc3339(row.created_at),
            last_used_at: rfc3339(row.last_used_at.unwrap_or(row.created_at)),
            ram_user: row.username,
        })
        .collect();
    sessions.sort_by_key(|s| !s.current);
    Ok(SessionList { sessions })
}

/// Signs one of the account's sessions out, by its listed id.
pub async fn sign_out_session(
    state: &AppState,
    session: &CurrentSession,
    id: &SessionListId,
) -> Result<(), ApiError> {
    let id = id.as_str();
    if id.len() != auth::PUBLIC_ID_CHARS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound);
    }
    let mut tx = account::begin_locked(&state.db, &session.account_id).await?;
    let gone =
        sessions::delete_by_public_id(&mut tx, &session.account_id, &id.to_ascii_lowercase())
            .await?;
    let Some(user_agent) = gone else {
        return Err(ApiError::NotFound);
    };
    let now = state.clock.now();
    oplog::record(
        &mut tx,
        &session.account_id,
        Operation::SessionSignedOut { user_agent },
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %session.account_id, "session signed out by the owner");
    Ok(())
}

/// Signs out the owner's other sessions (RAM users' stay: they are signed out one by one).
pub async fn sign_out_others(state: &AppState, session: &CurrentSession) -> Result<u32, ApiError> {
    let mut tx = account::begin_locked(&state.db, &session.account_id).await?;
    let deleted =
        sessions::delete_other_owner_sessions(&mut tx, &session.account_id, &session.token_hash)
            .await?;
    if deleted > 0 {
        let signed_out = Operation::OtherSessionsSignedOut {
            count: deleted as u32,
        };
        let now = state.clock.now();
        oplog::record(&mut tx, &session.account_id, signed_out, now).await?;
    }
    tx.commit().await?;
    Ok(deleted as u32)
}
