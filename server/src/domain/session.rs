//! Sign-in and sign-out (SPEC §1). Failures slow sign-in down per email and per client, and
//! the answer never tells whether the email has an account.

use crate::auth::{self, CurrentSession, NewSession, Origin};
use crate::clock::{DurationMs, Millis};
use crate::db::{self, Tx};
use crate::domain::account;
use crate::domain::two_step;
use crate::domain::verification::secs_until;
use crate::error::ApiError;
use crate::oplog::{self, Operation};
use crate::rate_limit;
use crate::state::AppState;
use crate::tables::{accounts, ram_users, sessions};
use shared::api::SignIn;
use shared::api::SignInRefusal;

const WINDOW: DurationMs = DurationMs::minutes(15);
/// Failures allowed before waits begin, per email and per client.
const FREE_FAILURES_PER_EMAIL: i64 = 5;
const FREE_FAILURES_PER_CLIENT: i64 = 20;
const FIRST_WAIT: DurationMs = DurationMs::seconds(30);
const LONGEST_WAIT: DurationMs = WINDOW;

/// After `free` failures each further one doubles the wait from the last failure:
/// 30 s, 1 min, 2 min, … up to 15 min.
fn wait_after(failures: i64, free: i64) -> Option<DurationMs> {
    let over = failures - free;
    (over >= 0).then(|| (FIRST_WAIT * (1 << over.min(10))).min(LONGEST_WAIT))
}

const EMAIL_SCOPE: &str = "signin_failed_email";
const CLIENT_SCOPE: &str = "signin_failed_client";

/// The throttle's key for a RAM user's sign-in: the alias and user name as typed, so the user
/// may not exist.
pub fn ram_sign_in_key(alias: &str, username: &str) -> String {
    format!("ram:{alias}/{username}")
}

/// The throttle's key for a RAM user's re-authentication: the account's email and the user.
fn ram_reauth_key(email: &str, username: &str) -> String {
    format!("{email}/{username}")
}

/// Every throttle key that names an account (its email, its UID), for deleting it: the owner's
/// key, and each of `ram_users`' sign-in and re-authentication keys. Keys typed for RAM users
/// the account does not have (any more) are not among them; they go with the housekeeping
/// sweep of events past every window, a day on.
pub fn throttle_keys(email: &str, uid: &str, ram_users: &[&str]) -> Vec<String> {
    let mut keys = vec![email.to_owned()];
    for username in ram_users {
        keys.push(ram_sign_in_key(uid, username));
        keys.push(ram_reauth_key(email, username));
    }
    keys
}

/// One password check, counted against the throttle before it starts (SPEC §1: attempts sent
/// at the same moment count too). Until its outcome is known it counts as a failure, so of a
/// burst for one email only the first five reach the hasher. A wrong password leaves it
/// counted ([`Attempt::failed`]); a right one takes it back ([`Attempt::succeeded`],
/// [`Attempt::signed_in`]). One dropped on the way (an error, a client gone) stays counted.
#[must_use = "an attempt counts as a failure until its outcome is recorded"]
pub struct Attempt {
    id: String,
    email: String,
    client: String,
    at: Millis,
}

/// Refuses with `SignInThrottled` while `email` or `client` is in a wait after failures (the
/// attempts still under way among them), and otherwise counts this attempt. The check and the
/// count are one write transaction: attempts at the same moment are counted one after the
/// other, each seeing those before it.
pub async fn begin_attempt(
    state: &AppState,
    email: &str,
    client: &str,
) -> Result<Attempt, ApiError> {
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    rate_limit::lock(
        &mut tx,
        &[(EMAIL_SCOPE, email), (CLIENT_SCOPE, client)],
        &[],
    )
    .await?;
    let windows = rate_limit::two_windows(
        &mut tx,
        (EMAIL_SCOPE, email),
        (CLIENT_SCOPE, client),
        now - WINDOW,
    )
    .await?;
    if let Some(until) = throttled_until(windows, now) {
        // At once rather than on drop: the write lock is every writer's, and a storm of
        // refusals must not hold it.
        tx.rollback().await?;
        return Err(ApiError::SignInThrottled {
            retry_after: secs_until(until, now),
        });
    }
    let attempt = Attempt {
        id: uuid::Uuid::new_v4().simple().to_string(),
        email: email.to_owned(),
        client: client.to_owned(),
        at: now,
    };
    rate_limit::record_attempt(&mut tx, EMAIL_SCOPE, email, now, &attempt.id).await?;
    rate_limit::record_attempt(&mut tx, CLIENT_SCOPE, client, now, &attempt.id).await?;
    tx.commit().await?;
    Ok(attempt)
}

