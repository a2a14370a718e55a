//! One closure check as lists: what must be processed (with what to do and a link to where),
//! and what may be renounced with the account.

use crate::components::{money, unique_id};
use crate::words::{self, grouped};
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

/// "3 items must be processed, 2 can be renounced": the check in one line.
pub fn summary(must: usize, renounceable: usize) -> String {
    let items = |n: usize| format!("{n} item{}", if n == 1 { "" } else { "s" });
    match (must, renounceable) {
        (0, 0) => "Nothing must be processed or renounced.".to_owned(),
        (0, r) => format!("Nothing must be processed; {} can be renounced.", items(r)),
        (m, 0) => format!("{} must be processed.", items(m)),
        (m, r) => format!("{} must be processed, {r} can be renounced.", items(m)),
    }
}

/// The check's count summary, in the error style while something must be processed and in
/// the warning style while something can still be renounced; nothing when nothing is listed.
#[component]
pub fn CheckSummary(must: usize, renounceable: usize) -> impl IntoView {
    // With nothing listed, the "Passed" line says it all.
    let class = match (must, renounceable) {
        (0, 0) => return None,
        (0, _) => "check-summary item-warning",
        _ => "check-summary item-error",
    };
    Some(view! { <p class=class>{summary(must, renounceable)}</p> })
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
                        <li class="check-item item-error">
                            <div class="check-item-main">
                                <p class="check-item-title" id=title_id.clone()>
                                    <span class="badge badge-error">"Must process"</span>
                                    " "
                                    {words::check_item_title(&item)}
                                </p>
                                <p class="muted">{words::check_item_guidance(&item)}</p>
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
                        <li class="check-item item-warning">
                            <div class="check-item-main">
                                <p class="check-item-title">{words::check_item_title(&item)}</p>
                                <p class="muted">{words::check_item_guidance(&item)}</p>
                                {amount.map(|a| view! { <p class="muted amount-rule">{a}</p> })}
                            </div>
                            <span class="badge badge-warning">"Renounceable"</span>
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
        <CheckSummary must=must.len() renounceable=renounceable.len() />
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
    use super::summary;

    #[test]
    fn the_summary_counts_both_kinds() {
        assert_eq!(
            summary(3, 2),
            "3 items must be processed, 2 can be renounced."
        );
        assert_eq!(summary(1, 0), "1 item must be processed.");
        assert_eq!(
            summary(0, 1),
            "Nothing must be processed; 1 item can be renounced."
        );
        assert_eq!(summary(0, 0), "Nothing must be processed or renounced.");
    }
}
