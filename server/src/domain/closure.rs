//! Closing an account (SPEC §6, seed 001): the closure check, the owner's identity, the
//! system check, renouncing small items, the irreversible cool-down, and what resolves each
//! blocking item.

use crate::auth::CurrentSession;
use crate::clock::rfc3339;
use crate::db::{self, Flag, HeldTx, Tx};
use crate::domain::account::{self, Writer};
use crate::domain::ledger::{self, Bucket, Entry};
use crate::domain::verification::{self, Destination};
use crate::error::ApiError;
use crate::jobs::{self, closure as closure_jobs};
use crate::notify::{self, Medium, Outgoing};
use crate::oplog::{self, Action};
use crate::state::AppState;
use shared::account::{Channel, Delivery, Phone, VerificationCode};
use shared::api::{
    AccountTies, BillView, ClosureState, ClosureStatus, CodeSent, ConfirmClosureForm,
    IcpFilingView, RelationshipView, RenounceForm, SystemCheckView,
};
use shared::closure::{
    BALANCE_LIMIT_CNY, BlockingKind, CheckItem, ClosureCheck, OVERDUE_LIMIT_CNY, RelationshipKind,
    SERVICE_LINKED_ROLE, Severity, classify,
};
use shared::money::{Currency, Money};

/// The identity step stays valid this long within a session.
const IDENTITY_VALID_MS: i64 = 30 * 60_000;
/// A system check older than this must be run again before confirming.
const SYSTEM_CHECK_VALID_MS: i64 = 30 * 60_000;

