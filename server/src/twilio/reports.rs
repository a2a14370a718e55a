//! Twilio's delivery reports: the status callbacks it posts to `POST /api/webhooks/twilio`
//! for every message and call (their `StatusCallback`), trusted only with a valid
//! `X-Twilio-Signature`.

use super::Twilio;
use crate::clock::Millis;
use crate::db;
use crate::notify;
use crate::state::AppState;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

impl Twilio {
    /// Whether `signature` (the `X-Twilio-Signature` header) is Twilio's for a report of
    /// `params` to the configured callback URL. Compared in constant time.
    pub fn signed(&self, signature: &str, params: &[(String, String)]) -> bool {
        let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
            return false;
        };
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(self.token.expose().as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(self.callback_url.as_bytes());
        let mut sorted: Vec<&(String, String)> = params.iter().collect();
        sorted.sort();
        for (name, value) in sorted {
            mac.update(name.as_bytes());
            mac.update(value.as_bytes());
        }
        mac.verify_slice(&given).is_ok()
    }
}

/// What a delivery report says of a message or call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The message's `SM…` or the call's `CA…` SID.
    pub sid: String,
    /// Twilio's word for it: `delivered`, `undelivered`, `no-answer`…
    pub status: String,
    /// Twilio's error code, when it gives one (`30003`: the handset is unreachable).
    pub error_code: Option<String>,
}

/// Where a report leaves the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Failed,
    /// Queued, sending, ringing…: a later report says more.
    OnTheWay,
}

impl Report {
    /// The report in a callback's parameters: a message's (`MessageSid`, `MessageStatus`) or a
    /// call's (`CallSid`, `CallStatus`). `None` for anything else.
    pub fn from_params(params: &[(String, String)]) -> Option<Report> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let (sid, status) = match (get("MessageSid"), get("MessageStatus")) {
            (Some(sid), Some(status)) => (sid, status),
            _ => (get("CallSid")?, get("CallStatus")?),
        };
        let error_code =
            get("ErrorCode").filter(|c| !c.is_empty() && c.chars().all(|c| c.is_ascii_digit()));
        Some(Report {
            sid,
            status,
            error_code,
        })
    }

    /// A message's `delivered` (or `read`), a call's `completed`: delivered. A message's
    /// `undelivered`, `failed` or `canceled`, a call's `failed`, `busy`, `no-answer` or
    /// `canceled`: failed. Anything else is on the way.
    pub fn outcome(&self) -> Outcome {
        match self.status.as_str() {
            "delivered" | "read" | "completed" => Outcome::Delivered,
            "undelivered" | "failed" | "canceled" | "busy" | "no-answer" => Outcome::Failed,
            _ => Outcome::OnTheWay,
        }
    }
}

