//! The console's words for the facts the API sends (where a refund goes, a record's statuses,
//! the system check's phase, the closure check's items, why a closure failed, the operation
//! log's entries) and for the refund rule: one catalog, so no page spells a fact its own way, and a second language is
//! one more file like this one.

use crate::components::date::date_time;
use shared::account::Channel;
use shared::api::{
    ClosureFailure, IdentityMethod, LoggedPaymentMethod, OperationAction, OperationActor,
    OperationCategory, OperationDetail, OrderStatus, PaymentMethodKind, RecordRefundStatus,
    RefundPlace, RelationshipRole, SignInRefusal, SystemCheckPhase, UnsubscribeScope,
};
use shared::closure::{
    BALANCE_LIMIT_CNY, BlockingKind, CheckItem, OVERDUE_LIMIT_CNY, RelationshipKind, Severity,
};
use shared::money::Money;
use shared::refund::RefundDestination;

/// The refund formula of `shared::refund` in words, published on the unsubscribe pages beside
/// every figure it produces.
pub const REFUND_RULE: &str = "Coupons and free credit are never refunded as cash. A partial refund is \
the cash you paid minus the part you used: cash × time used ÷ time paid for, rounded up to the cent. \
For a resource plan that usage has drawn on, the part used is the larger of that and cash × drawn ÷ quota. \
A renewal that has not started yet is refunded in full. Nonrefundable resources refund nothing.";

/// "Bank card VISA •••• 1111", "PayPal", "Account balance".
pub fn refund_place(place: &RefundPlace) -> String {
    match (place.destination, place.method_label.as_deref()) {
        (RefundDestination::Balance, _) => "Account balance".to_owned(),
        (RefundDestination::Paypal, label) => label.unwrap_or("PayPal").to_owned(),
        (RefundDestination::Paytm, label) => label.unwrap_or("Paytm").to_owned(),
        (RefundDestination::Card, Some(label)) => format!("Bank card {label}"),
        (RefundDestination::Card, None) => "Bank card".to_owned(),
    }
}

/// Every place a refund goes, or "No refund".
pub fn refund_places(places: &[RefundPlace]) -> String {
    if places.is_empty() {
        return "No refund".to_owned();
    }
    places
        .iter()
        .map(refund_place)
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn record_refund_status(status: RecordRefundStatus) -> &'static str {
    match status {
        RecordRefundStatus::None => "No refund",
        RecordRefundStatus::Processing => "Processing",
        RecordRefundStatus::Refunded => "Refunded",
    }
}

pub fn order_status(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Paid => "Paid",
        OrderStatus::Unsubscribed => "Unsubscribed",
    }
}

pub fn relationship_role(role: RelationshipRole) -> &'static str {
    match role {
        RelationshipRole::Administrator => "administrator",
        RelationshipRole::Member => "member",
    }
}

pub fn unsubscribe_scope(scope: UnsubscribeScope) -> &'static str {
    match scope {
        UnsubscribeScope::Resource => "Resource",
        UnsubscribeScope::Renewal => "Renewal",
    }
}

/// What the system check is looking at; `None` once it is done.
pub fn system_check_phase(phase: Option<SystemCheckPhase>) -> &'static str {
    match phase {
        Some(SystemCheckPhase::Finances) => {
            "Checking finances: bills, overdue payments and balance…"
        }
        Some(SystemCheckPhase::Resources) => {
            "Checking resources: subscriptions and pay-as-you-go instances…"
        }
        Some(SystemCheckPhase::DomainsAndFilings) => "Checking domain names and ICP filings…",
        Some(SystemCheckPhase::Relationships) => {
            "Checking multi-account relationships and partners…"
        }
        None => "System check complete.",
    }
}

pub fn relationship_kind(kind: RelationshipKind) -> &'static str {
    match kind {
        RelationshipKind::ResourceDirectory => "Resource directory",
        RelationshipKind::FinanceTrusteeship => "Finance trusteeship",
        RelationshipKind::FinancialManagement => "Financial management",
        RelationshipKind::EnterpriseMultiAccount => "Enterprise multi-account",
    }
}

/// "Resource directory (administrator)".
pub fn relationship(kind: RelationshipKind, role: RelationshipRole) -> String {
    format!("{} ({})", relationship_kind(kind), relationship_role(role))
}