fn item(
    kind: BlockingKind,
    severity: Severity,
    title: String,
    guidance: &str,
    resolve_path: &str,
    subjects: Vec<String>,
) -> CheckItem {
    CheckItem {
        // The kind's wire name, as `renounce` lists it.
        key: serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        kind,
        severity,
        title,
        guidance: guidance.to_owned(),
        resolve_path: resolve_path.to_owned(),
        count: subjects.len() as u32,
        amount: None,
        amount_cny: None,
        subjects,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Everything that blocks closing the account right now.
pub async fn check(state: &AppState, account_id: &str) -> Result<ClosureCheck, ApiError> {
    let mut conn = state.db.acquire().await?;
    check_on(&mut conn, state, account_id).await
}

/// [`check`] on `conn`: inside [`confirm`]'s transaction, so nothing it found can change
/// before the closure is written.
async fn check_on(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    account_id: &str,
) -> Result<ClosureCheck, ApiError> {
    let now = state.clock.now_ms();
    let mut items = Vec::new();

    let overdue: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT id, amount_minor, currency FROM bills WHERE account_id = $1 AND status = 'unpaid' AND waived_at IS NULL AND due_at <= $2",
    )
    .bind(account_id)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    if !overdue.is_empty() {
        let total_minor: i64 = overdue.iter().map(|b| b.1).sum();
        let currency = Currency::parse(&overdue[0].2).unwrap_or(Currency::USD);
        let total = Money::from_minor(total_minor, currency);
        let cny = state.rates.to_cny(total)?;
        if let Some(severity) = classify(cny.amount, OVERDUE_LIMIT_CNY) {
            let guidance = match severity {
                Severity::MustProcess => "Pay the overdue bills: they are over 10 CNY.",
                Severity::Renounceable => {
                    "Pay them, or renounce them: overdue payments of 10 CNY or less are cancelled with the account."
                }
            };
            let mut it = item(
                BlockingKind::OverduePayments,
                severity,
                format!("Overdue payments: {total}"),
                guidance,
                "/closure/resolve#bills",
                overdue.iter().map(|b| b.0.clone()).collect(),
            );
            it.amount = Some(total);
            it.amount_cny = Some(cny);
            items.push(it);
        }
    }

    let cash = ledger::balance(&mut *conn, account_id, Bucket::Cash).await?;
    let cash_cny = state.rates.to_cny(cash)?;
    if let Some(severity) = classify(cash_cny.amount, BALANCE_LIMIT_CNY) {
        let guidance = match severity {
            Severity::MustProcess => {
                "The balance is over 1,000 CNY and is lost with the account: withdraw it to a card or PayPal, or spend it on resources, before closing."
            }
            Severity::Renounceable => {
                "A balance of 1,000 CNY or less can be renounced: it is lost with the account."
            }
        };
        let mut it = item(
            BlockingKind::CashBalance,
            severity,
            format!("Account balance: {cash}"),
            guidance,
            // Withdraw the balance or spend it (SPEC §6.5).
            "/billing/withdraw",
            vec![],
        );
        it.count = 1;
        it.amount = Some(cash);
        it.amount_cny = Some(cash_cny);
        items.push(it);
    }

    let running: Vec<(String, String, String, Flag)> = sqlx::query_as(
        "SELECT id, product, billing, auto_renew FROM instances WHERE account_id = $1 AND status = 'running' ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    let domains: Vec<String> = running
        .iter()
        .filter(|r| r.1 == "domain" && r.2 == "subscription")
        .map(|r| r.0.clone())
        .collect();
    if !domains.is_empty() {
        items.push(item(
            BlockingKind::UnexpiredDomains,
            Severity::MustProcess,
            plural(
                domains.len(),
                "unexpired domain name",
                "unexpired domain names",
            ),
            "Transfer each domain name to another account or provider.",
            "/closure/resolve#domains",
            domains,
        ));
    }
    let subscriptions: Vec<String> = running
        .iter()
        .filter(|r| r.1 != "domain" && r.2 == "subscription")
        .map(|r| r.0.clone())
        .collect();
    if !subscriptions.is_empty() {
        items.push(item(
            BlockingKind::RunningSubscriptions,
            Severity::MustProcess,
            plural(
                subscriptions.len(),
                "running subscription",
                "running subscriptions",
            ),
            "Back up their data, then unsubscribe them (or wait until they expire).",
            "/unsubscribe",
            subscriptions,
        ));
    }
    let renewing: Vec<String> = running
        .iter()
        .filter(|r| r.2 == "subscription" && r.3.0)
        .map(|r| r.0.clone())
        .collect();
    if !renewing.is_empty() {
        items.push(item(
            BlockingKind::AutoRenewingSubscriptions,
            Severity::MustProcess,
            plural(
                renewing.len(),
                "subscription renews automatically",
                "subscriptions renew automatically",
            ),
            "Turn auto-renewal off.",
            "/closure/resolve#auto-renew",
            renewing,
        ));
    }
    let payg: Vec<String> = running
        .iter()
        .filter(|r| r.2 == "payg")
        .map(|r| r.0.clone())
        .collect();
    if !payg.is_empty() {
        items.push(item(BlockingKind::PayAsYouGoResources, Severity::Renounceable, plural(payg.len(), "pay-as-you-go instance", "pay-as-you-go instances"),
            "Back up their data; they are released when you renounce them. Usage until then is still billed.", "/products", payg));
    }

    let icp: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM icp_filings WHERE account_id = $1 AND status = 'active'",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    if !icp.is_empty() {
        items.push(item(
            BlockingKind::IcpFilings,
            Severity::MustProcess,
            plural(icp.len(), "ICP filing", "ICP filings"),
            "Cancel the ICP filing or transfer it to another account.",
            "/closure/resolve#icp",
            icp,
        ));
    }

    let relationships: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, kind, role FROM account_relationships WHERE account_id = $1 ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    for (id, kind, role) in relationships {
        let kind = RelationshipKind::parse(&kind)
            .ok_or_else(|| anyhow::anyhow!("relationship kind {kind}"))?;
        let administrator = role == "administrator";
        let mut it = item(
            kind.blocking_kind(),
            Severity::MustProcess,
            format!("{} ({role})", title_of(kind)),
            kind.guidance(administrator),
            "/closure/resolve#relationships",
            vec![id.clone()],
        );
        it.key = format!("relationship:{id}");
        items.push(it);
    }

    let partner: Option<String> =
        sqlx::query_scalar("SELECT partner_name FROM reseller_partnerships WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(partner) = partner {
        items.push(item(
            BlockingKind::ResellerPartnership,
            Severity::MustProcess,
            format!("Reseller partnership with {partner}"),
            "Cancel the partnership with the reseller.",
            "/closure/resolve#partner",
            vec![partner],
        ));
    }

    let can_close = !items.iter().any(|i| i.severity == Severity::MustProcess);
    Ok(ClosureCheck {
        items,
        can_close,
        checked_at: rfc3339(now),
    })
}

fn title_of(kind: RelationshipKind) -> &'static str {
    match kind {
        RelationshipKind::ResourceDirectory => "Resource directory",
        RelationshipKind::FinanceTrusteeship => "Finance trusteeship",
        RelationshipKind::FinancialManagement => "Financial management",
        RelationshipKind::EnterpriseMultiAccount => "Enterprise multi-account",
    }
}

