//! What Stripe sends to our webhook endpoint: an Event (<https://docs.stripe.com/api/events/object>)
//! as JSON, signed in the `Stripe-Signature` header with the endpoint's signing secret
//! (<https://docs.stripe.com/webhooks#verify-manually>). The header is
//! `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (a `v0=` of the test scheme may come too); each `v1`
//! is HMAC-SHA256 of `"{t}.{raw body}"` keyed with the secret, and there are several while a
//! secret is being rolled. So the signature covers the body's exact bytes: it is checked before
//! the body is parsed, and the signed time keeps a recorded delivery from being replayed later.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::HashMap;

/// How far the signed time may be from our clock, either way: Stripe's libraries' default.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Missing,
    Malformed,
    /// No `v1` is the HMAC of this body and time with our secret.
    Mismatch,
    /// Signed more than [`TOLERANCE_SECONDS`] from now.
    OutOfTolerance,
}

impl Refused {
    pub fn reason(self) -> &'static str {
        match self {
            Refused::Missing => "no Stripe-Signature header",
            Refused::Malformed => "a Stripe-Signature header without a time or a v1 signature",
            Refused::Mismatch => "no v1 signature matches the body with this endpoint's secret",
            Refused::OutOfTolerance => "signed more than 300 seconds from the server's time",
        }
    }
}

