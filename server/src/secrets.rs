//! Server keys kept in the database, so every instance sharing it uses the same ones.

use crate::db::Db;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

#[derive(Clone)]
pub struct Secrets {
    code_key: [u8; 32],
    fingerprint_key: [u8; 32],
}

impl Secrets {
    pub async fn load(db: &Db) -> anyhow::Result<Self> {
        Ok(Secrets {
            code_key: key(db, "code_hmac_key").await?,
            fingerprint_key: key(db, "fingerprint_key").await?,
        })
    }

    /// The stored form of a one-time code: keyed, so the table alone cannot be brute-forced.
    pub fn code_hash(&self, subject: &str, code: &str) -> String {
        hmac_hex(&self.code_key, &[subject.as_bytes(), b":", code.as_bytes()])
    }

    /// Recognises a card number, PayPal payer or Paytm phone without storing it. Keyed: the
    /// space of card numbers is small enough to brute-force a plain hash.
    pub fn fingerprint(&self, kind: &str, value: &str) -> String {
        hmac_hex(
            &self.fingerprint_key,
            &[kind.as_bytes(), b":", value.as_bytes()],
        )
    }

    /// A request body's identity for idempotency keys; keyed, as bodies may hold card numbers.
    pub fn request_hash(&self, body: &[u8]) -> String {
        hmac_hex(&self.fingerprint_key, &[b"request:", body])
    }
}

fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// Reads a key, creating it on first start. Two instances starting at once agree: the insert
/// that loses the race does nothing and both read the winner's key.
async fn key(db: &Db, name: &str) -> anyhow::Result<[u8; 32]> {
    let mut fresh = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut fresh);
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(name)
        .bind(hex::encode(fresh))
        .execute(db)
        .await?;
    let stored: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(name)
        .fetch_one(db)
        .await?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(stored, &mut key)?;
    Ok(key)
}