pub async fn status(state: &AppState, session: &CurrentSession) -> Result<ClosureStatus, ApiError> {
    let now = state.clock.now_ms();
    let account_id = &session.account_id;
    let cooling: Option<i64> = sqlx::query_scalar(
        "SELECT ends_at FROM closures WHERE account_id = $1 AND status = 'cooling_down'",
    )
    .bind(account_id)
    .fetch_optional(&state.db)
    .await?;
    let last_failure: Option<String> = sqlx::query_scalar(
        "SELECT failure FROM closures WHERE account_id = $1 AND status = 'failed' ORDER BY decided_at DESC LIMIT 1",
    )
    .bind(account_id)
    .fetch_optional(&state.db)
    .await?
    .flatten();
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT role_name FROM service_linked_roles WHERE account_id = $1 ORDER BY role_name",
    )
    .bind(account_id)
    .fetch_all(&state.db)
    .await?;
    Ok(ClosureStatus {
        state: if cooling.is_some() {
            ClosureState::CoolingDown
        } else {
            ClosureState::Open
        },
        ends_at: cooling.map(rfc3339),
        remaining_seconds: cooling.map(|end| ((end - now).max(0)) / 1000),
        service_linked_roles: roles,
        last_failure: if cooling.is_some() {
            None
        } else {
            last_failure
        },
        cool_down_days: state.config.cool_down_days,
        identity_verified: session
            .identity_verified_at
            .is_some_and(|at| now - at <= IDENTITY_VALID_MS),
        alipay_available: alipay_available(state, account_id).await?,
        authenticator_available: crate::domain::two_step::is_enabled(&state.db, account_id).await?,
    })
}

/// Sends the identity code to the account's verified mobile number (SMS).
pub async fn send_identity_code(
    state: &AppState,
    session: &CurrentSession,
    client: &str,
) -> Result<CodeSent, ApiError> {
    let (phone, verified): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT phone, phone_verified_at FROM accounts WHERE id = $1")
            .bind(&session.account_id)
            .fetch_one(&state.db)
            .await?;
    let Some(phone) = phone.filter(|_| verified.is_some()) else {
        return Err(ApiError::ContactNotVerified {
            needed: Channel::Phone,
        });
    };
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    let to = Destination {
        channel: Channel::Phone,
        address: &phone,
        delivery: Some(Delivery::Sms),
        account_id: Some(&session.account_id),
        decoy: false,
    };
    verification::issue(
        &mut tx,
        &state.secrets,
        now,
        &verification::Purpose::Closure.subject(&session.account_id),
        &to,
        client,
    )
    .await?;
    tx.commit().await?;
    Ok(verification::code_sent(
        Channel::Phone,
        Some(Delivery::Sms),
        Phone::from_stored(phone).masked(),
    ))
}

/// The session proved the owner's identity, by `method` ("SMS code", "authenticator app",
/// "Alipay"), for the next 30 minutes.
async fn mark_identity(
    session: &CurrentSession,
    tx: &mut Tx,
    now: i64,
    method: &str,
) -> Result<(), ApiError> {
    sqlx::query("UPDATE sessions SET identity_verified_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(&session.token_hash)
        .execute(&mut **tx)
        .await?;
    oplog::record(
        tx,
        &session.account_id,
        Action::ClosureIdentityVerified,
        method,
        now,
    )
    .await
}

pub async fn verify_identity(
    state: &AppState,
    session: &CurrentSession,
    code: &VerificationCode,
) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let tx = db::begin_write(&state.db).await?;
    let (mut tx, _) = verification::check(
        tx,
        &state.secrets,
        now,
        &verification::Purpose::Closure.subject(&session.account_id),
        code,
    )
    .await?;
    mark_identity(session, &mut tx, now, "SMS code").await?;
    tx.commit().await?;
    Ok(())
}