/// The signed-in owner (or RAM user) proves the password again, through the same throttle as a
/// sign-in: answers the attempt to settle in the write it allows, or `wrong` when the password
/// is not `stored`'s.
pub async fn confirm_password(
    state: &AppState,
    throttle_key: &str,
    client: &str,
    password: String,
    stored: String,
    wrong: ApiError,
) -> Result<Attempt, ApiError> {
    let attempt = begin_attempt(state, throttle_key, client).await?;
    if !attempt.check(state, password, Some(stored)).await? {
        attempt.failed(state).await?;
        return Err(wrong);
    }
    Ok(attempt)
}

/// The signed-in owner proves the account's password again: [`confirm_password`], throttled by
/// the account's email as its sign-ins are.
pub async fn confirm_owner_password(
    state: &AppState,
    account_id: &str,
    client: &str,
    password: String,
) -> Result<Attempt, ApiError> {
    let (email, stored) = accounts::credentials(&state.db, account_id).await?;
    confirm_password(
        state,
        &email,
        client,
        password,
        stored,
        ApiError::WrongPassword,
    )
    .await
}

/// When the wait ends, if `now` is in one: the failure counts and newest failures of the email
/// and of the client, in that order.
fn throttled_until(windows: [(i64, Option<Millis>); 2], now: Millis) -> Option<Millis> {
    windows
        .into_iter()
        .zip([FREE_FAILURES_PER_EMAIL, FREE_FAILURES_PER_CLIENT])
        .filter_map(|((failures, last), free)| Some(last? + wait_after(failures, free)?))
        .filter(|&until| now < until)
        .max()
}

