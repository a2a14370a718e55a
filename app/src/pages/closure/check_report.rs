//! One closure check as lists: what must be processed (with what to do and a link to where),
//! and what may be renounced with the account.

use crate::components::{money, unique_id};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::closure::{BALANCE_LIMIT_CNY, BlockingKind, CheckItem, OVERDUE_LIMIT_CNY};

/// The amount of a balance or overdue item, beside the rule it was measured by (STYLE: the
/// rule next to the figure it produced).
pub fn amount_line(item: &CheckItem) -> Option<String> {
    let amount = item.amount.as_ref()?;
    let limit = match item.kind {
        BlockingKind::OverduePayments => OVERDUE_LIMIT_CNY,
        BlockingKind::CashBalance => BALANCE_LIMIT_CNY,
        _ => return Some(money(amount)),
    };
    let limit = format!("{} CNY", grouped(limit));
    Some(match &item.amount_cny {
        Some(cny) if cny.currency != amount.currency => format!(
            "{} (CNY {} at today's rate); the limit for renouncing is {limit}.",
            money(amount),
            cny.amount
        ),
        _ => format!("{}; the limit for renouncing is {limit}.", money(amount)),
    })
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

/// "You must process": each item with its guidance and a Process link to the page that
/// resolves it.
#[component]
pub fn MustProcessList(items: Vec<CheckItem>) -> impl IntoView {
    view! {
        <ul class="check-items">
            {items
                .into_iter()
                .map(|item| {
                    let title_id = unique_id("must");
                    let amount = amount_line(&item);
                    view! {
                        <li class="check-item">
                            <div class="check-item-main">
                                <p class="check-item-title" id=title_id.clone()>{item.title.clone()}</p>
                                <p class="muted">{item.guidance.clone()}</p>
                                {amount.map(|a| view! { <p class="muted amount-rule">{a}</p> })}
                            </div>
                            <A href=item.resolve_path.clone() attr:class="button" attr:aria-describedby=title_id>
                                "Process"
                            </A>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The renounceable items, read only (the closure flow shows them with checkboxes).
#[component]
pub fn RenounceableList(items: Vec<CheckItem>) -> impl IntoView {
    view! {
        <ul class="check-items">
            {items
                .into_iter()
                .map(|item| {
                    let amount = amount_line(&item);
                    view! {
                        <li class="check-item">
                            <div class="check-item-main">
                                <p class="check-item-title">{item.title.clone()}</p>
                                <p class="muted">{item.guidance.clone()}</p>
                                {amount.map(|a| view! { <p class="muted amount-rule">{a}</p> })}
                            </div>
                            <span class="badge">"Renounceable"</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The whole check: must-process items first, then renounceable ones, or word that nothing
/// stands in the way.
#[component]
pub fn CheckReport(check: shared::closure::ClosureCheck) -> impl IntoView {
    let must: Vec<CheckItem> = check.must_process().cloned().collect();
    let renounceable: Vec<CheckItem> = check.renounceable().cloned().collect();
    let checked_at = crate::components::date::date_time(&check.checked_at);
    view! {
        {if must.is_empty() {
            view! {
                <p class="result-ok">
                    <span class="badge badge-success">"Passed"</span>
                    " Nothing must be processed: the account can be closed."
                </p>
            }
            .into_any()
        } else {
            view! {
                <h3>{format!("You must process ({})", must.len())}</h3>
                <p class="muted">"Process each item, then run the check again."</p>
                <MustProcessList items=must />
            }
            .into_any()
        }}
        {(!renounceable.is_empty()).then(|| view! {
            <h3>{format!("Renounceable ({})", renounceable.len())}</h3>
            <p class="muted">
                "These are given up with the account when you start deleting it: small balances are discarded, pay-as-you-go instances released."
            </p>
            <RenounceableList items=renounceable />
        })}
        <p class="muted small">"Checked " <time datetime=check.checked_at.clone()>{checked_at}</time> "."</p>
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn limits_are_grouped_by_thousands() {
        assert_eq!(grouped(10), "10");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
