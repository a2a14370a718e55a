//! Dev mode's demo seeder: fills the signed-in account with a realistic mix of what an account
//! owns, bought in the past, so every tab and refund type of the console has something to show.

use crate::clock::DurationMs;
use crate::domain::account;
use crate::domain::expiry::Expire;
use crate::domain::purchase::{OrderKind, add_months};
use crate::domain::usage::{self, BillUsage};
use crate::error::ApiError;
use crate::queue;
use crate::state::AppState;
use crate::tables::coupons::{self, NewCoupon};
use crate::tables::instances::{self, NewInstance};
use crate::tables::orders::{self, NewOrder};
use crate::tables::{
    account_relationships, bills, icp_filings, payment_methods, reseller_partnerships,
};
use shared::api::RelationshipRole;
use shared::catalog::{PayWith, Product};
use shared::closure::RelationshipKind;
use shared::money::Currency;
use shared::refund::{PaidWith, ResourceKind};

const DAY: DurationMs = DurationMs::days(1);
/// Where the demo's resources run.
const REGION: &str = "ap-southeast-1";

struct Demo {
    product: &'static str,
    months: u32,
    bought_days_ago: i64,
    paid_with: PayWith,
    activated: bool,
    renewals: u32,
    /// GB that pay-as-you-go usage drew on the plan's period in force (resource plans).
    drawn_gb: i64,
}

const MIX: &[Demo] = &[
    Demo {
        product: "ecs",
        months: 12,
        bought_days_ago: 40,
        paid_with: PayWith::DefaultMethod,
        activated: true,
        renewals: 0,
        drawn_gb: 0,
    },
    Demo {
        product: "rds",
        months: 1,
        bought_days_ago: 10,
        paid_with: PayWith::DefaultMethod,
        activated: true,
        renewals: 2,
        drawn_gb: 0,
    },
    Demo {
        product: "oss",
        months: 6,
        bought_days_ago: 5,
        paid_with: PayWith::DefaultMethod,
        activated: false,
        renewals: 0,
        drawn_gb: 0,
    },
    Demo {
        product: "oss",
        months: 1,
        bought_days_ago: 3,
        paid_with: PayWith::DefaultMethod,
        activated: true,
        renewals: 0,
        drawn_gb: 0,
    },
    // A plan drawn further than its time: 12 months for 118.80, 149 days in, 300 of its 500 GB
    // drawn, so its Partial Refund counts the drawn 60 % as used (SPEC §5).
    Demo {
        product: "oss",
        months: 12,
        bought_days_ago: 149,
        paid_with: PayWith::DefaultMethod,
        activated: true,
        renewals: 0,
        drawn_gb: 300,
    },
    Demo {
        product: "domain",
        months: 12,
        bought_days_ago: 100,
        paid_with: PayWith::DefaultMethod,
        activated: true,
        renewals: 0,
        drawn_gb: 0,
    },
    Demo {
        product: "ecs",
        months: 3,
        bought_days_ago: 20,
        paid_with: PayWith::Credit,
        activated: true,
        renewals: 0,
        drawn_gb: 0,
    },
    Demo {
        product: "ecs",
        months: 6,
        bought_days_ago: 160,
        paid_with: PayWith::DefaultMethod,
        activated: true,
        renewals: 0,
        drawn_gb: 0,
    },
];

