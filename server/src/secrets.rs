//! The HMAC keys that protect one-time codes, card fingerprints and idempotency hashes. They
//! live outside the database (SPEC §9): in a key file in the data folder, made `0600` on first
//! start, or given by configuration (`ACCOUNT_CENTER_SECRETS`, shuttle's secrets). The
//! database holds only hashes made with them, and a hash cannot be checked against a guess
//! without its key: a copy of the database alone never yields a card number, a CVV or a code.
//!
//! Every instance on one database needs the same keys. The database keeps a check value (an
//! HMAC of a fixed text, which tells nothing about the keys), so an instance given other keys
//! refuses to start instead of quietly freeing every card binding and voiding every code.
//!
//! A database made by an earlier version may still hold the keys as rows of `settings`. The
//! first start moves them out: into the key file (written before the rows go) or, when the keys
//! are configured, after checking they are the same; then it deletes the rows, so existing
//! fingerprints and codes stay valid.

use crate::db::{self, Backend, Db};
use crate::tables::settings;
use anyhow::{Context, bail};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use sqlx::Executor;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

type Key = [u8; 32];
/// XChaCha20's nonce: long enough to draw at random for every seal.
const NONCE_LEN: usize = 24;

/// The keys' names, in the key file and in the `settings` rows that held them before.
const CODE_KEY: &str = "code_hmac_key";
const FINGERPRINT_KEY: &str = "fingerprint_key";
/// `settings` rows that held keys in earlier versions; none is ever written again.
pub const LEGACY_ROWS: [&str; 2] = [CODE_KEY, FINGERPRINT_KEY];
/// The `settings` row holding the keys' check value.
const CHECK_ROW: &str = "secrets_check";
/// The key file's name in the data folder, unless `--secrets-file` says otherwise.
pub const DEFAULT_FILE: &str = "secrets.key";

#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    code_key: Key,
    fingerprint_key: Key,
}

/// Never the keys themselves, should a `Config` be logged.
impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets(…)")
    }
}

/// Where an instance's keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A key file, made with new keys if missing.
    File(PathBuf),
    /// Keys given by configuration (`ACCOUNT_CENTER_SECRETS`, shuttle's secrets); no file.
    Given(Secrets),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(path) => write!(f, "the key file {}", path.display()),
            KeySource::Given(_) => f.write_str("the configured keys (ACCOUNT_CENTER_SECRETS)"),
        }
    }
}

impl Secrets {
    /// New random keys.
    pub fn generate() -> Self {
        let mut keys = Secrets {
            code_key: [0; 32],
            fingerprint_key: [0; 32],
        };
        rand::rngs::OsRng.fill_bytes(&mut keys.code_key);
        rand::rngs::OsRng.fill_bytes(&mut keys.fingerprint_key);
        keys
    }

    /// This instance's keys from `source`, checked against what the database knows of them.
    /// Moves keys an earlier version kept in `settings` out of it (see the module's comment).
    pub async fn load(db: &Db, source: &KeySource) -> anyhow::Result<Self> {
        let legacy = Legacy::read(db).await?;
        let keys = match source {
            KeySource::Given(keys) => keys.clone(),
            KeySource::File(path) => match read_file(path)? {
                Some(keys) => keys,
                None if legacy.any() => write_new_file(path, &legacy.completed())?,
                None if has_keys(db).await? => bail!(
                    "{source} is missing, and this database's card fingerprints and codes were \
                     made with keys: give this instance the key file (or ACCOUNT_CENTER_SECRETS) \
                     of the instances already using the database. New keys would free every \
                     card binding and void every pending code."
                ),
                None => {
                    let fresh = Secrets::generate();
                    let keys = write_new_file(path, &fresh)?;
                    if keys == fresh {
                        tracing::info!(
                            file = %path.display(),
                            "made new HMAC keys: back this file up with the database"
                        );
                    }
                    keys
                }
            },
        };
        keys.claim(db, &legacy, source).await?;
        Ok(keys)
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

    /// What an idempotency key remembers of its request: a keyed hash of what the route says
    /// identifies it (never a card number or a CVV, see `payment::card_attempt`).
    pub fn request_hash(&self, request: &[u8]) -> String {
        hmac_hex(&self.fingerprint_key, &[b"request:", request])
    }

    /// Seals a secret the server must read back (an authenticator's TOTP secret) with a key
    /// derived from the code key: the database holds only the sealed text. `bound_to` (the
    /// account's id) is authenticated with it, so a sealed value copied to another row does
    /// not open there.
    pub fn seal(&self, bound_to: &str, plain: &[u8]) -> String {
        let cipher = XChaCha20Poly1305::new(&self.sealing_key().into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut rand::rngs::OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: bound_to.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        hex::encode(out)
    }

    /// What [`Secrets::seal`] sealed for `bound_to`, or `None` when the text was not sealed
    /// by these keys for it.
    pub fn open(&self, bound_to: &str, sealed: &str) -> Option<Vec<u8>> {
        let bytes = hex::decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, message) = bytes.split_at(NONCE_LEN);
        XChaCha20Poly1305::new(&self.sealing_key().into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: message,
                    aad: bound_to.as_bytes(),
                },
            )
            .ok()
    }

