//! Cards through Stripe (<https://docs.stripe.com/api>), production's gateway. The browser
//! tokenizes the card with Stripe.js, so the number and the CVV never reach this server: it
//! gets a PaymentMethod id (`pm_…`), asks Stripe what card it is, and from then on works with
//! a Customer and that PaymentMethod. A verification hold is a PaymentIntent confirmed with
//! manual capture and then cancelled; a charge is a PaymentIntent confirmed off-session; a
//! refund is a Refund of the charge's PaymentIntent. Every call that creates something carries
//! our intent's key as Stripe's `Idempotency-Key`, so asking again after a lost answer returns
//! the first outcome. Stripe takes form-encoded requests and answers JSON; an error is
//! `{"error": {"type", "code", "decline_code", "message"}}` with an HTTP status that says
//! whose fault it is (402 a card's, 400 ours, 409 a request still in flight under its key,
//! 429 and 5xx Stripe's). What Stripe reports later (a refund the card network returned, a
//! dispute) comes to our webhook endpoint: [`super::stripe_webhook`].

use super::{
    Authorization, CardDetails, CardEntry, CardSource, Charge, GatewayError, GatewayFuture,
    PaymentGateway, PaypalPayer,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::api::PaymentMethodKind;
use shared::money::Money;
use std::time::Duration;

/// Where Stripe's API is, unless `--stripe-api-url` points elsewhere (the tests' stand-in).
pub const API_URL: &str = "https://api.stripe.com";

pub struct StripeGateway {
    http: reqwest::Client,
    api: String,
    secret_key: String,
}

/// A card method as we keep its token: the Customer and the PaymentMethod attached to it.
fn method_token(customer: &str, payment_method: &str) -> String {
    format!("stripe:{customer}:{payment_method}")
}

fn parse_method_token(token: &str) -> Result<(&str, &str), GatewayError> {
    token
        .strip_prefix("stripe:")
        .and_then(|rest| rest.split_once(':'))
        .ok_or(GatewayError::Unsupported(
            "methods not added through Stripe",
        ))
}

#[derive(Deserialize)]
struct Object {
    id: String,
}

#[derive(Deserialize)]
struct PaymentIntent {
    id: String,
    status: String,
}

#[derive(Deserialize)]
struct Refund {
    status: String,
}

#[derive(Deserialize)]
struct PaymentMethod {
    card: Option<Card>,
}

#[derive(Deserialize)]
struct Card {
    brand: String,
    funding: String,
    country: Option<String>,
    last4: String,
    exp_month: u32,
    exp_year: i32,
    fingerprint: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: StripeError,
}

#[derive(Deserialize)]
struct StripeError {
    #[serde(rename = "type")]
    kind: String,
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
}

impl StripeGateway {
    /// `timeout` bounds each request; the caller's own timeout (`--gateway-timeout-ms`) is
    /// the one that decides, this one only keeps a connection from hanging forever.
    pub fn new(api: &str, secret_key: String, timeout: Duration) -> anyhow::Result<Self> {
        Ok(StripeGateway {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .user_agent(concat!("account-center/", env!("CARGO_PKG_VERSION")))
                .build()?,
            api: api.trim_end_matches('/').to_owned(),
            secret_key,
        })
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, &str)],
        idempotency_key: &str,
    ) -> Result<T, GatewayError> {
        let request = self
            .http
            .post(format!("{}{path}", self.api))
            .header("Idempotency-Key", idempotency_key)
            .form(form);
        self.send(request).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, GatewayError> {
        self.send(self.http.get(format!("{}{path}", self.api)))
            .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, GatewayError> {
        let response = request
            .bearer_auth(&self.secret_key)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    GatewayError::Timeout
                } else {
                    GatewayError::Network(format!("Stripe unreachable: {e}"))
                }
            })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| GatewayError::Network(format!("Stripe's answer was cut: {e}")))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                GatewayError::Network(format!("Stripe answered what we cannot read: {e}"))
            });
        }
        Err(error_of(status.as_u16(), &body))
    }

    /// Confirms a PaymentIntent of `amount` on the card: a hold (`manual` capture) or a charge.
    async fn payment_intent(
        &self,
        customer: &str,
        payment_method: &str,
        amount: Money,
        capture: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, GatewayError> {
        let minor = minor_units(amount)?;
        let currency = amount.currency.code().to_ascii_lowercase();
        let mut form = vec![
            ("amount", minor.as_str()),
            ("currency", currency.as_str()),
            ("customer", customer),
            ("payment_method", payment_method),
            ("payment_method_types[]", "card"),
            ("confirm", "true"),
            ("capture_method", capture),
        ];
        if capture == "automatic" {
            // The owner is not at the page: a renewal, a bill, a purchase's charge.
            form.push(("off_session", "true"));
        }
        self.post("/v1/payment_intents", &form, idempotency_key)
            .await
    }
}