/// What ends a relationship before closing, by the seed's table: an administrator hands the
/// relationship over or dissolves it, a member leaves it.
pub fn relationship_guidance(kind: RelationshipKind, role: RelationshipRole) -> &'static str {
    match (kind, role) {
        (RelationshipKind::ResourceDirectory, RelationshipRole::Administrator) => {
            "Close the resource directory first, then close the account."
        }
        (RelationshipKind::ResourceDirectory, RelationshipRole::Member) => {
            "Ask the management account to remove this member from the resource directory."
        }
        (RelationshipKind::FinanceTrusteeship, RelationshipRole::Administrator) => {
            "Remove all member accounts from the finance trusteeship first."
        }
        (RelationshipKind::FinancialManagement, RelationshipRole::Administrator) => {
            "Unbind all member accounts from financial management first."
        }
        (RelationshipKind::EnterpriseMultiAccount, RelationshipRole::Administrator) => {
            "Transfer the super administrator permission to another member account first."
        }
        (_, RelationshipRole::Member) => {
            "Leave the relationship (disassociate this account) first."
        }
    }
}

/// The relationship a closure check item is about, if any, and the account's side of it (the
/// server always names it; none reads as a member's).
fn relationship_of(item: &CheckItem) -> Option<(RelationshipKind, RelationshipRole)> {
    let kind = RelationshipKind::of(item.kind)?;
    Some((kind, item.role.unwrap_or(RelationshipRole::Member)))
}

/// "USD 5.00 and CNY 35.50".
fn amounts(amounts: &[Money]) -> String {
    amounts
        .iter()
        .map(Money::to_string)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A closure check item in one line: "2 ICP filings", "Account balance: USD 50.00".
pub fn check_item_title(item: &CheckItem) -> String {
    let counted = |one: &str, many: &str| {
        let noun = if item.count == 1 { one } else { many };
        format!("{} {noun}", item.count)
    };
    match item.kind {
        BlockingKind::OverduePayments => format!("Overdue payments: {}", amounts(&item.totals)),
        BlockingKind::CashBalance => {
            format!("Account balance: {}", amounts(item.amount.as_slice()))
        }
        BlockingKind::UnexpiredDomains => {
            counted("unexpired domain name", "unexpired domain names")
        }
        BlockingKind::IcpFilings => counted("ICP filing", "ICP filings"),
        BlockingKind::RunningSubscriptions => {
            counted("running subscription", "running subscriptions")
        }
        BlockingKind::AutoRenewingSubscriptions => counted(
            "subscription renews automatically",
            "subscriptions renew automatically",
        ),
        BlockingKind::PayAsYouGoResources => {
            counted("pay-as-you-go instance", "pay-as-you-go instances")
        }
        BlockingKind::ResellerPartnership => format!(
            "Reseller partnership with {}",
            item.subjects
                .first()
                .map(String::as_str)
                .unwrap_or_default()
        ),
        BlockingKind::ResourceDirectory
        | BlockingKind::FinanceTrusteeship
        | BlockingKind::FinancialManagement
        | BlockingKind::EnterpriseMultiAccount => relationship_of(item)
            .map(|(kind, role)| relationship(kind, role))
            .unwrap_or_default(),
    }
}

/// What to do about a closure check item.
pub fn check_item_guidance(item: &CheckItem) -> String {
    let must = item.severity == Severity::MustProcess;
    let (overdue, balance) = (grouped(OVERDUE_LIMIT_CNY), grouped(BALANCE_LIMIT_CNY));
    match item.kind {
        BlockingKind::OverduePayments if must => {
            format!("Pay the overdue bills: they are over {overdue} CNY.")
        }
        BlockingKind::OverduePayments => format!(
            "Pay them, or renounce them: overdue payments of {overdue} CNY or less are cancelled with the account."
        ),
        BlockingKind::CashBalance if must => format!(
            "The balance is over {balance} CNY and is lost with the account: withdraw it to a card or PayPal, or spend it on resources, before closing."
        ),
        BlockingKind::CashBalance => {
            format!("A balance of {balance} CNY or less can be renounced: it is lost with the account.")
        }
        BlockingKind::UnexpiredDomains => {
            "Transfer each domain name to another account or provider.".to_owned()
        }
        BlockingKind::IcpFilings => {
            "Cancel the ICP filing or transfer it to another account.".to_owned()
        }
        BlockingKind::RunningSubscriptions => {
            "Back up their data, then unsubscribe them (or wait until they expire).".to_owned()
        }
        BlockingKind::AutoRenewingSubscriptions => "Turn auto-renewal off.".to_owned(),
        BlockingKind::PayAsYouGoResources => {
            "Back up their data; they are released when you renounce them. Usage until then is still billed."
                .to_owned()
        }
        BlockingKind::ResellerPartnership => "Cancel the partnership with the reseller.".to_owned(),
        BlockingKind::ResourceDirectory
        | BlockingKind::FinanceTrusteeship
        | BlockingKind::FinancialManagement
        | BlockingKind::EnterpriseMultiAccount => relationship_of(item)
            .map(|(kind, role)| relationship_guidance(kind, role).to_owned())
            .unwrap_or_default(),
    }
}

/// Why the last closure failed, and what to do now.
pub fn closure_failure(failure: &ClosureFailure) -> String {
    let overdue = match failure.overdue.as_slice() {
        [] => "new overdue payments".to_owned(),
        totals => format!("new overdue payments of {}", amounts(totals)),
    };
    format!(
        "The closure failed: {overdue} appeared during the cool-down (delayed usage billing). \
         Your account is restored. Pay the overdue bills, then start the closure again."
    )
}

/// An operation log entry's action: "Signed in", "Payment method added".
pub fn operation_action(action: OperationAction) -> &'static str {
    use OperationAction::*;
    match action {
        SignIn => "Signed in",
        SignInPasswordAccepted => "Password accepted, two-step code asked",
        SignInFailed => "Sign-in refused",
        PasswordReset => "Password reset",
        PasswordChanged => "Password changed",
        SessionSignedOut => "Session signed out",
        TwoStepOn => "Two-step verification turned on",
        TwoStepOff => "Two-step verification turned off",
        RamUserCreated => "RAM user created",
        RamUserDeleted => "RAM user deleted",
        PaymentMethodAdded => "Payment method added",
        PaymentMethodRemoved => "Payment method removed",
        DefaultPaymentMethodSet => "Default payment method set",
        BillingAddressSaved => "Billing address saved",
        Purchase => "Purchase",
        Renewal => "Renewal",
        Unsubscribe => "Unsubscribed",
        Withdrawal => "Withdrawal requested",
        RefundReturnedToBalance => "Refund returned by the card network, credited to the balance",
        PaymentDisputed => "Payment disputed with the card issuer",
        ClosureIdentityVerified => "Identity verified for closure",
        ClosureItemsRenounced => "Items renounced for closure",
        ClosureConfirmed => "Closure confirmed",
    }
}