    fn sealing_key(&self) -> Key {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.code_key).expect("any key length");
        mac.update(b"account-center sealing key");
        mac.finalize().into_bytes().into()
    }

    /// Tells whether two instances hold the same keys, and nothing about them.
    fn check_value(&self) -> String {
        hmac_hex(
            &self.fingerprint_key,
            &[b"account-center key check:", &self.code_key],
        )
    }

    /// The key file's text. Also the form `ACCOUNT_CENTER_SECRETS` takes.
    pub fn to_text(&self) -> String {
        format!(
            "# Account Center's HMAC keys. They protect card fingerprints, one-time codes and\n\
             # idempotency hashes, and stay out of the database on purpose. Back this file up\n\
             # with the database: without it every card binding is freed and pending codes fail.\n\
             # Every instance on one database needs this same file (README \"Secret keys\").\n\
             {CODE_KEY}={}\n{FINGERPRINT_KEY}={}\n",
            hex::encode(self.code_key),
            hex::encode(self.fingerprint_key),
        )
    }

    /// Reads a key file's text, or the same `name=hex` pairs on one line separated by spaces.
    /// Errors never repeat the text: it may hold a key.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let (mut code_key, mut fingerprint_key) = (None, None);
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            for pair in line.split_whitespace() {
                let Some((name, value)) = pair.split_once('=') else {
                    return Err("expected name=hex pairs".into());
                };
                let slot = match name {
                    CODE_KEY => &mut code_key,
                    FINGERPRINT_KEY => &mut fingerprint_key,
                    _ => return Err(format!("unknown key name {name:?}")),
                };
                if slot.is_some() {
                    return Err(format!("{name} is given twice"));
                }
                *slot = Some(decode_key(value).map_err(|e| format!("{name}: {e}"))?);
            }
        }
        match (code_key, fingerprint_key) {
            (Some(code_key), Some(fingerprint_key)) => Ok(Secrets {
                code_key,
                fingerprint_key,
            }),
            (None, _) => Err(format!("{CODE_KEY} is missing")),
            (_, None) => Err(format!("{FINGERPRINT_KEY} is missing")),
        }
    }

    /// Makes these the database's keys, or refuses if its data was made with other ones.
    /// Deletes the `settings` rows of an earlier version once their keys are known to be these.
    async fn claim(&self, db: &Db, legacy: &Legacy, source: &KeySource) -> anyhow::Result<()> {
        for (name, old, ours) in [
            (CODE_KEY, legacy.code_key, self.code_key),
            (
                FINGERPRINT_KEY,
                legacy.fingerprint_key,
                self.fingerprint_key,
            ),
        ] {
            if old.is_some_and(|old| old != ours) {
                bail!(
                    "the database's settings hold a {name} other than {source}'s, and its card \
                     fingerprints and codes were made with that one: give this instance the \
                     database's keys (with no key file, the server moves them into a new one)."
                );
            }
        }
        let backend = db::backend(db);
        let moving = legacy.any();
        let mut tx = db::begin_write(db).await?;
        if moving && backend == Backend::Sqlite {
            // Zeroes the deleted rows' bytes instead of only unlinking them from the page: a
            // setting of the writing connection, which `scrub` sets back.
            tx.execute("PRAGMA secure_delete = ON").await?;
        }
        settings::delete(&mut tx, &LEGACY_ROWS).await?;
        settings::set_if_unset(&mut tx, CHECK_ROW, &self.check_value()).await?;
        let known = settings::value(&mut *tx, CHECK_ROW)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        if known != self.check_value() {
            bail!(
                "this database's card fingerprints and codes were made with other keys than \
                 {source}'s. Give this instance the key file (or ACCOUNT_CENTER_SECRETS) of the \
                 instances already using the database: new keys would free every card binding \
                 and void every pending code."
            );
        }
        tx.commit().await?;
        if moving {
            scrub(db, backend).await;
            tracing::info!("moved the HMAC keys out of the database into {source}");
        }
        Ok(())
    }
}

