//! The postman of SMS and voice messages: Twilio's REST API (the Messages and Calls resources),
//! and the delivery reports Twilio sends back to `POST /api/webhooks/twilio`.
//!
//! A message is handed over by the outbox's `Deliver` job ([`crate::notify`]). What Twilio
//! answers decides what becomes of it: accepted (its SID is kept on the outbox row, so the
//! reports find it), refused for good (a 4xx about the message itself, such as an invalid
//! number: failed at once, never retried), or not now (a 5xx, a 429, a network failure, or a
//! refusal of our own credentials: the job is retried with the queue's backoff).
//!
//! Reports are trusted only with a valid `X-Twilio-Signature`: an HMAC-SHA1, under the auth
//! token, of the callback URL as configured here (`--public-url`) followed by every posted
//! parameter's name and value in name order. The URL is the configured one, not the one the
//! request arrived at, so a proxy in front of the server changes nothing.

use crate::config::{ApiKey, Config};
use crate::notify::{Handed, Medium};
use crate::queue;
use anyhow::{Context, bail};
use reqwest::StatusCode;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

pub mod reports;

/// Where Twilio posts its delivery reports, under `--public-url`.
pub const WEBHOOK_PATH: &str = "/api/webhooks/twilio";

/// The longest a call to Twilio may take: well inside the delivery job's lease, so a slow answer
/// never lets a second instance take the job and send the message again.
const TIMEOUT: Duration = Duration::from_millis(queue::LEASE.as_millis() as u64 / 2);

/// A configured Twilio account.
pub struct Twilio {
    http: reqwest::Client,
    /// `https://api.twilio.com`, without a trailing slash.
    api_base: String,
    account_sid: String,
    token: ApiKey,
    /// The number calls, and SMS without a Messaging Service, come from.
    from: String,
    messaging_service: Option<String>,
    /// `StatusCallback` of every message and call, and the URL reports are signed for.
    callback_url: String,
}

