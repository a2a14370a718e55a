//! Two-step verification by an authenticator app (SPEC §1 "Account security"): RFC 6238 codes
//! of 6 digits for 30-second steps, accepted for the current step or one either side, each
//! step once; ten recovery codes shown once and kept as keyed hashes, each usable once.
//!
//! The authenticator's secret is sealed with a key outside the database ([`Secrets::seal`]).
//! Every check of a code is made inside a write transaction, which also records its use, so a
//! code sent twice at once is accepted once.

use crate::auth::{self, CurrentSession, NewSession, Origin};
use crate::clock::{DurationMs, Millis};
use crate::db::Tx;
use crate::domain::account;
use crate::domain::session::{begin_attempt, confirm_owner_password};
use crate::error::ApiError;
use crate::notices::Notice;
use crate::notify::{Outbox, OwnerNotice};
use crate::oplog::{self, Operation};
use crate::secrets::Secrets;
use crate::state::AppState;
use crate::tables::sign_in_challenges::{self, NewChallenge};
use crate::tables::two_step::{self, TwoStepRow};
use crate::tables::{accounts, recovery_codes};
use qrcode::QrCode;
use qrcode::render::svg;
use rand::Rng;
use shared::account::Email;
use shared::api::SignInRefusal;
use shared::api::{
    SecondFactor, TwoStepCodeForm, TwoStepDisableForm, TwoStepEnabled, TwoStepSetup, TwoStepStatus,
};
use totp_rs::{Algorithm, Secret, TOTP};

/// RFC 6238's time step.
pub const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;
/// Steps either side of the current one whose code is still accepted (clock drift).
const SKEW_STEPS: u64 = 1;
/// 160 bits, as RFC 4226 recommends for HMAC-SHA1.
const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;
/// A password proven, waiting for its second step.
pub const CHALLENGE_TTL: DurationMs = DurationMs::minutes(5);
const ISSUER: &str = "Account Center";

fn totp(secret: Vec<u8>) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECS, secret)
}

/// The code of `secret` at `unix_secs`.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    totp(secret.to_vec()).generate(unix_secs)
}

/// The step whose code `code` is, among the current one and [`SKEW_STEPS`] either side.
fn matching_step(secret: &[u8], code: &str, now: Millis) -> Option<u64> {
    let now_step = (now.unix_secs().max(0) as u64) / STEP_SECS;
    let totp = totp(secret.to_vec());
    (now_step.saturating_sub(SKEW_STEPS)..=now_step + SKEW_STEPS).find(|step| {
        auth::constant_time_eq(totp.generate(step * STEP_SECS).as_bytes(), code.as_bytes())
    })
}

fn recovery_subject(account_id: &str) -> String {
    format!("recovery:{account_id}")
}

/// A recovery code as shown: two groups of five base32 letters and digits.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut rng = rand::rngs::OsRng;
    let chars: String = (0..10)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

fn opened(secrets: &Secrets, account_id: &str, row: &TwoStepRow) -> Result<Vec<u8>, ApiError> {
    secrets.open(account_id, &row.secret_sealed).ok_or_else(|| {
        anyhow::anyhow!("the authenticator secret of {account_id} does not open").into()
    })
}

pub async fn status(state: &AppState, account_id: &str) -> Result<TwoStepStatus, ApiError> {
    let enabled_at = two_step::enabled_at(&state.db, account_id).await?;
    let left = recovery_codes::unused_count(&state.db, account_id).await?;
    Ok(TwoStepStatus {
        enabled: enabled_at.is_some(),
        enabled_at: enabled_at.map(crate::clock::rfc3339),
        recovery_codes_left: if enabled_at.is_some() { left as u32 } else { 0 },
    })
}

/// A new secret for the authenticator, waiting for its first code ([`enable`]). Needs a recent
/// sign-in; refused while two-step verification is on.
pub async fn setup(state: &AppState, session: &CurrentSession) -> Result<TwoStepSetup, ApiError> {
    let now = state.clock.now();
    session.require_recent_sign_in(now)?;
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill(&mut secret[..]);
    let mut tx = account::begin_locked(&state.db, &session.account_id).await?;
    if two_step::find(&mut tx, &session.account_id)
        .await?
        .is_some_and(|r| r.enabled_at.is_some())
    {
        return Err(ApiError::TwoStepAlreadyOn);
    }
    let email = accounts::email(&mut *tx, &session.account_id).await?;
    two_step::delete(&mut tx, &session.account_id).await?;
    let sealed = state.secrets.seal(&session.account_id, &secret);
    two_step::insert_pending(&mut tx, &session.account_id, &sealed, now).await?;
    tx.commit().await?;
    let encoded = Secret::Raw(secret).to_encoded().to_string();
    // Key Uri Format: `otpauth://totp/Issuer:account?secret=…&issuer=Issuer`.
    let encode = |text: &str| {
        url::form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let (issuer, account) = (encode(ISSUER), encode(&email));
    let label = format!("{issuer}:{account}");
    let otpauth_uri = format!(
        "otpauth://totp/{label}?secret={encoded}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}"
    );
    let qr_svg = QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| anyhow::anyhow!("QR code of the set-up: {e}"))?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(TwoStepSetup {
        secret: encoded,
        otpauth_uri,
        qr_svg,
    })
}