/// Keys an earlier version kept in `settings`.
#[derive(Default)]
struct Legacy {
    code_key: Option<Key>,
    fingerprint_key: Option<Key>,
}

impl Legacy {
    async fn read(db: &Db) -> anyhow::Result<Self> {
        let rows = settings::values_of(db, &LEGACY_ROWS).await?;
        let mut legacy = Legacy::default();
        for (name, value) in rows {
            let key = decode_key(&value)
                .map_err(|e| anyhow::anyhow!("the settings row {name} is not a key: {e}"))?;
            match name.as_str() {
                CODE_KEY => legacy.code_key = Some(key),
                _ => legacy.fingerprint_key = Some(key),
            }
        }
        Ok(legacy)
    }

    fn any(&self) -> bool {
        self.code_key.is_some() || self.fingerprint_key.is_some()
    }

    /// These keys, with a new one for any an earlier version had not made yet.
    fn completed(&self) -> Secrets {
        let fresh = Secrets::generate();
        Secrets {
            code_key: self.code_key.unwrap_or(fresh.code_key),
            fingerprint_key: self.fingerprint_key.unwrap_or(fresh.fingerprint_key),
        }
    }
}

/// Whether an instance already made this database's keys (its check value is there).
async fn has_keys(db: &Db) -> anyhow::Result<bool> {
    Ok(settings::exists(db, CHECK_ROW).await?)
}

/// Leaves no copy of the deleted rows in the database's files where a plain copy would find
/// them: SQLite's write-ahead log is checkpointed and emptied; PostgreSQL rewrites the table
/// without its dead rows. Backups made before, and PostgreSQL's own WAL archive, still hold
/// the old rows (README "Secret keys"). Best effort: the keys are already out of the rows.
async fn scrub(db: &Db, backend: Backend) {
    let sql = match backend {
        Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
        Backend::Postgres => "VACUUM FULL settings",
    };
    if let Err(e) = db.writer().execute(sql).await {
        tracing::warn!(error = %e, "the deleted key rows may linger in the database files");
    }
    // The writing connection is the server's one: off again whether the checkpoint worked or not.
    if backend == Backend::Sqlite
        && let Err(e) = db.writer().execute("PRAGMA secure_delete = OFF").await
    {
        tracing::warn!(error = %e, "secure_delete stays on for the writing connection");
    }
}

fn decode_key(value: &str) -> Result<Key, String> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(value.trim(), &mut key)
        .map_err(|_| "a key is 64 hexadecimal digits".to_owned())?;
    Ok(key)
}

