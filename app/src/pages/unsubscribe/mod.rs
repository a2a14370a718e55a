//! Orders & Unsubscribe (SPEC §5, seed 002): `/unsubscribe` with its three tabs (resources,
//! renewals that have not taken effect, the history), filters and pages in the address bar;
//! `/unsubscribe/review/:instance_id` to unsubscribe one resource; and
//! `/unsubscribe/records/:id` for one record's details.

mod batch;
mod copy_id;
mod filters;
mod outcome;
mod records;
mod renewals;
mod resources;
mod review;

pub use records::RecordPage;
pub use review::ReviewPage;

use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    FormErrors, Loading, load_failed, money, retryable_action, set_title, use_reauth,
};
use crate::words::REFUND_RULE;
use filters::Filters;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use outcome::Outcome;
use shared::api::{
    Permission, ResourceSort, SortDirection, UnsubscribableResource, UnsubscribeQuery,
    UnsubscribeTab, Unsubscribed,
};
use shared::money::Money;
use shared::refund::{RefundType, ResourceKind};
use strum::VariantArray;

const PAGE_SIZE: u32 = 20;

const TABS: [(UnsubscribeTab, &str, &str); 3] = [
    (UnsubscribeTab::Resource, "resource", "Unsubscribe Resource"),
    (
        UnsubscribeTab::Renewal,
        "renewal",
        "Unsubscribe Renewal That Does Not Take Effect",
    ),
    (
        UnsubscribeTab::Records,
        "records",
        "Unsubscribe Order Details",
    ),
];

fn tab_key(tab: UnsubscribeTab) -> &'static str {
    TABS.iter()
        .find(|(t, _, _)| *t == tab)
        .map_or("resource", |(_, k, _)| k)
}

/// The page's address for a query: what the tabs, filters and pager navigate to.
pub fn url_of(query: &UnsubscribeQuery) -> String {
    let mut parts = vec![format!("tab={}", tab_key(query.tab))];
    let mut push = |key: &str, value: &Option<String>| {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{key}={}", encode(v)));
        }
    };
    push("product", &query.product);
    push("instance_id", &query.instance_id);
    push("order_from", &query.order_from);
    push("order_to", &query.order_to);
    if query.tab == UnsubscribeTab::Resource {
        if query.kind == Some(ResourceKind::ResourcePlan) {
            parts.push("kind=resource_plan".to_owned());
        }
        if let Some(t) = query.refund_type {
            parts.push(format!("refund_type={}", t.as_str()));
        }
        if let Some(a) = query.activated {
            parts.push(format!("activated={a}"));
        }
        if let Some(sort) = query.sort {
            parts.push(format!("sort={}", sort.as_str()));
        }
        if let Some(direction) = query.direction {
            parts.push(format!("direction={}", direction.as_str()));
        }
    }
    if let Some(page) = query.page.filter(|p| *p > 1) {
        parts.push(format!("page={page}"));
    }
    format!("/unsubscribe?{}", parts.join("&"))
}