/// Where the auth token comes from: a flag or variable, or a file.
enum TokenSource<'a> {
    Given(&'a ApiKey),
    File(&'a Path),
}

/// The flags a Twilio configuration needs, as an operator names them.
const NEEDED: [&str; 4] = [
    "--twilio-account-sid (ACCOUNT_CENTER_TWILIO_ACCOUNT_SID)",
    "--twilio-auth-token (ACCOUNT_CENTER_TWILIO_AUTH_TOKEN) or --twilio-auth-token-file",
    "--twilio-from (ACCOUNT_CENTER_TWILIO_FROM)",
    "--public-url (ACCOUNT_CENTER_PUBLIC_URL)",
];

impl Twilio {
    /// The Twilio account `config` names, or `None` when it names none. All or nothing: a
    /// configuration with some of the settings and not the others stops the start, as does a
    /// value that cannot be right (an operator who set them expects SMS to go out).
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Twilio>> {
        let token = match (&config.twilio_auth_token, &config.twilio_auth_token_file) {
            (Some(token), _) => Some(TokenSource::Given(token)),
            (None, Some(path)) => Some(TokenSource::File(path)),
            (None, None) => None,
        };
        let settings = (
            &config.twilio_account_sid,
            token,
            &config.twilio_from,
            &config.public_url,
        );
        let (Some(account_sid), Some(token), Some(from), Some(public_url)) = settings else {
            let (sid, token, from, public_url) = settings;
            let twilio_named = sid.is_some()
                || token.is_some()
                || from.is_some()
                || config.twilio_messaging_service_sid.is_some();
            if !twilio_named {
                return Ok(None);
            }
            let given = [
                sid.is_some(),
                token.is_some(),
                from.is_some(),
                public_url.is_some(),
            ];
            let missing: Vec<&str> = NEEDED
                .iter()
                .zip(given)
                .filter(|(_, given)| !given)
                .map(|(flag, _)| *flag)
                .collect();
            bail!(
                "Twilio is partly configured: {} missing. Give all of {} to send SMS and voice \
                 codes through Twilio (calls need a From number even with a Messaging Service), \
                 or none of the Twilio settings to keep those messages in the outbox.",
                missing.join(", "),
                NEEDED.join(", "),
            );
        };
        ensure_sid("--twilio-account-sid", account_sid, "AC")?;
        if let Some(service) = &config.twilio_messaging_service_sid {
            ensure_sid("--twilio-messaging-service-sid", service, "MG")?;
        }
        anyhow::ensure!(
            is_e164(from),
            "--twilio-from {from} is not a phone number in E.164 form (+ and up to 15 digits, \
             e.g. +15005550006)"
        );
        let token = match token {
            TokenSource::Given(token) => token.clone(),
            TokenSource::File(path) => ApiKey::read(
                path,
                "the Twilio auth token file",
                "--twilio-auth-token-file",
            )?,
        };
        let public_url = http_url("--public-url", public_url)?;
        let api_base = http_url("--twilio-api-base", &config.twilio_api_base)?;
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .context("cannot make the HTTP client for Twilio")?;
        Ok(Some(Twilio {
            http,
            api_base,
            account_sid: account_sid.clone(),
            token,
            from: from.clone(),
            messaging_service: config.twilio_messaging_service_sid.clone(),
            callback_url: format!("{public_url}{WEBHOOK_PATH}"),
        }))
    }

    /// Hands `body` to Twilio for `to`: an SMS, or a call that reads it out.
    pub async fn deliver(&self, medium: Medium, to: &str, body: &str) -> anyhow::Result<Handed> {
        let callback = self.callback_url.as_str();
        let (resource, form) = match medium {
            Medium::Sms => {
                let sender = match &self.messaging_service {
                    Some(service) => ("MessagingServiceSid", service.as_str()),
                    None => ("From", self.from.as_str()),
                };
                let form = vec![
                    ("To", to.to_owned()),
                    (sender.0, sender.1.to_owned()),
                    ("Body", body.to_owned()),
                    ("StatusCallback", callback.to_owned()),
                ];
                ("Messages", form)
            }
            Medium::Voice => {
                let form = vec![
                    ("To", to.to_owned()),
                    ("From", self.from.clone()),
                    ("Twiml", twiml_saying(body)),
                    ("StatusCallback", callback.to_owned()),
                ];
                ("Calls", form)
            }
            Medium::Email => bail!("Twilio carries no email"),
        };
        self.create(resource, &form).await
    }

    /// POSTs a new `resource` (`Messages`, `Calls`) to the account, and reads Twilio's answer.
    async fn create(&self, resource: &str, form: &[(&str, String)]) -> anyhow::Result<Handed> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{resource}.json",
            self.api_base, self.account_sid
        );
        let response = self
            .http
            .post(url)
            .basic_auth(&self.account_sid, Some(self.token.expose()))
            .form(form)
            .send()
            .await
            .context("Twilio could not be reached")?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("Twilio's answer ({status}) was cut off"))?;
        if status.is_success() {
            return Ok(match serde_json::from_str::<Created>(&text) {
                Ok(created) => Handed::Sent {
                    provider_id: Some(created.sid),
                },
                Err(e) => {
                    // Accepted all the same: sending it again would send it twice.
                    tracing::warn!(%status, error = %e, "Twilio accepted a message without a readable SID: its reports will not find it");
                    Handed::Sent { provider_id: None }
                }
            });
        }
        let error = serde_json::from_str::<TwilioError>(&text).ok();
        let reason = describe(status, error.as_ref(), &text);
        if refuses_the_message(status) {
            Ok(Handed::Refused {
                code: error.and_then(|e| e.code),
                reason,
            })
        } else {
            bail!(reason)
        }
    }
}

/// A 4xx about the message itself (an invalid or unreachable `To`, a number a trial account
/// has not verified, a blocked region) can never succeed: the message fails at once. Not so
/// our credentials or account (401, 403, 404: an operator fixes the configuration, and the
/// message goes out on a later try), a timeout or a conflict (408, 409), or Twilio's rate
/// limit (429).
fn refuses_the_message(status: StatusCode) -> bool {
    status.is_client_error() && !matches!(status.as_u16(), 401 | 403 | 404 | 408 | 409 | 429)
}

/// Twilio's answer to a created message or call; only its SID is kept.
#[derive(Deserialize)]
struct Created {
    sid: String,
}