/// Turns two-step verification on with the first code of the new secret, and answers the ten
/// recovery codes: the only time they are shown.
pub async fn enable(
    state: &AppState,
    session: &CurrentSession,
    form: &TwoStepCodeForm,
) -> Result<TwoStepEnabled, ApiError> {
    let SecondFactor::Totp(code) = form.parse()? else {
        return Err(ApiError::TotpIncorrect);
    };
    let now = state.clock.now();
    let mut tx = account::begin_locked(&state.db, &session.account_id).await?;
    let Some(pending) = two_step::find(&mut tx, &session.account_id)
        .await?
        .filter(|r| r.enabled_at.is_none())
    else {
        return Err(ApiError::TwoStepNotSetUp);
    };
    let secret = opened(&state.secrets, &session.account_id, &pending)?;
    let Some(step) = matching_step(&secret, &code, now) else {
        return Err(ApiError::TotpIncorrect);
    };
    two_step::enable(&mut tx, &session.account_id, now, step as i64).await?;
    recovery_codes::delete_of_account(&mut tx, &session.account_id).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let subject = recovery_subject(&session.account_id);
    for code in &codes {
        let code_hash = state.secrets.code_hash(&subject, &code.replace('-', ""));
        recovery_codes::insert(&mut tx, &session.account_id, &code_hash, now).await?;
    }
    tell(&state.outbox, &mut tx, &session.account_id, now, true).await?;
    oplog::record(&mut tx, &session.account_id, Operation::TwoStepOn, now).await?;
    tx.commit().await?;
    tracing::info!(account = %session.account_id, "two-step verification on");
    Ok(TwoStepEnabled {
        recovery_codes: codes,
    })
}

/// Checks a second factor against the account's authenticator or its unused recovery codes,
/// inside `tx`, and uses it up: the step is recorded (no code of it or an older step is taken
/// again), or the recovery code marked used. False when it matches nothing.
async fn consume(
    tx: &mut Tx,
    secrets: &Secrets,
    account_id: &str,
    factor: &SecondFactor,
    now: Millis,
) -> Result<bool, ApiError> {
    match factor {
        SecondFactor::Totp(code) => {
            let Some(on) = two_step::find(tx, account_id)
                .await?
                .filter(|r| r.enabled_at.is_some())
            else {
                return Ok(false);
            };
            let secret = opened(secrets, account_id, &on)?;
            let Some(step) = matching_step(&secret, code, now).filter(|&s| s as i64 > on.last_step)
            else {
                return Ok(false);
            };
            two_step::set_last_step(tx, account_id, step as i64).await?;
            Ok(true)
        }
        SecondFactor::Recovery(code) => {
            let code_hash = secrets.code_hash(&recovery_subject(account_id), code);
            Ok(recovery_codes::mark_used(tx, account_id, &code_hash, now).await?)
        }
    }
}

/// A second factor checked like a password: counted against the sign-in throttle of the
/// account's email before it starts, so a burst of guesses reaches the check five times.
/// Returns the write transaction the factor was used up in, for the caller's own writes.
async fn prove(
    state: &AppState,
    account_id: &str,
    factor: &SecondFactor,
    client: &str,
) -> Result<(Tx, crate::domain::session::Attempt), ApiError> {
    let email = accounts::email(&state.db, account_id).await?;
    let attempt = begin_attempt(state, &email, client).await?;
    let mut tx = account::begin_locked(&state.db, account_id).await?;
    if !consume(
        &mut tx,
        &state.secrets,
        account_id,
        factor,
        state.clock.now(),
    )
    .await?
    {
        tx.rollback().await?;
        attempt.failed(state).await?;
        oplog::record_alone(
            state,
            account_id,
            Operation::SignInFailed {
                reason: SignInRefusal::WrongTwoStepCode,
            },
        )
        .await?;
        return Err(ApiError::TotpIncorrect);
    }
    Ok((tx, attempt))
}