/// Adds the mix plus `extra` one-month ECS subscriptions; returns how many instances it made.
pub async fn seed(state: &AppState, account_id: &str, extra: u32) -> Result<u32, ApiError> {
    let now = state.clock.now();
    let method = payment_methods::default_kind(&state.db, account_id).await?;
    let extras = (0..extra).map(|i| Demo {
        product: "ecs",
        months: 1,
        bought_days_ago: i64::from(i % 25) + 1,
        paid_with: PayWith::DefaultMethod,
        activated: true,
        renewals: 0,
        drawn_gb: 0,
    });
    let mut tx = account::begin_locked(&state.db, account_id).await?;
    let mut made = 0;
    for demo in MIX.iter().map(|d| Demo { ..*d }).chain(extras) {
        let product = Product::find(demo.product)
            .ok_or_else(|| anyhow::anyhow!("demo product {}", demo.product))?;
        let bought = now - DAY * demo.bought_days_ago;
        let (paid_with, method_id) = match (&method, demo.paid_with) {
            (_, PayWith::Credit) => (PaidWith::Credit, None),
            (Some((id, kind)), _) => (PaidWith::from(*kind), Some(id.clone())),
            (None, _) => (PaidWith::Balance, None),
        };
        let instance_id = format!("i-{}", &uuid::Uuid::new_v4().simple().to_string()[..20]);
        let mut ends = add_months(bought, demo.months);
        let mut periods = vec![(bought, ends, OrderKind::New)];
        for _ in 0..demo.renewals {
            let next = add_months(ends, demo.months);
            periods.push((ends, next, OrderKind::Renewal));
            ends = next;
        }
        let new = NewInstance {
            id: &instance_id,
            account_id,
            product: product.code,
            region: REGION,
            kind: product.kind,
            started_at: bought,
        };
        let used = demo.drawn_gb > 0;
        instances::insert_past_subscription(&mut *tx, &new, demo.activated, used, ends).await?;
        for (starts, ends, order_kind) in periods {
            let price = product.monthly_cents * i64::from(demo.months);
            let (cash, credit) = if paid_with == PaidWith::Credit {
                (0, price)
            } else {
                (price, 0)
            };
            let order_id = format!("ord-{}", uuid::Uuid::new_v4().simple());
            let reference = format!("demo-charge-{}", uuid::Uuid::new_v4().simple());
            let order = NewOrder {
                id: &order_id,
                account_id,
                instance_id: &instance_id,
                kind: order_kind,
                months: demo.months,
                starts_at: starts,
                ends_at: ends,
                currency: Currency::USD,
                list_minor: price,
                cash_minor: cash,
                credit_minor: credit,
                paid_with,
                payment_method_id: method_id.as_deref(),
                gateway_reference: Some(&reference),
                paid_at: bought,
            };
            let drawn_milli = if starts <= now && now < ends {
                demo.drawn_gb * shared::catalog::MILLI
            } else {
                0
            };
            orders::insert_paid_drawn(&mut *tx, &order, drawn_milli).await?;
        }
        queue::schedule::<Expire>(&mut tx, &instance_id, ends, now).await?;
        made += 1;
    }
    let coupon = NewCoupon {
        id: &format!("cpn-{}", uuid::Uuid::new_v4().simple()),
        account_id,
        description: "Welcome coupon: 20.00 USD off a subscription",
        amount_minor: 2000,
        currency: Currency::USD,
        expires_at: now + DAY * 90,
        created_at: now,
    };
    coupons::insert(&mut *tx, &coupon).await?;
    if method.is_some() {
        let instance_id = format!("i-{}", &uuid::Uuid::new_v4().simple().to_string()[..20]);
        let started = now - DurationMs::hours(3);
        let new = NewInstance {
            id: &instance_id,
            account_id,
            product: "ecs",
            region: REGION,
            kind: ResourceKind::RegularCloudResource,
            started_at: started,
        };
        instances::insert_payg(&mut *tx, &new).await?;
        queue::schedule::<BillUsage>(&mut tx, &instance_id, usage::due_at(state, started), now)
            .await?;
        made += 1;
    }
    tx.commit().await?;
    Ok(made)
}

/// What blocks closing an account, one of each kind: an ICP filing, a resource directory (as
/// administrator), a finance trusteeship (as member), a reseller partnership, an overdue bill
/// over 10 CNY and a cash balance under 1,000 CNY.
pub async fn seed_blockers(state: &AppState, account_id: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = account::begin_locked(&state.db, account_id).await?;
    let id = |prefix: &str| format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
    let (number, website) = ("Zhejiang ICP 12345678-1", "example.cn");
    icp_filings::insert_active(&mut *tx, &id("icp"), account_id, number, website, now).await?;
    for (kind, role, peer) in [
        (
            RelationshipKind::ResourceDirectory,
            RelationshipRole::Administrator,
            "rd-demo-root",
        ),
        (
            RelationshipKind::FinanceTrusteeship,
            RelationshipRole::Member,
            "finance@partner.example",
        ),
    ] {
        account_relationships::insert(&mut *tx, &id("rel"), account_id, kind, role, peer, now)
            .await?;
    }
    reseller_partnerships::insert(&mut *tx, account_id, "Demo Cloud Reseller Ltd", now).await?;
    let bill = bills::New {
        id: &id("bill"),
        account_id,
        instance_id: None,
        description: "Object storage traffic, last month",
        period: None,
        amount_minor: 500,
        currency: shared::money::Currency::USD,
        due_at: now - DAY,
        created_at: now - DAY,
    };
    bills::insert(&mut tx, bill).await?;
    let top_up = crate::tables::ledger_entries::Entry {
        account_id,
        kind: crate::domain::ledger::LedgerKind::TopUp,
        bucket: crate::domain::ledger::Bucket::Cash,
        amount: shared::money::Money::from_minor(50_00, shared::money::Currency::USD),
        payment_method_id: None,
        reference: None,
        memo: "Demo top-up",
    };
    crate::tables::ledger_entries::insert(&mut tx, now, top_up).await?;
    tx.commit().await?;
    Ok(())
}