/// Who did it: "Account owner", "RAM user ops", "Account Center" (its own jobs).
pub fn operation_actor(actor: &OperationActor) -> String {
    match actor {
        OperationActor::Owner => "Account owner".to_owned(),
        OperationActor::RamUser { name } => format!("RAM user {name}"),
        OperationActor::System => "Account Center".to_owned(),
    }
}

/// A filter of the log: one category, or all (`None`).
pub fn operation_category(category: Option<OperationCategory>) -> &'static str {
    match category {
        None => "All",
        Some(OperationCategory::Security) => "Security",
        Some(OperationCategory::Money) => "Money",
        Some(OperationCategory::Closure) => "Closure",
    }
}

/// "VISA •••• 4242", "PayPal", "Paytm".
fn logged_method(method: &LoggedPaymentMethod) -> String {
    match (method.kind, method.brand, method.last4.as_deref()) {
        (PaymentMethodKind::Card, Some(brand), Some(last4)) => {
            format!("{} •••• {last4}", brand.display_name())
        }
        (PaymentMethodKind::Card, Some(brand), None) => brand.display_name().to_owned(),
        (PaymentMethodKind::Card, None, Some(last4)) => format!("Card •••• {last4}"),
        (PaymentMethodKind::Card, None, None) => "Card".to_owned(),
        (PaymentMethodKind::Paypal, ..) => "PayPal".to_owned(),
        (PaymentMethodKind::Paytm, ..) => "Paytm".to_owned(),
    }
}

/// A closure check item's kind, as a list of renounced items names it.
fn blocking_kind(kind: BlockingKind) -> &'static str {
    match kind {
        BlockingKind::OverduePayments => "overdue payments",
        BlockingKind::CashBalance => "account balance",
        BlockingKind::UnexpiredDomains => "unexpired domain names",
        BlockingKind::IcpFilings => "ICP filings",
        BlockingKind::RunningSubscriptions => "running subscriptions",
        BlockingKind::AutoRenewingSubscriptions => "auto-renewing subscriptions",
        BlockingKind::PayAsYouGoResources => "pay-as-you-go instances",
        BlockingKind::ResourceDirectory => "resource directory",
        BlockingKind::FinanceTrusteeship => "finance trusteeship",
        BlockingKind::FinancialManagement => "financial management",
        BlockingKind::EnterpriseMultiAccount => "enterprise multi-account",
        BlockingKind::ResellerPartnership => "reseller partnership",
    }
}

