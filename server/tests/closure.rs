//! Account closure (SPEC §6): the check and each blocking kind's resolution, the export, the
//! initiation's guards, the cool-down, and both results.

mod common;

use common::outage::{Down, Outage};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::ErrorCode;
use shared::account::Channel;
use shared::api::{
    AccountTies, ClosureFailure, ClosureState, ClosureStatus, CodeSent, LedgerKind, MethodAdded,
    OrderStatus, PaymentMethodsView, PaypalStarted, RamUserView, SessionInfo, SystemCheckView,
    Unsubscribed, WithdrawalsView,
};
use shared::closure::{BlockingKind, CheckItem, ClosureCheck, RelationshipKind, Severity};
use shared::money::{Currency, Money};

async fn check(app: &TestApp) -> ClosureCheck {
    app.get_as("/api/closure/check").await
}

/// The kinds of the check's items of `severity`, in the order the check lists them.
fn kinds(check: &ClosureCheck, severity: Severity) -> Vec<BlockingKind> {
    check
        .items
        .iter()
        .filter(|i| i.severity == severity)
        .map(|i| i.kind)
        .collect()
}

/// An amount in yuan, as written: `cny("35.50")`.
fn cny(amount: &str) -> Money {
    Money::new(amount.parse().unwrap(), Currency::CNY)
}

/// Proves identity with the phone code (the account's verified mobile number).
async fn verify_identity(app: &TestApp) {
    let sent: CodeSent = body_as(app.post("/api/closure/identity/code", &json!({})).await).await;
    assert_eq!(sent.channel, Channel::Phone, "{sent:?}");
    let code = app.code_for("+6581234567").await;
    assert_eq!(
        app.post("/api/closure/identity/verify", &json!({"code": code}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

/// Runs the system check to the end, watching its progress; returns its id and result.
async fn system_check(app: &TestApp) -> (String, ClosureCheck) {
    let started: SystemCheckView =
        body_as(app.post("/api/closure/system-check", &json!({})).await).await;
    let id = started.id;
    let mut seen = vec![started.progress];
    for _ in 0..10 {
        app.run_jobs().await;
        let view: SystemCheckView = app.get_as(&format!("/api/closure/system-check/{id}")).await;
        seen.push(view.progress);
        if view.status == shared::api::SystemCheckStatus::Done {
            assert!(
                seen.windows(2).all(|w| w[0] <= w[1]) && seen.len() > 2,
                "progress moves up in steps: {seen:?}"
            );
            return (id, view.result.expect("a finished check has its result"));
        }
        app.advance(DurationMs::seconds(1));
    }
    panic!("the system check did not finish: {seen:?}");
}

/// Confirms closure, renouncing every renounceable item.
async fn confirm(app: &TestApp) -> reqwest::Response {
    let (id, result) = system_check(app).await;
    let renounce: Vec<&str> = result
        .items
        .iter()
        .filter(|i| i.severity == Severity::Renounceable)
        .map(|i| i.key.as_str())
        .collect();
    let form = json!({"system_check_id": id, "agreement_accepted": true, "renounce": renounce, "risk_acknowledged": true, "reason": "no_longer_needed"});
    app.post("/api/closure", &form).await
}

#[tokio::test]
async fn a_fresh_account_can_close_and_nothing_blocks_it() {
    let mut app = spawn_app().await;
    app.signed_up("fresh").await;
    let check = check(&app).await;
    assert_eq!(check.items, []);
    assert!(check.can_close);
}

#[tokio::test]
async fn every_blocking_kind_is_listed_and_each_resolution_clears_it() {
    let mut app = spawn_app().await;
    app.ready_to_buy("blocked").await;
    app.post("/api/dev/seed-demo", &json!({"blockers": true}))
        .await;
    let payg = json!({"product": "ecs", "region": "ap-southeast-1", "billing": "payg"});
    app.post_once("/api/orders", "payg", &payg).await;
    let sub = app.buy("rds", 1, "default_method").await;
    app.post(
        &format!("/api/instances/{sub}/auto-renew"),
        &json!({"enabled": true}),
    )
    .await;
    // The demo's pay-as-you-go instance has three hours of usage due: bill (and pay) them first.
    app.run_jobs().await;

    let before = check(&app).await;
    assert!(!before.can_close);
    let mut must = kinds(&before, Severity::MustProcess);
    must.sort();
    assert_eq!(
        must,
        [
            BlockingKind::OverduePayments,
            BlockingKind::UnexpiredDomains,
            BlockingKind::IcpFilings,
            BlockingKind::RunningSubscriptions,
            BlockingKind::AutoRenewingSubscriptions,
            BlockingKind::ResourceDirectory,
            BlockingKind::FinanceTrusteeship,
            BlockingKind::ResellerPartnership,
        ]
    );
    let mut renounceable = kinds(&before, Severity::Renounceable);
    renounceable.sort();
    assert_eq!(
        renounceable,
        [BlockingKind::CashBalance, BlockingKind::PayAsYouGoResources]
    );
    let overdue = item_of(&before, BlockingKind::OverduePayments).unwrap();
    let bills: Vec<(String, i64, String, Option<String>)> =
        sqlx::query_as("SELECT description, amount_minor, status, instance_id FROM bills")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(overdue.amount, Some(usd("5.00")), "{bills:?}");
    assert_eq!(overdue.totals, [usd("5.00")]);
    assert_eq!(
        overdue.amount_cny,
        Some(cny("35.50")),
        "compared in CNY: over 10"
    );
    assert!(before.items.iter().all(|i| i.resolve_path.starts_with('/')));
    let balance = item_of(&before, BlockingKind::CashBalance).unwrap();
    assert_eq!(balance.amount_cny, Some(cny("355.00")));
    // A relationship's item says the account's side of it, which decides what resolves it.
    let ties: AccountTies = app.get_as("/api/closure/ties").await;
    for rel in &ties.relationships {
        let item = item_of(&before, rel.kind.blocking_kind()).unwrap();
        assert_eq!(item.role, Some(rel.role), "{item:?}");
        assert_eq!(RelationshipKind::of(item.kind), Some(rel.kind));
    }

    // Resolve each must-process item with the product's own actions.
    let bill = &ties.bills.iter().find(|b| b.overdue).unwrap().id;
    let (status, code, _) = refusal(
        app.post(&format!("/api/bills/{bill}/pay"), &json!({}))
            .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::BAD_REQUEST, ErrorCode::IdempotencyKeyMissing),
        "paying moves money"
    );
    let paid = app
        .post_once(&format!("/api/bills/{bill}/pay"), "pay-1", &json!({}))
        .await;
    assert_eq!(
        paid.status(),
        StatusCode::OK,
        "{}",
        paid.text().await.unwrap()
    );
    let icp = &ties.icp_filings[0].id;
    assert_eq!(
        app.post(&format!("/api/icp-filings/{icp}/cancel"), &json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    for rel in &ties.relationships {
        assert_eq!(
            app.delete(&format!("/api/relationships/{}", rel.id))
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        app.delete("/api/reseller-partnership").await.status(),
        StatusCode::OK
    );
    let domains = &item_of(&before, BlockingKind::UnexpiredDomains)
        .unwrap()
        .subjects;
    for domain in domains {
        assert_eq!(
            app.post(&format!("/api/instances/{domain}/transfer-out"), &json!({}))
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        app.post(
            &format!("/api/instances/{sub}/auto-renew"),
            &json!({"enabled": false})
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let middle = check(&app).await;
    assert_eq!(
        kinds(&middle, Severity::MustProcess),
        [BlockingKind::RunningSubscriptions]
    );
    let running = &item_of(&middle, BlockingKind::RunningSubscriptions)
        .unwrap()
        .subjects;
    for id in running {
        let form = json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true});
        assert_eq!(
            app.post_once("/api/unsubscribe", &uuid::Uuid::new_v4().to_string(), &form)
                .await
                .status(),
            StatusCode::OK
        );
    }
    let after = check(&app).await;
    assert!(after.can_close, "{after:?}");
    assert_eq!(kinds(&after, Severity::MustProcess), []);
}

#[tokio::test]
async fn a_balance_over_a_thousand_cny_must_be_used_up_first() {
    let mut app = spawn_app().await;
    app.signed_up("rich").await;
    let account: String = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO ledger_entries (id, account_id, kind, bucket, amount_minor, currency, memo, created_at) VALUES ('t', $1, 'top_up', 'cash', 14100, 'USD', 'test', 0)")
        .bind(&account)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    // 141.00 USD at 7.10 = 1,001.10 CNY.
    let check = check(&app).await;
    assert_eq!(
        kinds(&check, Severity::MustProcess),
        [BlockingKind::CashBalance]
    );
}

#[tokio::test]
async fn the_export_holds_bills_orders_refunds_and_invoices() {
    let mut app = spawn_app().await;
    app.ready_to_buy("export").await;
    let id = app.buy("ecs", 1, "default_method").await;
    app.post("/api/dev/seed-demo", &json!({"only_blockers": true}))
        .await;
    let form = json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true});
    app.post_once("/api/unsubscribe", "u", &form).await;
    let response = app.get("/api/closure/export").await;
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let export: Export = body_as(response).await;
    assert_eq!(export.orders.len(), 1);
    assert_eq!(export.orders[0].status, OrderStatus::Unsubscribed);
    assert_eq!(export.invoices[0].amount, usd("20.00"));
    assert_eq!(export.refunds.len(), 1);
    assert_eq!(export.bills[0].amount, usd("5.00"));
    assert!(
        export
            .ledger
            .iter()
            .any(|e| e.kind == LedgerKind::FreeCredit)
    );
    assert_eq!(
        export.billing_address.map(|a| a.address.city).as_deref(),
        Some("Singapore")
    );
}

#[tokio::test]
async fn confirming_needs_identity_a_fresh_system_check_the_agreement_and_the_risk_checkbox() {
    let mut app = spawn_app().await;
    app.ready_to_buy("guards").await;
    app.post("/api/dev/seed-demo", &json!({"only_blockers": true}))
        .await;
    let (id, _) = system_check(&app).await;
    let form = |agreement: bool, renounce: Value, risk: bool| json!({"system_check_id": id, "agreement_accepted": agreement, "renounce": renounce, "risk_acknowledged": risk, "reason": "switching_provider"});
    let (status, code, _) = refusal(
        app.post("/api/closure", &form(true, json!([]), false))
            .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::FORBIDDEN, ErrorCode::IdentityNotVerified)
    );
    let (status, _, _) = refusal(app.post("/api/closure/identity/alipay", &json!({})).await).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no real-name registration, no Alipay"
    );
    verify_identity(&app).await;
    let (_, code, field) = refusal(
        app.post("/api/closure", &form(false, json!([]), false))
            .await,
    )
    .await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::AgreementRequired, Some("agreement_accepted"))
    );
    let (_, code, field) = refusal(
        app.post("/api/closure", &form(true, json!(["cash_balance"]), false))
            .await,
    )
    .await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::ConfirmationRequired, Some("risk_acknowledged"))
    );
    let (status, code, _) = refusal(
        app.post("/api/closure", &form(true, json!(["cash_balance"]), true))
            .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::ClosureBlocked),
        "the overdue bill and the ties must be processed"
    );
    let bad = json!({"system_check_id": "chk-nope", "agreement_accepted": true, "renounce": [], "risk_acknowledged": true, "reason": "other"});
    assert_eq!(
        refusal(app.post("/api/closure", &bad).await).await.1,
        ErrorCode::SystemCheckRequired
    );
    app.advance(DurationMs::minutes(31));
    assert_eq!(
        refusal(
            app.post("/api/closure", &form(true, json!(["cash_balance"]), true))
                .await
        )
        .await
        .1,
        ErrorCode::IdentityNotVerified,
        "identity expires after 30 minutes"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "active");
}

