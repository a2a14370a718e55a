//! The closure decision runs exactly once even when the server is down at the deadline (it
//! catches up at start) or is killed in the middle of deciding (SPEC §6.4). These run the real
//! binary as a child process, kill it, and start it again on the same database.

mod common;

use common::process::{close_an_account, start};
use reqwest::Client;
use serde_json::json;
use server::db::Db;
use std::path::Path;
use std::time::{Duration, Instant};

async fn database(data: &Path) -> Db {
    server::db::open(&common::database_for(data).await)
        .await
        .unwrap()
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// How long the test waits on a server's work (a start's catch-up, a crash inside a job): a
/// second on a quiet machine, far longer when a loaded one stalls a fresh process. The waits
/// poll, so a passing run waits only as long as the work takes.
const PATIENCE: Duration = Duration::from_secs(120);

/// Waits until the account is gone.
async fn wait_until_deleted(db: &Db) {
    let began = Instant::now();
    while began.elapsed() < PATIENCE {
        if count(db, "SELECT COUNT(*) FROM accounts").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the account was not deleted in {PATIENCE:?}");
}

#[tokio::test]
async fn a_server_down_at_the_deadline_decides_when_it_starts_again() {
    let data = tempfile::tempdir().unwrap();
    let mut first = start(data.path(), "first.log", &[]).await;
    let email = close_an_account(&first.base).await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    // A day passes while no server runs.
    let db = database(data.path()).await;
    let offset: String =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'dev_clock_offset_ms'")
            .fetch_one(&db)
            .await
            .unwrap();
    let later = offset.parse::<i64>().unwrap() + 86_401_000;
    sqlx::query("UPDATE settings SET value = $1 WHERE key = 'dev_clock_offset_ms'")
        .bind(later.to_string())
        .execute(db.writer())
        .await
        .unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM accounts").await, 1);

    let mut second = start(data.path(), "second.log", &[]).await;
    wait_until_deleted(&db).await;
    let closed: Vec<String> = sqlx::query_scalar(
        "SELECT recipient FROM outbox WHERE subject = 'Account closed' ORDER BY channel",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        closed,
        vec![email, "+6581234567".to_owned()],
        "one email and one SMS"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'done'"
        )
        .await,
        1
    );
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

#[tokio::test]
async fn a_server_killed_while_deciding_decides_exactly_once_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let mut first = start(data.path(), "first.log", &["--crash-at", "closure_decide"]).await;
    let email = close_an_account(&first.base).await;
    let client = Client::new();
    client
        .post(format!("{}/api/dev/clock", first.base))
        .json(&json!({"advance_seconds": 86_401}))
        .send()
        .await
        .unwrap();
    // The scheduler claims the decision within a second and dies inside it, before committing.
    let mut exit = None;
    let began = Instant::now();
    while began.elapsed() < PATIENCE {
        exit = first.child.try_wait().unwrap();
        if exit.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exit = exit.expect("the server died in the decision");
    assert!(!exit.success(), "{exit:?}");

    let db = database(data.path()).await;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM accounts").await,
        1,
        "nothing of the decision was committed"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM closures WHERE status = 'cooling_down'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'closure_decide' AND status = 'running'"
        )
        .await,
        1,
        "claimed, leased, unfinished"
    );

    let mut second = start(data.path(), "second.log", &[]).await;
    // The dead server's lease on the job runs out after a minute.
    client
        .post(format!("{}/api/dev/clock", second.base))
        .json(&json!({"advance_seconds": 61}))
        .send()
        .await
        .unwrap();
    wait_until_deleted(&db).await;
    let closed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE subject = 'Account closed' AND recipient = $1",
    )
    .bind(&email)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(closed, 1, "notified exactly once");
    let (status, attempts): (String, i64) =
        sqlx::query_as("SELECT status, attempts FROM jobs WHERE kind = 'closure_decide'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("done", 2));
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}
