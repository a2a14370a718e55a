//! The simulated gateway of dev and test mode. It behaves like the real thing: every call
//! takes a little while, and test card numbers decline, fail or hang (see README, "Test cards").
//! Its PayPal is a consent page served by this server at `/sim/paypal/checkout`.

use super::{
    Authorization, CardDetails, CardEntry, CardSource, Charge, GatewayError, GatewayFuture,
    PaymentGateway, PaypalPayer,
};
use crate::clock::{DurationMs, Millis};
use crate::db::Db;
use shared::api::PaymentMethodKind;
use shared::money::Money;
use std::future::Future;
use std::time::Duration;

pub struct SimulatedGateway {
    db: Db,
    /// How long each call takes.
    latency: Duration,
    /// Percentage of keyed calls the network fails before the gateway acts, and again of
    /// those whose answer it loses after (`--simulator-fault-percent`).
    fault_percent: u64,
}

/// Test numbers and what the simulated card network answers for them.
pub const DECLINED: &str = "4000000000000002";
pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
pub const NETWORK_ERROR: &str = "4000000000000119";
/// Never answers: the server's own gateway timeout decides.
pub const HANGS: &str = "4000000000000127";
/// Verifies fine, but every later charge is declined (for overdue bills).
pub const CHARGES_DECLINE: &str = "4000000000000341";
const DECLINING_TOKEN: &str = "sim-tok-declines-";
/// Verifies fine; every later charge goes through, but its first answer is lost on the way
/// back (the caller times out): asked again under the same key, the gateway tells the truth.
pub const ANSWER_LOST: &str = "4000000000000259";
const ANSWER_LOST_TOKEN: &str = "sim-tok-lost-";

/// One call as the simulator remembers it under its idempotency key.
struct Call<'a> {
    key: &'a str,
    operation: &'static str,
    target: &'a str,
    amount: Money,
}

impl SimulatedGateway {
    pub fn new(db: Db, latency: Duration) -> Self {
        SimulatedGateway {
            db,
            latency,
            fault_percent: 0,
        }
    }

    /// The same gateway on an unreliable network: see `fault_percent`.
    pub fn with_faults(self, fault_percent: u64) -> Self {
        SimulatedGateway {
            fault_percent,
            ..self
        }
    }

    /// True in `fault_percent` of the calls.
    fn network_fails(&self) -> bool {
        self.fault_percent > 0
            && rand::Rng::gen_range(&mut rand::thread_rng(), 0..100) < self.fault_percent
    }