#[tokio::test]
async fn no_closure_reason_is_assumed() {
    let mut app = spawn_app().await;
    app.ready_to_buy("reasonless").await;
    verify_identity(&app).await;
    let (id, _) = system_check(&app).await;
    let form = json!({"system_check_id": id, "agreement_accepted": true, "renounce": [], "risk_acknowledged": false});
    let (status, code, field) = refusal(app.post("/api/closure", &form).await).await;
    assert_eq!(
        (status, code, field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::FieldRequired,
            Some("reason")
        )
    );
    let status: String = sqlx::query_scalar("SELECT status FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "active", "nothing was written");
}

/// The item of `kind` in a check, if it is listed.
fn item_of(check: &ClosureCheck, kind: BlockingKind) -> Option<&CheckItem> {
    check.items.iter().find(|i| i.kind == kind)
}

#[tokio::test]
async fn confirm_discard_or_release_renounces_at_once_and_only_once() {
    let mut app = spawn_app().await;
    app.ready_to_buy("renounces").await;
    // 5.00 USD overdue (over 10 CNY: must be paid), 50 USD cash and ties that must be
    // processed; and a pay-as-you-go ECS.
    app.post("/api/dev/seed-demo", &json!({"only_blockers": true}))
        .await;
    let payg = json!({"product": "ecs", "region": "ap-southeast-1", "billing": "payg"});
    app.post_once("/api/orders", "payg", &payg).await;
    let before = check(&app).await;
    let mut renounceable = kinds(&before, Severity::Renounceable);
    renounceable.sort();
    assert_eq!(
        renounceable,
        [BlockingKind::CashBalance, BlockingKind::PayAsYouGoResources],
        "{before:?}"
    );
    let all =
        json!({"renounce": ["cash_balance", "pay_as_you_go_resources"], "risk_acknowledged": true});

    // The identity step first, as for Confirm Deletion.
    let (status, code, _) = refusal(app.post("/api/closure/renounce", &all).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::FORBIDDEN, ErrorCode::IdentityNotVerified)
    );
    verify_identity(&app).await;
    // The risk checkbox, and something selected.
    let (status, code, field) = refusal(
        app.post(
            "/api/closure/renounce",
            &json!({"renounce": ["cash_balance"], "risk_acknowledged": false}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code, field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ConfirmationRequired,
            Some("risk_acknowledged")
        )
    );
    let (_, code, field) = refusal(
        app.post(
            "/api/closure/renounce",
            &json!({"renounce": [], "risk_acknowledged": true}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (code, field.as_deref()),
        (ErrorCode::FieldRequired, Some("renounce"))
    );
    // A must-process item cannot be renounced, and nothing of the request is written.
    let (status, code, _) = refusal(
        app.post(
            "/api/closure/renounce",
            &json!({"renounce": ["cash_balance", "overdue_payments"], "risk_acknowledged": true}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::ClosureBlocked)
    );
    assert_eq!(
        item_of(&check(&app).await, BlockingKind::CashBalance),
        item_of(&before, BlockingKind::CashBalance)
    );

    // Confirm Discard or Release: both go now, not at Confirm Deletion.
    let response = app.post("/api/closure/renounce", &all).await;
    assert_eq!(response.status(), StatusCode::OK);
    let after: ClosureCheck = body_as(response).await;
    assert!(
        kinds(&after, Severity::Renounceable).is_empty(),
        "{after:?}"
    );
    assert_eq!(after, {
        let mut now = check(&app).await;
        now.checked_at = after.checked_at.clone();
        now
    });
    let ledger = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT kind, amount_minor FROM ledger_entries WHERE kind = 'renounced' ORDER BY id",
            )
            .fetch_all(&db)
            .await
            .unwrap();
            rows
        }
    };
    assert_eq!(ledger(&app).await, [("renounced".to_owned(), -5000)]);
    let (waived, released): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM bills WHERE waived_at IS NOT NULL), (SELECT COUNT(*) FROM instances WHERE billing = 'payg' AND status = 'released')",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        (waived, released),
        (0, 1),
        "the overdue bill must still be paid"
    );

    // Again (a double click, a retry after a lost answer): nothing more is given up.
    let again = app.post("/api/closure/renounce", &all).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(ledger(&app).await.len(), 1, "the balance is renounced once");
    let status: String = sqlx::query_scalar("SELECT status FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "active", "renouncing does not start the closure");
}

