//! Sign-up (SPEC §1): a form becomes a pending sign-up; a code sent to its email or phone
//! proves it, and only then does the account exist, signed in.

use crate::auth::{self, NewSession, Origin};
use crate::clock::{DurationMs, Millis, rfc3339};
use crate::db::{self, Stored, Tx};
use crate::domain::verification::{self, Destination};
use crate::error::ApiError;
use crate::ids::SignupId;
use crate::state::AppState;
use crate::tables::accounts::{self, NewAccount};
use crate::tables::signups::{self, Pending};
use shared::account::{Channel, VerificationCode};
use shared::api::{CodeSent, CodeTarget, SendCodeForm, Signup, SignupStarted};
use shared::country::Country;

/// A pending sign-up is forgotten a day after it was made.
pub const SIGNUP_TTL: DurationMs = DurationMs::hours(24);

impl Pending {
    fn country(&self) -> Country {
        self.country.0
    }

    fn view(&self) -> Result<SignupStarted, ApiError> {
        let country = self.country();
        Ok(SignupStarted {
            signup_id: self.id.clone(),
            email: self.email.clone(),
            country: country.code().to_owned(),
            calling_code: country.calling_code().to_owned(),
            expires_at: rfc3339(self.expires_at),
        })
    }
}

pub async fn start(state: &AppState, signup: Signup) -> Result<SignupStarted, ApiError> {
    // Hash before the write lock: argon2 takes tens of milliseconds.
    let password_hash = state
        .hasher
        .hash(signup.password.expose().to_owned())
        .await?;
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    if accounts::live_email_exists(&mut tx, signup.email.as_str()).await? {
        return Err(ApiError::EmailTaken);
    }
    let pending = Pending {
        id: uuid::Uuid::new_v4().to_string(),
        email: signup.email.as_str().to_owned(),
        password_hash,
        country: Stored(signup.country),
        expires_at: now + SIGNUP_TTL,
        account_id: None,
    };
    signups::insert(&mut tx, &pending, now).await?;
    tx.commit().await?;
    tracing::info!(signup = %pending.id, "sign-up started");
    pending.view()
}

pub async fn get(state: &AppState, id: &SignupId) -> Result<SignupStarted, ApiError> {
    let mut tx = state.db.readers().begin().await?;
    load(&mut tx, id, state.clock.now()).await?.view()
}

/// Loads a sign-up that can still be verified.
async fn load(tx: &mut Tx, id: &SignupId, now: Millis) -> Result<Pending, ApiError> {
    let pending = signups::find(tx, id.as_str())
        .await?
        .ok_or(ApiError::SignupNotFound)?;
    if pending.account_id.is_some() {
        return Err(ApiError::CodeUsed);
    }
    if now >= pending.expires_at {
        return Err(ApiError::SignupExpired);
    }
    Ok(pending)
}

/// The subject of a sign-up's codes.
pub fn subject(id: &str) -> String {
    format!("signup:{id}")
}

pub async fn send_code(
    state: &AppState,
    id: &SignupId,
    form: &SendCodeForm,
    client: &str,
) -> Result<CodeSent, ApiError> {
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    let pending = load(&mut tx, id, now).await?;
    let target = form.parse(pending.country())?;
    if accounts::live_email_exists(&mut tx, &pending.email).await? {
        return Err(ApiError::EmailTaken);
    }
    let (channel, address, delivery, sent_to) = match &target {
        CodeTarget::Email => {
            let email = shared::account::Email::parse(&pending.email)
                .map_err(|e| anyhow::anyhow!("stored email: {e}"))?;
            (Channel::Email, pending.email.clone(), None, email.masked())
        }
        CodeTarget::Phone(phone, delivery) => (
            Channel::Phone,
            phone.as_str().to_owned(),
            Some(*delivery),
            phone.masked(),
        ),
    };
    let to = Destination {
        channel,
        address: &address,
        delivery,
        account_id: None,
        decoy: false,
    };
    verification::issue(&mut tx, state, now, &subject(id.as_str()), &to, client).await?;
    tx.commit().await?;
    Ok(verification::code_sent(channel, delivery, sent_to))
}

/// Proves the sign-up with `code`, creates the account and signs it in.
pub async fn verify(
    state: &AppState,
    id: &SignupId,
    code: &VerificationCode,
    origin: &Origin,
) -> Result<(String, NewSession), ApiError> {
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    let pending = load(&mut tx, id, now).await?;
    let (mut tx, proven) =
        verification::check(tx, &state.secrets, now, &subject(id.as_str()), code).await?;
    let account_id = uuid::Uuid::new_v4().to_string();
    let (email_verified_at, phone, phone_verified_at) = match proven.channel {
        Channel::Email => (Some(now), None, None),
        Channel::Phone => (None, Some(proven.address.clone()), Some(now)),
    };
    let account = NewAccount {
        id: &account_id,
        uid: &new_uid(),
        email: &pending.email,
        password_hash: &pending.password_hash,
        country: pending.country.0,
        verified_channel: proven.channel,
        email_verified_at,
        phone: phone.as_deref(),
        phone_verified_at,
        created_at: now,
    };
    let inserted = accounts::insert(&mut tx, &account).await;
    match inserted {
        Err(e) if db::is_unique_violation(&e) => return Err(ApiError::EmailTaken),
        other => other?,
    };
    signups::mark_verified(&mut tx, id.as_str(), &account_id).await?;
    let session = auth::create(&mut tx, &account_id, None, now, origin).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, channel = proven.channel.as_str(), "account created");
    Ok((account_id, session))
}

/// The account ID people type to sign in as a RAM user: 16 digits, like a cloud console's UID.
fn new_uid() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    format!("5{:015}", rng.gen_range(0..1_000_000_000_000_000u64))
}
