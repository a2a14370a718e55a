//! One-time codes (SPEC §1): 6 digits, 10 minutes, resend after 60 s, 5 wrong tries kill a
//! code, at most 5 codes an hour to one address and 20 an hour from one client.

use crate::clock::{DurationMs, Millis};
use crate::db::{self, Tx};
use crate::error::ApiError;
use crate::notices::Notice;
use crate::notify::{Medium, Outgoing};
use crate::rate_limit;
use crate::secrets::Secrets;
use crate::state::AppState;
use crate::tables::verification_codes::{self, NewCode};
use rand::Rng;
use shared::account::{Channel, Delivery, VerificationCode};
use shared::api::CodeSent;

pub const CODE_TTL: DurationMs = DurationMs::minutes(10);
pub const RESEND_AFTER: DurationMs = DurationMs::minutes(1);
pub const MAX_ATTEMPTS: i64 = 5;
pub const MAX_PER_ADDRESS_PER_HOUR: i64 = 5;
pub const MAX_PER_CLIENT_PER_HOUR: i64 = 20;
const HOUR: DurationMs = DurationMs::hours(1);

/// What a signed-in account proves with a code. Its codes' subject is `account:<id>:<purpose>`;
/// a sign-up's is `signup:<sign-up id>` ([`crate::domain::signup`]). Deleting an account deletes
/// the codes of every purpose by exact subject, which any collation compares alike.
#[derive(Debug, Clone, Copy, strum::VariantArray)]
pub enum Purpose {
    /// The channel the sign-up did not verify, given with the billing address.
    Contact,
    /// Identity before closing the account.
    Closure,
    /// A Paytm wallet's number.
    Paytm,
}

impl Purpose {
    pub fn subject(self, account_id: &str) -> String {
        let purpose = match self {
            Purpose::Contact => "contact",
            Purpose::Closure => "closure",
            Purpose::Paytm => "paytm",
        };
        format!("account:{account_id}:{purpose}")
    }
}

/// Where a new code goes.
pub struct Destination<'a> {
    pub channel: Channel,
    /// The email, or the E.164 number.
    pub address: &'a str,
    pub delivery: Option<Delivery>,
    pub account_id: Option<&'a str>,
    /// Stored and counted like any code but never sent: a password reset for an address no
    /// account verified must answer, and take, what a real one does.
    pub decoy: bool,
}

/// Issues a new code for `subject` (superseding any earlier one) and queues its message.
pub async fn issue(
    tx: &mut Tx,
    state: &AppState,
    now: Millis,
    subject: &str,
    to: &Destination<'_>,
    client: &str,
) -> Result<(), ApiError> {
    // The three limits below are read, then added to: one issuer at a time per subject,
    // address and client.
    let subject_key = format!("code-subject:{subject}");
    let address_key = format!("code-address:{}", to.address);
    rate_limit::lock(tx, &[("code_sent", client)], &[&subject_key, &address_key]).await?;
    let last = verification_codes::newest_at(tx, subject).await?;
    if let Some(last) = last.filter(|&last| now - last < RESEND_AFTER) {
        return Err(ApiError::ResendTooSoon {
            retry_after: secs_until(last + RESEND_AFTER, now),
        });
    }

    let (sent, oldest) = verification_codes::sent_to_since(tx, to.address, now - HOUR).await?;
    if sent >= MAX_PER_ADDRESS_PER_HOUR {
        return Err(ApiError::TooManyCodes {
            retry_after: secs_until(oldest.unwrap_or(now) + HOUR, now),
        });
    }

    let (from_client, oldest, _) = rate_limit::window(tx, "code_sent", client, now - HOUR).await?;
    if from_client >= MAX_PER_CLIENT_PER_HOUR {
        return Err(ApiError::RateLimited {
            retry_after: secs_until(oldest.unwrap_or(now) + HOUR, now),
        });
    }

    verification_codes::supersede(tx, subject, now).await?;
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
    let new = NewCode {
        id: &uuid::Uuid::new_v4().to_string(),
        subject,
        channel: to.channel,
        address: to.address,
        delivery: to.delivery,
        code_hash: &state.secrets.code_hash(subject, &code),
        created_at: now,
        expires_at: now + CODE_TTL,
    };
    verification_codes::insert(tx, &new).await?;
    rate_limit::record(tx, "code_sent", client, now).await?;
    if !to.decoy {
        state.outbox.enqueue(tx, now, message(to, &code)).await?;
    }
    Ok(())
}

