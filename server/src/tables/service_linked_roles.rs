//! `service_linked_roles`: the roles a confirmed closure creates for the account while it
//! cools down (seed 001), removed again when the closure fails.

use crate::clock::Millis;
use crate::db::{self, Backend};
use sqlx::{Any, Executor};

/// The account's roles, by name.
pub async fn of_account<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT role_name FROM service_linked_roles WHERE account_id = $1 ORDER BY role_name",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// Creates the role for the account, unless it has it already.
pub async fn create<'e>(
    db: impl Executor<'e, Database = Any>,
    account_id: &str,
    role_name: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO service_linked_roles (account_id, role_name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(account_id)
        .bind(role_name)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Removes every role of the accounts in `accounts`, a JSON array of their ids
/// ([`db::json_texts`]).
pub async fn remove_of_accounts<'e>(
    db: impl Executor<'e, Database = Any>,
    backend: Backend,
    accounts: &str,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "DELETE FROM service_linked_roles WHERE account_id IN {}",
        db::in_json(backend, 1)
    ))
    .bind(accounts)
    .execute(db)
    .await?;
    Ok(())
}