#[tokio::test]
async fn after_renouncing_confirm_deletion_has_nothing_left_to_renounce() {
    let mut app = spawn_app().await;
    app.ready_to_buy("renounced-first").await;
    let payg = json!({"product": "ecs", "region": "ap-southeast-1", "billing": "payg"});
    app.post_once("/api/orders", "payg", &payg).await;
    verify_identity(&app).await;
    let renounced: ClosureCheck = body_as(
        app.post(
            "/api/closure/renounce",
            &json!({"renounce": ["pay_as_you_go_resources"], "risk_acknowledged": true}),
        )
        .await,
    )
    .await;
    assert!(renounced.can_close, "{renounced:?}");
    assert!(
        kinds(&renounced, Severity::Renounceable).is_empty(),
        "{renounced:?}"
    );
    let (id, result) = system_check(&app).await;
    assert!(
        kinds(&result, Severity::Renounceable).is_empty(),
        "{result:?}"
    );
    let form = json!({"system_check_id": id, "agreement_accepted": true, "renounce": [], "risk_acknowledged": false, "reason": "duplicate_account"});
    assert_eq!(
        app.post("/api/closure", &form).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_kept_renounceable_item_blocks_too() {
    let mut app = spawn_app().await;
    app.ready_to_buy("keeps").await;
    let payg = json!({"product": "ecs", "region": "ap-southeast-1", "billing": "payg"});
    app.post_once("/api/orders", "payg", &payg).await;
    verify_identity(&app).await;
    let (id, _) = system_check(&app).await;
    let form = json!({"system_check_id": id, "agreement_accepted": true, "renounce": [], "risk_acknowledged": false, "reason": "too_expensive"});
    let (status, code, _) = refusal(app.post("/api/closure", &form).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, ErrorCode::ClosureBlocked)
    );
    // Renounced by its key, the wire name of its kind, behind the risk checkbox: it goes.
    let form = json!({"system_check_id": id, "agreement_accepted": true, "renounce": ["pay_as_you_go_resources"], "risk_acknowledged": true, "reason": "too_expensive"});
    assert_eq!(
        app.post("/api/closure", &form).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_cool_down_ends_every_session_and_refuses_everything_but_the_remaining_time() {
    let mut app = spawn_app().await;
    let email = app.ready_to_buy("cooling").await;
    let ram = app.post("/api/ram-users", &json!({"username": "ops", "password": "Turbine9Blue", "permissions": ["BillingFullAccess"]})).await;
    assert_eq!(ram.status(), StatusCode::CREATED);
    let me: SessionInfo = app.get_as("/api/session").await;
    let alias = me.account.uid;
    let mut ram_client = app.another_client();
    let ram_login = json!({"account_alias": alias, "username": "ops", "password": "Turbine9Blue"});
    assert_eq!(
        ram_client
            .post("/api/session/ram", &ram_login)
            .await
            .status(),
        StatusCode::OK
    );
    let mut other_device = app.another_client();
    other_device.sign_in_again(&email).await;
    let ids = CoolingAccount::before_closure(&app, &email, ram_login.clone()).await;

    verify_identity(&app).await;
    let response = confirm(&app).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(
        app.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED,
        "this session ended"
    );
    assert_eq!(
        other_device.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED,
        "the other device too"
    );
    assert_eq!(
        ram_client.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED,
        "and the RAM user's"
    );
    ram_client.csrf = None;
    let (status, code, _) = refusal(ram_client.post("/api/session/ram", &ram_login).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::FORBIDDEN, ErrorCode::AccountClosing)
    );

    app.sign_in_again(&email).await;
    let session: SessionInfo = app.get_as("/api/session").await;
    assert!(session.account.closing);
    let status: ClosureStatus = app.get_as("/api/closure").await;
    assert_eq!(status.state, ClosureState::CoolingDown);
    assert_eq!(
        status.service_linked_roles,
        [shared::closure::SERVICE_LINKED_ROLE]
    );
    let remaining = DurationMs::seconds(status.remaining_seconds.unwrap());
    let cool_down = DurationMs::days(7);
    assert!(
        (cool_down - DurationMs::minutes(1)..=cool_down).contains(&remaining),
        "{remaining:?}"
    );

    let before = row_counts(&app).await;
    let addressed_before = addressed_to(&app, &email).await;
    let ids = ids.confirmed(&app).await;
    ids.approve_at_paypal(&app).await;
    ids.try_every_documented_operation(&mut app).await;
    let after = row_counts(&app).await;
    let changed: Vec<&str> = before
        .iter()
        .filter(|(table, rows)| after.get(*table) != Some(rows))
        .map(|(table, _)| table.as_str())
        .collect();
    assert_eq!(
        changed,
        [
            // The sweep's sign-ins, each in the account's operation log.
            "operation_log",
            // The bystander's sign-up code (`POST /api/signup/{id}/code`): the messages and
            // codes of the closing account are counted apart below.
            "outbox",
            // A reset asked for the closing account's email: answered as for an unknown
            // address, with a decoy that names no account and sends nothing.
            "password_resets",
            // The throttles' counts of the sweep's sign-ins and of that code.
            "rate_events",
            // The sweep's sign-ins and sign-out: they see the remaining time and nothing else.
            "sessions",
            // The simulated PayPal's record of its consent page: PayPal's side, not ours.
            "sim_paypal_consents",
            // The bystander's code itself, and the reset's decoy code.
            "verification_codes",
        ],
        "rows changed during the cool-down: before {before:?}, after {after:?}"
    );
    assert_eq!(
        addressed_to(&app, &email).await,
        addressed_before,
        "no message or code for the closing account"
    );
    let account_status: String = sqlx::query_scalar("SELECT status FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(account_status, "closing");

    let inbox = app.inbox(&email).await;
    assert!(inbox.iter().any(|m| m.subject == "Account closure started"));
}

/// The account's messages and verification codes: by its id, its email, or its mobile number.
async fn addressed_to(app: &TestApp, email: &str) -> (i64, i64) {
    let account = app.account_id(email).await;
    let messages = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE account_id = $1 OR recipient = $2 OR recipient = $3",
    )
    .bind(&account)
    .bind(email)
    .bind("+6581234567")
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    // Not a decoy reset's code, which is never sent (`domain::security`).
    let codes = sqlx::query_scalar(
        "SELECT COUNT(*) FROM verification_codes WHERE (subject LIKE $1 OR address = $2 OR address = $3)
         AND subject NOT IN (SELECT 'reset:' || id FROM password_resets WHERE account_id IS NULL)",
    )
    .bind(format!("account:{account}:%"))
    .bind(email)
    .bind("+6581234567")
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    (messages, codes)
}

/// Rows per table, every table the database catalog lists.
async fn row_counts(app: &TestApp) -> std::collections::BTreeMap<String, i64> {
    let catalog = if on_postgres() {
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'"
    };
    let tables: Vec<String> = sqlx::query_scalar(catalog)
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert!(
        tables.len() > 20,
        "the catalog lists the tables: {tables:?}"
    );
    let mut counts = std::collections::BTreeMap::new();
    for table in tables {
        let rows = app.count(&table).await;
        counts.insert(table, rows);
    }
    counts
}

/// What the closing account holds, for the sweep to name in its requests: each route that
/// names an id gets one of the account's own.
struct CoolingAccount {
    email: String,
    ram_login: Value,
    instance: String,
    order: String,
    method: String,
    ram_user: String,
    record: String,
    /// Known once the closure is confirmed ([`CoolingAccount::confirmed`]).
    system_check: String,
    /// A PayPal binding started before the closure, waiting for its approval.
    paypal_token: String,
    /// A sign-up of another email under way.
    signup: String,
}

/// How the cool-down answers an operation (SPEC §6.3).
#[derive(Debug, PartialEq)]
enum DuringCoolDown {
    /// Seeing the remaining time, signing in to see it, and signing out.
    Allowed,
    /// Needs no session: may answer anything, but changes none of the account's rows.
    Public,
    /// 403 `account_closing`.
    Refused,
}

fn during_cool_down(operation: &str) -> DuringCoolDown {
    match operation {
        "GET /api/session" | "DELETE /api/session" | "GET /api/closure" | "POST /api/session" => {
            DuringCoolDown::Allowed
        }
        "GET /api/health"
        | "GET /api/ready"
        | "GET /api/dev/inbox"
        | "POST /api/signup"
        | "GET /api/signup/{id}"
        | "POST /api/signup/{id}/code"
        | "POST /api/signup/{id}/verify"
        // A reset names no session; for a closing account's address it sends nothing and
        // changes nothing (the sweep's later sign-ins use the same password).
        | "POST /api/password-reset"
        | "POST /api/password-reset/{id}/code"
        | "POST /api/password-reset/{id}"
        // Without a sign-in waiting for its code (the closing account has none), refused.
        | "POST /api/session/two-step"
        // Providers' signed reports, no session's requests (and refused on this server, which
        // has neither): a refund Stripe returns during the cool-down is credited all the same.
        | "POST /api/webhooks/stripe"
        | "POST /api/webhooks/twilio" => DuringCoolDown::Public,
        // Everything else, a RAM user's sign-in (`POST /api/session/ram`) and a new route too.
        _ => DuringCoolDown::Refused,
    }
}

/// Dev-mode operations the sweep does not send: they act on the whole server, not on an
/// account, and running them would end the cool-down the sweep is testing.
const NOT_SENT: &[&str] = &[
    // Moving the clock ends the cool-down (and the session) before the sweep is done.
    "POST /api/dev/clock",
    // Runs the scheduler's due jobs: its work, not a request of the account's, and the
    // closure decision must run when it is due, not when a request asks.
    "POST /api/dev/run-jobs",
];

impl CoolingAccount {
    /// Gives the account an unsubscribed instance (with its order and record), a card and a
    /// RAM user, starts a PayPal binding, and a sign-up of another email.
    async fn before_closure(app: &TestApp, email: &str, ram_login: Value) -> CoolingAccount {
        let instance = app.buy("ecs", 1, "default_method").await;
        let order: String = sqlx::query_scalar("SELECT id FROM orders WHERE instance_id = $1")
            .bind(&instance)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        let form = json!({"instance_ids": [instance], "confirm_refund_amount": true, "confirm_data_backed_up": true});
        let unsubscribed: Unsubscribed =
            body_as(app.post_once("/api/unsubscribe", "u", &form).await).await;
        let record = unsubscribed.records[0].id.clone();
        let methods: PaymentMethodsView = app.get_as("/api/payment-methods").await;
        let method = methods.methods[0].id.clone();
        let users: Vec<RamUserView> = app.get_as("/api/ram-users").await;
        let ram_user = users[0].id.clone();
        let started: PaypalStarted =
            body_as(app.post("/api/payment-methods/paypal", &json!({})).await).await;
        let paypal_token = started.token;
        let signup = app.start_signup(&common::email("bystander")).await;
        CoolingAccount {
            email: email.to_owned(),
            ram_login,
            instance,
            order,
            method,
            ram_user,
            record,
            system_check: String::new(),
            paypal_token,
            signup,
        }
    }

    /// The same, with the system check the closure was confirmed with.
    async fn confirmed(self, app: &TestApp) -> CoolingAccount {
        let system_check = sqlx::query_scalar("SELECT id FROM closure_checks")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        CoolingAccount {
            system_check,
            ..self
        }
    }

    /// The simulated PayPal's pages are public: the owner approves the binding there during
    /// the cool-down, and completing it is then refused like every other change.
    async fn approve_at_paypal(&self, app: &TestApp) {
        let page = app
            .get(&format!("/sim/paypal/checkout?token={}", self.paypal_token))
            .await;
        assert_eq!(page.status(), StatusCode::OK);
        let no_redirect = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let consent = no_redirect
            .post(app.url("/sim/paypal/checkout"))
            .form(&[
                ("token", self.paypal_token.as_str()),
                ("email", "buyer@example.com"),
                ("password", "secret"),
                ("country", "US"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            consent.status(),
            StatusCode::SEE_OTHER,
            "back to Account Center"
        );
    }

    /// `path` with its `{id}` filled with the account's own id of that kind.
    fn path_with_ids(&self, path: &str) -> String {
        let Some((before, after)) = path.split_once("/{id}") else {
            return path.to_owned();
        };
        let id = match before {
            "/api/instances" => &self.instance,
            "/api/payment-methods" => &self.method,
            "/api/ram-users" => &self.ram_user,
            "/api/unsubscribe/records" => &self.record,
            "/api/closure/system-check" => &self.system_check,
            "/api/signup" => &self.signup,
            // The account has none of these (each would block the closure): refused before
            // any id is looked up.
            "/api/bills" | "/api/icp-filings" | "/api/relationships" | "/api/sessions" => {
                "none-of-the-account"
            }
            "/api/password-reset" => "no-such-reset",
            other => panic!("{path}: name an id of the closing account for {other}"),
        };
        format!("{before}/{id}{after}")
    }

    /// A valid body for each operation that takes JSON. A new one fails the sweep until it is
    /// given here, so it cannot go untried.
    fn valid_body(&self, operation: &str) -> Value {
        match operation {
            "POST /api/account/contact/code" => json!({"channel": "phone", "phone": "81234568"}),
            "POST /api/account/contact/verify"
            | "POST /api/closure/identity/verify"
            | "POST /api/signup/{id}/verify" => json!({"code": "123456"}),
            "PUT /api/billing-address" => address_in("SG"),
            "PUT /api/account/password" => json!({
                "current_password": PASSWORD, "password": "Turbine9Blue",
                "password_confirmation": "Turbine9Blue",
            }),
            "POST /api/password-reset" => json!({"email": self.email}),
            "POST /api/account/two-step/enable"
            | "POST /api/closure/identity/authenticator"
            | "POST /api/session/two-step" => json!({"code": "123456"}),
            "POST /api/account/two-step/disable" => json!({"password": PASSWORD, "code": "123456"}),
            "POST /api/password-reset/{id}" => json!({
                "code": "123456", "password": "Turbine9Blue", "password_confirmation": "Turbine9Blue",
            }),
            "POST /api/closure" => json!({
                "system_check_id": self.system_check, "agreement_accepted": true, "renounce": [],
                "risk_acknowledged": true, "reason": "no_longer_needed",
            }),
            "POST /api/closure/renounce" => {
                json!({"renounce": ["cash_balance"], "risk_acknowledged": true})
            }
            "POST /api/dev/seed-demo" => json!({"extra": 1, "blockers": true}),
            "POST /api/instances/{id}/auto-renew" => json!({"enabled": true}),
            "POST /api/instances/{id}/renew" => {
                json!({"period_months": 1, "pay_with": "default_method"})
            }
            "POST /api/orders" => json!({
                "product": "ecs", "region": "ap-southeast-1", "billing": "subscription",
                "period_months": 1, "pay_with": "default_method",
            }),
            "POST /api/payment-methods/cards" => card_form(&unique_visa(), "123"),
            "POST /api/payment-methods/card-tokens" => json!({
                "token": "pm_card_visa", "first_name": "Mei", "last_name": "Tan",
                "billing_address": address_in("SG"),
            }),
            "POST /api/payment-methods/paypal/complete" => json!({"token": self.paypal_token}),
            "POST /api/payment-methods/paytm" => json!({"phone": "91234 56789", "code": "123456"}),
            "POST /api/payment-methods/paytm/code" => json!({"phone": "91234 56789"}),
            "POST /api/ram-users" => json!({
                "username": "auditor", "password": "Turbine9Blue",
                "permissions": ["BillingReadOnlyAccess"],
            }),
            "POST /api/real-name" => json!({
                "kind": "individual", "name": "Wang Fang", "id_number": "11010519491231002X",
            }),
            "POST /api/session" => json!({"email": self.email, "password": PASSWORD}),
            "POST /api/session/ram" => self.ram_login.clone(),
            "POST /api/session/reauth" => json!({"password": PASSWORD}),
            "POST /api/signup" => signup_form(&self.email),
            "POST /api/signup/{id}/code" => json!({"channel": "email"}),
            "POST /api/unsubscribe" => json!({
                "instance_ids": [self.instance], "confirm_refund_amount": true,
                "confirm_data_backed_up": true,
            }),
            "POST /api/withdrawals" => json!({"amount": "1.00", "payment_method_id": self.method}),
            "POST /api/webhooks/twilio" => json!({"MessageSid": "SM0", "MessageStatus": "failed"}),
            "POST /api/webhooks/stripe" => json!({
                "id": "evt_sweep", "object": "event", "type": "customer.created",
                "data": {"object": {"id": "cus_sweep"}},
            }),
            "POST /api/unsubscribe/renewals" => json!({
                "instance_id": self.instance, "order_id": self.order, "confirm_refund_amount": true,
            }),
            "POST /api/unsubscribe/renewals/batch" => json!({
                "renewals": [{"instance_id": self.instance, "order_id": self.order}],
                "confirm_refund_amount": true,
            }),
            other => panic!("{other} takes JSON: give the cool-down sweep a valid body for it"),
        }
    }

    /// Sends every operation of the served OpenAPI document with the signed-in session of the
    /// closing account (its CSRF token and an idempotency key on each), and checks each
    /// answer against [`during_cool_down`].
    async fn try_every_documented_operation(&self, app: &mut TestApp) {
        let doc: Value = app.get_as("/api/openapi.json").await;
        let mut tried = 0;
        let mut not_sent = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, spec) in item.as_object().unwrap() {
                let operation = format!("{} {path}", method.to_uppercase());
                if NOT_SENT.contains(&operation.as_str()) {
                    not_sent.push(operation);
                    continue;
                }
                let mut request = app
                    .client
                    .request(
                        reqwest::Method::from_bytes(
                            operation.split(' ').next().unwrap().as_bytes(),
                        )
                        .unwrap(),
                        app.url(&self.path_with_ids(path)),
                    )
                    .header("x-csrf-token", app.csrf.clone().unwrap())
                    .header("idempotency-key", uuid::Uuid::new_v4().to_string());
                if spec.get("requestBody").is_some() {
                    request = request.json(&self.valid_body(&operation));
                }
                let response = request.send().await.unwrap();
                match during_cool_down(&operation) {
                    DuringCoolDown::Refused => {
                        let status = response.status();
                        let text = response.text().await.unwrap();
                        let code = serde_json::from_str::<shared::ErrorBody>(&text).map(|b| b.code);
                        assert_eq!(
                            (status, code.ok()),
                            (StatusCode::FORBIDDEN, Some(ErrorCode::AccountClosing)),
                            "{operation}: {text}"
                        );
                    }
                    DuringCoolDown::Allowed => {
                        let status = response.status();
                        assert!(
                            status.is_success(),
                            "{operation}: {status} {}",
                            response.text().await.unwrap()
                        );
                        // Signing in or out changed the session: a new one for what follows.
                        app.sign_in_again(&self.email).await;
                    }
                    DuringCoolDown::Public => {}
                }
                tried += 1;
            }
        }
        not_sent.sort();
        assert_eq!(
            not_sent, NOT_SENT,
            "every operation left out is still documented"
        );
        assert!(tried > 50, "the document's operations were tried: {tried}");
    }
}

#[tokio::test]
async fn when_the_cool_down_ends_cleanly_every_row_goes_and_the_email_and_card_are_free() {
    let mut app = spawn_app().await;
    let email = app.signed_up("goodbye").await;
    app.with_billing_address("81234567").await;
    let card = unique_visa();
    app.post_once("/api/payment-methods/cards", "k", &card_form(&card, "123"))
        .await;
    let id = app.buy("ecs", 1, "default_method").await;
    let form = json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true});
    app.post_once("/api/unsubscribe", "u", &form).await;
    app.post(
        "/api/ram-users",
        &json!({"username": "ops", "password": "Turbine9Blue"}),
    )
    .await;
    verify_identity(&app).await;
    assert_eq!(confirm(&app).await.status(), StatusCode::OK);
    let account: String = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();

    app.advance(DurationMs::days(7) - DurationMs::minutes(2));
    app.run_jobs().await;
    assert_eq!(
        app.count("accounts").await,
        1,
        "not before the cool-down ends"
    );
    app.advance(DurationMs::minutes(2));
    app.run_jobs().await;
    assert_eq!(app.run_jobs().await, 0, "decided once");

    for table in [
        "accounts",
        "sessions",
        "billing_addresses",
        "payment_methods",
        "ledger_entries",
        "instances",
        "orders",
        "unsubscriptions",
        "refunds",
        "bills",
        "ram_users",
        "closures",
        "closure_checks",
        "service_linked_roles",
        "idempotency_keys",
        "signups",
    ] {
        let column = if table == "accounts" {
            "id"
        } else {
            "account_id"
        };
        let left: i64 = if table == "signups" {
            sqlx::query_scalar("SELECT COUNT(*) FROM signups WHERE email = $1")
                .bind(&email)
                .fetch_one(&app.state.db)
                .await
                .unwrap()
        } else {
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
                .bind(&account)
                .fetch_one(&app.state.db)
                .await
                .unwrap()
        };
        assert_eq!(left, 0, "{table} still holds the account");
    }
    let codes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM verification_codes WHERE subject LIKE $1 OR address = $2",
    )
    .bind(format!("account:{account}:%"))
    .bind(&email)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(codes, 0);
    let notices: Vec<(String, String)> = sqlx::query_as(
        "SELECT channel, recipient FROM outbox WHERE subject = 'Account closed' ORDER BY channel",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        notices,
        vec![
            ("email".to_owned(), email.clone()),
            ("sms".to_owned(), "+6581234567".to_owned())
        ]
    );

    // The email and the card are free for a new account.
    let mut again = app.another_client();
    let response = again.post("/api/signup", &signup_form(&email)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    again.signed_up("second-life").await;
    again.with_billing_address("81234567").await;
    let added: MethodAdded = body_as(
        again
            .post_once("/api/payment-methods/cards", "k2", &card_form(&card, "123"))
            .await,
    )
    .await;
    assert_eq!(added.method.kind, shared::api::PaymentMethodKind::Card);
    assert!(
        added.free_credit_granted.is_none(),
        "the card earned its credit once already"
    );
}