fn message<'a>(to: &Destination<'a>, code: &'a str) -> Outgoing<'a> {
    let medium = match (to.channel, to.delivery.unwrap_or_default()) {
        (Channel::Email, _) => Medium::Email,
        (Channel::Phone, Delivery::Sms) => Medium::Sms,
        (Channel::Phone, Delivery::Voice) => Medium::Voice,
    };
    Outgoing {
        account_id: to.account_id,
        medium,
        recipient: to.address,
        notice: Notice::VerificationCode {
            code,
            minutes: CODE_TTL / DurationMs::minutes(1),
        },
    }
}

/// Sends a code of `purpose` to the signed-in account's own `address` (its other channel, its
/// mobile number for closure, a Paytm number), in a write through the account's write gate,
/// and answers what the page shows: `shown` is the address masked.
pub async fn send_to_account(
    state: &AppState,
    purpose: Purpose,
    account_id: &str,
    (channel, address, delivery): (Channel, &str, Option<Delivery>),
    shown: String,
    client: &str,
) -> Result<CodeSent, ApiError> {
    use crate::domain::account::{self, Writer};
    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let to = Destination {
        channel,
        address,
        delivery,
        account_id: Some(account_id),
        decoy: false,
    };
    issue(
        &mut tx,
        state,
        now,
        &purpose.subject(account_id),
        &to,
        client,
    )
    .await?;
    tx.commit().await?;
    Ok(code_sent(channel, delivery, shown))
}

/// The answer to "send a code": where it went, and the resend wait and lifetime every code has.
pub fn code_sent(channel: Channel, delivery: Option<Delivery>, sent_to: String) -> CodeSent {
    CodeSent {
        channel,
        delivery,
        sent_to,
        resend_after_seconds: RESEND_AFTER.as_secs() as u64,
        expires_in_seconds: CODE_TTL.as_secs() as u64,
    }
}

/// What a correct code proved.
#[derive(Debug)]
pub struct Proven {
    pub channel: Channel,
    pub address: String,
}

/// Checks `code` against the newest code of `subject`, inside the caller's write transaction,
/// which comes back for the caller's own writes. A wrong try must count even though the
/// request fails, so on `CodeIncorrect` and `CodeAttemptsExceeded` the transaction is
/// committed here (holding only the counted try) before the error is returned.
pub async fn check(
    mut tx: Tx,
    secrets: &Secrets,
    now: Millis,
    subject: &str,
    code: &VerificationCode,
) -> Result<(Tx, Proven), ApiError> {
    match compare(&mut tx, secrets, now, subject, code).await {
        Ok(proven) => Ok((tx, proven)),
        Err(e @ (ApiError::CodeIncorrect { .. } | ApiError::CodeAttemptsExceeded)) => {
            tx.commit().await?;
            Err(e)
        }
        Err(e) => Err(e),
    }
}

async fn compare(
    tx: &mut Tx,
    secrets: &Secrets,
    now: Millis,
    subject: &str,
    code: &VerificationCode,
) -> Result<Proven, ApiError> {
    // A try is counted against the tries left that it read: one checker at a time per subject.
    db::lock_keys(tx, &[&format!("code-subject:{subject}")]).await?;
    let Some(row) = verification_codes::newest(tx, subject).await? else {
        return Err(ApiError::NoCodeSent);
    };
    if row.consumed_at.is_some() {
        return Err(ApiError::CodeUsed);
    }
    if row.attempts >= MAX_ATTEMPTS {
        return Err(ApiError::CodeAttemptsExceeded);
    }
    if now >= row.expires_at {
        return Err(ApiError::CodeExpired);
    }
    let typed = secrets.code_hash(subject, code.as_str());
    if !crate::auth::constant_time_eq(typed.as_bytes(), row.code_hash.as_bytes()) {
        let attempts = row.attempts + 1;
        verification_codes::set_attempts(tx, &row.id, attempts).await?;
        return Err(if attempts >= MAX_ATTEMPTS {
            ApiError::CodeAttemptsExceeded
        } else {
            ApiError::CodeIncorrect {
                attempts_left: (MAX_ATTEMPTS - attempts) as u32,
            }
        });
    }
    verification_codes::mark_consumed(tx, &row.id, now).await?;
    Ok(Proven {
        channel: row.channel.0,
        address: row.address,
    })
}

/// Whole seconds from `now` until `at`, at least 1.
pub fn secs_until(at: Millis, now: Millis) -> u64 {
    ((at - now).as_millis().max(1) as u64).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::{Millis, secs_until};

    #[test]
    fn waits_round_up_to_whole_seconds_and_never_say_zero() {
        let at = Millis(60_000);
        assert_eq!(secs_until(at, Millis(0)), 60);
        assert_eq!(secs_until(at, Millis(1)), 60);
        assert_eq!(secs_until(at, Millis(59_999)), 1);
        assert_eq!(secs_until(at, Millis(61_000)), 1);
    }
}
