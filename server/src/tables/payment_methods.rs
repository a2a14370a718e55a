//! `payment_methods`: the cards, PayPal and Paytm accounts bound to an account, at most one of
//! them its default.
//!
//! Three partial unique indexes keep the rules no race may break: one PayPal and one Paytm per
//! account (`WHERE kind = 'paypal'` / `'paytm'`), one default per account (`WHERE is_default =
//! 1`). The statements below that test those same conditions spell them as the indexes do, so
//! the index answers them.

use crate::clock::Millis;
use crate::db::{Flag, HeldTx, Stored};
use crate::ids::PaymentMethodId;
use shared::api::{InstanceStatus, LoggedPaymentMethod, PaymentMethodKind};
use shared::catalog::Billing;
use shared::payment::CardBrand;

/// A method as the account's list of methods shows it.
#[derive(sqlx::FromRow)]
pub struct Method {
    pub id: String,
    pub kind: Stored<PaymentMethodKind>,
    pub label: String,
    pub brand: Option<String>,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
    pub holder_name: Option<String>,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_default: bool,
    pub created_at: Millis,
}

const METHOD: &str = "SELECT id, kind, label, brand, exp_month, exp_year, holder_name, is_default, created_at FROM payment_methods";

/// The account's methods, the default first, then oldest first.
pub async fn list<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_id: &str,
) -> sqlx::Result<Vec<Method>> {
    sqlx::query_as(&format!(
        "{METHOD} WHERE account_id = $1 ORDER BY is_default DESC, created_at, id"
    ))
    .bind(account_id)
    .fetch_all(db)
    .await
}

pub async fn get<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
) -> sqlx::Result<Method> {
    sqlx::query_as(&format!("{METHOD} WHERE id = $1"))
        .bind(id)
        .fetch_one(db)
        .await
}

/// The columns that name a method in the operation log: its kind, and a card's brand and last
/// four digits.
#[derive(sqlx::FromRow)]
pub struct Named {
    kind: Stored<PaymentMethodKind>,
    brand: Option<Stored<CardBrand>>,
    last4: Option<String>,
}

impl Named {
    pub fn logged(&self) -> LoggedPaymentMethod {
        LoggedPaymentMethod {
            kind: self.kind.0,
            brand: self.brand.map(|b| b.0),
            last4: self.last4.clone(),
        }
    }
}

pub async fn named(tx: &mut HeldTx<'_>, id: &PaymentMethodId) -> sqlx::Result<Named> {
    sqlx::query_as("SELECT kind, brand, last4 FROM payment_methods WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await
}

/// A new method's row.
pub struct New<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub kind: PaymentMethodKind,
    pub fingerprint: &'a str,
    pub brand: Option<CardBrand>,
    pub last4: Option<&'a str>,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
    pub holder_name: Option<String>,
    pub company_name: Option<String>,
    /// The card's billing address, as JSON.
    pub card_address: Option<String>,
    pub label: &'a str,
    pub is_default: bool,
    pub created_at: Millis,
    pub gateway_token: &'a str,
}

/// Inserts a method; a unique violation is another method of the same identity (or a second
/// PayPal or Paytm) that won a race.
pub async fn insert(tx: &mut HeldTx<'_>, new: New<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO payment_methods (id, account_id, kind, fingerprint, brand, last4, exp_month, exp_year, holder_name, company_name, card_address, label, is_default, created_at, gateway_token)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(new.id)
    .bind(new.account_id)
    .bind(new.kind.as_str())
    .bind(new.fingerprint)
    .bind(new.brand.map(CardBrand::as_str))
    .bind(new.last4)
    .bind(new.exp_month)
    .bind(new.exp_year)
    .bind(new.holder_name)
    .bind(new.company_name)
    .bind(new.card_address)
    .bind(new.label)
    .bind(i64::from(new.is_default))
    .bind(new.created_at)
    .bind(new.gateway_token)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Whether the account has a default method (`payment_methods_one_default` answers it).
pub async fn has_default(tx: &mut HeldTx<'_>, account_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM payment_methods WHERE account_id = $1 AND is_default = 1)",
    )
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await
    .map(bool::from)
}

/// Whether the account has PayPal bound (`payment_methods_one_paypal` answers it).
pub async fn has_paypal(db: &crate::db::Db, account_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM payment_methods WHERE account_id = $1 AND kind = 'paypal')",
    )
    .bind(account_id)
    .fetch_one(db)
    .await
    .map(bool::from)
}