    /// Runs `act` once per idempotency key: a later call under the key gets the first call's
    /// outcome (its reference, or its refusal) and acts no more; a call while the first is
    /// still in flight is refused, as Stripe answers 409, and one with other parameters too.
    /// A first call whose caller died with it (a SIGKILL between asking and hearing back) was
    /// finished by the gateway all the same, as a real one would: the next call under its key
    /// completes it, acting once, and gets its outcome.
    async fn once(
        &self,
        call: Call<'_>,
        act: impl Future<Output = Result<String, GatewayError>>,
    ) -> Result<String, GatewayError> {
        let minor = call
            .amount
            .to_minor()
            .map_err(|e| GatewayError::Network(format!("amount: {e}")))?;
        let now = Millis(chrono::Utc::now().timestamp_millis());
        let first = sqlx::query(
            "INSERT INTO sim_gateway_calls (idempotency_key, operation, target, amount_minor, currency, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(call.key)
        .bind(call.operation)
        .bind(call.target)
        .bind(minor)
        .bind(call.amount.currency.code())
        .bind(now)
        .execute(self.db.writer())
        .await
        .map_err(unreachable)?
        .rows_affected()
            == 1;
        if !first {
            let stored = self.stored(call.key).await?;
            if (
                stored.operation.as_str(),
                stored.target.as_str(),
                stored.amount_minor,
                stored.currency.as_str(),
            ) != (
                call.operation,
                call.target,
                minor,
                call.amount.currency.code(),
            ) {
                return Err(GatewayError::KeyReused);
            }
            tokio::time::sleep(self.latency).await;
            if stored.outcome.is_some() {
                return stored.answer();
            }
            let finished_by = stored.created_at + self.in_flight();
            if now < finished_by {
                return Err(GatewayError::Network(
                    "a request with this idempotency key is in progress".into(),
                ));
            }
            // Its caller is gone: the gateway finished it; this call completes it below.
        }
        let result = if self.network_fails() {
            Err(GatewayError::Network("simulated network fault".into()))
        } else {
            act.await
        };
        if let Err(GatewayError::Network(_) | GatewayError::Timeout) = &result {
            // Nothing happened: the key is free again, as Stripe frees it after a server error.
            sqlx::query(
                "DELETE FROM sim_gateway_calls WHERE idempotency_key = $1 AND outcome IS NULL",
            )
            .bind(call.key)
            .execute(self.db.writer())
            .await
            .map_err(unreachable)?;
            return result;
        }
        let (outcome, reference) = match &result {
            Ok(reference) => ("ok".to_owned(), Some(reference.clone())),
            Err(GatewayError::Declined) => ("declined".to_owned(), None),
            Err(GatewayError::InsufficientFunds) => ("insufficient_funds".to_owned(), None),
            Err(other) => (other.to_string(), None),
        };
        let recorded = sqlx::query(
            "UPDATE sim_gateway_calls SET outcome = $1, reference = $2 WHERE idempotency_key = $3 AND outcome IS NULL",
        )
        .bind(outcome)
        .bind(reference)
        .bind(call.key)
        .execute(self.db.writer())
        .await
        .map_err(unreachable)?
        .rows_affected()
            == 1;
        if recorded && result.is_ok() && self.network_fails() {
            // The gateway acted; its answer is lost on the way back.
            Err(GatewayError::Timeout)
        } else if recorded {
            result
        } else {
            // Another call completed the interrupted one first: its outcome is the one.
            self.stored(call.key).await?.answer()
        }
    }

    /// How long a call is in flight at the gateway: past this, one not answered was finished
    /// without its caller.
    fn in_flight(&self) -> DurationMs {
        DurationMs::millis(i64::try_from(self.latency.as_millis()).unwrap_or(i64::MAX / 2))
            + IN_FLIGHT_MARGIN
    }

    async fn stored(&self, key: &str) -> Result<StoredCall, GatewayError> {
        sqlx::query_as(
            "SELECT operation, target, amount_minor, currency, outcome, reference, created_at FROM sim_gateway_calls WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_one(&self.db)
        .await
        .map_err(unreachable)
    }
}

/// Beyond its latency, how long the simulated gateway may take to finish a call.
const IN_FLIGHT_MARGIN: DurationMs = DurationMs::seconds(1);

fn unreachable(e: sqlx::Error) -> GatewayError {
    GatewayError::Network(format!("simulator store: {e}"))
}

/// A call as the simulator's memory holds it.
#[derive(sqlx::FromRow)]
struct StoredCall {
    operation: String,
    target: String,
    amount_minor: i64,
    currency: String,
    /// `None` while the first call is in flight (or its caller died with it).
    outcome: Option<String>,
    reference: Option<String>,
    created_at: Millis,
}

impl StoredCall {
    /// The first call's answer, given again.
    fn answer(self) -> Result<String, GatewayError> {
        match self.outcome.as_deref() {
            Some("ok") => Ok(self.reference.unwrap_or_default()),
            Some("declined") => Err(GatewayError::Declined),
            Some("insufficient_funds") => Err(GatewayError::InsufficientFunds),
            Some(other) => Err(GatewayError::Network(other.to_owned())),
            None => Err(GatewayError::Network(
                "a request with this idempotency key is in progress".into(),
            )),
        }
    }
}

impl PaymentGateway for SimulatedGateway {
    fn authorize<'a>(
        &'a self,
        card: CardSource<'a>,
        amount: Money,
        _idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Authorization> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            // The simulator is the card network behind our own card form: it takes numbers.
            let CardSource::Number(card) = card else {
                return Err(GatewayError::Unsupported("card tokens"));
            };
            match card.number.expose() {
                DECLINED => Err(GatewayError::Declined),
                INSUFFICIENT_FUNDS => Err(GatewayError::InsufficientFunds),
                NETWORK_ERROR => Err(GatewayError::Network("simulated issuer unavailable".into())),
                HANGS => std::future::pending().await,
                _ => {
                    // The CVV is checked by the issuer, never by us: `000` is the simulator's wrong CVV.
                    if card.cvv.expose().chars().all(|c| c == '0') {
                        return Err(GatewayError::Declined);
                    }
                    tracing::debug!(amount = %amount, card = ?card.number, "simulated hold placed");
                    let prefix = match card.number.expose() {
                        CHARGES_DECLINE => DECLINING_TOKEN,
                        ANSWER_LOST => ANSWER_LOST_TOKEN,
                        _ => "sim-tok-",
                    };
                    Ok(Authorization {
                        reference: format!("sim-auth-{}", uuid::Uuid::new_v4().simple()),
                        card_token: format!("{prefix}{}", uuid::Uuid::new_v4().simple()),
                    })
                }
            }
        })
    }

    fn card_entry(&self) -> CardEntry {
        CardEntry::Form
    }

    fn takes(&self, _kind: PaymentMethodKind) -> bool {
        true
    }

    fn pays_out(&self) -> bool {
        true
    }

    fn card_details<'a>(&'a self, _token: &'a str) -> GatewayFuture<'a, CardDetails> {
        Box::pin(async { Err(GatewayError::Unsupported("card tokens")) })
    }

    fn release<'a>(
        &'a self,
        reference: &'a str,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            let call = Call {
                key: idempotency_key,
                operation: "release",
                target: reference,
                amount: Money::zero(shared::money::Currency::USD),
            };
            self.once(call, async {
                tokio::time::sleep(self.latency).await;
                tracing::debug!(reference, "simulated hold released");
                Ok(reference.to_owned())
            })
            .await
            .map(drop)
        })
    }

    fn paypal_payer<'a>(&'a self, token: &'a str) -> GatewayFuture<'a, PaypalPayer> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            let consent: Option<(String, String, String)> = sqlx::query_as(
                "SELECT payer_id, payer_email, country FROM sim_paypal_consents WHERE token = $1",
            )
            .bind(token)
            .fetch_optional(&self.db)
            .await
            .map_err(|e| GatewayError::Network(e.to_string()))?;
            let (payer_id, email, country) = consent.ok_or(GatewayError::NotApproved)?;
            Ok(PaypalPayer {
                payer_id,
                email,
                country,
            })
        })
    }

    fn paypal_approval_url(&self, token: &str) -> String {
        format!("/sim/paypal/checkout?token={token}")
    }

    fn charge<'a>(
        &'a self,
        method_token: &'a str,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Charge> {
        Box::pin(async move {
            let call = Call {
                key: idempotency_key,
                operation: "charge",
                target: method_token,
                amount,
            };
            let mut answered = true;
            let reference = self
                .once(call, async {
                    tokio::time::sleep(self.latency).await;
                    if method_token.starts_with(DECLINING_TOKEN) {
                        return Err(GatewayError::Declined);
                    }
                    answered = !method_token.starts_with(ANSWER_LOST_TOKEN);
                    tracing::debug!(amount = %amount, "simulated charge");
                    Ok(format!("sim-charge-{}", uuid::Uuid::new_v4().simple()))
                })
                .await?;
            if !answered {
                return Err(GatewayError::Timeout);
            }
            Ok(Charge { reference })
        })
    }

    fn refund<'a>(
        &'a self,
        charge_reference: &'a str,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            let call = Call {
                key: idempotency_key,
                operation: "refund",
                target: charge_reference,
                amount,
            };
            self.once(call, async {
                tokio::time::sleep(self.latency).await;
                tracing::debug!(reference = charge_reference, amount = %amount, "simulated refund");
                Ok(format!("sim-refund-{}", uuid::Uuid::new_v4().simple()))
            })
            .await
            .map(drop)
        })
    }

    fn payout<'a>(
        &'a self,
        method_token: &'a str,
        amount: Money,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Charge> {
        Box::pin(async move {
            let call = Call {
                key: idempotency_key,
                operation: "payout",
                target: method_token,
                amount,
            };
            let reference = self
                .once(call, async {
                    tokio::time::sleep(self.latency).await;
                    tracing::debug!(amount = %amount, "simulated payout");
                    Ok(format!("sim-payout-{}", uuid::Uuid::new_v4().simple()))
                })
                .await?;
            Ok(Charge { reference })
        })
    }
}
