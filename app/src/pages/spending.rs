//! `/spending`: spend and refund history. Monthly spend and refunds as a bar chart
//! (inline SVG, drawn here: no chart library) with the same figures in a table beside it for
//! screen readers and for reading exact amounts, and the CSV export of bills, orders and refunds.

use crate::api;
use crate::components::{Loading, date::month_year, load_failed, money, set_title};
use leptos::prelude::*;
use shared::api::{SpendMonth, SpendingView};

#[component]
pub fn SpendingPage() -> impl IntoView {
    set_title("Spend history");
    let view = LocalResource::new(api::spending);
    view! {
        <h1>"Spend history"</h1>
        <p class="lead">
            "What you paid for orders and usage bills each month, and what was refunded to you."
        </p>
        <p>
            // A file from the server, not a page of the app: the router leaves it alone.
            <a class="button" href="/api/spending/export.csv" download="account-center-spending.csv" rel="external">
                "Download CSV (bills, orders, refunds)"
            </a>
        </p>
        <Transition fallback=|| view! { <Loading what="your spending" /> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    view.await.map(|loaded| view! { <Spending loaded /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Spending(loaded: SpendingView) -> impl IntoView {
    if loaded.months.is_empty() {
        return view! { <p class="panel">"Nothing spent or refunded yet."</p> }.into_any();
    }
    // The chart shows the currency of the latest month (the account's); the table shows all.
    let currency = loaded.months.last().map(|m| m.spent.currency);
    let charted: Vec<SpendMonth> = loaded
        .months
        .iter()
        .filter(|m| Some(m.spent.currency) == currency)
        .cloned()
        .collect();
    let rows = loaded
        .months
        .iter()
        .rev()
        .map(|m| {
            view! {
                <tr>
                    <th scope="row">{month_year(&m.month)}</th>
                    <td class="amount">{money(&m.spent)}</td>
                    <td class="amount">{money(&m.refunded)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel spend-chart-panel" aria-labelledby="spend-chart-heading">
            <h2 id="spend-chart-heading">"By month"</h2>
            <Chart months=charted />
        </section>
        <section class="panel" aria-labelledby="spend-table-heading">
            <h2 id="spend-table-heading">"Monthly spend and refunds"</h2>
            <table class="data-table spend-table">
                <thead>
                    <tr>
                        <th scope="col">"Month"</th>
                        <th scope="col" class="amount">"Spent"</th>
                        <th scope="col" class="amount">"Refunded"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 28.0;

/// The heights of the bars, as a share of the tallest (pixels only: amounts are shown as text).
fn share(amount: &shared::money::Money, max: f64) -> f64 {
    let value: f64 = amount.amount.to_string().parse().unwrap_or(0.0);
    if max <= 0.0 {
        0.0
    } else {
        (value / max).clamp(0.0, 1.0)
    }
}

#[component]
fn Chart(months: Vec<SpendMonth>) -> impl IntoView {
    // The last 12 months with activity.
    let months: Vec<SpendMonth> = months.iter().rev().take(12).rev().cloned().collect();
    // The tallest bar's amount tops the scale.
    let top = months
        .iter()
        .flat_map(|m| [m.spent, m.refunded])
        .max_by(|a, b| a.amount.cmp(&b.amount));
    let max_f: f64 = top.map_or(0.0, |m| m.amount.to_string().parse().unwrap_or(0.0));
    let slot = WIDTH / months.len().max(1) as f64;
    let bar = (slot * 0.32).min(36.0);
    let plot = HEIGHT - TOP - BOTTOM;
    let summary = months
        .iter()
        .map(|m| {
            format!(
                "{}: spent {}, refunded {}",
                month_year(&m.month),
                money(&m.spent),
                money(&m.refunded)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let bars = months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let x = slot * i as f64 + slot / 2.0;
            let spent_h = plot * share(&m.spent, max_f);
            let refund_h = plot * share(&m.refunded, max_f);
            let label = month_year(&m.month);
            view! {
                <g>
                    <rect class="bar-spent" x=x - bar - 1.0 y=TOP + plot - spent_h width=bar height=spent_h>
                        <title>{format!("{label}: spent {}", money(&m.spent))}</title>
                    </rect>
                    <rect class="bar-refund" x=x + 1.0 y=TOP + plot - refund_h width=bar height=refund_h>
                        <title>{format!("{label}: refunded {}", money(&m.refunded))}</title>
                    </rect>
                    <text class="axis-label" x=x y=HEIGHT - 8.0 text-anchor="middle">{label}</text>
                </g>
            }
        })
        .collect_view();
    let top_label = top.map(|m| money(&m)).unwrap_or_default();
    view! {
        <figure class="spend-chart">
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-labelledby="spend-chart-title"
                aria-describedby="spend-chart-desc"
            >
                <title id="spend-chart-title">"Monthly spend and refunds"</title>
                <desc id="spend-chart-desc">{summary}</desc>
                <line class="axis" x1="0" x2=WIDTH y1=TOP + plot y2=TOP + plot />
                <line class="grid" x1="0" x2=WIDTH y1=TOP y2=TOP />
                <text class="axis-label" x="4" y=TOP - 4.0>{top_label}</text>
                {bars}
            </svg>
            <figcaption class="chart-legend">
                <span class="legend-spent">"Spent"</span>
                <span class="legend-refund">"Refunded"</span>
            </figcaption>
        </figure>
    }
}
