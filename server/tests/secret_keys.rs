//! The HMAC keys that protect card fingerprints and codes live outside the database (SPEC §9): a copy of the database alone holds no key, so none of its hashes can
//! be checked against a guessed card number or CVV. The key file is made `0600` in the data
//! folder; an install whose keys an earlier version kept in `settings` moves them there and
//! keeps its fingerprints and codes; an instance with other keys refuses the database.

mod common;

use clap::Parser;
use common::*;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use server::Application;
use server::config::Config;
use server::db::{Backend, Db};
use shared::ErrorCode;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const NUMBER: &str = "378282246310005";
const TYPED: &str = "3782 822463 10005";
const CVV: &str = "8642";

async fn add_card(app: &TestApp, number: &str) -> reqwest::Response {
    app.post_once(
        "/api/payment-methods/cards",
        &uuid::Uuid::new_v4().to_string(),
        &card_form(number, CVV),
    )
    .await
}

/// A signed-up Singapore account with a billing address, its phone `national_phone`.
async fn ready(app: &mut TestApp, tag: &str, national_phone: &str) {
    app.signed_up(tag).await;
    app.with_billing_address(national_phone).await;
}

/// Every value of every column of every table, as text, found through the database's own
/// catalog: a table added later is scanned too. sqlx's record of the migrations holds nothing
/// but the schema.
async fn every_value(db: &Db) -> Vec<(String, String)> {
    let columns: Vec<(String, String)> = match server::db::backend(db) {
        Backend::Sqlite => sqlx::query_as(
            "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
             AND m.name <> '_sqlx_migrations'",
        ),
        Backend::Postgres => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
        ),
    }
    .fetch_all(db)
    .await
    .unwrap();
    assert!(columns.len() > 50, "the schema is there: {columns:?}");
    let mut values = Vec::new();
    for (table, column) in columns {
        let column_values: Vec<Option<String>> = sqlx::query_scalar(&format!(
            "SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\""
        ))
        .fetch_all(db)
        .await
        .unwrap_or_else(|e| panic!("{table}.{column}: {e}"));
        let place = format!("{table}.{column}");
        values.extend(
            column_values
                .into_iter()
                .flatten()
                .map(|v| (place.clone(), v)),
        );
    }
    values
}

