//! The end of a subscription's paid time: with auto-renew on, the default method is charged
//! for another period; otherwise (or when that charge is refused) the resource is released.
//! The job reads the instance's expiry each time it runs, so renewals and unsubscriptions
//! need not touch it: a moved expiry reschedules it, a released instance ends it.

use crate::clock::{DurationMs, Millis};
use crate::db;
use crate::domain::account::{self, Writer};
use crate::domain::purchase;
use crate::error::ApiError;
use crate::ids::InstanceId;
use crate::notices::Notice;
use crate::notify::{Medium, Outgoing};
use crate::queue::{Claimed, Job, JobError, Outcome, finish};
use crate::state::AppState;
use crate::tables::{accounts, instances, orders};
use shared::catalog::{PayWith, Product};

/// Renews or releases a subscription when its paid time ends.
pub struct Expire;

impl Job for Expire {
    const KIND: &'static str = "subscription_expiry";

    async fn run(state: &AppState, job: &Claimed) -> Result<(), JobError> {
        Ok(run(state, job).await?)
    }
}

pub async fn run(state: &AppState, job: &Claimed) -> Result<(), ApiError> {
    let now = state.clock.now();
    let instance = instances::find(&state.db, &job.subject).await?;
    let Some(instance) = instance.filter(|i| i.is_running() && i.is_subscription()) else {
        return done(state, job, Outcome::Done).await;
    };
    let expires_at = instance.expires_at.unwrap_or(now);
    if now < expires_at {
        return done(state, job, Outcome::Again(expires_at)).await;
    }
    if instance.auto_renew {
        let product = Product::find(&instance.product)
            .ok_or_else(|| anyhow::anyhow!("product {}", instance.product))?;
        let months = orders::last_period_months(&state.db, &job.subject).await?;
        let months = months
            .and_then(|m| u32::try_from(m).ok())
            .filter(|m| product.periods.contains(m))
            .unwrap_or(product.periods[0]);
        match purchase::renew(
            state,
            &instance.account_id,
            Writer::System,
            &InstanceId::from(job.subject.clone()),
            months,
            PayWith::DefaultMethod,
        )
        .await
        {
            Ok(renewed) => {
                let next = renewed
                    .instance
                    .expires_at
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                let next = next.map_or(now + DurationMs::days(1), |t| Millis(t.timestamp_millis()));
                return done(state, job, Outcome::Again(next)).await;
            }
            Err(e) if e.is_no_answer() => return Err(e),
            Err(refused) => {
                tracing::info!(instance = %job.subject, reason = %refused, "auto-renewal refused; releasing")
            }
        }
    }
    let mut tx = account::begin_locked(&state.db, &instance.account_id).await?;
    if instances::release_expired(&mut *tx, &job.subject, now).await? {
        let email = accounts::email(&mut *tx, &instance.account_id).await?;
        let message = Outgoing {
            account_id: Some(&instance.account_id),
            medium: Medium::Email,
            recipient: &email,
            notice: Notice::SubscriptionExpired {
                instance: &job.subject,
                product: &instance.product,
                auto_renew: instance.auto_renew,
            },
        };
        state.outbox.enqueue(&mut tx, now, message).await?;
    }
    finish(&mut tx, job, Outcome::Done, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn done(state: &AppState, job: &Claimed, outcome: Outcome) -> Result<(), ApiError> {
    let mut tx = db::begin_write(&state.db).await?;
    finish(&mut tx, job, outcome, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}
