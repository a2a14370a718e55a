//! Notifications: every email, SMS and voice call is an outbox row written in the same
//! transaction as the change it reports (SPEC §8). A message whose medium has a postman here
//! (SMTP for email, Twilio for SMS and voice: [`crate::twilio`]) is delivered by a [`Deliver`]
//! job on the one job queue, with its lease and retries; the others stay in the outbox, where
//! dev mode shows them at /dev/inbox.

use crate::clock::Millis;
use crate::config::Config;
use crate::db;
use crate::db::{Backend, Db, HeldTx, JsonList};
use crate::notices::{Notice, Templates};
use crate::queue::{self, Claimed, Job, JobError, Outcome};
use crate::state::AppState;
use crate::twilio::Twilio;
use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use strum::{IntoStaticStr, VariantArray};

/// How a message goes out: `outbox.channel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Medium {
    Email,
    Sms,
    Voice,
}

impl Medium {
    fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One message to one recipient, worded from its notice when it is queued.
pub struct Outgoing<'a> {
    pub account_id: Option<&'a str>,
    pub medium: Medium,
    pub recipient: &'a str,
    pub notice: Notice<'a>,
}

/// A notice to an account's owner: an email, and an SMS when `phone` is given. Every notice
/// the owner gets about the account (password, two-step verification, closure) goes out
/// through [`Outbox::tell_owner`].
pub struct OwnerNotice<'a> {
    /// None once the account is deleted: the message outlives it.
    pub account_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub notice: Notice<'a>,
}

impl<'a> OwnerNotice<'a> {
    /// The notice's messages, the email first.
    pub fn messages(&self) -> Vec<Outgoing<'a>> {
        let to = [(Medium::Email, self.email), (Medium::Sms, self.phone)];
        to.into_iter()
            .filter_map(|(medium, recipient)| {
                Some(Outgoing {
                    account_id: self.account_id,
                    medium,
                    recipient: recipient?,
                    notice: self.notice.clone(),
                })
            })
            .collect()
    }
}

/// Queuing a message failed: the database, or a template that would not word it (a fault of
/// the code, as the templates are built in and tested).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("a message could not be worded: {0:#}")]
    Template(#[from] minijinja::Error),
}

/// A new message's key: time-ordered (UUIDv7), so a batch of messages lands at the end of the
/// outbox's key index rather than on random pages of it (each of which a commit would write).
fn message_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// One message as the dev inbox shows it.
#[derive(Debug, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InboxMessage {
    pub id: String,
    /// `email`, `sms` or `voice`.
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Milliseconds since the epoch, by the server's clock.
    #[schema(value_type = i64)]
    pub created_at: Millis,
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

/// The longest an SMTP exchange may take: well inside the delivery job's lease, so a slow server
/// never lets a second instance take the job and send the message again.
const SMTP_TIMEOUT: Duration = Duration::from_millis(queue::LEASE.as_millis() as u64 / 2);

