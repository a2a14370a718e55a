//! Server keys kept in the database, so every instance sharing it uses the same ones.

use crate::db::Db;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

#[derive(Clone)]
pub struct Secrets {
    code_key: [u8; 32],
}

impl Secrets {
    /// Reads the keys, creating them on first start. Two instances starting at once agree:
    /// the insert that loses the race does nothing and both read the winner's key.
    pub async fn load(db: &Db) -> anyhow::Result<Self> {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        sqlx::query("INSERT INTO settings (key, value) VALUES ('code_hmac_key', ?) ON CONFLICT (key) DO NOTHING")
            .bind(hex::encode(fresh))
            .execute(db)
            .await?;
        let stored: String =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'code_hmac_key'")
                .fetch_one(db)
                .await?;
        let mut code_key = [0u8; 32];
        hex::decode_to_slice(stored, &mut code_key)?;
        Ok(Secrets { code_key })
    }

    /// The stored form of a one-time code: keyed, so the table alone cannot be brute-forced.
    pub fn code_hash(&self, subject: &str, code: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.code_key).expect("HMAC takes any key length");
        mac.update(subject.as_bytes());
        mac.update(b":");
        mac.update(code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}