fn months(n: u32) -> String {
    if n == 1 {
        "1 month".to_owned()
    } else {
        format!("{n} months")
    }
}

/// What an entry was about, in one line: "i-…: ecs for 12 months, USD 120.00",
/// "VISA •••• 4242", "wrong password"; empty when the action says it all.
pub fn operation_detail(detail: &OperationDetail) -> String {
    let device =
        |user_agent: &Option<String>| shared::device::describe(user_agent.as_deref()).label();
    match detail {
        OperationDetail::None => String::new(),
        OperationDetail::SignIn {
            user_agent,
            two_step,
        } => {
            if *two_step {
                format!("{}, with a two-step code", device(user_agent))
            } else {
                device(user_agent)
            }
        }
        OperationDetail::SignInRefused { reason } => match reason {
            SignInRefusal::WrongPassword => "wrong password",
            SignInRefusal::WrongTwoStepCode => "wrong two-step code",
        }
        .to_owned(),
        OperationDetail::PasswordReset { channel } => {
            let by = match channel {
                Channel::Email => "email",
                Channel::Phone => "phone",
            };
            format!("by {by} code; every session signed out")
        }
        OperationDetail::Session { user_agent } => device(user_agent),
        OperationDetail::OtherSessions { count: 1 } => "1 other session".to_owned(),
        OperationDetail::OtherSessions { count } => format!("{count} other sessions"),
        OperationDetail::RamUserCreated { name, permissions } => {
            if permissions.is_empty() {
                format!("{name} (no permissions)")
            } else {
                let names: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
                format!("{name} ({})", names.join(", "))
            }
        }
        OperationDetail::RamUser { name } => name.clone(),
        OperationDetail::PaymentMethod { method } => logged_method(method),
        OperationDetail::BillingAddress { country } => shared::country::Country::parse(country)
            .map_or_else(|_| country.clone(), |c| c.name().to_owned()),
        OperationDetail::Subscription {
            instance,
            product,
            months: n,
            price,
        } => format!("{instance}: {product} for {}, {price}", months(*n)),
        OperationDetail::PayAsYouGo { instance, product } => {
            format!("{instance}: {product}, pay-as-you-go")
        }
        OperationDetail::Renewal {
            instance,
            months: n,
            price,
        } => format!("{instance}: {}, {price}", months(*n)),
        OperationDetail::Unsubscribed { instances, refund } => {
            format!("{}: refund {refund}", instances.join(", "))
        }
        OperationDetail::RenewalsCancelled { renewals } => renewals
            .iter()
            .map(|r| {
                format!(
                    "{}: renewals not yet in effect, refund {}",
                    r.instance, r.refund
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        OperationDetail::Withdrawal { amount, to } => {
            format!("{amount} to {}", logged_method(to))
        }
        OperationDetail::Amount { amount } => amount.to_string(),
        OperationDetail::Dispute {
            amount,
            reason,
            dispute,
        } => {
            let what = amount.map_or_else(|| "A payment".to_owned(), |a| a.to_string());
            let why = reason
                .as_deref()
                .map(|r| format!(" ({})", r.replace('_', " ")))
                .unwrap_or_default();
            format!("{what} disputed{why}, dispute {dispute}")
        }
        OperationDetail::Identity { method } => match method {
            IdentityMethod::SmsCode => "by SMS code",
            IdentityMethod::Authenticator => "by authenticator app",
            IdentityMethod::Alipay => "by Alipay",
        }
        .to_owned(),
        OperationDetail::ItemsRenounced { items } => items
            .iter()
            .map(|&kind| blocking_kind(kind))
            .collect::<Vec<_>>()
            .join(", "),
        OperationDetail::CoolDown { until } => format!("cool-down until {}", date_time(until)),
        OperationDetail::Legacy { text } => text.clone(),
    }
}

/// `1000` → `1,000`.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn refunds_are_worded_by_where_they_go() {
        let card = RefundPlace {
            destination: RefundDestination::Card,
            method_label: Some("VISA •••• 1111".into()),
        };
        let balance = RefundPlace {
            destination: RefundDestination::Balance,
            method_label: None,
        };
        assert_eq!(refund_places(&[]), "No refund");
        assert_eq!(
            refund_places(&[card, balance]),
            "Bank card VISA •••• 1111; Account balance"
        );
    }

    /// A closure check item of `kind` about `subjects`, with no amounts.
    pub(crate) fn item(kind: BlockingKind, severity: Severity, subjects: &[&str]) -> CheckItem {
        CheckItem {
            key: "k".into(),
            kind,
            severity,
            resolve_path: "/".into(),
            count: subjects.len() as u32,
            amount: None,
            amount_cny: None,
            totals: Vec::new(),
            role: None,
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn check_items_are_counted_in_the_singular_and_plural() {
        let one = item(BlockingKind::IcpFilings, Severity::MustProcess, &["f-1"]);
        let two = item(
            BlockingKind::IcpFilings,
            Severity::MustProcess,
            &["f-1", "f-2"],
        );
        assert_eq!(check_item_title(&one), "1 ICP filing");
        assert_eq!(check_item_title(&two), "2 ICP filings");
    }

    #[test]
    fn overdue_payments_name_every_currency_and_their_limit() {
        let mut overdue = item(
            BlockingKind::OverduePayments,
            Severity::MustProcess,
            &["b-1"],
        );
        overdue.totals = vec![
            Money::from_minor(5_00, shared::money::Currency::USD),
            Money::from_minor(35_50, shared::money::Currency::CNY),
        ];
        assert_eq!(
            check_item_title(&overdue),
            "Overdue payments: USD 5.00 and CNY 35.50"
        );
        assert_eq!(
            check_item_guidance(&overdue),
            "Pay the overdue bills: they are over 10 CNY."
        );
        let mut balance = item(BlockingKind::CashBalance, Severity::Renounceable, &[]);
        balance.amount = Some(Money::from_minor(50_00, shared::money::Currency::USD));
        assert_eq!(check_item_title(&balance), "Account balance: USD 50.00");
        assert!(check_item_guidance(&balance).contains("1,000 CNY or less"));
    }

    #[test]
    fn a_relationship_is_worded_by_the_account_s_side_of_it() {
        let mut tie = item(
            BlockingKind::ResourceDirectory,
            Severity::MustProcess,
            &["r-1"],
        );
        tie.role = Some(RelationshipRole::Administrator);
        assert_eq!(check_item_title(&tie), "Resource directory (administrator)");
        assert_eq!(
            check_item_guidance(&tie),
            "Close the resource directory first, then close the account."
        );
        use strum::VariantArray;
        for &kind in RelationshipKind::VARIANTS {
            for role in [RelationshipRole::Administrator, RelationshipRole::Member] {
                assert!(!relationship_guidance(kind, role).is_empty());
            }
        }
    }

    #[test]
    fn a_failed_closure_names_its_overdue_totals_when_it_kept_them() {
        let usd = Money::from_minor(2, shared::money::Currency::USD);
        assert_eq!(
            closure_failure(&ClosureFailure { overdue: vec![usd] }),
            "The closure failed: new overdue payments of USD 0.02 appeared during the cool-down \
             (delayed usage billing). Your account is restored. Pay the overdue bills, then start \
             the closure again."
        );
        let kept_none = closure_failure(&ClosureFailure { overdue: vec![] });
        assert!(kept_none.starts_with("The closure failed: new overdue payments appeared"));
    }

    #[test]
    fn operation_details_are_worded_from_their_facts() {
        use shared::api::{LoggedPaymentMethod, OperationDetail, PaymentMethodKind};
        use shared::payment::CardBrand;
        let usd = |a: &str| Money::new(a.parse().unwrap(), shared::money::Currency::USD);
        let visa = LoggedPaymentMethod {
            kind: PaymentMethodKind::Card,
            brand: Some(CardBrand::Visa),
            last4: Some("4242".to_owned()),
        };
        assert_eq!(
            operation_detail(&OperationDetail::Withdrawal {
                amount: usd("5.00"),
                to: visa,
            }),
            "USD 5.00 to VISA •••• 4242"
        );
        assert_eq!(
            operation_detail(&OperationDetail::Renewal {
                instance: "i-1".to_owned(),
                months: 1,
                price: usd("10"),
            }),
            "i-1: 1 month, USD 10.00"
        );
        assert_eq!(
            operation_detail(&OperationDetail::OtherSessions { count: 3 }),
            "3 other sessions"
        );
        assert_eq!(
            operation_detail(&OperationDetail::ItemsRenounced {
                items: vec![BlockingKind::OverduePayments, BlockingKind::CashBalance],
            }),
            "overdue payments, account balance"
        );
        assert_eq!(
            operation_detail(&OperationDetail::Legacy {
                text: "Chrome on macOS".to_owned()
            }),
            "Chrome on macOS"
        );
        assert_eq!(operation_detail(&OperationDetail::None), "");
    }

    #[test]
    fn limits_are_grouped_by_thousands() {
        assert_eq!(grouped(10), "10");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
