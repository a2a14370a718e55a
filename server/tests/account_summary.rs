//! The figures the account's view reads from its own row — a billing address, a payment
//! method, a real-name registration, the free credit, the credit balance — follow the rows
//! they summarise, whoever writes them (migration `0022_account_summary`: triggers).

mod common;

use common::*;
use server::clock::Millis;
use server::db::{self, Db, Flag};
use server::tables::ledger_entries::{self, ACCOUNT_CURRENCY, Entry};
use shared::api::{Bucket, LedgerKind};
use shared::money::{Currency, Money};

/// An account's five figures.
#[derive(Debug, PartialEq, Eq)]
struct Figures {
    has_address: bool,
    has_method: bool,
    real_name: bool,
    credit_granted: bool,
    credit_minor: i64,
}

type Row = (Flag, Flag, Flag, Flag, i64);

fn figures((a, m, r, g, c): Row) -> Figures {
    Figures {
        has_address: a.0,
        has_method: m.0,
        real_name: r.0,
        credit_granted: g.0,
        credit_minor: c,
    }
}

/// What the account's row says.
async fn kept(db: &Db, account: &str) -> Figures {
    let row: Row = sqlx::query_as(
        "SELECT has_address, has_method, real_name, credit_granted, credit_minor
         FROM accounts WHERE id = $1",
    )
    .bind(account)
    .fetch_one(db)
    .await
    .unwrap();
    figures(row)
}

/// What the rows say, counted as the view counted them before the figures were kept.
async fn counted(db: &Db, account: &str) -> Figures {
    let row: Row = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM billing_addresses WHERE account_id = a.id),
                EXISTS (SELECT 1 FROM payment_methods WHERE account_id = a.id),
                EXISTS (SELECT 1 FROM real_name_registrations WHERE account_id = a.id),
                EXISTS (SELECT 1 FROM ledger_entries WHERE account_id = a.id AND kind = $2),
                (SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries
                 WHERE account_id = a.id AND bucket = $3 AND currency = $4)
         FROM accounts a WHERE a.id = $1",
    )
    .bind(account)
    .bind(LedgerKind::FreeCredit.as_str())
    .bind(Bucket::Credit.as_str())
    .bind(ACCOUNT_CURRENCY.code())
    .fetch_one(db)
    .await
    .unwrap();
    figures(row)
}

async fn run(db: &Db, sql: &str, account: &str) {
    sqlx::query(sql)
        .bind(account)
        .execute(db.writer())
        .await
        .unwrap();
}

async fn add_entry(db: &Db, account: &str, kind: LedgerKind, bucket: Bucket, amount: Money) {
    let mut tx = db::begin_write(db).await.unwrap();
    let entry = Entry {
        account_id: account,
        kind,
        bucket,
        amount,
        payment_method_id: None,
        reference: None,
        memo: "test",
    };
    ledger_entries::insert(&mut tx, Millis(0), entry)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, ACCOUNT_CURRENCY)
}

const ADDRESS: &str =
    "INSERT INTO billing_addresses (account_id, account_type, last_name, first_name,
     country, address_line1, city, state, updated_at)
     VALUES ($1, 'individual', 'Tan', 'Mei', 'SG', '1 Road', 'Singapore', 'SG', 0)";

fn method(n: u32) -> String {
    format!(
        "INSERT INTO payment_methods (id, account_id, kind, fingerprint, label, created_at)
         VALUES ($1 || '-pm{n}', $1, 'card', $1 || '-fp{n}', 'VISA •••• 4242', 0)"
    )
}