fn refund_type_of(key: &str) -> Option<RefundType> {
    RefundType::VARIANTS
        .iter()
        .copied()
        .find(|t| t.as_str() == key)
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn UnsubscribePage() -> impl IntoView {
    set_title("Orders & unsubscribe");
    let query_map = use_query_map();
    let navigate = use_navigate();
    let query = Memo::new(move |_| {
        query_map.with(|q| {
            let text = |key: &str| q.get(key).filter(|v| !v.is_empty());
            let tab = match q.get("tab").as_deref() {
                Some("renewal") => UnsubscribeTab::Renewal,
                Some("records") => UnsubscribeTab::Records,
                _ => UnsubscribeTab::Resource,
            };
            let resource_tab = tab == UnsubscribeTab::Resource;
            UnsubscribeQuery {
                tab,
                // The seed's first tab, Regular Cloud Resource, unless Resource Plans is chosen.
                kind: resource_tab.then(|| match q.get("kind").as_deref() {
                    Some("resource_plan") => ResourceKind::ResourcePlan,
                    _ => ResourceKind::RegularCloudResource,
                }),
                refund_type: q
                    .get("refund_type")
                    .and_then(|t| refund_type_of(&t))
                    .filter(|_| resource_tab),
                activated: match q.get("activated").as_deref() {
                    Some("true") if resource_tab => Some(true),
                    Some("false") if resource_tab => Some(false),
                    _ => None,
                },
                sort: q
                    .get("sort")
                    .and_then(|s| ResourceSort::parse(&s))
                    .filter(|_| resource_tab),
                direction: q
                    .get("direction")
                    .and_then(|d| SortDirection::parse(&d))
                    .filter(|_| resource_tab),
                product: text("product"),
                instance_id: text("instance_id"),
                order_from: text("order_from"),
                order_to: text("order_to"),
                page: q.get("page").and_then(|p| p.parse().ok()),
                page_size: Some(PAGE_SIZE),
            }
        })
    });
    // Bumped after an unsubscription: the same query, loaded again.
    let reload = RwSignal::new(0u32);
    // What the last unsubscription did; kept here, above the list it reloads.
    let outcome = RwSignal::new(None::<(&'static str, Unsubscribed)>);
    // The batch being chosen: kept across pages and filters until it is unsubscribed.
    let selected = RwSignal::new(Vec::<UnsubscribableResource>::new());
    // The renewals chosen for Batch Refund/Renew: kept across pages like the batch above.
    let renewal_batch = RwSignal::new(Vec::<renewals::ChosenRenewals>::new());
    // The sort button last pressed: the reloaded table gives it the focus back.
    let sort_focus = RwSignal::new(None::<ResourceSort>);
    let list = LocalResource::new(move || {
        reload.track();
        let q = query.get();
        async move { api::unsubscribe_list(&q).await }
    });
    let go =
        Callback::new(move |q: UnsubscribeQuery| navigate(&url_of(&q), NavigateOptions::default()));
    let tab = Memo::new(move |_| query.with(|q| q.tab));
    // Another tab: the last outcome belonged to the one left.
    Effect::new(move |previous: Option<UnsubscribeTab>| {
        let now = tab.get();
        if previous.is_some_and(|p| p != now) {
            outcome.set(None);
        }
        now
    });

    view! {
        <h1>"Orders & unsubscribe"</h1>
        <RamNotice />
        <Tabs tab go query />
        {move || outcome.get().map(|(title, result)| view! { <Outcome result title /> })}
        <div
            role="tabpanel"
            id="unsubscribe-panel"
            aria-labelledby=move || format!("tab-{}", tab_key(tab.get()))
        >
            <details class="panel rule">
                <summary>"Refund rule"</summary>
                <p>{REFUND_RULE}</p>
                <p class="muted">
                    "Refunds go back to a bank card within 150 days of payment, to PayPal within 180 days, and otherwise to your account balance. They show as Processing until they arrive, which can take up to 30 business days."
                </p>
            </details>
            <Filters query go />
            <Transition fallback=|| view! { <Loading what="your orders" /> }>
                <ErrorBoundary fallback=load_failed>
                    {move || Suspend::new(async move {
                        list.await.map(|list| {
                            let pager = view! { <Pager total=list.total page=list.page page_size=list.page_size query go /> };
                            let body = match list.tab {
                                UnsubscribeTab::Resource => view! { <resources::ResourceTab list query go selected reload outcome sort_focus /> }.into_any(),
                                UnsubscribeTab::Renewal => view! { <renewals::RenewalTab list reload outcome batch=renewal_batch /> }.into_any(),
                                UnsubscribeTab::Records => view! { <records::RecordsTab list /> }.into_any(),
                            };
                            view! { {body} {pager} }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

/// A RAM user without BillingFullAccess may look but not unsubscribe: said before they try.
#[component]
fn RamNotice() -> impl IntoView {
    let auth = use_auth();
    move || {
        auth.ram_user()
            .filter(|u| !u.permissions.contains(&Permission::BillingFullAccess))
            .map(|_| view! {
                <p class="notice">
                    "You are signed in as a RAM user without the BillingFullAccess permission: you can see orders, but unsubscribing needs that permission. Ask the account owner to grant it."
                </p>
            })
    }
}

/// The three tabs, as an ARIA tab list: arrow keys move between them.
#[component]
fn Tabs(
    tab: Memo<UnsubscribeTab>,
    go: Callback<UnsubscribeQuery>,
    query: Memo<UnsubscribeQuery>,
) -> impl IntoView {
    let select = move |t: UnsubscribeTab| {
        if t == tab.get_untracked() {
            return;
        }
        // A new tab starts at its first page with the same filters.
        go.run(UnsubscribeQuery {
            tab: t,
            page: None,
            ..query.get_untracked()
        });
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let index = TABS
            .iter()
            .position(|(t, _, _)| *t == tab.get_untracked())
            .unwrap_or(0);
        let next = match ev.key().as_str() {
            "ArrowRight" => (index + 1) % TABS.len(),
            "ArrowLeft" => (index + TABS.len() - 1) % TABS.len(),
            "Home" => 0,
            "End" => TABS.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        select(TABS[next].0);
        crate::components::form_errors::focus_element(&format!("tab-{}", TABS[next].1));
    };
    view! {
        <div class="tab-strip" role="tablist" aria-label="Orders" on:keydown=on_keydown>
            {TABS
                .iter()
                .map(|(t, key, label)| {
                    let t = *t;
                    let selected = move || tab.get() == t;
                    view! {
                        <button
                            type="button"
                            role="tab"
                            class="tab"
                            id=format!("tab-{key}")
                            aria-controls="unsubscribe-panel"
                            aria-selected=move || if selected() { "true" } else { "false" }
                            tabindex=move || if selected() { "0" } else { "-1" }
                            on:click=move |_| select(t)
                        >
                            {*label}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

#[component]
fn Pager(
    total: u32,
    page: u32,
    page_size: u32,
    query: Memo<UnsubscribeQuery>,
    go: Callback<UnsubscribeQuery>,
) -> impl IntoView {
    let pages = total.div_ceil(page_size.max(1)).max(1);
    if pages <= 1 {
        return ().into_any();
    }
    let to = move |p: u32| {
        go.run(UnsubscribeQuery {
            page: Some(p),
            ..query.get_untracked()
        })
    };
    view! {
        <nav class="pager" aria-label="Pages">
            <button type="button" class="button" disabled={page <= 1} on:click=move |_| to(page - 1)>
                "Previous page"
            </button>
            <span aria-live="polite">{format!("Page {page} of {pages} · {total} in all")}</span>
            <button type="button" class="button" disabled={page >= pages} on:click=move |_| to(page + 1)>
                "Next page"
            </button>
        </nav>
    }
    .into_any()
}

/// The action a checked form that takes money back (an unsubscription, a cancelled renewal)
/// is dispatched to, with a new Idempotency-Key per submission, on every page of this flow:
/// `send` posts the form under its key; the account is refreshed (its balance changed) and the
/// answer goes to `done` with the form; a refusal shows in `errors`, and one asking for the
/// password again sends the same form under the same key once it is given, so nothing is
/// refunded twice.
fn money_back<Form, Fut>(
    errors: FormErrors,
    send: impl Fn(Form, Option<String>, IdempotencyKey) -> Fut + Copy + 'static,
    done: impl Fn(&Form, Unsubscribed) + Copy + 'static,
) -> Action<(Form, IdempotencyKey), ()>
where
    Form: Clone + 'static,
    Fut: Future<Output = api::ApiResult<Unsubscribed>> + 'static,
{
    let auth = use_auth();
    let reauth = use_reauth();
    retryable_action(
        move |(form, key): (Form, IdempotencyKey), this| async move {
            match send(form.clone(), auth.csrf(), key.clone()).await {
                Ok(answer) => {
                    auth.refresh();
                    done(&form, answer);
                }
                Err(e) => reauth.handle(&e, errors, move || {
                    this.dispatch_local((form, key));
                }),
            }
        },
    )
}

/// A dialog's "Total refund" line: the sum of the refunds it lists, empty when they mix
/// currencies (never one figure added across them).
fn total_refund(refunds: impl IntoIterator<Item = Money>) -> AnyView {
    let total = Money::total(refunds);
    view! {
        <p class="amount-large">
            {total.map(|t| format!("Total refund {}", money(&t))).unwrap_or_default()}
        </p>
    }
    .into_any()
}