/// Records `report` on the outbox message Twilio knows by its SID. A message it reports
/// failed is marked failed with Twilio's error code and logged as an error: an operator sees a
/// code that never reached its owner. A final report on a SID no message has yet is kept for
/// it ([`apply_early`]): Twilio may report before the sender has committed the SID it was
/// given. A report about no message of ours changes nothing else, and goes with the day.
pub async fn record(state: &AppState, report: &Report) -> sqlx::Result<()> {
    let now = state.clock.now();
    let mut tx = db::begin_write(&state.db).await?;
    lock_sid(&mut tx, &report.sid).await?;
    if notify::has_provider_id(&mut tx, &report.sid).await? {
        apply(&mut tx, report, now).await?;
    } else if report.outcome() != Outcome::OnTheWay {
        sqlx::query(
            "INSERT INTO early_provider_reports (provider_id, status, error_code, received_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (provider_id) DO UPDATE
             SET status = excluded.status, error_code = excluded.error_code,
                 received_at = excluded.received_at",
        )
        .bind(&report.sid)
        .bind(&report.status)
        .bind(&report.error_code)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Serialises the report on `sid` with the transaction that gives a message that SID
/// ([`apply_early`], PostgreSQL; SQLite's writers are serialised already): otherwise a report
/// could find no message, the SID be committed and look for early reports, and only then the
/// report be kept, for no one.
pub async fn lock_sid(tx: &mut db::Tx, sid: &str) -> sqlx::Result<()> {
    db::lock_keys(tx, &[&format!("provider-report:{sid}")]).await
}

/// Applies the final report kept for `sid` before its message had it, in the transaction that
/// gives the message its SID (which has taken [`lock_sid`] before writing it), and forgets it.
pub async fn apply_early(tx: &mut db::Tx, sid: &str, now: Millis) -> sqlx::Result<()> {
    let early: Option<(String, Option<String>)> = sqlx::query_as(
        "DELETE FROM early_provider_reports WHERE provider_id = $1 RETURNING status, error_code",
    )
    .bind(sid)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((status, error_code)) = early {
        let report = Report {
            sid: sid.to_owned(),
            status,
            error_code,
        };
        apply(tx, &report, now).await?;
    }
    Ok(())
}

/// What `report` does to the message with its SID.
async fn apply(tx: &mut db::Tx, report: &Report, now: Millis) -> sqlx::Result<()> {
    match report.outcome() {
        Outcome::Delivered => {
            notify::mark_delivered(tx, &report.sid, &report.status, now).await?;
        }
        Outcome::Failed => {
            let error = match &report.error_code {
                Some(code) => format!("Twilio reports it {} (error {code})", report.status),
                None => format!("Twilio reports it {}", report.status),
            };
            let failed =
                notify::mark_failed_by_provider(tx, &report.sid, &report.status, &error).await?;
            if let Some(id) = failed {
                tracing::error!(outbox_id = %id, twilio_sid = %report.sid, twilio_status = %report.status,
                    twilio_error = report.error_code.as_deref().unwrap_or("none"),
                    "message not delivered: {error}");
            }
        }
        Outcome::OnTheWay => {
            notify::note_provider_status(tx, &report.sid, &report.status).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ApiKey;

    /// The account of the example on Twilio's webhook-security page
    /// (https://www.twilio.com/docs/usage/webhooks/webhooks-security): auth token `12345`.
    fn example_account(callback_url: &str) -> Twilio {
        Twilio {
            http: reqwest::Client::new(),
            api_base: "https://api.twilio.com".to_owned(),
            account_sid: format!("AC{}", "0".repeat(32)),
            token: "12345".parse::<ApiKey>().unwrap(),
            from: "+15005550006".to_owned(),
            messaging_service: None,
            callback_url: callback_url.to_owned(),
        }
    }

    #[test]
    fn a_report_is_trusted_only_with_twilios_signature_for_the_configured_url() {
        let params: Vec<(String, String)> = [
            ("To", "+18005551212"),
            ("CallSid", "CA1234567890ABCDE"),
            ("From", "+14158675310"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
        ]
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let signature = "GvWf1cFY/Q7PnoempGyD5oXAezc=";
        assert!(example_account(url).signed(signature, &params));
        assert!(!example_account("https://mycompany.com/myapp.php").signed(signature, &params));
        let mut changed = params.clone();
        changed[4].1 = "1235".to_owned();
        assert!(!example_account(url).signed(signature, &changed));
        assert!(!example_account(url).signed("", &params));
        assert!(!example_account(url).signed("HvWf1cFY/Q7PnoempGyD5oXAezc=", &params));
    }

    #[test]
    fn a_report_is_a_messages_or_a_calls() {
        let params = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect()
        };
        let sms = Report::from_params(&params(&[
            ("MessageSid", "SM1"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30003"),
        ]))
        .unwrap();
        assert_eq!(sms.outcome(), Outcome::Failed);
        assert_eq!(sms.error_code.as_deref(), Some("30003"));
        let call = Report::from_params(&params(&[("CallSid", "CA1"), ("CallStatus", "no-answer")]))
            .unwrap();
        assert_eq!(
            (call.sid.as_str(), call.outcome()),
            ("CA1", Outcome::Failed)
        );
        let sent =
            Report::from_params(&params(&[("MessageSid", "SM1"), ("MessageStatus", "sent")]))
                .unwrap();
        assert_eq!(sent.outcome(), Outcome::OnTheWay);
        let delivered =
            Report::from_params(&params(&[("CallSid", "CA1"), ("CallStatus", "completed")]))
                .unwrap();
        assert_eq!(delivered.outcome(), Outcome::Delivered);
        assert_eq!(Report::from_params(&params(&[("MessageSid", "SM1")])), None);
    }
}