#[tokio::test]
async fn the_figures_on_the_account_row_follow_every_write_of_their_rows() {
    let app = spawn_app().await;
    let db = &app.state.db;
    for id in ["acc-sum", "acc-other"] {
        insert_old_account(db, id).await;
    }
    let account = "acc-sum";
    let check = async |step: &str| {
        let (kept, counted) = (kept(db, account).await, counted(db, account).await);
        assert_eq!(kept, counted, "after {step}");
        kept
    };
    assert_eq!(
        check("nothing").await,
        Figures {
            has_address: false,
            has_method: false,
            real_name: false,
            credit_granted: false,
            credit_minor: 0
        }
    );

    run(db, ADDRESS, account).await;
    assert!(check("an address").await.has_address);
    run(
        db,
        "UPDATE billing_addresses SET city = 'Jurong' WHERE account_id = $1",
        account,
    )
    .await;
    assert!(check("the address changed").await.has_address);

    run(db, &method(1), account).await;
    run(db, &method(2), account).await;
    assert!(check("two payment methods").await.has_method);
    run(
        db,
        "DELETE FROM payment_methods WHERE id = $1 || '-pm1'",
        account,
    )
    .await;
    assert!(check("one of them removed").await.has_method);
    run(
        db,
        "DELETE FROM payment_methods WHERE id = $1 || '-pm2'",
        account,
    )
    .await;
    assert!(!check("both removed").await.has_method);

    run(
        db,
        "INSERT INTO real_name_registrations (account_id, kind, name, id_masked, verified_at)
         VALUES ($1, 'individual', 'Tan Mei', 'S****567A', 0)",
        account,
    )
    .await;
    assert!(check("a real-name registration").await.real_name);

    add_entry(
        db,
        account,
        LedgerKind::FreeCredit,
        Bucket::Credit,
        usd(50_00),
    )
    .await;
    let after_credit = check("the free credit").await;
    assert!(after_credit.credit_granted);
    assert_eq!(after_credit.credit_minor, 50_00);
    add_entry(
        db,
        account,
        LedgerKind::Payment,
        Bucket::Credit,
        usd(-12_34),
    )
    .await;
    add_entry(db, account, LedgerKind::Refund, Bucket::Cash, usd(7_00)).await;
    let other_currency = Money::from_minor(99_00, Currency::CNY);
    add_entry(
        db,
        account,
        LedgerKind::Refund,
        Bucket::Credit,
        other_currency,
    )
    .await;
    assert_eq!(
        check("credit spent, cash and yuan added")
            .await
            .credit_minor,
        37_66
    );
    run(
        db,
        "UPDATE ledger_entries SET amount_minor = -1000 WHERE account_id = $1 AND kind = 'payment'",
        account,
    )
    .await;
    assert_eq!(check("an entry's amount changed").await.credit_minor, 40_00);
    run(
        db,
        "DELETE FROM ledger_entries WHERE account_id = $1 AND kind = 'free_credit'",
        account,
    )
    .await;
    let after_delete = check("the free credit's entry deleted").await;
    assert!(!after_delete.credit_granted);
    assert_eq!(after_delete.credit_minor, -10_00);

    run(
        db,
        "DELETE FROM billing_addresses WHERE account_id = $1",
        account,
    )
    .await;
    run(
        db,
        "DELETE FROM real_name_registrations WHERE account_id = $1",
        account,
    )
    .await;
    let emptied = check("the address and registration deleted").await;
    assert!(!emptied.has_address && !emptied.real_name);

    // The other account's row was never touched by its neighbour's writes.
    assert_eq!(kept(db, "acc-other").await, counted(db, "acc-other").await);
    assert_eq!(kept(db, "acc-other").await.credit_minor, 0);

    // A row moved to another account counts for that one, and no longer for the first.
    run(db, &method(3), account).await;
    run(
        db,
        "UPDATE payment_methods SET account_id = 'acc-other' WHERE id = $1 || '-pm3'",
        account,
    )
    .await;
    assert!(!check("its method moved away").await.has_method);
    let other = kept(db, "acc-other").await;
    assert_eq!(other, counted(db, "acc-other").await);
    assert!(other.has_method);
}

/// Accounts that had their rows before the upgrade read the same figures after it.
#[tokio::test]
async fn the_upgrade_counts_the_figures_of_existing_accounts() {
    let data = tempfile::tempdir().unwrap();
    let db = database_before(data.path(), "_account_summary.sql").await;
    for id in ["acc-full", "acc-bare"] {
        insert_old_account(&db, id).await;
    }
    run(&db, ADDRESS, "acc-full").await;
    run(&db, &method(1), "acc-full").await;
    run(
        &db,
        "INSERT INTO ledger_entries (id, account_id, kind, bucket, amount_minor, currency, memo, created_at)
         VALUES ($1 || '-l1', $1, 'free_credit', 'credit', 5000, 'USD', 'x', 0),
                ($1 || '-l2', $1, 'payment', 'credit', -1234, 'USD', 'x', 0),
                ($1 || '-l3', $1, 'refund', 'cash', 700, 'USD', 'x', 0)",
        "acc-full",
    )
    .await;

    db::migrate(&db).await.unwrap();
    let full = kept(&db, "acc-full").await;
    assert_eq!(full, counted(&db, "acc-full").await);
    assert_eq!(
        full,
        Figures {
            has_address: true,
            has_method: true,
            real_name: false,
            credit_granted: true,
            credit_minor: 37_66
        }
    );
    assert_eq!(kept(&db, "acc-bare").await, counted(&db, "acc-bare").await);
    assert_eq!(kept(&db, "acc-bare").await.credit_minor, 0);
}