/// Stripe counts money in the currency's smallest unit (cents): `12.34` USD is `1234`.
fn minor_units(amount: Money) -> Result<String, GatewayError> {
    amount
        .to_minor()
        .map(|m| m.to_string())
        .map_err(|_| GatewayError::Network(format!("{amount} has no whole number of minor units")))
}

/// Stripe's error answer as ours: a card's refusal is a refusal; a key reused with other
/// parameters is our bug; anything else leaves the outcome unknown, to be asked again under
/// the same key (Stripe's own advice for 409, 429 and 5xx; for 400/401/403 too, as an
/// operator's fix of the key or the account makes the retry succeed).
fn error_of(status: u16, body: &[u8]) -> GatewayError {
    let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(body) else {
        return GatewayError::Network(format!("Stripe answered {status}"));
    };
    let insufficient = |c: &Option<String>| c.as_deref() == Some("insufficient_funds");
    match error.kind.as_str() {
        "card_error" if insufficient(&error.decline_code) || insufficient(&error.code) => {
            GatewayError::InsufficientFunds
        }
        "card_error" => GatewayError::Declined,
        // A charge Stripe will not refund (too old for its card network, or disputed):
        // nothing happened, and asking again changes nothing.
        "invalid_request_error"
            if matches!(
                error.code.as_deref(),
                Some("charge_expired_for_refund" | "charge_disputed")
            ) =>
        {
            GatewayError::Declined
        }
        "idempotency_error" => GatewayError::KeyReused,
        _ => GatewayError::Network(format!(
            "Stripe answered {status} ({}, {}): {}",
            error.kind,
            error.code.as_deref().unwrap_or("no code"),
            error.message.as_deref().unwrap_or("no message")
        )),
    }
}

impl PaymentGateway for StripeGateway {
    fn card_entry(&self) -> CardEntry {
        CardEntry::Token
    }

    fn takes(&self, kind: PaymentMethodKind) -> bool {
        kind == PaymentMethodKind::Card
    }

    fn pays_out(&self) -> bool {
        // Paying a customer's card needs Stripe Connect, which this adapter does not use.
        false
    }