/// Whether a message has the provider's id `provider_id` (Twilio's SID).
pub async fn has_provider_id(tx: &mut HeldTx<'_>, provider_id: &str) -> sqlx::Result<bool> {
    let known: Option<i32> = sqlx::query_scalar("SELECT 1 FROM outbox WHERE provider_id = $1")
        .bind(provider_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(known.is_some())
}

/// Records the provider's word that the sent message `provider_id` was delivered.
pub async fn mark_delivered(
    tx: &mut HeldTx<'_>,
    provider_id: &str,
    provider_status: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET provider_status = $1, delivered_at = $2
         WHERE provider_id = $3 AND status = 'sent'",
    )
    .bind(provider_status)
    .bind(now)
    .bind(provider_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks the sent message `provider_id` failed, as its provider reports; answers its id, or
/// `None` when no sent message has that provider id.
pub async fn mark_failed_by_provider(
    tx: &mut HeldTx<'_>,
    provider_id: &str,
    provider_status: &str,
    error: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "UPDATE outbox SET status = 'failed', provider_status = $1, last_error = $2
         WHERE provider_id = $3 AND status = 'sent' RETURNING id",
    )
    .bind(provider_status)
    .bind(error)
    .bind(provider_id)
    .fetch_optional(&mut **tx)
    .await
}

/// Records the provider's status of a sent message on its way, unless it was delivered already
/// (reports may arrive out of order: a late `sent` does not hide a `delivered`).
pub async fn note_provider_status(
    tx: &mut HeldTx<'_>,
    provider_id: &str,
    provider_status: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET provider_status = $1
         WHERE provider_id = $2 AND status = 'sent' AND delivered_at IS NULL",
    )
    .bind(provider_status)
    .bind(provider_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How many messages are pending and how many failed, by channel and status. No index on the
/// status: the housekeeping job deletes messages a day old, so this counts at most a day's
/// messages.
pub async fn unsent_counts(db: &Db) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT channel, status, COUNT(*) FROM outbox WHERE status IN ('pending', 'failed')
         GROUP BY channel, status",
    )
    .fetch_all(db)
    .await
}

/// The postmen of this process, by medium: where a queued message goes.
pub struct Outbox {
    templates: Templates,
    mailer: Option<Mailer>,
    twilio: Option<Twilio>,
}

struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Outbox {
    /// The postmen `config` names. An SMTP URL or From address that cannot be used stops the
    /// start: an operator who set them expects email to go out.
    pub fn from_config(config: &Config) -> anyhow::Result<Outbox> {
        let mailer = match &config.smtp_url {
            Some(url) => Some(Mailer {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .with_context(|| format!("the SMTP URL {} is unusable", db::redact(url)))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
                from: config
                    .smtp_from
                    .parse()
                    .with_context(|| format!("the SMTP From {} is unusable", config.smtp_from))?,
            }),
            None => None,
        };
        let templates = Templates::load().context("the message templates")?;
        let twilio = Twilio::from_config(config)?;
        Ok(Outbox {
            templates,
            mailer,
            twilio,
        })
    }

    fn delivers(&self, medium: Medium) -> bool {
        match medium {
            Medium::Email => self.mailer.is_some(),
            Medium::Sms | Medium::Voice => self.twilio.is_some(),
        }
    }

    /// The Twilio account SMS and voice messages go through, if any: its delivery reports are
    /// checked against it.
    pub fn twilio(&self) -> Option<&Twilio> {
        self.twilio.as_ref()
    }

    /// Queues `message` in `tx`.
    pub async fn enqueue(
        &self,
        tx: &mut HeldTx<'_>,
        now: Millis,
        message: Outgoing<'_>,
    ) -> Result<(), QueueError> {
        self.enqueue_many(tx, now, std::slice::from_ref(&message))
            .await
    }

    /// Queues `notice` in `tx`.
    pub async fn tell_owner(
        &self,
        tx: &mut HeldTx<'_>,
        now: Millis,
        notice: OwnerNotice<'_>,
    ) -> Result<(), QueueError> {
        self.enqueue_many(tx, now, &notice.messages()).await
    }

    /// Words many messages and queues them with one statement, and schedules the delivery of
    /// those a postman here carries with one more. The messages travel as one JSON parameter
    /// (see [`db::json_table`]).
    pub async fn enqueue_many(
        &self,
        tx: &mut HeldTx<'_>,
        now: Millis,
        messages: &[Outgoing<'_>],
    ) -> Result<(), QueueError> {
        if messages.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = messages.iter().map(|_| message_id()).collect();
        let worded: Vec<Worded> = messages
            .iter()
            .map(|m| self.word(m))
            .collect::<Result<_, _>>()?;
        let rows: Vec<[Option<&str>; 7]> = messages
            .iter()
            .zip(&ids)
            .zip(&worded)
            .map(|((m, id), w)| {
                [
                    Some(id.as_str()),
                    m.account_id,
                    Some(m.medium.as_str()),
                    Some(m.recipient),
                    Some(w.subject.as_str()),
                    Some(w.body.as_str()),
                    w.html.as_deref(),
                ]
            })
            .collect();
        let rows = serde_json::to_string(&rows).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let sql = format!(
            "INSERT INTO outbox (id, account_id, channel, recipient, subject, body, html, created_at)
             SELECT m.value ->> 0, m.value ->> 1, m.value ->> 2, m.value ->> 3, m.value ->> 4, m.value ->> 5,
                    m.value ->> 6, $1
             FROM {}",
            db::json_table(Backend::of(tx), 2, "m", JsonList::Rows)
        );
        sqlx::query(&sql)
            .bind(now)
            .bind(rows)
            .execute(&mut **tx)
            .await?;
        let delivered: Vec<&str> = messages
            .iter()
            .zip(&ids)
            .filter(|(m, _)| self.delivers(m.medium))
            .map(|(_, id)| id.as_str())
            .collect();
        queue::schedule_many::<Deliver>(tx, &delivered, now, now).await?;
        Ok(())
    }

    /// `message` in its medium's words: an email's subject, text and HTML; an SMS's or a
    /// call's text under the email's subject (which the outbox and the dev inbox list).
    fn word(&self, message: &Outgoing) -> Result<Worded, minijinja::Error> {
        let notice = &message.notice;
        Ok(match message.medium {
            Medium::Email => {
                let email = self.templates.email(notice)?;
                Worded {
                    subject: email.subject,
                    body: email.text,
                    html: Some(email.html),
                }
            }
            Medium::Sms => Worded {
                subject: self.templates.subject(notice)?,
                body: self.templates.sms(notice)?,
                html: None,
            },
            Medium::Voice => Worded {
                subject: self.templates.subject(notice)?,
                body: self.templates.voice(notice)?,
                html: None,
            },
        })
    }

    /// Schedules the delivery of every undelivered message a postman here carries that has no
    /// job yet: those queued while no postman was configured, or before delivery was a job.
    pub async fn schedule_waiting(&self, db: &Db, now: Millis) -> sqlx::Result<()> {
        let media: Vec<&str> = [Medium::Email, Medium::Sms, Medium::Voice]
            .into_iter()
            .filter(|m| self.delivers(*m))
            .map(Medium::as_str)
            .collect();
        if media.is_empty() {
            return Ok(());
        }
        let mut tx = db::begin_write(db).await?;
        let waiting: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT o.id FROM outbox o WHERE o.status = 'pending' AND o.channel IN {}
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = $2 AND j.subject = o.id)",
            db::in_json(Backend::of(&tx), 1)
        ))
        .bind(db::json_texts(media))
        .bind(Deliver::KIND)
        .fetch_all(&mut *tx)
        .await?;
        let waiting: Vec<&str> = waiting.iter().map(String::as_str).collect();
        queue::schedule_many::<Deliver>(&mut tx, &waiting, now, now).await?;
        tx.commit().await
    }
}

/// A message's tries: past this many failures it is marked failed and no longer tried. With
/// the queue's waits that is some 20 minutes of an unreachable server or a refused address.
const MAX_ATTEMPTS: i64 = 8;

/// Delivers the outbox message `subject` through its medium's postman. The message is sent
/// before the job is marked done, so a crash between the two sends it again: a recipient may
/// see a message twice, never zero times.
pub struct Deliver;

