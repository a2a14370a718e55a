//! `billing_addresses`: an account's one billing address (SPEC §2).

use crate::clock::Millis;
use crate::db::{Db, Flag, HeldTx, Stored};
use shared::billing::{AccountType, Address, BillingAddress};

#[derive(sqlx::FromRow)]
struct Row {
    account_type: Stored<AccountType>,
    last_name: String,
    first_name: String,
    company_name: Option<String>,
    country: String,
    address_line1: String,
    address_line2: Option<String>,
    city: String,
    state: String,
    postal_code: Option<String>,
}

/// Whether the account has saved its address.
pub async fn exists(db: &Db, account_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM billing_addresses WHERE account_id = $1)",
    )
    .bind(account_id)
    .fetch_one(db)
    .await
    .map(bool::from)
}

pub async fn get(db: &Db, account_id: &str) -> sqlx::Result<Option<BillingAddress>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT account_type, last_name, first_name, company_name, country, address_line1, address_line2, city, state, postal_code
         FROM billing_addresses WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| BillingAddress {
        account_type: r.account_type.0,
        last_name: r.last_name,
        first_name: r.first_name,
        company_name: r.company_name,
        address: Address {
            country: r.country,
            address_line1: r.address_line1,
            address_line2: r.address_line2,
            city: r.city,
            state: r.state,
            postal_code: r.postal_code,
        },
    }))
}

/// Saves the account's address, replacing the one it had.
pub async fn save(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    address: &BillingAddress,
    now: Millis,
) -> sqlx::Result<()> {
    let a = &address.address;
    sqlx::query(
        "INSERT INTO billing_addresses (account_id, account_type, last_name, first_name, company_name, country, address_line1, address_line2, city, state, postal_code, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (account_id) DO UPDATE SET account_type = excluded.account_type, last_name = excluded.last_name,
           first_name = excluded.first_name, company_name = excluded.company_name, country = excluded.country,
           address_line1 = excluded.address_line1, address_line2 = excluded.address_line2, city = excluded.city,
           state = excluded.state, postal_code = excluded.postal_code, updated_at = excluded.updated_at",
    )
    .bind(account_id)
    .bind(address.account_type.as_str())
    .bind(&address.last_name)
    .bind(&address.first_name)
    .bind(&address.company_name)
    .bind(&a.country)
    .bind(&a.address_line1)
    .bind(&a.address_line2)
    .bind(&a.city)
    .bind(&a.state)
    .bind(&a.postal_code)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(drop)
}
