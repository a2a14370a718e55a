//! Sign-in and sign-out (SPEC §1). Failures slow sign-in down per email and per client, and
//! the answer never tells whether the email has an account.

use crate::auth::{self, CurrentSession, NewSession};
use crate::db;
use crate::domain::verification::secs_until;
use crate::error::ApiError;
use crate::rate_limit;
use crate::state::AppState;
use shared::api::SignIn;

const WINDOW_MS: i64 = 15 * 60_000;
/// Failures allowed before waits begin, per email and per client.
const FREE_FAILURES_PER_EMAIL: i64 = 5;
const FREE_FAILURES_PER_CLIENT: i64 = 20;
const FIRST_WAIT_MS: i64 = 30_000;
const LONGEST_WAIT_MS: i64 = WINDOW_MS;

/// After `free` failures each further one doubles the wait from the last failure:
/// 30 s, 1 min, 2 min, … up to 15 min.
fn wait_after(failures: i64, free: i64) -> Option<i64> {
    let over = failures - free;
    (over >= 0).then(|| (FIRST_WAIT_MS << over.min(10)).min(LONGEST_WAIT_MS))
}

/// Refuses with `SignInThrottled` while `email` or `client` is in a wait after failures.
/// Both counts come from one statement: every sign-in pays this, refused ones of a storm too,
/// and a transaction of two reads cost four round trips to the database.
pub async fn check_throttle(
    state: &AppState,
    email: &str,
    client: &str,
    now: i64,
) -> Result<(), ApiError> {
    let windows = rate_limit::two_windows(
        &state.db,
        ("signin_failed_email", email),
        ("signin_failed_client", client),
        now - WINDOW_MS,
    )
    .await?;
    for ((failures, last), free) in windows
        .into_iter()
        .zip([FREE_FAILURES_PER_EMAIL, FREE_FAILURES_PER_CLIENT])
    {
        if let (Some(wait), Some(last)) = (wait_after(failures, free), last)
            && now < last + wait
        {
            return Err(ApiError::SignInThrottled {
                retry_after: secs_until(last + wait, now),
            });
        }
    }
    Ok(())
}

pub async fn record_failure(state: &AppState, email: &str, client: &str) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    rate_limit::record(&mut tx, "signin_failed_email", email, now).await?;
    rate_limit::record(&mut tx, "signin_failed_client", client, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn sign_in(
    state: &AppState,
    form: SignIn,
    client: &str,
) -> Result<(String, NewSession), ApiError> {
    let email = form.email.as_str();
    check_throttle(state, email, client, state.clock.now_ms()).await?;
    let found: Option<(String, String)> = sqlx::query_as(
        "SELECT id, password_hash FROM accounts WHERE email = $1 AND status <> 'closed'",
    )
    .bind(email)
    .fetch_optional(&state.db)
    .await?;
    let (account_id, stored) = found.unzip();
    let matches = state.hasher.verify(form.password, stored).await?;
    let Some(account_id) = account_id.filter(|_| matches) else {
        record_failure(state, email, client).await?;
        tracing::info!("sign-in failed");
        return Err(ApiError::InvalidCredentials);
    };
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    rate_limit::clear(&mut tx, "signin_failed_email", email).await?;
    let session = auth::create(&mut tx, &account_id, None, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, "signed in");
    Ok((account_id, session))
}

/// The password again within a session: renews its "recent sign-in". Failures count like
/// failed sign-ins. The route has checked that one was entered (`ReauthForm::parse`).
pub async fn reauthenticate(
    state: &AppState,
    session: &CurrentSession,
    password: String,
    client: &str,
) -> Result<(), ApiError> {
    // A RAM user proves its own password; the throttle is keyed by the account email either way.
    let (email, stored): (String, String) = match &session.ram_user {
        None => sqlx::query_as("SELECT email, password_hash FROM accounts WHERE id = $1")
            .bind(&session.account_id)
            .fetch_one(&state.db)
            .await?,
        Some(user) => sqlx::query_as(
            "SELECT a.email || '/' || r.username, r.password_hash FROM ram_users r JOIN accounts a ON a.id = r.account_id WHERE r.id = $1",
        )
        .bind(&user.id)
        .fetch_one(&state.db)
        .await?,
    };
    check_throttle(state, &email, client, state.clock.now_ms()).await?;
    if !state.hasher.verify(password, Some(stored)).await? {
        record_failure(state, &email, client).await?;
        return Err(ApiError::WrongPassword);
    }
    sqlx::query("UPDATE sessions SET authenticated_at = $1 WHERE token_hash = $2")
        .bind(state.clock.now_ms())
        .bind(&session.token_hash)
        .execute(&state.db)
        .await?;
    Ok(())
}

pub async fn sign_out(state: &AppState, session: &CurrentSession) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(&session.token_hash)
        .execute(&state.db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_at_the_free_limit_and_double_up_to_fifteen_minutes() {
        assert_eq!(wait_after(4, 5), None);
        assert_eq!(wait_after(5, 5), Some(30_000));
        assert_eq!(wait_after(6, 5), Some(60_000));
        assert_eq!(wait_after(9, 5), Some(480_000));
        assert_eq!(wait_after(10, 5), Some(900_000));
        assert_eq!(wait_after(500, 5), Some(900_000));
    }
}
