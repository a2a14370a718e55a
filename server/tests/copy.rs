//! `account-center copy-to-postgres`: an SQLite install filled by the demo seeder moves into an
//! empty PostgreSQL database whole, and a server on the copy shows the same account. Needs
//! `TEST_POSTGRES_URL` (`bash .ci/with-postgres`).

mod common;

use clap::Parser;
use common::*;
use serde_json::json;
use server::Application;
use server::config::Config;
use shared::api::{
    BillingAddressView, InstanceView, LedgerView, PaymentMethodsView, SessionInfo, UnsubscribeList,
};
use shared::closure::ClosureCheck;
use std::path::Path;
use std::process::Command;

/// Runs the copy as the README says, naming the source install's key file.
fn copy(source: &str, keys: &Path, target: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_account-center"))
        .args(["--database-url", source, "--secrets-file"])
        .arg(keys)
        .args(["copy-to-postgres", "--to", target])
        .output()
        .expect("the binary runs")
}

/// What the owner sees of the account, page by page, each read as its `shared` type.
struct Views {
    session: SessionInfo,
    billing_address: BillingAddressView,
    payment_methods: PaymentMethodsView,
    ledger: LedgerView,
    instances: Vec<InstanceView>,
    unsubscribable: UnsubscribeList,
    renewals: UnsubscribeList,
    records: UnsubscribeList,
    closure_check: ClosureCheck,
}

async fn views(app: &TestApp) -> Views {
    let mut views = Views {
        session: app.get_as("/api/session").await,
        billing_address: app.get_as("/api/billing-address").await,
        payment_methods: app.get_as("/api/payment-methods").await,
        ledger: app.get_as("/api/ledger").await,
        instances: app.get_as("/api/instances").await,
        unsubscribable: app
            .get_as("/api/unsubscribe?tab=resource&page_size=100")
            .await,
        renewals: app.get_as("/api/unsubscribe?tab=renewal").await,
        records: app.get_as("/api/unsubscribe?tab=records").await,
        closure_check: app.get_as("/api/closure/check").await,
    };
    // A new session has its own token and expiry, and a check its own time; everything else
    // must be the same.
    views.session.csrf_token.clear();
    views.session.expires_at.clear();
    views.closure_check.checked_at.clear();
    views
}

#[tokio::test]
async fn a_seeded_sqlite_install_moves_to_postgres_whole_and_only_once() {
    let folder = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", folder.path().join("old.db").display());
    let keys = folder.path().join("secrets.key");
    let keys_flag = ["--secrets-file", keys.to_str().unwrap()];
    let mut old =
        spawn_app_with(&[&["--database-url", sqlite.as_str()][..], &keys_flag].concat()).await;
    let email = old.ready_to_buy("moving").await;
    let seeded = old
        .post(
            "/api/dev/seed-demo",
            &json!({"extra": 120, "blockers": true}),
        )
        .await;
    assert!(seeded.status().is_success());
    old.buy("rds", 1, "default_method").await;
    let before = views(&old).await;
    assert!(
        before.instances.len() > 100,
        "the seeder filled the account: {:?}",
        before.instances
    );

    let target = new_postgres_database().await;
    let output = copy(&sqlite, &keys, &target);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("counts and sums agree"), "{printed}");
    assert!(printed.contains("ledger_entries"), "{printed}");
    assert!(printed.contains(keys.to_str().unwrap()), "{printed}");

    // Every table holds as many rows on both sides, counted here independently.
    let source_db = server::db::open(&sqlite).await.unwrap();
    let target_db = server::db::open(&target).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&source_db)
    .await
    .unwrap();
    for table in &tables {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let from: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&source_db)
            .await
            .unwrap();
        let to: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&target_db)
            .await
            .unwrap();
        assert_eq!(from, to, "{table}");
    }

    // The copy turned the tables' triggers off while it wrote their rows, and on again.
    let off: Vec<String> = sqlx::query_scalar(
        "SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'",
    )
    .fetch_all(&target_db)
    .await
    .unwrap();
    assert!(off.is_empty(), "triggers left off: {off:?}");
    let on: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_trigger WHERE NOT tgisinternal")
        .fetch_one(&target_db)
        .await
        .unwrap();
    assert!(on >= 8, "the summary's triggers are there: {on}");

    // The copy carries no key: a server on it needs the install's key file, and refuses to
    // start with new keys.
    let held: Vec<String> = sqlx::query_scalar("SELECT value FROM settings")
        .fetch_all(&target_db)
        .await
        .unwrap();
    let text = std::fs::read_to_string(&keys).unwrap();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (_, key) = line.split_once('=').unwrap();
        assert!(!held.iter().any(|v| v.contains(key)), "a key in {held:?}");
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let refused = Application::build(
        Config::try_parse_from([
            "account-center",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &target,
            "--data-dir",
            elsewhere.path().to_str().unwrap(),
        ])
        .unwrap(),
    )
    .await;
    assert!(
        refused.is_err(),
        "a server with new keys starts on the copy"
    );

    // A server on the copy shows the account as the old one did: same password, same money.
    let mut new =
        spawn_app_with(&[&["--database-url", target.as_str()][..], &keys_flag].concat()).await;
    new.sign_in_again(&email).await;
    let after = views(&new).await;
    // Each page compared on its own, so a difference names the page.
    macro_rules! same_on_the_copy {
        ($($page:ident),+) => {$(
            assert_eq!(
                after.$page, before.$page,
                concat!(stringify!($page), " differs on the copy")
            );
        )+};
    }
    same_on_the_copy!(
        session,
        billing_address,
        payment_methods,
        ledger,
        instances,
        unsubscribable,
        renewals,
        records,
        closure_check
    );

    // The target now holds rows: a second copy is refused and adds nothing.
    let again = copy(&sqlite, &keys, &target);
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("not empty"), "{said}");
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(&target_db)
        .await
        .unwrap();
    assert_eq!(accounts, 1);
}

/// An install last run by a version that kept its HMAC keys in `settings` is refused: copied,
/// the keys would sit beside the hashes they protect. Fails on the old code, which copied them.
#[tokio::test]
async fn a_source_still_holding_its_keys_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", folder.path().join("old.db").display());
    let old = spawn_app_with(&["--database-url", &sqlite]).await;
    sqlx::query("INSERT INTO settings (key, value) VALUES ('fingerprint_key', $1)")
        .bind("ab".repeat(32))
        .execute(old.state.db.writer())
        .await
        .unwrap();

    let target = new_postgres_database().await;
    let output = copy(&sqlite, &folder.path().join("secrets.key"), &target);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("still holds its HMAC keys"), "{said}");
    let target_db = server::db::open(&target).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&target_db)
    .await
    .unwrap();
    assert_eq!(tables, 0, "nothing was copied");
}