/// SPEC §6.4: after a closure no row anywhere names the account, its email or its phone (the
/// free credit's identity hashes aside, which hold none of them). The account has as much as
/// the flows give it: a sign-up code to a phone it never kept and one by email, a verified
/// phone, a card, PayPal, a subscription unsubscribed and its refund paid, a RAM user, failed
/// sign-ins of the owner and of the RAM user, the closure's identity code. Right after the
/// decision only its own job (done, by the closure's id) and its notices to the freed email
/// and phone are left; a day on, housekeeping has swept them too. The database is searched through its catalog.
/// Rows that are easy to forget: the phone's sign-up code and its message, the RAM user's
/// throttle keys, the account's finished jobs, every sent message.
#[tokio::test]
async fn after_a_closure_no_row_anywhere_names_the_account_its_email_or_its_phone() {
    let mut app = spawn_app().await;
    let email = email("nameless");
    let signup = app.start_signup(&email).await;
    let code = format!("/api/signup/{signup}/code");
    let by_phone = json!({"channel": "phone", "phone": "91234567", "delivery": "sms"});
    assert_eq!(app.post(&code, &by_phone).await.status(), StatusCode::OK);
    app.advance(DurationMs::seconds(61));
    let by_email = json!({"channel": "email"});
    assert_eq!(app.post(&code, &by_email).await.status(), StatusCode::OK);
    let verified = app
        .post(
            &format!("/api/signup/{signup}/verify"),
            &json!({"code": app.code_for(&email).await}),
        )
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    let session: SessionInfo = body_as(verified).await;
    app.csrf = Some(session.csrf_token);
    app.with_billing_address("81234567").await;
    let card = app
        .post_once(
            "/api/payment-methods/cards",
            "card",
            &card_form(&unique_visa(), "123"),
        )
        .await;
    assert_eq!(card.status(), StatusCode::CREATED);
    let paypal: PaypalStarted =
        body_as(app.post("/api/payment-methods/paypal", &json!({})).await).await;
    let token = paypal.token.as_str();
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/sim/paypal/checkout"))
        .form(&[
            ("token", token),
            ("email", "payer@example.com"),
            ("password", "secret"),
            ("country", "SG"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), StatusCode::SEE_OTHER);
    let completed = app
        .post(
            "/api/payment-methods/paypal/complete",
            &json!({"token": token}),
        )
        .await;
    assert_eq!(completed.status(), StatusCode::CREATED);
    let instance = app.buy("ecs", 1, "default_method").await;
    let unsubscribe = json!({"instance_ids": [instance], "confirm_refund_amount": true, "confirm_data_backed_up": true});
    assert_eq!(
        app.post_once("/api/unsubscribe", "u", &unsubscribe)
            .await
            .status(),
        StatusCode::OK
    );
    app.advance(DurationMs::days(3) + DurationMs::minutes(1));
    app.run_jobs().await;
    let processing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM refunds WHERE status = 'processing'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(processing, 0, "the refund is paid");

    app.sign_in_again(&email).await;
    // A withdrawal of cash, paid out: its row, intent, ledger lines and job go too.
    let account: String = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO ledger_entries (id, account_id, kind, bucket, amount_minor, currency, memo, created_at) VALUES ($1, $2, 'top_up', 'cash', 2500, 'USD', 'test', 0)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&account)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let withdrawals: WithdrawalsView = app.get_as("/api/withdrawals").await;
    let withdrawn = app
        .post_once(
            "/api/withdrawals",
            "w",
            &json!({"amount": "25", "payment_method_id": withdrawals.destinations[0].payment_method_id}),
        )
        .await;
    assert_eq!(withdrawn.status(), StatusCode::CREATED);
    app.run_jobs().await;
    assert_eq!(app.count("withdrawals").await, 1);
    let ram = json!({"username": "ops", "password": "Turbine9Blue"});
    assert_eq!(
        app.post("/api/ram-users", &ram).await.status(),
        StatusCode::CREATED
    );
    let me: SessionInfo = app.get_as("/api/session").await;
    let alias = me.account.uid.as_str();
    let stranger = app.another_client();
    let wrong_ram =
        json!({"account_alias": alias, "username": "ops", "password": "Wrong7Password"});
    let wrong_owner = json!({"email": email, "password": "Wrong7Password"});
    for (path, form) in [
        ("/api/session/ram", wrong_ram),
        ("/api/session", wrong_owner),
    ] {
        assert_eq!(
            stranger.post(path, &form).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Password resets by email and by phone, never finished: their rows and codes go too.
    for form in [
        json!({"email": email}),
        json!({"channel": "phone", "country": "SG", "phone": "81234567"}),
    ] {
        let reset = stranger.post("/api/password-reset", &form).await;
        assert_eq!(reset.status(), StatusCode::OK);
    }
    assert_eq!(app.count("password_resets").await, 2);
    verify_identity(&app).await;
    assert_eq!(confirm(&app).await.status(), StatusCode::OK);
    let names = catalog::names_of(&app.state.db, &account, &["+6581234567", "+6591234567"]).await;
    assert!(
        catalog::rows_naming(&app.state.db, &names).await.len() > 40,
        "the search finds the account while it lives"
    );

    app.advance(DurationMs::days(7));
    app.run_jobs().await;
    assert_eq!(app.count("accounts").await, 0, "the closure succeeded");
    let decision: String =
        sqlx::query_scalar("SELECT subject FROM jobs WHERE kind = 'closure_decide'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let text = |s: &str| s.to_owned();
    assert_eq!(
        catalog::rows_naming(&app.state.db, &names).await,
        [
            (text("jobs"), text("subject"), decision),
            (text("outbox"), text("recipient"), text("+6581234567")),
            (text("outbox"), text("recipient"), email.clone()),
        ],
        "only the decision's finished job and its notices to the freed email and phone"
    );

    // A day on, housekeeping has swept those too.
    app.advance(DurationMs::days(1) + DurationMs::hours(1));
    server::domain::housekeeping::ensure_scheduled(&app.state)
        .await
        .unwrap();
    app.run_jobs().await;
    assert_eq!(catalog::rows_naming(&app.state.db, &names).await, vec![]);
}

#[tokio::test]
async fn delayed_usage_that_cannot_be_paid_makes_the_closure_fail_and_restores_the_account() {
    let mut app = spawn_app().await;
    let email = app.signed_up("fails").await;
    app.with_billing_address("81234567").await;
    app.post_once(
        "/api/payment-methods/cards",
        "k",
        &card_form("4000000000000341", "123"),
    )
    .await;
    let payg = json!({"product": "ecs", "region": "ap-southeast-1", "billing": "payg"});
    assert_eq!(
        app.post_once("/api/orders", "payg", &payg).await.status(),
        StatusCode::CREATED
    );
    app.advance(DurationMs::minutes(20));
    verify_identity(&app).await;
    assert_eq!(
        confirm(&app).await.status(),
        StatusCode::OK,
        "the instance is renounced, hence released"
    );

    // Its last 20 minutes reach billing hours later; the card declines the charge.
    app.advance(DurationMs::hours(3));
    app.run_jobs().await;
    let unpaid: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bills WHERE status = 'unpaid'")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(unpaid, 1);
    app.advance(DurationMs::days(7));
    app.run_jobs().await;

    app.sign_in_again(&email).await;
    let status: ClosureStatus = app.get_as("/api/closure").await;
    assert_eq!(status.state, ClosureState::Open);
    assert!(status.service_linked_roles.is_empty());
    assert_eq!(
        status.last_failure.map(|f| f.overdue),
        Some(vec![usd("0.02")]),
        "the new overdue payment made it fail"
    );
    let session: SessionInfo = app.get_as("/api/session").await;
    assert!(!session.account.closing);
    assert_eq!(
        app.get("/api/payment-methods").await.status(),
        StatusCode::OK,
        "the account works again"
    );
    let check = check(&app).await;
    assert_eq!(
        kinds(&check, Severity::Renounceable),
        [BlockingKind::OverduePayments],
        "0.02 USD overdue: small enough to renounce next time"
    );
    let notices: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE subject = 'Account closure failed'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(notices, 2, "email and SMS");
}

/// An install upgraded from a version that kept a failed closure's reason as an English
/// sentence still tells the owner that it failed: the sentence becomes the facts, without
/// the figures it held only in words.
#[tokio::test]
async fn a_closure_that_failed_before_the_upgrade_keeps_its_failure_as_facts() {
    let data = tempfile::tempdir().unwrap();
    let db = database_before(data.path(), "_closure_failure_facts.sql").await;
    insert_old_account(&db, "acc-old").await;
    for (id, status, failure) in [
        (
            "cl-failed",
            "failed",
            Some(
                "The closure failed: new overdue payments of USD 0.02 appeared during the cool-down (delayed usage billing).",
            ),
        ),
        ("cl-cooling", "cooling_down", None),
    ] {
        sqlx::query(
            "INSERT INTO closures (id, account_id, status, reason, renounced, started_at, ends_at, decided_at, failure)
             VALUES ($1, 'acc-old', $2, 'other', '', 0, 1, 1, $3)",
        )
        .bind(id)
        .bind(status)
        .bind(failure)
        .execute(db.writer())
        .await
        .unwrap();
    }

    server::db::migrate(&db).await.unwrap();
    let failures: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, failure FROM closures ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    let failures: Vec<(String, Option<ClosureFailure>)> = failures
        .into_iter()
        .map(|(id, f)| (id, f.map(|f| serde_json::from_str(&f).unwrap())))
        .collect();
    assert_eq!(
        failures,
        [
            ("cl-cooling".to_owned(), None),
            (
                "cl-failed".to_owned(),
                Some(ClosureFailure { overdue: vec![] })
            ),
        ]
    );
}

/// Found by the chaos test (`chaos.rs`): a usage bill whose charge met a gateway that could not
/// be reached stayed unpaid for good, an overdue payment that was not the customer's, and a
/// closing account's closure failed for it. The bill's own job charges it again once the
/// gateway is back, and the decision waits for that charge. Fails on the code before
/// `ChargeBill`: the bill stays unpaid and the closure fails.
#[tokio::test]
async fn usage_billed_while_the_gateway_is_down_is_charged_when_it_is_back_and_the_closure_succeeds()
 {
    let mut app = spawn_app().await;
    app.ready_to_buy("outage").await;
    let payg = json!({"product": "ecs", "region": "ap-southeast-1", "billing": "payg"});
    assert_eq!(
        app.post_once("/api/orders", "payg", &payg).await.status(),
        StatusCode::CREATED
    );
    app.advance(DurationMs::minutes(20));
    verify_identity(&app).await;
    assert_eq!(confirm(&app).await.status(), StatusCode::OK);
    let account: String = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();

    // The last 20 minutes reach billing while the gateway's charges are down.
    let (down, outage) = Outage::of(&app.state, Down::Charges);
    app.advance(DurationMs::hours(3));
    server::jobs::run_due(&down).await.unwrap();
    let bills = || async {
        sqlx::query_scalar::<_, String>("SELECT status FROM bills")
            .fetch_all(&app.state.db)
            .await
            .unwrap()
    };
    assert_eq!(bills().await, ["unpaid"]);
    // The cool-down ends with the gateway still down: the decision waits for the charge.
    app.advance(DurationMs::days(7));
    server::jobs::run_due(&down).await.unwrap();
    assert_eq!(bills().await, ["unpaid"]);
    let status: String = sqlx::query_scalar("SELECT status FROM accounts WHERE id = $1")
        .bind(&account)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        status, "closing",
        "not decided while its bill's charge is pending"
    );

    outage.end();
    app.advance(DurationMs::hours(1));
    server::jobs::run_due(&down).await.unwrap();
    app.advance(DurationMs::hours(1));
    server::jobs::run_due(&down).await.unwrap();
    assert_eq!(
        app.count("accounts").await,
        0,
        "the bill was paid, the closure succeeded"
    );
}

#[tokio::test]
async fn only_the_owner_reaches_closure() {
    let mut app = spawn_app().await;
    app.ready_to_buy("owner").await;
    app.post("/api/ram-users", &json!({"username": "admin", "password": "Turbine9Blue", "permissions": ["BillingFullAccess"]})).await;
    let me: SessionInfo = app.get_as("/api/session").await;
    let mut ram = app.another_client();
    let login: SessionInfo = body_as(
        ram.post("/api/session/ram", &json!({"account_alias": me.account.uid, "username": "admin", "password": "Turbine9Blue"}))
            .await,
    )
    .await;
    ram.csrf = Some(login.csrf_token);
    for response in [
        ram.get("/api/closure").await,
        ram.get("/api/closure/check").await,
        ram.post("/api/closure/identity/code", &json!({})).await,
        ram.post("/api/closure/system-check", &json!({})).await,
        ram.post("/api/closure", &json!({"agreement_accepted": true}))
            .await,
        ram.get("/api/closure/export").await,
    ] {
        let path = response.url().path().to_owned();
        assert_eq!(refusal(response).await.1, ErrorCode::OwnerOnly, "{path}");
    }
}

/// A purchase whose charge is at the gateway when Confirm Deletion lands is refused by the
/// account's write gate (`account::begin_write`) and its charge returned: otherwise it would
/// answer 201 after the confirmation, and the closing account keep a running, paid
/// subscription that the closure later deletes without a refund.
#[tokio::test]
async fn a_purchase_that_reaches_its_write_after_confirm_deletion_is_refused_and_its_charge_returned()
 {
    // Each gateway call takes 1.5 s: the confirmation lands while the charge is in flight.
    let mut app = spawn_app_with(&["--simulator-latency-ms", "1500"]).await;
    app.ready_to_buy("late-buy").await;
    verify_identity(&app).await;
    let (check_id, _) = system_check(&app).await;
    let buy = json!({"product": "ecs", "region": "ap-southeast-1", "billing": "subscription", "period_months": 1, "pay_with": "default_method"});
    let close = json!({"system_check_id": check_id, "agreement_accepted": true, "renounce": [], "risk_acknowledged": true, "reason": "no_longer_needed"});
    let buying = app.post_once("/api/orders", "late-order", &buy);
    let closing = async {
        // The charge is recorded before the gateway is called: once its row is there, the
        // purchase is waiting on the gateway.
        let charges = "SELECT COUNT(*) FROM gateway_intents WHERE operation = 'charge'";
        while sqlx::query_scalar::<_, i64>(charges)
            .fetch_one(&app.state.db)
            .await
            .unwrap()
            == 0
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        app.post("/api/closure", &close).await
    };
    let (bought, closed) = tokio::join!(buying, closing);
    assert_eq!(closed.status(), StatusCode::OK);
    assert_eq!(
        refusal(bought).await,
        (StatusCode::FORBIDDEN, ErrorCode::AccountClosing, None)
    );
    let running: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM instances WHERE status = 'running'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(running, 0, "nothing was bought after the confirmation");
    assert_eq!(app.count("orders").await, 0);
    let status: String =
        sqlx::query_scalar("SELECT status FROM gateway_intents WHERE operation = 'charge'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(status, "reversed", "the charge was returned");
    let ledger: Vec<(String, i64)> = sqlx::query_as(
        "SELECT kind, amount_minor FROM ledger_entries WHERE bucket = 'gateway' ORDER BY amount_minor",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    assert_eq!(ledger[0].0, "charge");
    assert_eq!(ledger[1].0, "charge_reversed");
    assert_eq!(
        ledger[0].1, -ledger[1].1,
        "the ledger shows the charge and its return"
    );
    let at_gateway: Vec<String> =
        sqlx::query_scalar("SELECT operation FROM sim_gateway_calls WHERE operation IN ('charge', 'refund') AND outcome = 'ok' ORDER BY operation")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        at_gateway,
        ["charge", "refund"],
        "the gateway charged once and refunded it"
    );
}

/// The decision waits for money in flight: an account deleted at the end of its cool-down
/// with a card refund still processing would take the refund with it, never paid.
#[tokio::test]
async fn the_closure_decision_waits_for_a_refund_still_processing() {
    let mut app = spawn_app_with(&["--cool-down-days", "1"]).await;
    app.ready_to_buy("refund-wait").await;
    let id = app.buy("ecs", 1, "default_method").await;
    let unsubscribed = app
        .post_once(
            "/api/unsubscribe",
            "refund-wait",
            &json!({"instance_ids": [id], "confirm_refund_amount": true, "confirm_data_backed_up": true}),
        )
        .await;
    assert_eq!(unsubscribed.status(), StatusCode::OK);
    verify_identity(&app).await;
    assert_eq!(confirm(&app).await.status(), StatusCode::OK);

    // The cool-down ends; the card refund takes three days.
    app.advance(DurationMs::days(1) + DurationMs::minutes(1));
    app.run_jobs().await;
    assert_eq!(
        app.count("accounts").await,
        1,
        "not deleted with money on its way"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM refunds")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "processing");

    app.advance(DurationMs::days(3));
    app.run_jobs().await;
    // The refund is paid; the decision looks again within the hour and closes the account.
    app.advance(DurationMs::hours(1));
    app.run_jobs().await;
    assert_eq!(app.count("accounts").await, 0);
    let refunded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sim_gateway_calls WHERE operation = 'refund' AND outcome = 'ok'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        refunded, 1,
        "the refund reached the card before the account went"
    );
}

/// A withdrawal still Processing when the cool-down ends holds the decision, as a refund does
/// (SPEC §6.4, §6.5): the payout is made before the account goes. Fails on the code before
/// withdrawals existed (there was no way to withdraw the balance).
#[tokio::test]
async fn the_closure_decision_waits_for_a_withdrawal_still_processing() {
    let mut app = spawn_app_with(&["--cool-down-days", "1"]).await;
    app.ready_to_buy("withdraw-wait").await;
    let account: String = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO ledger_entries (id, account_id, kind, bucket, amount_minor, currency, memo, created_at) VALUES ($1, $2, 'top_up', 'cash', 14100, 'USD', 'test', 0)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&account)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    // Over 1,000 CNY: the check sends the owner to withdraw it.
    let before = check(&app).await;
    assert_eq!(
        kinds(&before, Severity::MustProcess),
        [BlockingKind::CashBalance]
    );
    let balance = item_of(&before, BlockingKind::CashBalance).unwrap();
    assert_eq!(balance.resolve_path, "/billing/withdraw", "{balance:?}");
    // The gateway's payouts are down from now until the cool-down has ended.
    let (state, outage) = common::outage::Outage::of(&app.state, common::outage::Down::Payouts);
    app.state = state;
    let page: WithdrawalsView = app.get_as("/api/withdrawals").await;
    let method = &page.destinations[0].payment_method_id;
    let made = app
        .post_once(
            "/api/withdrawals",
            "all",
            &json!({"amount": "141.00", "payment_method_id": method}),
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    assert_eq!(kinds(&check(&app).await, Severity::MustProcess), []);
    verify_identity(&app).await;
    assert_eq!(confirm(&app).await.status(), StatusCode::OK);

    app.advance(DurationMs::days(1) + DurationMs::minutes(1));
    app.run_jobs().await;
    assert_eq!(
        app.count("accounts").await,
        1,
        "not deleted with money on its way"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM withdrawals")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "processing");

    outage.end();
    app.advance(DurationMs::hours(1));
    app.run_jobs().await;
    assert_eq!(
        app.count("accounts").await,
        1,
        "the decision ran first: an hour more"
    );
    // Paid; the decision looks again within the hour and closes the account.
    app.advance(DurationMs::hours(1));
    app.run_jobs().await;
    assert_eq!(app.count("accounts").await, 0);
    assert_eq!(app.count("withdrawals").await, 0, "gone with the account");
    let paid: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sim_gateway_calls WHERE operation = 'payout' AND outcome = 'ok'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        paid, 1,
        "the payout reached the card before the account went"
    );
}
