//! `instances`: what each account bought and whether it still runs. No partial index reads a
//! status, billing or kind here, so those values are bound by their stored names.

use crate::clock::Millis;
use crate::db::Stored;
use shared::api::InstanceStatus;
use shared::catalog::Billing;
use shared::refund::ResourceKind;
use sqlx::{Any, Executor};

/// The columns [`Instance`] reads, of `instances`.
pub const COLUMNS: &str = "id, account_id, product, region, billing, resource_kind, activated, used, \
                           auto_renew, status, created_at, started_at, expires_at, billed_until, \
                           released_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Instance {
    pub id: String,
    pub account_id: String,
    pub product: String,
    pub region: String,
    pub billing: Stored<Billing>,
    pub resource_kind: Stored<ResourceKind>,
    #[sqlx(try_from = "crate::db::Flag")]
    pub activated: bool,
    /// Pay-as-you-go usage has drawn on this resource plan.
    #[sqlx(try_from = "crate::db::Flag")]
    pub used: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    pub auto_renew: bool,
    pub status: Stored<InstanceStatus>,
    pub created_at: Millis,
    pub started_at: Millis,
    pub expires_at: Option<Millis>,
    /// Pay-as-you-go: the end of the last hour billed.
    pub billed_until: Option<Millis>,
    pub released_at: Option<Millis>,
}


/// A new instance: what every insert writes.
pub struct NewInstance<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub product: &'a str,
    pub region: &'a str,
    pub kind: ResourceKind,
    /// When it starts running, and is created.
    pub started_at: Millis,
}

/// The instance `id`, whoever holds it.
pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<Instance>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM instances WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The instance `id` if `account_id` holds it: another account's is not found.
pub async fn owned<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
) -> sqlx::Result<Option<Instance>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM instances WHERE id = $1 AND account_id = $2"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// Who holds the instance `id`.
pub async fn account_of<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT account_id FROM instances WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The account's running instances, oldest first.
pub async fn running<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<Instance>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM instances WHERE account_id = $1 AND status = $2 ORDER BY created_at, id"
    ))
    .bind(account_id)
    .bind(InstanceStatus::Running.as_str())
    .fetch_all(db)
    .await
}

/// The account's 500 newest running instances, newest first.
pub async fn newest_running<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<Instance>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM instances WHERE account_id = $1 AND status = $2 ORDER BY created_at DESC, id LIMIT 500"
    ))
    .bind(account_id)
    .bind(InstanceStatus::Running.as_str())
    .fetch_all(db)
    .await
}

/// The expiry of the instance `id` while it runs: `None` once released (or not there).
pub async fn running_expiry<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<Option<Millis>>> {
    sqlx::query_scalar("SELECT expires_at FROM instances WHERE id = $1 AND status = $2")
        .bind(id)
        .bind(InstanceStatus::Running.as_str())
        .fetch_optional(db)
        .await
}