/// Proves the identity with the authenticator's code (or a recovery code), which is then used
/// up like at sign-in.
pub async fn verify_identity_by_authenticator(
    state: &AppState,
    session: &CurrentSession,
    form: &shared::api::TwoStepCodeForm,
    client: &str,
) -> Result<(), ApiError> {
    let mut tx = crate::domain::two_step::prove_identity(state, session, form, client).await?;
    mark_identity(session, &mut tx, state.clock.now_ms(), "authenticator app").await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the Alipay authorization is open to the account: real-name registration (seed 001),
/// and the simulated Alipay of dev mode.
async fn alipay_available(state: &AppState, account_id: &str) -> Result<bool, ApiError> {
    let Flag(real_name) = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM real_name_registrations WHERE account_id = $1)",
    )
    .bind(account_id)
    .fetch_one(&state.db)
    .await?;
    Ok(real_name && state.config.is_dev())
}

/// The simulated Alipay authorization: open to real-name-verified accounts only (seed 001).
pub async fn alipay_authorize(state: &AppState, session: &CurrentSession) -> Result<(), ApiError> {
    if !state.config.is_dev() {
        // Only the simulated Alipay exists; production verifies by phone code.
        return Err(ApiError::IdentityNotVerified(
            "Alipay authorization is not available on this server: use the phone code.".into(),
        ));
    }
    let Flag(real_name) = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM real_name_registrations WHERE account_id = $1)",
    )
    .bind(&session.account_id)
    .fetch_one(&state.db)
    .await?;
    if !real_name {
        return Err(ApiError::IdentityNotVerified(
            "Alipay authorization needs real-name registration. Verify with a phone code instead."
                .into(),
        ));
    }
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    mark_identity(session, &mut tx, now, "Alipay").await?;
    tx.commit().await?;
    Ok(())
}