impl Job for Deliver {
    const KIND: &'static str = "deliver_message";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        let message: Option<Waiting> = sqlx::query_as(
            "SELECT channel, recipient, subject, body, html FROM outbox WHERE id = $1 AND status = 'pending'",
        )
        .bind(&job.subject)
        .fetch_optional(&state.db)
        .await?;
        let sent = match &message {
            // Sent already, given up, or swept with its account: nothing to do.
            None => None,
            Some(message) => Some(state.outbox.hand_over(message).await),
        };
        let now = state.clock.now();
        let mut tx = db::begin_write(&state.db).await?;
        match sent {
            None => {}
            Some(Ok(Handed::Sent { provider_id })) => {
                if let Some(provider_id) = &provider_id {
                    crate::twilio::reports::lock_sid(&mut tx, provider_id).await?;
                }
                sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at = $1, attempts = $2, last_error = NULL,
                     provider_id = $3 WHERE id = $4 AND status = 'pending'",
                )
                .bind(now)
                .bind(job.attempts)
                .bind(&provider_id)
                .bind(&job.subject)
                .execute(&mut *tx)
                .await?;
                // The provider may have reported on the message before this commit.
                if let Some(provider_id) = &provider_id {
                    crate::twilio::reports::apply_early(&mut tx, provider_id, now).await?;
                }
            }
            Some(Ok(Handed::Refused { code, reason })) => {
                sqlx::query(
                    "UPDATE outbox SET status = 'failed', attempts = $1, last_error = $2 WHERE id = $3",
                )
                .bind(job.attempts)
                .bind(&reason)
                .bind(&job.subject)
                .execute(&mut *tx)
                .await?;
                let code = code.map_or_else(|| "none".to_owned(), |c| c.to_string());
                tracing::error!(outbox_id = %job.subject, provider_code = %code, error = %reason,
                    "message not delivered: refused, not retried");
            }
            Some(Err(e)) => {
                let given_up = job.attempts >= MAX_ATTEMPTS;
                let status = if given_up { "failed" } else { "pending" };
                sqlx::query(
                    "UPDATE outbox SET status = $1, attempts = $2, last_error = $3 WHERE id = $4",
                )
                .bind(status)
                .bind(job.attempts)
                .bind(format!("{e:#}"))
                .bind(&job.subject)
                .execute(&mut *tx)
                .await?;
                if !given_up {
                    tx.commit().await?;
                    return Err(e.into());
                }
                tracing::error!(message = %job.subject, attempts = job.attempts, error = %format!("{e:#}"),
                    "message not delivered: given up");
            }
        }
        queue::finish(&mut tx, job, Outcome::Done, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

struct Worded {
    subject: String,
    body: String,
    html: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Waiting {
    channel: db::Stored<Medium>,
    recipient: String,
    subject: String,
    body: String,
    /// An email's HTML part; none for the other media, and for emails queued before there was one.
    html: Option<String>,
}

/// What became of a message handed to its postman.
#[derive(Debug)]
pub enum Handed {
    /// Taken; `provider_id` is the provider's name for it (Twilio's SID), which its
    /// delivery reports give.
    Sent { provider_id: Option<String> },
    /// Refused for good (an invalid number): trying again cannot help. `code` is the
    /// provider's error code.
    Refused { code: Option<i64>, reason: String },
}

impl Outbox {
    /// Hands `message` to its medium's postman.
    async fn hand_over(&self, message: &Waiting) -> anyhow::Result<Handed> {
        match (message.channel.0, &self.twilio) {
            (medium @ (Medium::Sms | Medium::Voice), Some(twilio)) => {
                twilio
                    .deliver(medium, &message.recipient, &message.body)
                    .await
            }
            _ => {
                self.send(message).await?;
                Ok(Handed::Sent { provider_id: None })
            }
        }
    }

    async fn send(&self, message: &Waiting) -> anyhow::Result<()> {
        match (message.channel.0, &self.mailer) {
            (Medium::Email, Some(mailer)) => {
                let email = Message::builder()
                    .from(mailer.from.clone())
                    .to(message.recipient.parse()?)
                    .subject(message.subject.clone());
                let email = match &message.html {
                    Some(html) => email.multipart(MultiPart::alternative_plain_html(
                        message.body.clone(),
                        html.clone(),
                    ))?,
                    None => email.body(message.body.clone())?,
                };
                mailer.transport.send(email).await?;
                Ok(())
            }
            (medium, _) => anyhow::bail!("no postman for {} messages here", medium.as_str()),
        }
    }
}