/// Turns two-step verification off: the password and a current code (or a recovery code).
pub async fn disable(
    state: &AppState,
    session: &CurrentSession,
    form: &TwoStepDisableForm,
    client: &str,
) -> Result<(), ApiError> {
    let (password, factor) = form.parse()?;
    if two_step::enabled_at(&state.db, &session.account_id)
        .await?
        .is_none()
    {
        return Err(ApiError::TwoStepNotSetUp);
    }
    let attempt = confirm_owner_password(state, &session.account_id, client, password).await?;
    let mut tx = account::begin_locked(&state.db, &session.account_id).await?;
    attempt.succeeded(&mut tx).await?;
    tx.commit().await?;
    let (mut tx, attempt) = prove(state, &session.account_id, &factor, client).await?;
    attempt.succeeded(&mut tx).await?;
    let now = state.clock.now();
    two_step::delete(&mut tx, &session.account_id).await?;
    recovery_codes::delete_of_account(&mut tx, &session.account_id).await?;
    tell(&state.outbox, &mut tx, &session.account_id, now, false).await?;
    oplog::record(&mut tx, &session.account_id, Operation::TwoStepOff, now).await?;
    tx.commit().await?;
    tracing::info!(account = %session.account_id, "two-step verification off");
    Ok(())
}

/// A sign-in whose password was right, waiting for its second step: the secret for the
/// challenge cookie, kept as a hash.
pub async fn challenge(
    tx: &mut Tx,
    account_id: &str,
    now: Millis,
    origin: &Origin,
) -> Result<String, ApiError> {
    let token = auth::random_token();
    let challenge = NewChallenge {
        token_hash: &auth::hash_token(&token),
        account_id,
        created_at: now,
        expires_at: now + CHALLENGE_TTL,
        ip: &origin.ip,
    };
    sign_in_challenges::insert(tx, &challenge).await?;
    Ok(token)
}

/// The second step of a sign-in: the challenge from the cookie and a code. Answers the
/// account and its new session.
pub async fn complete_sign_in(
    state: &AppState,
    challenge_token: Option<&str>,
    form: &TwoStepCodeForm,
    origin: &Origin,
) -> Result<(String, NewSession), ApiError> {
    let factor = form.parse()?;
    let now = state.clock.now();
    let token_hash = challenge_token
        .map(auth::hash_token)
        .ok_or(ApiError::TwoStepExpired)?;
    let account_id = sign_in_challenges::live_account(&state.db, &token_hash, now)
        .await?
        .ok_or(ApiError::TwoStepExpired)?;
    let (mut tx, attempt) = prove(state, &account_id, &factor, &origin.ip).await?;
    if !sign_in_challenges::delete(&mut tx, &token_hash).await? {
        // The same challenge completed beside this request.
        return Err(ApiError::TwoStepExpired);
    }
    attempt.signed_in(&mut tx).await?;
    let session = auth::create(&mut tx, &account_id, None, now, origin).await?;
    let signed_in = crate::domain::session::signed_in(origin, true);
    oplog::record(&mut tx, &account_id, signed_in, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, "signed in with two-step verification");
    Ok((account_id, session))
}

/// The closure's identity check by the authenticator, beside the phone code (seed 001).
pub async fn prove_identity(
    state: &AppState,
    session: &CurrentSession,
    form: &TwoStepCodeForm,
    client: &str,
) -> Result<Tx, ApiError> {
    let factor = form.parse()?;
    let (mut tx, attempt) = prove(state, &session.account_id, &factor, client).await?;
    attempt.succeeded(&mut tx).await?;
    Ok(tx)
}

/// Tells the verified email that two-step verification was turned on or off.
async fn tell(
    outbox: &Outbox,
    tx: &mut Tx,
    account_id: &str,
    now: Millis,
    on: bool,
) -> Result<(), ApiError> {
    let (email, verified) = accounts::email_verified(tx, account_id).await?;
    if verified.is_none() {
        return Ok(());
    }
    let email = Email::from_stored(email);
    outbox
        .tell_owner(
            tx,
            now,
            OwnerNotice {
                account_id: Some(account_id),
                email: Some(email.as_str()),
                phone: None,
                notice: if on {
                    Notice::TwoStepOn
                } else {
                    Notice::TwoStepOff
                },
            },
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret and its 8-digit codes, of which ours are the
    /// last six digits (RFC 4226's truncation keeps the low digits).
    #[test]
    fn codes_follow_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight_digits) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, time), eight_digits[2..], "T = {time}");
        }
    }

    #[test]
    fn a_code_of_one_step_either_side_matches_two_steps_do_not() {
        let secret = b"12345678901234567890";
        let at = Millis(1_234_567_890_000);
        let now = at.unix_secs() as u64;
        for (offset, expected) in [
            (-60i64, None),
            (-30, Some(-1)),
            (0, Some(0)),
            (30, Some(1)),
            (60, None),
        ] {
            let code = code_at(secret, (now as i64 + offset) as u64);
            let step =
                matching_step(secret, &code, at).map(|s| s as i64 - (now / STEP_SECS) as i64);
            assert_eq!(step, expected, "offset {offset} s");
        }
    }

    #[test]
    fn recovery_codes_are_two_groups_of_five() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(&code[5..6], "-");
        assert!(
            code.replace('-', "")
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
        assert_ne!(new_recovery_code(), code);
    }
}