/// Starts the system check, which runs as a job and reports its progress.
pub async fn start_system_check(
    state: &AppState,
    account_id: &str,
) -> Result<SystemCheckView, ApiError> {
    let now = state.clock.now_ms();
    let id = format!("chk-{}", uuid::Uuid::new_v4().simple());
    let mut tx = db::begin_write(&state.db).await?;
    sqlx::query("INSERT INTO closure_checks (id, account_id, progress, status, created_at) VALUES ($1, $2, 0, 'running', $3)")
        .bind(&id)
        .bind(account_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    jobs::schedule(&mut tx, closure_jobs::CHECK_KIND, &id, now, now).await?;
    tx.commit().await?;
    system_check(state, account_id, &id).await
}

pub async fn system_check(
    state: &AppState,
    account_id: &str,
    id: &str,
) -> Result<SystemCheckView, ApiError> {
    let (progress, status, result): (i64, String, Option<String>) = sqlx::query_as(
        "SELECT progress, status, result FROM closure_checks WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(&state.db)
    .await?
    .ok_or(ApiError::NotFound)?;
    let result = result
        .map(|r| serde_json::from_str(&r))
        .transpose()
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(SystemCheckView {
        id: id.to_owned(),
        status,
        progress: progress.clamp(0, 100) as u8,
        result,
    })
}

fn require_identity(session: &CurrentSession, now: i64) -> Result<(), ApiError> {
    if session
        .identity_verified_at
        .is_none_or(|at| now - at > IDENTITY_VALID_MS)
    {
        return Err(ApiError::IdentityNotVerified(
            "Verify your identity first (phone code or Alipay).".into(),
        ));
    }
    Ok(())
}

/// Confirm Discard or Release (seed 001, step 2.3): the selected renounceable items are given
/// up now, in one transaction through the account's write gate, measured by the check made
/// inside it. An item no longer in the check (renounced by an earlier call, or resolved) is
/// skipped, so a retry or a double click changes nothing; an item that must be processed is
/// refused, and nothing is written. Answers the check as it stands afterwards.
pub async fn renounce_selected(
    state: &AppState,
    session: &CurrentSession,
    form: &RenounceForm,
) -> Result<ClosureCheck, ApiError> {
    form.check()?;
    let now = state.clock.now_ms();
    let account_id = &session.account_id;
    require_identity(session, now)?;
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let live = check_on(&mut tx, state, account_id).await?;
    let mut renounced = Vec::new();
    for key in &form.renounce {
        match live.items.iter().find(|i| &i.key == key) {
            Some(item)
                if item.severity == Severity::Renounceable && !renounced.contains(&item.key) =>
            {
                renounce(&mut tx, now, account_id, item).await?;
                renounced.push(item.key.clone());
            }
            // Named twice in one request: given up once.
            Some(item) if item.severity == Severity::Renounceable => {}
            Some(item) => {
                return Err(ApiError::ClosureBlocked(format!(
                    "{} cannot be renounced: {}",
                    item.title, item.guidance
                )));
            }
            None => {}
        }
    }
    let after = check_on(&mut tx, state, account_id).await?;
    if !renounced.is_empty() {
        let detail = renounced.join(", ");
        oplog::record(
            &mut tx,
            account_id,
            Action::ClosureItemsRenounced,
            &detail,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    if !renounced.is_empty() {
        tracing::info!(account = %account_id, renounced = %renounced.join(" "), "closure items renounced");
    }
    Ok(after)
}

/// Confirm Deletion: everything checked again inside one transaction, the renounced items
/// given up, every session of the account ended, the role created, and the cool-down's end
/// scheduled. Nothing revokes it.
pub async fn confirm(
    state: &AppState,
    session: &CurrentSession,
    form: &ConfirmClosureForm,
) -> Result<ClosureStatus, ApiError> {
    form.check()?;
    let now = state.clock.now_ms();
    let account_id = &session.account_id;
    require_identity(session, now)?;
    let done: Option<i64> = sqlx::query_scalar(
        "SELECT done_at FROM closure_checks WHERE id = $1 AND account_id = $2 AND status = 'done'",
    )
    .bind(&form.system_check_id)
    .bind(account_id)
    .fetch_optional(&state.db)
    .await?
    .flatten();
    if done.is_none_or(|at| now - at > SYSTEM_CHECK_VALID_MS) {
        return Err(ApiError::SystemCheckRequired);
    }
    // The account's status, the items and the renounced balance are read in the transaction
    // that writes the closure: a purchase or a payment that lands just before cannot slip
    // between the check and the confirmation (the write gate refuses any after it).
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let live = check_on(&mut tx, state, account_id).await?;
    if let Some(first) = live.must_process().next() {
        return Err(ApiError::ClosureBlocked(format!(
            "{} must be processed first: {}",
            first.title, first.guidance
        )));
    }
    if let Some(kept) = live
        .renounceable()
        .find(|i| !form.renounce.contains(&i.key))
    {
        return Err(ApiError::ClosureBlocked(format!(
            "Renounce \"{}\" or resolve it before closing.",
            kept.title
        )));
    }

    for item in live.renounceable() {
        renounce(&mut tx, now, account_id, item).await?;
    }
    let closure_id = format!("cl-{}", uuid::Uuid::new_v4().simple());
    let ends_at = now + state.config.cool_down_days * 86_400_000;
    let renounced: Vec<&str> = live.renounceable().map(|i| i.key.as_str()).collect();
    sqlx::query(
        "INSERT INTO closures (id, account_id, status, reason, reason_detail, renounced, started_at, ends_at) VALUES ($1, $2, 'cooling_down', $3, $4, $5, $6, $7)",
    )
    .bind(&closure_id)
    .bind(account_id)
    .bind(form.reason.map(|r| r.as_str()))
    .bind(Some(form.reason_detail.trim()).filter(|d| !d.is_empty()))
    .bind(renounced.join(" "))
    .bind(now)
    .bind(ends_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE accounts SET status = 'closing' WHERE id = $1")
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO service_linked_roles (account_id, role_name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(account_id)
        .bind(SERVICE_LINKED_ROLE)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    // All sessions end: the owner's everywhere, and every RAM user's.
    sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    jobs::schedule(
        &mut tx,
        closure_jobs::DECIDE_KIND,
        &closure_id,
        ends_at,
        now,
    )
    .await?;
    let (email, phone): (String, Option<String>) =
        sqlx::query_as("SELECT email, phone FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_one(&mut *tx)
            .await?;
    let body = format!(
        "Your Account Center account is being closed. The cool-down ends on {} (UTC); the closure cannot be revoked. \
         Pay-as-you-go usage from before is still billed; new overdue payments would make the closure fail.",
        rfc3339(ends_at)
    );
    notify_both(
        &mut tx,
        now,
        Some(account_id),
        &email,
        phone.as_deref(),
        "Account closure started",
        &body,
    )
    .await?;
    let detail = format!("cool-down until {}", rfc3339(ends_at));
    oplog::record(&mut tx, account_id, Action::ClosureConfirmed, &detail, now).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    tracing::info!(account = %account_id, closure = %closure_id, "account closure confirmed; cooling down");
    Ok(ClosureStatus {
        state: ClosureState::CoolingDown,
        ends_at: Some(rfc3339(ends_at)),
        remaining_seconds: Some((ends_at - now) / 1000),
        service_linked_roles: vec![SERVICE_LINKED_ROLE.to_owned()],
        last_failure: None,
        cool_down_days: state.config.cool_down_days,
        identity_verified: true,
        alipay_available: alipay_available(state, account_id).await?,
        authenticator_available: false,
    })
}

async fn renounce(
    tx: &mut Tx,
    now: i64,
    account_id: &str,
    item: &CheckItem,
) -> Result<(), ApiError> {
    match item.kind {
        BlockingKind::CashBalance => {
            if let Some(balance) = item.amount {
                let entry = Entry {
                    account_id,
                    kind: "renounced",
                    bucket: Bucket::Cash,
                    amount: Money::new(-balance.amount, balance.currency),
                    payment_method_id: None,
                    reference: None,
                    memo: "Balance renounced with the account closure",
                };
                ledger::record(tx, now, entry).await?;
            }
        }
        BlockingKind::OverduePayments => {
            for id in &item.subjects {
                sqlx::query("UPDATE bills SET waived_at = $1 WHERE id = $2 AND account_id = $3 AND status = 'unpaid'")
                    .bind(now)
                    .bind(id)
                    .bind(account_id)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        BlockingKind::PayAsYouGoResources => {
            for id in &item.subjects {
                sqlx::query("UPDATE instances SET status = 'released', released_at = $1 WHERE id = $2 AND account_id = $3 AND status = 'running'")
                    .bind(now)
                    .bind(id)
                    .bind(account_id)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        _ => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "{:?} cannot be renounced",
                item.kind
            )));
        }
    }
    Ok(())
}

/// The SMS that goes with an email: its subject and first sentence.
pub fn sms_text(subject: &str, body: &str) -> String {
    format!(
        "[Account Center] {subject}. {}",
        body.split(". ").next().unwrap_or(body)
    )
}

/// An email and, when the account has a phone, an SMS.
pub async fn notify_both(
    tx: &mut HeldTx<'_>,
    now: i64,
    account_id: Option<&str>,
    email: &str,
    phone: Option<&str>,
    subject: &str,
    body: &str,
) -> Result<(), ApiError> {
    notify::enqueue(
        tx,
        now,
        Outgoing {
            account_id,
            medium: Medium::Email,
            recipient: email,
            subject,
            body: body.to_owned(),
        },
    )
    .await?;
    if let Some(phone) = phone {
        let sms = sms_text(subject, body);
        notify::enqueue(
            tx,
            now,
            Outgoing {
                account_id,
                medium: Medium::Sms,
                recipient: phone,
                subject,
                body: sms,
            },
        )
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct BillRecord {
    id: String,
    description: String,
    amount_minor: i64,
    currency: String,
    status: String,
    due_at: i64,
    waived_at: Option<i64>,
}

pub async fn ties(state: &AppState, account_id: &str) -> Result<AccountTies, ApiError> {
    let now = state.clock.now_ms();
    let bills: Vec<BillRecord> = sqlx::query_as(
        "SELECT id, description, amount_minor, currency, status, due_at, waived_at FROM bills WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT 200",
    )
    .bind(account_id)
    .fetch_all(&state.db)
    .await?;
    let icp: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, number, website FROM icp_filings WHERE account_id = $1 AND status = 'active'",
    )
    .bind(account_id)
    .fetch_all(&state.db)
    .await?;
    let relationships: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT id, kind, role, peer FROM account_relationships WHERE account_id = $1 ORDER BY created_at, id")
            .bind(account_id)
            .fetch_all(&state.db)
            .await?;
    let partner: Option<String> =
        sqlx::query_scalar("SELECT partner_name FROM reseller_partnerships WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&state.db)
            .await?;
    Ok(AccountTies {
        bills: bills
            .into_iter()
            .map(|b| {
                let status = if b.waived_at.is_some() {
                    "waived".to_owned()
                } else {
                    b.status
                };
                BillView {
                    overdue: status == "unpaid" && b.due_at <= now,
                    amount: money_of(b.amount_minor, &b.currency),
                    id: b.id,
                    description: b.description,
                    status,
                    due_at: rfc3339(b.due_at),
                }
            })
            .collect(),
        icp_filings: icp
            .into_iter()
            .map(|(id, number, website)| IcpFilingView {
                id,
                number,
                website,
            })
            .collect(),
        relationships: relationships
            .into_iter()
            .filter_map(|(id, kind, role, peer)| {
                RelationshipKind::parse(&kind).map(|kind| RelationshipView {
                    id,
                    kind,
                    role,
                    peer,
                })
            })
            .collect(),
        reseller_partner: partner,
        cash_balance: ledger::balance(&state.db, account_id, Bucket::Cash).await?,
    })
}

/// Pays an unpaid bill of the account with its default payment method.
pub async fn pay_bill(state: &AppState, account_id: &str, id: &str) -> Result<(), ApiError> {
    let Flag(unpaid) = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bills WHERE id = $1 AND account_id = $2 AND status = 'unpaid')",
    )
    .bind(id)
    .bind(account_id)
    .fetch_one(&state.db)
    .await?;
    if !unpaid {
        return Err(ApiError::NotFound);
    }
    match crate::domain::purchase::charge_bill(state, account_id, Writer::Member, id).await? {
        crate::domain::purchase::BillCharge::Refused => Err(ApiError::PaymentDeclined),
        _ => Ok(()),
    }
}

/// Resolutions of must-process items. Each touches only the caller's account.
pub async fn cancel_icp_filing(
    state: &AppState,
    account_id: &str,
    id: &str,
) -> Result<(), ApiError> {
    affected(sqlx::query("UPDATE icp_filings SET status = 'cancelled' WHERE id = $1 AND account_id = $2 AND status = 'active'").bind(id).bind(account_id).execute(&state.db).await?)
}

pub async fn remove_relationship(
    state: &AppState,
    account_id: &str,
    id: &str,
) -> Result<(), ApiError> {
    affected(
        sqlx::query("DELETE FROM account_relationships WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&state.db)
            .await?,
    )
}

pub async fn end_partnership(state: &AppState, account_id: &str) -> Result<(), ApiError> {
    affected(
        sqlx::query("DELETE FROM reseller_partnerships WHERE account_id = $1")
            .bind(account_id)
            .execute(&state.db)
            .await?,
    )
}

/// Transfers a domain name out: it leaves this account (no refund: the registration went with it).
pub async fn transfer_domain_out(
    state: &AppState,
    account_id: &str,
    instance_id: &str,
) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    affected(
        sqlx::query("UPDATE instances SET status = 'released', released_at = $1, auto_renew = 0 WHERE id = $2 AND account_id = $3 AND product = 'domain' AND status = 'running'")
            .bind(now)
            .bind(instance_id)
            .bind(account_id)
            .execute(&state.db)
            .await?,
    )
}

pub async fn set_auto_renew(
    state: &AppState,
    account_id: &str,
    instance_id: &str,
    enabled: bool,
) -> Result<(), ApiError> {
    affected(
        sqlx::query("UPDATE instances SET auto_renew = $1 WHERE id = $2 AND account_id = $3 AND billing = 'subscription' AND status = 'running'")
            .bind(i64::from(enabled))
            .bind(instance_id)
            .bind(account_id)
            .execute(&state.db)
            .await?,
    )
}

fn affected(result: sqlx::any::AnyQueryResult) -> Result<(), ApiError> {
    if result.rows_affected() == 0 {
        Err(ApiError::NotFound)
    } else {
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct OrderRecord {
    id: String,
    instance_id: String,
    product: String,
    starts_at: i64,
    ends_at: i64,
    currency: String,
    cash_minor: i64,
    credit_minor: i64,
    paid_with: String,
    status: String,
    paid_at: i64,
}

#[derive(sqlx::FromRow)]
struct RefundRecord {
    id: String,
    order_id: String,
    amount_minor: i64,
    currency: String,
    destination: String,
    status: String,
    created_at: i64,
    refunded_at: Option<i64>,
}

fn money_of(minor: i64, currency: &str) -> Money {
    Money::from_minor(minor, Currency::parse(currency).unwrap_or(Currency::USD))
}

/// Everything the owner may want to keep: bills, orders, refunds and invoices, and the ledger.
pub async fn export(state: &AppState, account_id: &str) -> Result<serde_json::Value, ApiError> {
    use serde_json::json;
    let db = &state.db;
    let orders: Vec<OrderRecord> = sqlx::query_as(
        "SELECT o.id, o.instance_id, i.product, o.starts_at, o.ends_at, o.currency, o.cash_minor, o.credit_minor, o.paid_with, o.status, o.paid_at
         FROM orders o JOIN instances i ON i.id = o.instance_id WHERE o.account_id = $1 ORDER BY o.created_at, o.id",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?;
    let refunds: Vec<RefundRecord> = sqlx::query_as(
        "SELECT id, order_id, amount_minor, currency, destination, status, created_at, refunded_at FROM refunds WHERE account_id = $1 ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?;
    let orders_json: Vec<_> = orders
        .iter()
        .map(|o| {
            json!({"id": o.id, "instance_id": o.instance_id, "product": o.product, "starts_at": rfc3339(o.starts_at),
                   "ends_at": rfc3339(o.ends_at), "cash_paid": money_of(o.cash_minor, &o.currency),
                   "credit_paid": money_of(o.credit_minor, &o.currency), "paid_with": o.paid_with, "status": o.status,
                   "paid_at": rfc3339(o.paid_at)})
        })
        .collect();
    // An invoice is issued for what was paid in cash.
    let invoices: Vec<_> = orders
        .iter()
        .filter(|o| o.cash_minor > 0)
        .map(|o| json!({"invoice_for": o.id, "description": o.product, "amount": money_of(o.cash_minor, &o.currency), "issued_at": rfc3339(o.paid_at)}))
        .collect();
    let refunds_json: Vec<_> = refunds
        .iter()
        .map(|r| {
            json!({"id": r.id, "order_id": r.order_id, "amount": money_of(r.amount_minor, &r.currency), "destination": r.destination,
                   "status": r.status, "created_at": rfc3339(r.created_at), "refunded_at": r.refunded_at.map(rfc3339)})
        })
        .collect();
    Ok(json!({
        "exported_at": rfc3339(state.clock.now_ms()),
        "account": crate::domain::account::view(db, account_id).await?,
        "billing_address": crate::domain::billing::address(db, account_id).await?,
        "orders": orders_json,
        "invoices": invoices,
        "refunds": refunds_json,
        "bills": ties(state, account_id).await?.bills,
        "ledger": ledger::entries(db, account_id).await?,
        // Seed 001: "export critical configuration information and operation logs".
        "operation_log": oplog::all(state, account_id).await?,
    }))
}
