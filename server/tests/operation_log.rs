//! The operation log (SPEC §1 "Account security"): who did what, when, from which address,
//! written with the action itself; filtered by category; in the closure's export; the
//! account's alone.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use server::oplog::Operation;
use shared::ErrorCode;
use shared::api::{
    OperationAction, OperationActor, OperationCategory, OperationDetail, OperationEntry,
    OperationLog, Permission, SessionInfo, SignInRefusal,
};

async fn log(app: &TestApp, query: &str) -> OperationLog {
    let response = app.get(&format!("/api/operation-log{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    body_as(response).await
}

fn actions(log: &OperationLog) -> Vec<OperationAction> {
    log.entries.iter().map(|e| e.action).collect()
}

/// The instance a purchase's entry names.
fn bought(entry: &OperationEntry) -> &str {
    match &entry.detail {
        OperationDetail::Subscription { instance, .. } => instance,
        other => panic!("not a subscription bought: {other:?}"),
    }
}

#[tokio::test]
async fn security_and_money_actions_are_logged_with_who_and_from_where() {
    let mut owner = spawn_app().await;
    let email = owner.ready_to_buy("logged").await;
    let refused = owner
        .another_client()
        .post(
            "/api/session",
            &json!({"email": email, "password": "Wrong7Password"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let instance = owner.buy("ecs", 1, "default_method").await;
    let created = owner
        .post(
            "/api/ram-users",
            &json!({"username": "ops", "password": "Turbine9Blue", "permissions": ["BillingFullAccess"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let me: SessionInfo = owner.get_as("/api/session").await;
    let mut ram = owner.another_client();
    let session: SessionInfo = body_as(
        ram.post(
            "/api/session/ram",
            &json!({"account_alias": me.account.uid, "username": "ops", "password": "Turbine9Blue"}),
        )
        .await,
    )
    .await;
    ram.csrf = Some(session.csrf_token);
    let by_ram = ram.buy("oss", 1, "default_method").await;
    let changed = owner
        .put(
            "/api/account/password",
            &json!({"current_password": PASSWORD, "password": "Turbine9Blue", "password_confirmation": "Turbine9Blue"}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);

    use OperationAction as A;
    let all = log(&owner, "").await;
    assert_eq!(
        actions(&all),
        [
            A::PasswordChanged,
            A::Purchase,
            A::SignIn,
            A::RamUserCreated,
            A::Purchase,
            A::SignInFailed,
            A::PaymentMethodAdded,
            A::BillingAddressSaved,
        ],
        "newest first: {all:?}"
    );
    assert_eq!(all.total, 8);
    let ops = OperationActor::RamUser {
        name: "ops".to_owned(),
    };
    let ram_purchase = &all.entries[1];
    assert_eq!(ram_purchase.actor, ops);
    assert_eq!(bought(ram_purchase), by_ram);
    assert_eq!(all.entries[2].actor, ops);
    assert_eq!(
        all.entries[3].detail,
        OperationDetail::RamUserCreated {
            name: "ops".to_owned(),
            permissions: vec![Permission::BillingFullAccess],
        }
    );
    let own_purchase = &all.entries[4];
    assert_eq!(own_purchase.actor, OperationActor::Owner);
    assert_eq!(bought(own_purchase), instance);
    assert!(
        all.entries
            .iter()
            .all(|e| e.ip.as_deref() == Some("127.0.0.1"))
    );
    assert!(
        all.entries
            .iter()
            .all(|e| !serde_json::to_string(&e.detail).unwrap().contains(&email)),
        "no email in details"
    );
    assert_eq!(
        all.entries[5].detail,
        OperationDetail::SignInRefused {
            reason: SignInRefusal::WrongPassword
        }
    );

    let money = log(&owner, "?category=money").await;
    assert_eq!(
        actions(&money),
        [
            A::Purchase,
            A::Purchase,
            A::PaymentMethodAdded,
            A::BillingAddressSaved
        ]
    );
    assert!(
        money
            .entries
            .iter()
            .all(|e| e.category == OperationCategory::Money)
    );
    let security = log(&owner, "?category=security").await;
    assert_eq!(security.total, 4);

    // RAM users, even with billing access, do not read the account's log.
    assert_eq!(
        ram.get("/api/operation-log").await.status(),
        StatusCode::FORBIDDEN
    );
    // Another account's log holds only its own.
    let mut stranger = owner.another_client();
    stranger.signed_up("stranger").await;
    assert_eq!(log(&stranger, "").await.total, 0);
}

#[tokio::test]
async fn a_refused_action_leaves_no_entry_and_the_export_holds_the_log() {
    let mut owner = spawn_app().await;
    owner.signed_up("export").await;
    let weak = owner
        .put(
            "/api/account/password",
            &json!({"current_password": PASSWORD, "password": "short", "password_confirmation": "short"}),
        )
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(log(&owner, "").await.total, 0);
    owner.with_billing_address("81234567").await;
    // The export's operation log is the log's own entries.
    let entries: Vec<OperationEntry> = owner
        .get_as::<Export>("/api/closure/export")
        .await
        .operation_log;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, OperationAction::BillingAddressSaved);
    assert_eq!(
        entries[0].detail,
        OperationDetail::BillingAddress {
            country: "SG".to_owned()
        }
    );
    assert_eq!(entries[0].category, OperationCategory::Money);
}

#[tokio::test]
async fn any_page_number_is_answered_and_an_unknown_category_is_refused() {
    let mut owner = spawn_app().await;
    owner.signed_up("pages").await;
    let far = log(&owner, "?page=2147483647").await;
    assert!(far.entries.is_empty());
    assert_eq!(far.page, 2_147_483_647);
    let past = owner.get("/api/operation-log?page=2147483648").await;
    assert_eq!(refusal(past).await.2.as_deref(), Some("page"));
    assert_eq!(log(&owner, "?page=0").await.page, 1);
    let wrong = owner.get("/api/operation-log?category=everything").await;
    assert!(wrong.status().is_client_error(), "{}", wrong.status());
    assert_eq!(refusal(wrong).await.1, ErrorCode::BadRequest);
}

/// One operation of each kind, as the domain writes them.
fn every_operation() -> Vec<Operation> {
    use Operation as O;
    use shared::account::Channel;
    use shared::api::{IdentityMethod, LoggedPaymentMethod, PaymentMethodKind, RenewalRefund};
    use shared::closure::BlockingKind;
    use shared::payment::CardBrand;
    let visa = LoggedPaymentMethod {
        kind: PaymentMethodKind::Card,
        brand: Some(CardBrand::Visa),
        last4: Some("4242".to_owned()),
    };
    let paypal = LoggedPaymentMethod {
        kind: PaymentMethodKind::Paypal,
        brand: None,
        last4: None,
    };
    vec![
        O::SignInPasswordAccepted,
        O::SignIn {
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0".to_owned()),
            two_step: true,
        },
        O::SignInFailed {
            reason: SignInRefusal::WrongPassword,
        },
        O::PasswordReset {
            channel: Channel::Phone,
        },
        O::PasswordChanged,
        O::SessionSignedOut { user_agent: None },
        O::OtherSessionsSignedOut { count: 3 },
        O::TwoStepOn,
        O::TwoStepOff,
        O::RamUserCreated {
            name: "ops".to_owned(),
            permissions: vec![Permission::BillingReadOnlyAccess],
        },
        O::RamUserDeleted {
            name: "ops".to_owned(),
        },
        O::PaymentMethodAdded(visa.clone()),
        O::PaymentMethodRemoved(paypal),
        O::DefaultPaymentMethodSet(visa.clone()),
        O::BillingAddressSaved {
            country: "MY".to_owned(),
        },
        O::SubscriptionPurchased {
            instance: "i-1".to_owned(),
            product: "ecs".to_owned(),
            months: 12,
            price: usd("120.00"),
        },
        O::PayAsYouGoPurchased {
            instance: "i-2".to_owned(),
            product: "oss".to_owned(),
        },
        O::SubscriptionRenewed {
            instance: "i-1".to_owned(),
            months: 1,
            price: usd("10.00"),
        },
        O::ResourcesUnsubscribed {
            instances: vec!["i-1".to_owned(), "i-2".to_owned()],
            refund: usd("4.50"),
        },
        O::RenewalsCancelled {
            renewals: vec![RenewalRefund {
                instance: "i-1".to_owned(),
                refund: usd("10.00"),
            }],
        },
        O::BalanceWithdrawn {
            amount: usd("5.00"),
            to: visa,
        },
        O::RefundReturnedToBalance {
            amount: usd("0.01"),
        },
        O::PaymentDisputed {
            amount: Some(usd("20.00")),
            reason: Some("fraudulent".to_owned()),
            dispute: "dp_1".to_owned(),
        },
        O::ClosureIdentityVerified {
            method: IdentityMethod::Alipay,
        },
        O::ClosureItemsRenounced {
            items: vec![BlockingKind::CashBalance, BlockingKind::OverduePayments],
        },
        O::ClosureConfirmed {
            cool_down_until: "2026-01-31T00:00:00Z".to_owned(),
        },
    ]
}

async fn account_id(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_operation_written_reads_back_as_the_same_facts() {
    let mut owner = spawn_app().await;
    owner.signed_up("facts").await;
    let account = account_id(&owner).await;
    let operations = every_operation();
    let mut written: Vec<(OperationAction, OperationDetail)> = operations
        .iter()
        .map(|operation| operation.clone().into_parts())
        .collect();
    let mut tx = server::db::begin_write(&owner.state.db).await.unwrap();
    for (at, operation) in operations.into_iter().enumerate() {
        server::oplog::record(
            &mut tx,
            &account,
            operation,
            server::clock::Millis(at as i64),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    // No operation writes a legacy detail: the 0021 migration leaves them, as this row.
    let legacy = OperationDetail::Legacy {
        text: "Chrome on macOS".to_owned(),
    };
    sqlx::query(
        "INSERT INTO operation_log (id, account_id, actor, action, category, detail, ip, created_at)
         VALUES ('legacy', $1, 'system', 'sign_in', 'security', $2, NULL, $3)",
    )
    .bind(&account)
    .bind(serde_json::to_string(&legacy).unwrap())
    .bind(written.len() as i64)
    .execute(owner.state.db.writer())
    .await
    .unwrap();
    written.push((OperationAction::SignIn, legacy));

    let read: Vec<(OperationAction, OperationDetail)> = owner
        .get_as::<Export>("/api/closure/export")
        .await
        .operation_log
        .into_iter()
        .map(|e| {
            assert_eq!(e.category, e.action.category());
            assert_eq!(e.actor, OperationActor::System, "written outside a request");
            (e.action, e.detail)
        })
        .collect();
    assert_eq!(read, written);
}

/// A row the server did not write as it writes them fails the read, loudly, rather than
/// showing a guess.
#[tokio::test]
async fn a_corrupt_entry_fails_the_read() {
    let mut owner = spawn_app().await;
    owner.signed_up("corrupt").await;
    let account = account_id(&owner).await;
    for (actor, action, category, detail) in [
        ("owner", "sign_in", "security", "wrong password"),
        ("owner", "sign_in", "security", r#"{"kind":"teleported"}"#),
        ("owner", "signed_in", "security", r#"{"kind":"none"}"#),
        ("owner", "sign_in", "money", r#"{"kind":"none"}"#),
        ("someone", "sign_in", "security", r#"{"kind":"none"}"#),
    ] {
        sqlx::query("DELETE FROM operation_log")
            .execute(owner.state.db.writer())
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO operation_log (id, account_id, actor, action, category, detail, ip, created_at)
             VALUES ('bad', $1, $2, $3, $4, $5, NULL, 0)",
        )
        .bind(&account)
        .bind(actor)
        .bind(action)
        .bind(category)
        .bind(detail)
        .execute(owner.state.db.writer())
        .await
        .unwrap();
        let read = owner.get("/api/operation-log").await;
        assert_eq!(
            read.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{actor} {action} {category} {detail}"
        );
    }
}

/// An install upgraded from a version that kept each entry's detail as an English phrase:
/// every phrase of a known shape becomes its facts; any other stays as its words, so every
/// old entry still reads.
#[tokio::test]
async fn entries_written_before_the_upgrade_read_as_facts_or_as_their_old_words() {
    use OperationDetail as D;
    let data = tempfile::tempdir().unwrap();
    let db = database_before(data.path(), "_operation_log_facts.sql").await;
    insert_old_account(&db, "acc-old").await;
    let old = [
        ("sign_in_failed", "wrong two-step code"),
        ("password_changed", "other sessions signed out"),
        ("session_signed_out", "2 other sessions"),
        (
            "ram_user_created",
            "ops (BillingFullAccess BillingReadOnlyAccess)",
        ),
        ("payment_method_added", "VISA •••• 4242"),
        ("payment_method_removed", "PayPal a***@example.com"),
        ("withdrawal", "USD 5.00 to MasterCard •••• 4444"),
        ("purchase", "i-0a1b: ecs for 3 months, USD 30.00"),
        ("purchase", "i-0a1c: oss pay-as-you-go"),
        ("renewal", "i-0a1b: 1 months, CNY 70.50"),
        ("unsubscribe", "i-0a1b, i-0a1c: refund USD 4.00"),
        ("closure_items_renounced", "overdue_payments, cash_balance"),
        ("closure_confirmed", "cool-down until 2026-01-31T00:00:00Z"),
        ("sign_in", "two-step code; Chrome on macOS"),
        (
            "payment_disputed",
            "USD 20.00 disputed (fraudulent), dispute dp_1",
        ),
        ("renewal", "i-0a1b: 1 months, USD 1.2.3"),
    ];
    for (n, (action, detail)) in old.iter().enumerate() {
        sqlx::query(
            "INSERT INTO operation_log (id, account_id, actor, action, category, detail, ip, created_at)
             VALUES ($1, 'acc-old', 'owner', $2, 'security', $3, NULL, $4)",
        )
        .bind(format!("op-{n:02}"))
        .bind(action)
        .bind(detail)
        .bind(n as i64)
        .execute(db.writer())
        .await
        .unwrap();
    }

    server::db::migrate(&db).await.unwrap();
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM operation_log ORDER BY created_at")
            .fetch_all(&db)
            .await
            .unwrap();
    let details: Vec<OperationDetail> = details
        .iter()
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{d}: {e}")))
        .collect();
    use shared::api::{LoggedPaymentMethod, PaymentMethodKind};
    use shared::closure::BlockingKind;
    use shared::money::{Currency, Money};
    use shared::payment::CardBrand;
    let card = |brand, last4: &str| LoggedPaymentMethod {
        kind: PaymentMethodKind::Card,
        brand: Some(brand),
        last4: Some(last4.to_owned()),
    };
    let legacy = |text: &str| D::Legacy {
        text: text.to_owned(),
    };
    assert_eq!(
        details,
        [
            D::SignInRefused {
                reason: SignInRefusal::WrongTwoStepCode
            },
            D::None,
            D::OtherSessions { count: 2 },
            D::RamUserCreated {
                name: "ops".to_owned(),
                permissions: vec![
                    Permission::BillingFullAccess,
                    Permission::BillingReadOnlyAccess
                ],
            },
            D::PaymentMethod {
                method: card(CardBrand::Visa, "4242")
            },
            D::PaymentMethod {
                method: LoggedPaymentMethod {
                    kind: PaymentMethodKind::Paypal,
                    brand: None,
                    last4: None,
                }
            },
            D::Withdrawal {
                amount: usd("5.00"),
                to: card(CardBrand::Mastercard, "4444"),
            },
            D::Subscription {
                instance: "i-0a1b".to_owned(),
                product: "ecs".to_owned(),
                months: 3,
                price: usd("30.00"),
            },
            D::PayAsYouGo {
                instance: "i-0a1c".to_owned(),
                product: "oss".to_owned(),
            },
            D::Renewal {
                instance: "i-0a1b".to_owned(),
                months: 1,
                price: Money::new("70.50".parse().unwrap(), Currency::CNY),
            },
            D::Unsubscribed {
                instances: vec!["i-0a1b".to_owned(), "i-0a1c".to_owned()],
                refund: usd("4.00"),
            },
            D::ItemsRenounced {
                items: vec![BlockingKind::OverduePayments, BlockingKind::CashBalance],
            },
            D::CoolDown {
                until: "2026-01-31T00:00:00Z".to_owned(),
            },
            legacy("two-step code; Chrome on macOS"),
            legacy("USD 20.00 disputed (fraudulent), dispute dp_1"),
            legacy("i-0a1b: 1 months, USD 1.2.3"),
        ]
    );
}
