//! The simulated gateway of dev and test mode. It behaves like the real thing: every call
//! takes a little while, and test card numbers decline, fail or hang (see README, "Test cards").
//! Its PayPal is a consent page served by this server at `/sim/paypal/checkout`.

use super::{
    Authorization, CardCheck, Charge, GatewayError, GatewayFuture, PaymentGateway, PaypalPayer,
};
use crate::db::Db;
use shared::money::Money;
use std::time::Duration;

pub struct SimulatedGateway {
    db: Db,
    /// How long each call takes.
    latency: Duration,
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

impl SimulatedGateway {
    pub fn new(db: Db, latency: Duration) -> Self {
        SimulatedGateway { db, latency }
    }
}

impl PaymentGateway for SimulatedGateway {
    fn authorize<'a>(
        &'a self,
        card: CardCheck<'a>,
        amount: Money,
    ) -> GatewayFuture<'a, Authorization> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
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
                    let prefix = if card.number.expose() == CHARGES_DECLINE {
                        DECLINING_TOKEN
                    } else {
                        "sim-tok-"
                    };
                    Ok(Authorization {
                        reference: format!("sim-auth-{}", uuid::Uuid::new_v4().simple()),
                        card_token: format!("{prefix}{}", uuid::Uuid::new_v4().simple()),
                    })
                }
            }
        })
    }

    fn release<'a>(&'a self, reference: &'a str) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            tracing::debug!(reference, "simulated hold released");
            Ok(())
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

    fn charge<'a>(&'a self, method_token: &'a str, amount: Money) -> GatewayFuture<'a, Charge> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            if method_token.starts_with(DECLINING_TOKEN) {
                return Err(GatewayError::Declined);
            }
            tracing::debug!(amount = %amount, "simulated charge");
            Ok(Charge {
                reference: format!("sim-charge-{}", uuid::Uuid::new_v4().simple()),
            })
        })
    }

    fn refund<'a>(&'a self, charge_reference: &'a str, amount: Money) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            tracing::debug!(reference = charge_reference, amount = %amount, "simulated refund");
            Ok(())
        })
    }
}