    fn authorize<'a>(
        &'a self,
        card: CardSource<'a>,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Authorization> {
        Box::pin(async move {
            let CardSource::Token(payment_method) = card else {
                return Err(GatewayError::Unsupported(
                    "card numbers (Stripe.js tokenizes them)",
                ));
            };
            // Each step under a key of its own made from the intent's: a retry of the whole
            // verification repeats none of them.
            let customer: Object = self
                .post(
                    "/v1/customers",
                    &[("description", "Account Center account")],
                    &format!("{idempotency_key}-customer"),
                )
                .await?;
            let _: Object = self
                .post(
                    &format!("/v1/payment_methods/{payment_method}/attach"),
                    &[("customer", customer.id.as_str())],
                    &format!("{idempotency_key}-attach"),
                )
                .await?;
            let hold = self
                .payment_intent(
                    &customer.id,
                    payment_method,
                    amount,
                    "manual",
                    idempotency_key,
                )
                .await?;
            if hold.status != "requires_capture" {
                // 3-D Secure or another step the owner would have to take: not a verification.
                return Err(GatewayError::Declined);
            }
            Ok(Authorization {
                reference: hold.id,
                card_token: method_token(&customer.id, payment_method),
            })
        })
    }

    fn card_details<'a>(&'a self, token: &'a str) -> GatewayFuture<'a, CardDetails> {
        Box::pin(async move {
            let method: PaymentMethod = self.get(&format!("/v1/payment_methods/{token}")).await?;
            let card = method.card.ok_or(GatewayError::Declined)?;
            Ok(CardDetails {
                brand: card.brand,
                funding: card.funding,
                country: card.country,
                last4: card.last4,
                exp_month: card.exp_month,
                exp_year: card.exp_year,
                fingerprint: card.fingerprint,
            })
        })
    }

    fn release<'a>(
        &'a self,
        reference: &'a str,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            let cancelled: PaymentIntent = self
                .post(
                    &format!("/v1/payment_intents/{reference}/cancel"),
                    &[],
                    idempotency_key,
                )
                .await?;
            match cancelled.status.as_str() {
                "canceled" => Ok(()),
                other => Err(GatewayError::Network(format!(
                    "the hold {reference} is {other}, not cancelled"
                ))),
            }
        })
    }

    fn paypal_payer<'a>(&'a self, _token: &'a str) -> GatewayFuture<'a, PaypalPayer> {
        Box::pin(async { Err(GatewayError::Unsupported("PayPal")) })
    }

    fn paypal_approval_url(&self, _token: &str) -> String {
        // Never asked: `takes` refuses PayPal before a trip there starts.
        String::new()
    }

    fn charge<'a>(
        &'a self,
        method_token: &'a str,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Charge> {
        Box::pin(async move {
            let (customer, payment_method) = parse_method_token(method_token)?;
            let charge = self
                .payment_intent(
                    customer,
                    payment_method,
                    amount,
                    "automatic",
                    idempotency_key,
                )
                .await?;
            match charge.status.as_str() {
                "succeeded" => Ok(Charge {
                    reference: charge.id,
                }),
                // Off-session, a charge that needs the owner (3-D Secure) cannot go through.
                "requires_action" | "requires_payment_method" => Err(GatewayError::Declined),
                other => Err(GatewayError::Network(format!(
                    "the charge {} is {other}; asked again under its key",
                    charge.id
                ))),
            }
        })
    }

    fn refund<'a>(
        &'a self,
        charge_reference: &'a str,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            let minor = minor_units(amount)?;
            // The key names our refund (an unsubscription's refund id, a reversal's key): a
            // refund the card network returns later comes back by webhook with this metadata,
            // which is how `domain::stripe_events` finds it.
            let refund: Refund = self
                .post(
                    "/v1/refunds",
                    &[
                        ("payment_intent", charge_reference),
                        ("amount", minor.as_str()),
                        ("metadata[idempotency_key]", idempotency_key),
                    ],
                    idempotency_key,
                )
                .await?;
            match refund.status.as_str() {
                // Pending: the card network has it; its end comes by webhook.
                "succeeded" | "pending" => Ok(()),
                "failed" | "canceled" => Err(GatewayError::Declined),
                other => Err(GatewayError::Network(format!("the refund is {other}"))),
            }
        })
    }

    fn payout<'a>(
        &'a self,
        _method_token: &'a str,
        _amount: Money,
        _idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Charge> {
        // Never asked: `pays_out` offers no withdrawal destination (`withdrawal::destinations`).
        Box::pin(async { Err(GatewayError::Unsupported("payouts to a card")) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, kind: &str, code: &str, decline: Option<&str>) -> GatewayError {
        let body = serde_json::json!({"error": {"type": kind, "code": code, "decline_code": decline, "message": "m"}});
        error_of(status, body.to_string().as_bytes())
    }

    #[test]
    fn a_cards_refusal_is_a_refusal_and_everything_else_is_asked_again() {
        let insufficient = error(
            402,
            "card_error",
            "card_declined",
            Some("insufficient_funds"),
        );
        assert_eq!(insufficient, GatewayError::InsufficientFunds);
        let declined = error(402, "card_error", "card_declined", Some("do_not_honor"));
        assert_eq!(declined, GatewayError::Declined);
        let reused = error(400, "idempotency_error", "idempotency_key_in_use", None);
        assert_eq!(reused, GatewayError::KeyReused);
        let too_old = error(
            400,
            "invalid_request_error",
            "charge_expired_for_refund",
            None,
        );
        assert_eq!(too_old, GatewayError::Declined);
        for (status, kind) in [
            (409, "invalid_request_error"),
            (429, "invalid_request_error"),
            (500, "api_error"),
            (401, "invalid_request_error"),
        ] {
            let e = error(status, kind, "x", None);
            assert!(
                matches!(e, GatewayError::Network(_)) && !e.is_refusal(),
                "{status}: {e:?}"
            );
        }
        let unreadable = error_of(502, b"<html>bad gateway</html>");
        assert!(matches!(unreadable, GatewayError::Network(_)));
    }

    #[test]
    fn a_method_token_names_the_customer_and_the_payment_method() {
        let token = method_token("cus_1", "pm_2");
        assert_eq!(parse_method_token(&token), Ok(("cus_1", "pm_2")));
        assert_eq!(
            parse_method_token("sim-tok-abc"),
            Err(GatewayError::Unsupported(
                "methods not added through Stripe"
            ))
        );
    }

    #[test]
    fn amounts_go_in_minor_units() {
        let usd = Money::from_minor(2_000, shared::money::Currency::USD);
        assert_eq!(minor_units(usd).unwrap(), "2000");
    }
}