fn read_file(path: &Path) -> anyhow::Result<Option<Secrets>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    warn_if_readable_by_others(path);
    Secrets::from_text(&text)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("the key file {} is not valid: {e}", path.display()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(file = %path.display(), "the key file is readable by others: chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

/// Writes `keys` as a new key file, readable by its owner only, and returns the file's keys:
/// these, or those of an instance that made the file first. The file appears whole or not at
/// all (written aside, then linked into place, which fails if the name is taken).
fn write_new_file(path: &Path, keys: &Secrets) -> anyhow::Result<Secrets> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let name = path.file_name().context("the key file needs a file name")?;
    let aside = folder.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        uuid::Uuid::new_v4().simple()
    ));
    let written = write_private(&aside, keys.to_text().as_bytes())
        .and_then(|()| std::fs::hard_link(&aside, path));
    let _ = std::fs::remove_file(&aside);
    match written {
        Ok(()) => {
            // The new name outlives a crash only once its folder is on disk too.
            if let Ok(dir) = std::fs::File::open(folder) {
                let _ = dir.sync_all();
            }
            Ok(keys.clone())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_file(path)?.context("the key file vanished while being read")
        }
        Err(e) => Err(e).with_context(|| format!("cannot write the key file {}", path.display())),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_keys_and_for_its_account() {
        let keys = Secrets::generate();
        let sealed = keys.seal("account-1", b"12345678901234567890");
        assert!(!sealed.contains(&hex::encode(b"12345678901234567890")));
        assert_eq!(
            keys.open("account-1", &sealed).unwrap(),
            b"12345678901234567890"
        );
        assert_eq!(keys.open("account-2", &sealed), None);
        assert_eq!(Secrets::generate().open("account-1", &sealed), None);
        assert_ne!(
            keys.seal("account-1", b"same"),
            keys.seal("account-1", b"same")
        );
        assert_eq!(keys.open("account-1", "00ff"), None);
    }

    #[test]
    fn the_key_file_reads_back_as_written() {
        let keys = Secrets::generate();
        assert_eq!(Secrets::from_text(&keys.to_text()), Ok(keys.clone()));
        // One line, as an environment variable holds it.
        let line = format!(
            "{CODE_KEY}={} {FINGERPRINT_KEY}={}",
            hex::encode(keys.code_key),
            hex::encode(keys.fingerprint_key)
        );
        assert_eq!(Secrets::from_text(&line), Ok(keys));
    }

    #[test]
    fn a_malformed_key_file_is_refused_without_repeating_it() {
        let key = "ab".repeat(32);
        for (text, says) in [
            (format!("{CODE_KEY}={key}"), "fingerprint_key is missing"),
            (
                format!("{FINGERPRINT_KEY}={key}"),
                "code_hmac_key is missing",
            ),
            (
                format!("{CODE_KEY}={key} {CODE_KEY}={key} {FINGERPRINT_KEY}={key}"),
                "given twice",
            ),
            (format!("{CODE_KEY}={key} other={key}"), "unknown key name"),
            (format!("{CODE_KEY}={key} {key}"), "name=hex"),
            (
                format!("{CODE_KEY}={} {FINGERPRINT_KEY}={key}", &key[..62]),
                "64 hexadecimal digits",
            ),
        ] {
            let refused = Secrets::from_text(&text).unwrap_err();
            assert!(refused.contains(says), "{text}: {refused}");
            assert!(!refused.contains(&key[..62]), "{refused}");
        }
    }

    #[test]
    fn debug_shows_no_key() {
        let keys = Secrets::generate();
        let shown = format!("{keys:?} {:?}", KeySource::Given(keys.clone()));
        assert!(!shown.contains(&hex::encode(keys.code_key)[..8]), "{shown}");
        assert!(!shown.contains(&hex::encode(keys.fingerprint_key)[..8]));
    }

    #[cfg(unix)]
    #[test]
    fn a_new_key_file_is_its_owners_alone_and_never_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("nested").join(DEFAULT_FILE);
        let first = Secrets::generate();
        assert_eq!(write_new_file(&path, &first).unwrap(), first);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A second instance starting at the same time keeps the first one's keys.
        assert_eq!(write_new_file(&path, &Secrets::generate()).unwrap(), first);
        assert_eq!(read_file(&path).unwrap(), Some(first));
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [DEFAULT_FILE], "no file left aside");
    }
}
