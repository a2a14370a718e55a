//! `free_credit_identities`: the one-way fingerprint of every card, PayPal or Paytm identity
//! the free credit was granted to, kept after its account is deleted, so that the credit is
//! given once per identity (SPEC §3). Read with the ledger: `ledger_entries::free_credit_taken`.

use crate::clock::Millis;
use crate::db::HeldTx;

/// Records that the identity `fingerprint` has had the free credit.
pub async fn insert(
    tx: &mut HeldTx<'_>,
    fingerprint: &str,
    granted_at: Millis,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO free_credit_identities (fingerprint, granted_at) VALUES ($1, $2)")
        .bind(fingerprint)
        .bind(granted_at)
        .execute(&mut **tx)
        .await
        .map(drop)
}