/// Twilio's error shape: `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
    more_info: Option<String>,
}

fn describe(status: StatusCode, error: Option<&TwilioError>, text: &str) -> String {
    let Some(error) = error else {
        let start: String = text.chars().take(200).collect();
        return format!("Twilio answered {status}: {start}");
    };
    let mut said = format!("Twilio answered {status}");
    if let Some(code) = error.code {
        said.push_str(&format!(", error {code}"));
    }
    if let Some(message) = &error.message {
        said.push_str(&format!(": {message}"));
    }
    if let Some(more) = &error.more_info {
        said.push_str(&format!(" ({more})"));
    }
    if matches!(status.as_u16(), 401 | 403 | 404) {
        said.push_str(" — check --twilio-account-sid, the auth token and --twilio-api-base");
    }
    said
}

/// The TwiML of a call that reads `text` out: digits one by one (a code is read "4, 1, 7",
/// not "four hundred and seventeen"), everything escaped for XML.
pub fn twiml_saying(text: &str) -> String {
    let mut spoken = String::with_capacity(text.len() * 2);
    let mut after_digit = false;
    for c in text.chars() {
        let digit = c.is_ascii_digit();
        if digit && after_digit {
            spoken.push_str(", ");
        }
        after_digit = digit;
        match c {
            '&' => spoken.push_str("&amp;"),
            '<' => spoken.push_str("&lt;"),
            '>' => spoken.push_str("&gt;"),
            '"' => spoken.push_str("&quot;"),
            '\'' => spoken.push_str("&apos;"),
            c => spoken.push(c),
        }
    }
    format!("<Response><Say>{spoken}</Say></Response>")
}

fn ensure_sid(flag: &str, sid: &str, prefix: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        sid.len() == 34
            && sid.starts_with(prefix)
            && sid.chars().all(|c| c.is_ascii_alphanumeric()),
        "{flag} {sid} is not a Twilio SID: {prefix} followed by 32 letters and digits"
    );
    Ok(())
}

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
    })
}

/// An `http(s)://` URL without a trailing slash, query or fragment.
fn http_url(flag: &str, value: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(value).with_context(|| format!("{flag} {value} is not a URL"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.query().is_none()
            && url.fragment().is_none(),
        "{flag} {value} must be an http:// or https:// address without a query"
    );
    Ok(value.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_reads_the_code_digit_by_digit_and_escapes_the_rest() {
        assert_eq!(
            twiml_saying("Code 042. Again: 042 & <done>"),
            "<Response><Say>Code 0, 4, 2. Again: 0, 4, 2 &amp; &lt;done&gt;</Say></Response>"
        );
        assert_eq!(
            twiml_saying("\"it's\""),
            "<Response><Say>&quot;it&apos;s&quot;</Say></Response>"
        );
    }

    #[test]
    fn only_a_refusal_of_the_message_itself_is_final() {
        for status in [400, 410, 422] {
            assert!(
                refuses_the_message(StatusCode::from_u16(status).unwrap()),
                "{status}"
            );
        }
        for status in [200, 401, 403, 404, 408, 409, 429, 500, 503] {
            assert!(
                !refuses_the_message(StatusCode::from_u16(status).unwrap()),
                "{status}"
            );
        }
    }

    #[test]
    fn senders_and_sids_are_checked() {
        assert!(is_e164("+15005550006"));
        assert!(!is_e164("15005550006") && !is_e164("+1500555000600000") && !is_e164("+1-500"));
        ensure_sid(
            "--twilio-account-sid",
            &format!("AC{}", "a1".repeat(16)),
            "AC",
        )
        .unwrap();
        assert!(
            ensure_sid(
                "--twilio-account-sid",
                &format!("MG{}", "a1".repeat(16)),
                "AC"
            )
            .is_err()
        );
        assert!(ensure_sid("--twilio-account-sid", "AC123", "AC").is_err());
        assert_eq!(
            http_url("--public-url", "https://example.com/").unwrap(),
            "https://example.com"
        );
        assert!(http_url("--public-url", "example.com").is_err());
        assert!(http_url("--public-url", "ftp://example.com").is_err());
        assert!(http_url("--public-url", "https://example.com/?a=1").is_err());
    }
}