/// Whether `needle` occurs in `haystack` with no letter or digit right beside it.
fn occurs_as_token(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

fn hmac_hex(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The key file's `name=hex` lines.
fn keys_in(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn legacy_rows(db: &Db) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM settings WHERE key IN ('code_hmac_key', 'fingerprint_key')",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

/// Fails on the old code, which kept the fingerprint key in `settings` (it reproduces the
/// card's fingerprint, so a copy of the database confirms a guessed number) and wrote no key
/// file.
#[tokio::test]
async fn a_copy_of_the_database_holds_no_card_number_cvv_or_key() {
    let mut app = spawn_app().await;
    ready(&mut app, "copy", "81234567").await;
    let added = add_card(&app, TYPED).await;
    assert_eq!(added.status(), StatusCode::CREATED);

    let values = every_value(&app.state.db).await;
    let last12 = &NUMBER[NUMBER.len() - 12..];
    for (place, value) in &values {
        for number in [NUMBER, TYPED, last12] {
            assert!(!value.contains(number), "{number} in {place}: {value}");
        }
        assert!(!occurs_as_token(value, CVV), "the CVV in {place}: {value}");
    }

    // No value of the database is a key that makes the card's fingerprint: with one, a copy
    // of it would confirm a guessed number (the middle digits are few enough to try all).
    let fingerprint: String = sqlx::query_scalar("SELECT fingerprint FROM payment_methods")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    for (place, value) in &values {
        if let Ok(key) = hex::decode(value) {
            assert_ne!(
                hmac_hex(&key, &format!("card:{NUMBER}")),
                fingerprint,
                "{place} holds the fingerprint key"
            );
        }
    }
    assert_eq!(legacy_rows(&app.state.db).await, 0);

    // The key lives in the data folder, its owner's alone, and makes that fingerprint.
    let file = app.state.config.data_dir.join("secrets.key");
    let keys = keys_in(&std::fs::read_to_string(&file).expect("a key file"));
    assert_eq!(mode(&file), 0o600);
    let key = hex::decode(&keys["fingerprint_key"]).unwrap();
    assert_eq!(hmac_hex(&key, &format!("card:{NUMBER}")), fingerprint);
}

/// An install made by an earlier version, which kept its keys in `settings`: its first start
/// moves them into the key file, deletes the rows, and every fingerprint and code made before
/// still works. Fails on the old code, which wrote no key file.
#[tokio::test]
async fn keys_kept_in_settings_move_to_the_key_file_and_stay_valid() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let url = database_for(data.path()).await;
    let args = ["--data-dir", dir, "--database-url", &url];
    let mut before = spawn_app_with(&args).await;
    ready(&mut before, "before", "81234567").await;
    assert_eq!(
        add_card(&before, NUMBER).await.status(),
        StatusCode::CREATED
    );
    // A sign-up whose code was sent before the upgrade.
    let waiting = before.another_client();
    let pending = email("pending");
    let signup = waiting.start_signup(&pending).await;
    let sent = waiting
        .post(
            &format!("/api/signup/{signup}/code"),
            &serde_json::json!({"channel": "email"}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK);

    // What the earlier version left: the keys as rows of `settings`, and no key file.
    let file = data.path().join("secrets.key");
    let text = std::fs::read_to_string(&file).expect("a key file");
    std::fs::remove_file(&file).unwrap();
    let keys = keys_in(&text);
    let db = &before.state.db;
    sqlx::query("DELETE FROM settings WHERE key <> 'dev_clock_offset_ms'")
        .execute(db.writer())
        .await
        .unwrap();
    for (name, value) in &keys {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
            .bind(name)
            .bind(value)
            .execute(db.writer())
            .await
            .unwrap();
    }
    assert_eq!(legacy_rows(db).await, 2);

    let after = spawn_app_with(&args).await;
    assert_eq!(keys_in(&std::fs::read_to_string(&file).unwrap()), keys);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(legacy_rows(&after.state.db).await, 0);
    if !on_postgres() {
        // Nor do the deleted rows linger in the database's files.
        for name in ["account-center.db", "account-center.db-wal"] {
            let bytes = std::fs::read(data.path().join(name)).unwrap_or_default();
            let bytes = String::from_utf8_lossy(&bytes);
            for key in keys.values() {
                assert!(!bytes.contains(key.as_str()), "a key in {name}");
            }
        }
    }

    // The card's fingerprint still finds it, from another account.
    let mut other = after.another_client();
    ready(&mut other, "after", "91234567").await;
    let refused = add_card(&other, NUMBER).await;
    assert_eq!(
        refusal(refused).await,
        (
            StatusCode::CONFLICT,
            ErrorCode::CardAlreadyBound,
            Some("number".to_owned())
        )
    );
    // The code sent before the upgrade still verifies.
    let code = newest_code(&other.client, &after.base, &pending).await;
    let verified = other
        .post(
            &format!("/api/signup/{signup}/verify"),
            &serde_json::json!({"code": code}),
        )
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
}

/// Starts a server on `database_url` with its state in `data` and `extra` flags.
async fn build(data: &Path, database_url: &str, extra: &[&str]) -> anyhow::Result<Application> {
    let dir = data.to_str().unwrap();
    let mut args = vec![
        "account-center",
        "--mode",
        "dev",
        "--bind",
        "127.0.0.1:0",
        "--run-scheduler",
        "false",
        "--data-dir",
        dir,
        "--site-dir",
        dir,
        "--database-url",
        database_url,
    ];
    args.extend_from_slice(extra);
    Application::build(Config::try_parse_from(args).unwrap()).await
}

/// Several instances on one database need the same keys: the first one's key file, or the
/// same keys by configuration. An instance without them refuses to start rather than make
/// new keys, which would free every card binding and void every code. Fails on the old code,
/// where every instance read the keys from the database.
#[tokio::test]
async fn an_instance_needs_the_keys_the_database_was_made_with() {
    let first = tempfile::tempdir().unwrap();
    let url = database_for(first.path()).await;
    build(first.path(), &url, &[]).await.unwrap();

    let second = tempfile::tempdir().unwrap();
    let refused = build(second.path(), &url, &[])
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{refused:#}").contains("give this instance the key file"),
        "{refused:#}"
    );
    assert!(!second.path().join("secrets.key").exists(), "no new keys");
    let random_key = || {
        let [a, b] = [(); 2].map(|()| uuid::Uuid::new_v4().simple().to_string());
        a + &b
    };
    let other = format!(
        "code_hmac_key={} fingerprint_key={}",
        random_key(),
        random_key()
    );
    let refused = build(second.path(), &url, &["--secrets", &other]).await;
    assert!(
        format!("{:#}", refused.err().unwrap()).contains("other keys"),
        "keys of another install"
    );

    // The first one's keys, copied as a file or given by configuration, are accepted.
    let text = std::fs::read_to_string(first.path().join("secrets.key")).unwrap();
    let copied = second.path().join("copied.key");
    std::fs::write(&copied, &text).unwrap();
    build(
        second.path(),
        &url,
        &["--secrets-file", copied.to_str().unwrap()],
    )
    .await
    .unwrap();
    let third = tempfile::tempdir().unwrap();
    build(third.path(), &url, &["--secrets", &text])
        .await
        .unwrap();
    assert!(
        !third.path().join("secrets.key").exists(),
        "given keys need no file"
    );
}

/// A key left in `settings` that is not the key file's (an old backup restored beside a newer
/// key file, say) is neither deleted nor overruled: the server refuses to start.
#[tokio::test]
async fn a_key_in_settings_other_than_the_files_is_kept_and_refused() {
    let data = tempfile::tempdir().unwrap();
    let url = database_for(data.path()).await;
    let app = build(data.path(), &url, &[]).await.unwrap();
    let db = app.state().db.clone();
    let theirs = "5e".repeat(32);
    sqlx::query("INSERT INTO settings (key, value) VALUES ('fingerprint_key', $1)")
        .bind(&theirs)
        .execute(db.writer())
        .await
        .unwrap();
    let refused = build(data.path(), &url, &[]).await.err().expect("refused");
    assert!(
        format!("{refused:#}").contains("other than the key file"),
        "{refused:#}"
    );
    let kept: String =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'fingerprint_key'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(kept, theirs);
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    assert!(occurs_as_token("x 8642 y", "8642"));
    assert!(occurs_as_token("{\"cvv\":\"8642\"}", "8642"));
    assert!(!occurs_as_token("12:08.864213", "8642"));
    assert!(!occurs_as_token("c0ffee8642ab", "8642"));
}