/// A pay-as-you-go instance, running and billed from its start.
pub async fn insert_payg<'e>(
    db: impl Executor<'e, Database = Any>,
    new: &NewInstance<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO instances (id, account_id, product, region, billing, resource_kind, activated, auto_renew, started_at, billed_until, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, 0, $7, $8, $9)",
    )
    .bind(new.id)
    .bind(new.account_id)
    .bind(new.product)
    .bind(new.region)
    .bind(Billing::Payg.as_str())
    .bind(new.kind.as_str())
    .bind(new.started_at)
    .bind(new.started_at)
    .bind(new.started_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A subscription running until `expires_at`.
pub async fn insert_subscription<'e>(
    db: impl Executor<'e, Database = Any>,
    new: &NewInstance<'_>,
    activated: bool,
    auto_renew: bool,
    expires_at: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO instances (id, account_id, product, region, billing, resource_kind, activated, auto_renew, started_at, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new.id)
    .bind(new.account_id)
    .bind(new.product)
    .bind(new.region)
    .bind(Billing::Subscription.as_str())
    .bind(new.kind.as_str())
    .bind(i64::from(activated))
    .bind(i64::from(auto_renew))
    .bind(new.started_at)
    .bind(expires_at)
    .bind(new.started_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A subscription bought in the past (demo data): `used` when usage has drawn on it, and no
/// auto-renewal.
pub async fn insert_past_subscription<'e>(
    db: impl Executor<'e, Database = Any>,
    new: &NewInstance<'_>,
    activated: bool,
    used: bool,
    expires_at: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO instances (id, account_id, product, region, billing, resource_kind, activated, used, auto_renew, started_at, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11)",
    )
    .bind(new.id)
    .bind(new.account_id)
    .bind(new.product)
    .bind(new.region)
    .bind(Billing::Subscription.as_str())
    .bind(new.kind.as_str())
    .bind(i64::from(activated))
    .bind(i64::from(used))
    .bind(new.started_at)
    .bind(expires_at)
    .bind(new.started_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Moves the instance's expiry (a renewal added or cancelled).
pub async fn set_expiry<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    expires_at: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE instances SET expires_at = $1 WHERE id = $2")
        .bind(expires_at)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Activates the account's running resource plan `id`; false when there is none.
pub async fn activate_plan<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE instances SET activated = 1 WHERE id = $1 AND account_id = $2 AND resource_kind = $3 AND status = $4",
    )
    .bind(id)
    .bind(account_id)
    .bind(ResourceKind::ResourcePlan.as_str())
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Turns the auto-renewal of the account's running subscription `id` on or off; false when
/// there is none.
pub async fn set_auto_renew<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    enabled: bool,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE instances SET auto_renew = $1 WHERE id = $2 AND account_id = $3 AND billing = $4 AND status = $5",
    )
    .bind(i64::from(enabled))
    .bind(id)
    .bind(account_id)
    .bind(Billing::Subscription.as_str())
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Moves a pay-as-you-go instance's billed hours from `from` to `until`, unless another run
/// moved them first; false then.
pub async fn claim_billed_hours<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    from: Millis,
    until: Millis,
) -> sqlx::Result<bool> {
    let claimed = sqlx::query(
        "UPDATE instances SET billed_until = $1 WHERE id = $2 AND COALESCE(billed_until, $3) = $4",
    )
    .bind(until)
    .bind(id)
    .bind(from)
    .bind(from)
    .execute(db)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Marks a resource plan as drawn on by pay-as-you-go usage.
pub async fn mark_used<'e>(db: impl Executor<'e, Database = Any>, id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE instances SET used = 1 WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Releases the account's running instance `id`; false when there is none.
pub async fn release_running<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let released = sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2 WHERE id = $3 AND account_id = $4 AND status = $5",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(id)
    .bind(account_id)
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(released.rows_affected() > 0)
}

/// Releases the account's running pay-as-you-go instance `id`; false when there is none.
pub async fn release_payg<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let released = sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2 WHERE id = $3 AND account_id = $4 AND billing = $5 AND status = $6",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(id)
    .bind(account_id)
    .bind(Billing::Payg.as_str())
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(released.rows_affected() > 0)
}

/// Releases the running instance `id` if it has expired by `now`; false when it has not (or
/// is released already).
pub async fn release_expired<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let released = sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2 WHERE id = $3 AND status = $4 AND expires_at <= $5",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(id)
    .bind(InstanceStatus::Running.as_str())
    .bind(now)
    .execute(db)
    .await?;
    Ok(released.rows_affected() == 1)
}

/// Releases the account's running instance `id` of `product` (a domain name transferred
/// out), with its auto-renewal off; false when there is none.
pub async fn release_product<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    id: &str,
    product: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let released = sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2, auto_renew = 0 WHERE id = $3 AND account_id = $4 AND product = $5 AND status = $6",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(id)
    .bind(account_id)
    .bind(product)
    .bind(InstanceStatus::Running.as_str())
    .execute(db)
    .await?;
    Ok(released.rows_affected() > 0)
}

/// Releases the instance `id` for good on unsubscription: it expires now, without renewal.
pub async fn release_unsubscribed<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE instances SET status = $1, released_at = $2, expires_at = $3, auto_renew = 0 WHERE id = $4",
    )
    .bind(InstanceStatus::Released.as_str())
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}