/// Whether any account holds a method of this identity (a card's, PayPal's or Paytm's
/// fingerprint).
pub async fn fingerprint_bound(db: &crate::db::Db, fingerprint: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM payment_methods WHERE fingerprint = $1)",
    )
    .bind(fingerprint)
    .fetch_one(db)
    .await
    .map(bool::from)
}

/// Whether the method is still the account's.
pub async fn exists(tx: &mut HeldTx<'_>, id: &str, account_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM payment_methods WHERE id = $1 AND account_id = $2)",
    )
    .bind(id)
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await
    .map(bool::from)
}

/// Whether the account's method is its default; `None` when the account has no such method.
pub async fn is_default(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    id: &PaymentMethodId,
) -> sqlx::Result<Option<bool>> {
    let found: Option<Flag> = sqlx::query_scalar(
        "SELECT is_default FROM payment_methods WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(found.map(bool::from))
}

/// The account's default method, as a charge needs it.
#[derive(sqlx::FromRow)]
pub struct ChargeMethod {
    pub id: String,
    pub kind: Stored<PaymentMethodKind>,
    pub gateway_token: Option<String>,
}

pub async fn default_to_charge<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_id: &str,
) -> sqlx::Result<Option<ChargeMethod>> {
    // `is_default = 1` spelled as `payment_methods_one_default` is: that index answers it.
    sqlx::query_as(
        "SELECT id, kind, gateway_token FROM payment_methods WHERE account_id = $1 AND is_default = 1",
    )
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// The id and kind of the account's default method.
pub async fn default_kind(
    db: &crate::db::Db,
    account_id: &str,
) -> sqlx::Result<Option<(String, PaymentMethodKind)>> {
    // `is_default = 1` spelled as `payment_methods_one_default` is: that index answers it.
    let found: Option<(String, Stored<PaymentMethodKind>)> = sqlx::query_as(
        "SELECT id, kind FROM payment_methods WHERE account_id = $1 AND is_default = 1",
    )
    .bind(account_id)
    .fetch_optional(db)
    .await?;
    Ok(found.map(|(id, kind)| (id, kind.0)))
}

/// Makes the method the account's one default.
pub async fn make_default(
    tx: &mut HeldTx<'_>,
    account_id: &str,
    id: &PaymentMethodId,
) -> sqlx::Result<()> {
    // `is_default = 1` spelled as `payment_methods_one_default` is: that index answers it.
    sqlx::query(
        "UPDATE payment_methods SET is_default = 0 WHERE account_id = $1 AND is_default = 1",
    )
    .bind(account_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE payment_methods SET is_default = 1 WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How many methods the account has, and whether it runs a pay-as-you-go instance (one
/// statement, read under the account's lock before a method is removed).
pub async fn count_and_running_payg(
    tx: &mut HeldTx<'_>,
    account_id: &str,
) -> sqlx::Result<(i64, bool)> {
    let (methods, Flag(running_payg)): (i64, Flag) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM payment_methods WHERE account_id = $1),
                EXISTS (SELECT 1 FROM instances WHERE account_id = $1 AND billing = $2 AND status = $3)",
    )
    .bind(account_id)
    .bind(Billing::Payg.as_str())
    .bind(InstanceStatus::Running.as_str())
    .fetch_one(&mut **tx)
    .await?;
    Ok((methods, running_payg))
}

pub async fn delete(tx: &mut HeldTx<'_>, id: &PaymentMethodId) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM payment_methods WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// Makes the account's newest method its default.
pub async fn make_newest_default(tx: &mut HeldTx<'_>, account_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE payment_methods SET is_default = 1 WHERE id = (SELECT id FROM payment_methods WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1)",
    )
    .bind(account_id)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// A card or PayPal of the account that a payout can go to, with the gateway's token to pay it.
#[derive(sqlx::FromRow)]
pub struct Destination {
    pub id: String,
    pub kind: Stored<PaymentMethodKind>,
    pub label: String,
    pub gateway_token: Option<String>,
    #[sqlx(flatten)]
    pub named: Named,
}

/// The account's cards and PayPal with a gateway token, the default first, then newest first.
pub async fn payout_destinations<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_id: &str,
) -> sqlx::Result<Vec<Destination>> {
    sqlx::query_as(
        "SELECT id, kind, label, gateway_token, brand, last4 FROM payment_methods
         WHERE account_id = $1 AND kind IN ($2, $3) AND gateway_token IS NOT NULL
         ORDER BY is_default DESC, created_at DESC, id",
    )
    .bind(account_id)
    .bind(PaymentMethodKind::Card.as_str())
    .bind(PaymentMethodKind::Paypal.as_str())
    .fetch_all(db)
    .await
}