impl Attempt {
    /// Checks `password` against `stored`, or against the decoy when there is no account, so an
    /// unknown email costs what a known one does. When the hasher gives no answer (busy, or
    /// broken) no password was tried, and the attempt is taken back.
    pub async fn check(
        &self,
        state: &AppState,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, ApiError> {
        let answer = state.hasher.verify(password, stored).await;
        if answer.is_err() {
            let mut tx = db::begin_write(&state.db).await?;
            self.take_back(&mut tx).await?;
            tx.commit().await?;
        }
        answer
    }

    /// The password was wrong: the attempt stays counted, now a failure like any other.
    pub async fn failed(self, state: &AppState) -> Result<(), ApiError> {
        let mut tx = db::begin_write(&state.db).await?;
        rate_limit::settle(&mut tx, EMAIL_SCOPE, &self.email, self.at, &self.id).await?;
        rate_limit::settle(&mut tx, CLIENT_SCOPE, &self.client, self.at, &self.id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The password was right: the attempt does not count.
    pub async fn succeeded(self, tx: &mut Tx) -> Result<(), ApiError> {
        self.take_back(tx).await
    }

    /// The password was right and a session begins: the attempt does not count, and the email's
    /// earlier failures are forgotten (not the client's: signing in to one account must not
    /// hide its guesses at others), but not the attempts still under way beside this one.
    pub async fn signed_in(self, tx: &mut Tx) -> Result<(), ApiError> {
        rate_limit::clear(tx, EMAIL_SCOPE, &self.email).await?;
        self.take_back(tx).await
    }

    async fn take_back(&self, tx: &mut Tx) -> Result<(), ApiError> {
        rate_limit::take_back(tx, EMAIL_SCOPE, &self.email, self.at, &self.id).await?;
        rate_limit::take_back(tx, CLIENT_SCOPE, &self.client, self.at, &self.id).await?;
        Ok(())
    }
}

/// What a right password leads to.
pub enum SignedIn {
    /// A session.
    Session(String, NewSession),
    /// The account asks for its authenticator's code next: the challenge cookie's token.
    TwoStep(String),
}

pub async fn sign_in(
    state: &AppState,
    form: SignIn,
    origin: &Origin,
) -> Result<SignedIn, ApiError> {
    let email = form.email.as_str();
    let attempt = begin_attempt(state, email, &origin.ip).await?;
    let found = accounts::live_by_email(&state.db, email).await?;
    let (account_id, stored) = found.unzip();
    let matches = attempt.check(state, form.password, stored).await?;
    let Some(account_id) = account_id.clone().filter(|_| matches) else {
        attempt.failed(state).await?;
        // Only an account's own log can say so; a guess at an unknown email names none.
        if let Some(known) = &account_id {
            let refused = Operation::SignInFailed {
                reason: SignInRefusal::WrongPassword,
            };
            oplog::record_alone(state, known, refused).await?;
        }
        tracing::info!("sign-in failed");
        return Err(ApiError::InvalidCredentials);
    };
    let now = state.clock.now();
    let mut tx = account::begin_locked(&state.db, &account_id).await?;
    // Read in the transaction that makes the session: turned on a moment ago, it is asked.
    if crate::tables::two_step::enabled_at(&mut *tx, &account_id)
        .await?
        .is_some()
    {
        // The password does not count as a failure; the email's earlier failures stay until
        // the code, throttled the same way, completes the sign-in.
        attempt.succeeded(&mut tx).await?;
        let token = two_step::challenge(&mut tx, &account_id, now, origin).await?;
        oplog::record(&mut tx, &account_id, Operation::SignInPasswordAccepted, now).await?;
        tx.commit().await?;
        return Ok(SignedIn::TwoStep(token));
    }
    attempt.signed_in(&mut tx).await?;
    let session = auth::create(&mut tx, &account_id, None, now, origin).await?;
    oplog::record(&mut tx, &account_id, signed_in(origin, false), now).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, "signed in");
    Ok(SignedIn::Session(account_id, session))
}

/// The password again within a session: renews its "recent sign-in". Attempts count like
/// sign-ins. The route has checked that one was entered (`ReauthForm::parse`).
pub async fn reauthenticate(
    state: &AppState,
    session: &CurrentSession,
    password: String,
    client: &str,
) -> Result<(), ApiError> {
    // A RAM user proves its own password; the throttle is keyed by the account email either way.
    let attempt = match &session.ram_user {
        None => confirm_owner_password(state, &session.account_id, client, password).await?,
        Some(user) => {
            let (email, username, stored) =
                ram_users::for_reauthentication(&state.db, &user.id).await?;
            let key = ram_reauth_key(&email, &username);
            confirm_password(
                state,
                &key,
                client,
                password,
                stored,
                ApiError::WrongPassword,
            )
            .await?
        }
    };
    let mut tx = account::begin_locked(&state.db, &session.account_id).await?;
    attempt.succeeded(&mut tx).await?;
    sessions::set_authenticated(&mut tx, &session.token_hash, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// A sign-in as the operation log records it: the browser it came from, and whether a
/// two-step code completed it.
pub fn signed_in(origin: &Origin, two_step: bool) -> Operation {
    Operation::SignIn {
        user_agent: origin.user_agent.clone(),
        two_step,
    }
}

pub async fn sign_out(state: &AppState, session: &CurrentSession) -> Result<(), ApiError> {
    Ok(sessions::delete(&state.db, &session.token_hash).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_at_the_free_limit_and_double_up_to_fifteen_minutes() {
        assert_eq!(wait_after(4, 5), None);
        assert_eq!(wait_after(5, 5), Some(DurationMs::millis(30_000)));
        assert_eq!(wait_after(6, 5), Some(DurationMs::millis(60_000)));
        assert_eq!(wait_after(9, 5), Some(DurationMs::millis(480_000)));
        assert_eq!(wait_after(10, 5), Some(DurationMs::millis(900_000)));
        assert_eq!(wait_after(500, 5), Some(DurationMs::millis(900_000)));
    }

    #[test]
    fn a_wait_of_the_email_or_of_the_client_refuses_until_the_later_one_ends() {
        let now = Millis(10_000_000);
        assert_eq!(
            throttled_until([(4, Some(now)), (19, Some(now))], now),
            None
        );
        assert_eq!(
            throttled_until(
                [(5, Some(now - DurationMs::millis(10_000))), (0, None)],
                now
            ),
            Some(now + DurationMs::millis(20_000))
        );
        assert_eq!(
            throttled_until(
                [(5, Some(now - DurationMs::millis(30_000))), (0, None)],
                now
            ),
            None
        );
        assert_eq!(
            throttled_until([(0, None), (20, Some(now))], now),
            Some(now + DurationMs::millis(30_000))
        );
        assert_eq!(
            throttled_until([(5, Some(now)), (21, Some(now))], now),
            Some(now + DurationMs::millis(60_000))
        );
    }
}