/// Checks that `body` was signed with `secret` within [`TOLERANCE_SECONDS`] of `now_seconds`
/// (the server's clock). Any one `v1` signature matching is enough; each is compared in
/// constant time (`Mac::verify_slice`).
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now_seconds: i64,
) -> Result<(), Refused> {
    let header = header.ok_or(Refused::Missing)?;
    let mut signed_at = None;
    let mut signatures = Vec::new();
    for (key, value) in header
        .split(',')
        .filter_map(|part| part.trim().split_once('='))
    {
        match key {
            "t" if signed_at.is_none() => signed_at = Some(value),
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let signed_at = signed_at.ok_or(Refused::Malformed)?;
    let seconds: i64 = signed_at.parse().map_err(|_| Refused::Malformed)?;
    if signatures.is_empty() {
        return Err(Refused::Malformed);
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    // The time as it was sent: the signed payload is the header's text, not our reading of it.
    mac.update(signed_at.as_bytes());
    mac.update(b".");
    mac.update(body);
    let matches = signatures.iter().any(|signature| {
        hex::decode(signature).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok())
    });
    if !matches {
        return Err(Refused::Mismatch);
    }
    if (now_seconds - seconds).abs() > TOLERANCE_SECONDS {
        return Err(Refused::OutOfTolerance);
    }
    Ok(())
}

/// An Event as far as we read it: its id (the same on every redelivery), its type, and the
/// object it is about.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: serde_json::Value,
}

/// A Refund object (<https://docs.stripe.com/api/refunds/object>): `amount` in minor units,
/// `status` one of `pending`, `requires_action`, `succeeded`, `failed`, `canceled`.
#[derive(Debug, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: Option<String>,
    pub payment_intent: Option<String>,
    /// Why the card network returned it (`expired_or_canceled_card`, `lost_or_stolen_card`, …).
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

impl Refund {
    /// The key our adapter sent it under (`gateway::stripe`, `metadata[idempotency_key]`).
    pub fn our_key(&self) -> Option<&str> {
        self.metadata.get("idempotency_key").map(String::as_str)
    }
}

/// A Dispute object (<https://docs.stripe.com/api/disputes/object>).
#[derive(Debug, Deserialize)]
pub struct Dispute {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub payment_intent: Option<String>,
    pub reason: Option<String>,
}

/// What an event reports that this server acts on.
#[derive(Debug)]
pub enum Report {
    /// The card network returned a refund: `refund.failed`, or `refund.updated` to `failed`.
    RefundFailed(Refund),
    /// `charge.dispute.created`: the cardholder disputed a payment with their bank.
    DisputeCreated(Dispute),
    /// Anything else: recorded as seen, nothing done.
    Other,
}

impl Event {
    pub fn report(&self) -> Result<Report, serde_json::Error> {
        let object = || self.data.object.clone();
        Ok(match self.kind.as_str() {
            "refund.failed" => Report::RefundFailed(serde_json::from_value(object())?),
            "refund.updated" => {
                let refund: Refund = serde_json::from_value(object())?;
                if refund.status.as_deref() == Some("failed") {
                    Report::RefundFailed(refund)
                } else {
                    Report::Other
                }
            }
            "charge.dispute.created" => Report::DisputeCreated(serde_json::from_value(object())?),
            _ => Report::Other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"refund.failed"}"#;

    fn sign(secret: &str, t: &str, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_body_signed_with_our_secret_now_is_accepted_and_any_change_refused() {
        let good = sign(SECRET, "1000", BODY);
        let header = format!("t=1000,v1={good}");
        assert_eq!(verify(SECRET, Some(&header), BODY, 1000), Ok(()));
        let other_body = br#"{"id":"evt_2","type":"refund.failed"}"#;
        assert_eq!(
            verify(SECRET, Some(&header), other_body, 1000),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", Some(&header), BODY, 1000),
            Err(Refused::Mismatch)
        );
        let other_time = format!("t=1001,v1={good}");
        assert_eq!(
            verify(SECRET, Some(&other_time), BODY, 1000),
            Err(Refused::Mismatch),
            "the time is signed too"
        );
    }

    #[test]
    fn one_matching_v1_among_several_is_enough_and_v0_is_ignored() {
        let good = sign(SECRET, "1000", BODY);
        let old_secret = sign("whsec_old", "1000", BODY);
        let header = format!("t=1000,v1={old_secret},v1=zz,v1={good},v0={good}");
        assert_eq!(verify(SECRET, Some(&header), BODY, 1000), Ok(()));
        let only_v0 = format!("t=1000,v0={good}");
        assert_eq!(
            verify(SECRET, Some(&only_v0), BODY, 1000),
            Err(Refused::Malformed)
        );
    }

    #[test]
    fn the_signed_time_may_be_300_seconds_from_ours_either_way() {
        for (t, now, outcome) in [
            (1000, 1300, Ok(())),
            (1000, 1301, Err(Refused::OutOfTolerance)),
            (1300, 1000, Ok(())),
            (1301, 1000, Err(Refused::OutOfTolerance)),
        ] {
            let header = format!("t={t},v1={}", sign(SECRET, &t.to_string(), BODY));
            assert_eq!(verify(SECRET, Some(&header), BODY, now), outcome, "t={t}");
        }
    }

    #[test]
    fn a_missing_or_malformed_header_is_refused() {
        let good = sign(SECRET, "1000", BODY);
        assert_eq!(verify(SECRET, None, BODY, 1000), Err(Refused::Missing));
        for header in [
            String::new(),
            format!("v1={good}"),
            format!("t=soon,v1={good}"),
            "t=1000".to_owned(),
            format!("t=1000;v1={good}"),
        ] {
            assert_eq!(
                verify(SECRET, Some(&header), BODY, 1000),
                Err(Refused::Malformed),
                "{header}"
            );
        }
    }

    fn event(kind: &str, object: serde_json::Value) -> Event {
        serde_json::from_value(serde_json::json!({
            "id": "evt_1", "object": "event", "type": kind, "data": {"object": object},
        }))
        .unwrap()
    }

    #[test]
    fn a_failed_refund_is_reported_by_either_event_and_other_events_are_not_acted_on() {
        let refund = |status: &str| {
            serde_json::json!({"id": "re_1", "object": "refund", "amount": 2000, "currency": "usd",
                "status": status, "payment_intent": "pi_1", "metadata": {"idempotency_key": "r-1"}})
        };
        let failed = event("refund.failed", refund("failed")).report().unwrap();
        assert!(
            matches!(&failed, Report::RefundFailed(r) if r.our_key() == Some("r-1") && r.amount == 2000)
        );
        let updated = event("refund.updated", refund("failed")).report().unwrap();
        assert!(matches!(updated, Report::RefundFailed(_)));
        let succeeded = event("refund.updated", refund("succeeded"))
            .report()
            .unwrap();
        assert!(matches!(succeeded, Report::Other));
        let dispute = serde_json::json!({"id": "dp_1", "object": "dispute", "amount": 2000,
            "currency": "usd", "payment_intent": "pi_1", "reason": "fraudulent"});
        let disputed = event("charge.dispute.created", dispute).report().unwrap();
        assert!(
            matches!(disputed, Report::DisputeCreated(d) if d.payment_intent.as_deref() == Some("pi_1"))
        );
        let other = event("customer.created", serde_json::json!({"id": "cus_1"}))
            .report()
            .unwrap();
        assert!(matches!(other, Report::Other));
    }
}
