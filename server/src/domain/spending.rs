//! Spend and refund history: the account's orders, usage bills and refunds as one
//! list of rows, totalled by month for the chart and written out as CSV. Every query is scoped
//! to the account asking.

use crate::clock::{Millis, rfc3339};
use crate::db::Db;
use crate::domain::purchase::OrderKind;
use crate::domain::refund::RefundStatus;
use crate::error::ApiError;
use crate::tables::{bills, orders, refunds};
use shared::api::{BillStatus, OrderStatus, SpendMonth, SpendingView};
use shared::money::Money;
use std::collections::BTreeMap;

/// One bill, order or refund.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub status: Status,
    pub id: String,
    /// When it was paid (bill, order) or made (refund); a bill not yet paid is dated by when
    /// it is due.
    pub at: Millis,
    pub description: String,
    pub amount: Money,
}

/// What a row is, with its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Bill(BillStatus),
    Order(OrderStatus),
    Refund(RefundStatus),
}

impl Status {
    /// `bill`, `order` or `refund`.
    pub fn kind(self) -> &'static str {
        match self {
            Status::Bill(_) => "bill",
            Status::Order(_) => "order",
            Status::Refund(_) => "refund",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Bill(s) => s.as_str(),
            Status::Order(s) => s.as_str(),
            Status::Refund(s) => s.as_str(),
        }
    }
}

/// The account's bills, orders and refunds, oldest first.
pub async fn rows(db: &Db, account_id: &str) -> Result<Vec<Row>, ApiError> {
    let bills = bills::of_account(db, account_id).await?;
    let orders = orders::spent(db, account_id).await?;
    let refunds = refunds::spent(db, account_id).await?;

    let mut rows = Vec::with_capacity(bills.len() + orders.len() + refunds.len());
    for spent in bills {
        let b = spent.bill;
        rows.push(Row {
            status: Status::Bill(b.status.0),
            amount: b.amount(),
            at: spent.paid_at.unwrap_or(b.due_at),
            id: b.id,
            description: b.description,
        });
    }
    for o in orders {
        let what = match o.kind.0 {
            OrderKind::Renewal => "renewal",
            OrderKind::New => "new purchase",
        };
        rows.push(Row {
            status: Status::Order(o.status.0),
            id: o.id,
            at: o.paid_at,
            description: format!("{} ({what})", o.product),
            amount: Money::from_minor(o.cash_minor + o.credit_minor, o.currency.0),
        });
    }
    for r in refunds {
        rows.push(Row {
            status: Status::Refund(r.status.0),
            id: r.id,
            at: r.created_at,
            description: format!(
                "Refund of order {} to {}",
                r.order_id,
                r.destination.0.as_str()
            ),
            amount: Money::from_minor(r.amount_minor, r.currency.0),
        });
    }
    rows.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    Ok(rows)
}

/// Month by month (UTC), per currency: paid orders and paid bills as spend, refunds as refunds.
/// An unpaid bill is not spend yet; an unsubscribed order was still paid (its refund is shown
/// as a refund, not netted away).
pub fn by_month(rows: &[Row]) -> SpendingView {
    let mut months: BTreeMap<(String, &'static str), (Money, Money)> = BTreeMap::new();
    for row in rows {
        if matches!(row.status, Status::Bill(s) if s != BillStatus::Paid) {
            continue;
        }
        let month = rfc3339(row.at)[..7].to_owned();
        let currency = row.amount.currency;
        let zero = Money::from_minor(0, currency);
        let (spent, refunded) = months
            .entry((month, currency.code()))
            .or_insert((zero, zero));
        let total = if matches!(row.status, Status::Refund(_)) {
            refunded
        } else {
            spent
        };
        total.amount += row.amount.amount;
    }
    SpendingView {
        months: months
            .into_iter()
            .map(|((month, _), (spent, refunded))| SpendMonth {
                month,
                spent,
                refunded,
            })
            .collect(),
    }
}

/// The rows as CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote or
/// a line break), with a header line. A field that a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@` first) is prefixed with `'`, except the signed amounts, which are numbers.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from("type,id,date,description,amount,currency,status\r\n");
    for row in rows {
        let amount = row.amount.to_string(); // "USD 12.30"
        let amount = amount.split_once(' ').map_or(amount.as_str(), |(_, a)| a);
        let fields = [
            text_field(row.status.kind()),
            text_field(&row.id),
            text_field(&rfc3339(row.at)),
            text_field(&row.description),
            amount.to_owned(),
            text_field(row.amount.currency.code()),
            text_field(row.status.as_str()),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

fn text_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::DurationMs;
    use shared::money::Currency;

    fn row(status: Status, at: Millis, minor: i64) -> Row {
        Row {
            status,
            id: format!("{}-{}", status.kind(), at.0),
            at,
            description: "ECS, 1 \"month\"".into(),
            amount: Money::from_minor(minor, Currency::USD),
        }
    }

    #[test]
    fn months_total_paid_spend_and_refunds() {
        let day = DurationMs::days(1);
        // 2026-11-01 and 2026-12-01 (UTC).
        let nov = Millis(1_793_491_200_000);
        let dec = nov + DurationMs::days(30);
        let view = by_month(&[
            row(Status::Order(OrderStatus::Paid), nov, 60_00),
            row(Status::Bill(BillStatus::Paid), nov + day, 5_00),
            row(
                Status::Bill(BillStatus::Unpaid),
                nov + DurationMs::days(2),
                7_00,
            ),
            row(Status::Refund(RefundStatus::Refunded), dec, 35_00),
            row(Status::Order(OrderStatus::Unsubscribed), dec + day, 20_00),
        ]);
        assert_eq!(view.months.len(), 2);
        assert_eq!(view.months[0].month, "2026-11");
        assert_eq!(
            view.months[0].spent,
            Money::from_minor(65_00, Currency::USD)
        );
        assert_eq!(view.months[0].refunded, Money::from_minor(0, Currency::USD));
        assert_eq!(view.months[1].month, "2026-12");
        assert_eq!(
            view.months[1].spent,
            Money::from_minor(20_00, Currency::USD)
        );
        assert_eq!(
            view.months[1].refunded,
            Money::from_minor(35_00, Currency::USD)
        );
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let mut formula = row(Status::Order(OrderStatus::Paid), Millis(0), 1_234_56);
        formula.description = "=HYPERLINK(\"x\")".into();
        let text = csv(&[
            row(Status::Bill(BillStatus::Paid), Millis(0), 5_00),
            formula,
        ]);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "type,id,date,description,amount,currency,status");
        assert_eq!(
            lines[1],
            "bill,bill-0,1970-01-01T00:00:00Z,\"ECS, 1 \"\"month\"\"\",5.00,USD,paid"
        );
        assert_eq!(
            lines[2],
            "order,order-0,1970-01-01T00:00:00Z,\"'=HYPERLINK(\"\"x\"\")\",1234.56,USD,paid"
        );
        assert_eq!(lines[3], "");
    }
}
