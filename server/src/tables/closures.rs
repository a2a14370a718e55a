//! `closures`: an account's closure, `cooling_down` until its decision, `failed` when the
//! decision refused it (a closed account is deleted with its closure).
//!
//! One cooling-down closure per account: the partial unique index `closures_one_cooling_down`
//! (`WHERE status = 'cooling_down'`) says so, and the reads of the cooling-down closure spell
//! the status as the index does, so the index answers them.

use crate::clock::Millis;
use crate::db::{self, Backend, Db, HeldTx};
use strum::{IntoStaticStr, VariantArray};

/// `closures.status`: where a closure stands. Only this table's concern: the API speaks of the
/// account's `ClosureState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    CoolingDown,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A new closure, cooling down until `ends_at`.
pub struct New<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub reason: Option<&'a str>,
    pub reason_detail: Option<&'a str>,
    /// The renounced items' keys, separated by spaces.
    pub renounced: &'a str,
    pub started_at: Millis,
    pub ends_at: Millis,
}

pub async fn insert(tx: &mut HeldTx<'_>, new: New<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO closures (id, account_id, status, reason, reason_detail, renounced, started_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.id)
    .bind(new.account_id)
    .bind(Status::CoolingDown.as_str())
    .bind(new.reason)
    .bind(new.reason_detail)
    .bind(new.renounced)
    .bind(new.started_at)
    .bind(new.ends_at)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// When the account's cooling-down closure ends, if it has one.
pub async fn cooling_down_ends_at(db: &Db, account_id: &str) -> sqlx::Result<Option<Millis>> {
    // `'cooling_down'` spelled as `closures_one_cooling_down` is: that index answers it.
    sqlx::query_scalar(
        "SELECT ends_at FROM closures WHERE account_id = $1 AND status = 'cooling_down'",
    )
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// The failure of the account's latest failed closure, as its decision wrote it (JSON).
pub async fn last_failure(db: &Db, account_id: &str) -> sqlx::Result<Option<String>> {
    let failure: Option<Option<String>> = sqlx::query_scalar(
        "SELECT failure FROM closures WHERE account_id = $1 AND status = $2 ORDER BY decided_at DESC LIMIT 1",
    )
    .bind(account_id)
    .bind(Status::Failed.as_str())
    .fetch_optional(db)
    .await?;
    Ok(failure.flatten())
}

/// The closures among `ids` still cooling down: each one's id, and its account's id, email
/// and phone to tell of its decision.
pub async fn cooling_down_among(
    tx: &mut HeldTx<'_>,
    ids: &[&str],
) -> sqlx::Result<Vec<(String, String, String, Option<String>)>> {
    // `'cooling_down'` spelled as `closures_one_cooling_down` is.
    sqlx::query_as(&format!(
        "SELECT c.id, c.account_id, a.email, a.phone FROM closures c JOIN accounts a ON a.id = c.account_id
         WHERE c.status = 'cooling_down' AND c.id IN {}",
        db::in_json(Backend::of(tx), 1)
    ))
    .bind(db::json_texts(ids.iter().copied()))
    .fetch_all(&mut **tx)
    .await
}

/// Marks the closures `ids` failed at `now`, for `failure` (the JSON of a `ClosureFailure`).
pub async fn mark_failed<'a>(
    tx: &mut HeldTx<'_>,
    ids: impl IntoIterator<Item = &'a str>,
    failure: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "UPDATE closures SET status = $4, decided_at = $1, failure = $2 WHERE id IN {}",
        db::in_json(Backend::of(tx), 3)
    ))
    .bind(now)
    .bind(failure)
    .bind(db::json_texts(ids))
    .bind(Status::Failed.as_str())
    .execute(&mut **tx)
    .await
    .map(drop)
}
