//! Notifications: every email, SMS and voice call is an outbox row written in the same
//! transaction as the change it reports (SPEC §8). Dev mode shows them at /dev/inbox; with an
//! SMTP URL configured, a worker delivers the emails.

use crate::clock::Clock;
use crate::db::{self, Backend, Db, HeldTx, JsonList, begin_write};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    Email,
    Sms,
    Voice,
}

impl Medium {
    fn as_str(self) -> &'static str {
        match self {
            Medium::Email => "email",
            Medium::Sms => "sms",
            Medium::Voice => "voice",
        }
    }
}

pub struct Outgoing<'a> {
    pub account_id: Option<&'a str>,
    pub medium: Medium,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: String,
}

pub async fn enqueue(tx: &mut HeldTx<'_>, now_ms: i64, message: Outgoing<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO outbox (id, account_id, channel, recipient, subject, body, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(message_id())
    .bind(message.account_id)
    .bind(message.medium.as_str())
    .bind(message.recipient)
    .bind(message.subject)
    .bind(message.body)
    .bind(now_ms)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A notice to an account's owner: an email, and an SMS when `phone` is given. Every notice
/// the owner gets about the account (password, two-step verification, closure) goes out here.
pub struct OwnerNotice<'a> {
    /// None once the account is deleted: the message outlives it.
    pub account_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub subject: &'a str,
    pub body: &'a str,
    /// The SMS's text; by default the subject and the body's first sentence ([`sms_text`]).
    pub sms: Option<&'a str>,
}

impl<'a> OwnerNotice<'a> {
    /// The notice's messages, the email first.
    pub fn messages(&self) -> Vec<Outgoing<'a>> {
        let mut messages = Vec::with_capacity(2);
        if let Some(email) = self.email {
            messages.push(Outgoing {
                account_id: self.account_id,
                medium: Medium::Email,
                recipient: email,
                subject: self.subject,
                body: self.body.to_owned(),
            });
        }
        if let Some(phone) = self.phone {
            messages.push(Outgoing {
                account_id: self.account_id,
                medium: Medium::Sms,
                recipient: phone,
                subject: self.subject,
                body: self
                    .sms
                    .map_or_else(|| sms_text(self.subject, self.body), str::to_owned),
            });
        }
        messages
    }
}

/// Queues `notice` in `tx`.
pub async fn tell_owner(
    tx: &mut HeldTx<'_>,
    now_ms: i64,
    notice: OwnerNotice<'_>,
) -> sqlx::Result<()> {
    enqueue_many(tx, now_ms, &notice.messages()).await
}

/// The SMS that goes with an email: its subject and first sentence.
pub fn sms_text(subject: &str, body: &str) -> String {
    format!(
        "[Account Center] {subject}. {}",
        body.split(". ").next().unwrap_or(body)
    )
}

/// A new message's key: time-ordered (UUIDv7), so a batch of messages lands at the end of the
/// outbox's key index rather than on random pages of it (each of which a commit would write).
fn message_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Queues many messages with one statement: what a batch job uses instead of [`enqueue`] per
/// message. The messages travel as one JSON parameter (see [`db::json_table`]).
pub async fn enqueue_many(
    tx: &mut HeldTx<'_>,
    now_ms: i64,
    messages: &[Outgoing<'_>],
) -> sqlx::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = messages.iter().map(|_| message_id()).collect();
    let rows: Vec<[Option<&str>; 6]> = messages
        .iter()
        .zip(&ids)
        .map(|(m, id)| {
            let medium = m.medium.as_str();
            [
                Some(id.as_str()),
                m.account_id,
                Some(medium),
                Some(m.recipient),
                Some(m.subject),
                Some(m.body.as_str()),
            ]
        })
        .collect();
    let rows = serde_json::to_string(&rows).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let sql = format!(
        "INSERT INTO outbox (id, account_id, channel, recipient, subject, body, created_at, next_attempt_at)
         SELECT m.value ->> 0, m.value ->> 1, m.value ->> 2, m.value ->> 3, m.value ->> 4, m.value ->> 5, $1, $1
         FROM {}",
        db::json_table(Backend::of(tx), 2, "m", JsonList::Rows)
    );
    sqlx::query(&sql)
        .bind(now_ms)
        .bind(rows)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// One message as the dev inbox shows it.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InboxMessage {
    pub id: String,
    /// `email`, `sms` or `voice`.
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Milliseconds since the epoch, by the server's clock.
    pub created_at: i64,
    pub status: String,
}

/// Newest first; `to` filters by recipient.
pub async fn inbox(db: &Db, to: Option<&str>, limit: i64) -> sqlx::Result<Vec<InboxMessage>> {
    sqlx::query_as(
        "SELECT id, channel, recipient AS \"to\", subject, body, created_at, status FROM outbox
         WHERE ($1 IS NULL OR recipient = $2) ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(to)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await
}

const LEASE_MS: i64 = 60_000;
const MAX_ATTEMPTS: i64 = 8;

/// Delivers pending emails over SMTP until the process ends. A claimed row is leased, so a
/// crash mid-send lets it be claimed again after the lease; an SMTP server may then see a
/// message twice, never zero times.
pub async fn run_email_worker(
    db: Db,
    clock: Arc<Clock>,
    smtp_url: String,
    from: String,
    wake: Arc<Notify>,
) {
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp_url) {
        Ok(builder) => builder.build(),
        Err(e) => {
            tracing::error!(error = %e, "SMTP URL is unusable; emails stay in the outbox");
            return;
        }
    };
    let from: Mailbox = match from.parse() {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "SMTP From address is unusable; emails stay in the outbox");
            return;
        }
    };
    loop {
        match deliver_one(&db, &clock, &transport, &from).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "outbox delivery failed"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

#[derive(sqlx::FromRow)]
struct Claimed {
    id: String,
    recipient: String,
    subject: String,
    body: String,
    attempts: i64,
}

/// Sends the oldest due email, if any. Returns whether there was one.
async fn deliver_one(
    db: &Db,
    clock: &Clock,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
) -> anyhow::Result<bool> {
    let now = clock.now_ms();
    let mut tx = begin_write(db).await?;
    let claimed: Option<Claimed> = sqlx::query_as(
        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $1
         WHERE id = (SELECT id FROM outbox WHERE channel = 'email' AND status IN ('pending', 'sending')
                     AND next_attempt_at <= $2 ORDER BY created_at LIMIT 1)
         RETURNING id, recipient, subject, body, attempts",
    )
    .bind(now + LEASE_MS)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some(row) = claimed else { return Ok(false) };

    let sent = async {
        let email = Message::builder()
            .from(from.clone())
            .to(row.recipient.parse()?)
            .subject(row.subject.clone())
            .body(row.body.clone())?;
        transport.send(email).await?;
        anyhow::Ok(())
    }
    .await;

    let now = clock.now_ms();
    match sent {
        Ok(()) => {
            sqlx::query(
                "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2",
            )
            .bind(now)
            .bind(&row.id)
            .execute(db)
            .await?;
        }
        Err(e) => {
            let (status, retry_at) = if row.attempts >= MAX_ATTEMPTS {
                ("failed", now)
            } else {
                // 30 s, 1 min, 2 min, … doubling.
                ("pending", now + 30_000 * (1 << (row.attempts - 1).min(10)))
            };
            tracing::warn!(id = %row.id, attempts = row.attempts, error = %e, "email not delivered");
            sqlx::query(
                "UPDATE outbox SET status = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4",
            )
            .bind(status)
            .bind(retry_at)
            .bind(e.to_string())
            .bind(&row.id)
            .execute(db)
            .await?;
        }
    }
    Ok(true)
}
