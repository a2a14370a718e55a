//! The console's words for the facts the API sends (where a refund goes, a record's statuses,
//! the system check's phase): one catalog, so no page spells a fact its own way, and a second
//! language is one more file like this one.

use shared::api::{
    OrderStatus, RecordRefundStatus, RefundPlace, RelationshipRole, SystemCheckPhase,
    UnsubscribeScope,
};
use shared::refund::RefundDestination;

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

#[cfg(test)]
mod tests {
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
}
