//! The "Unsubscribe Resource" tab: the seed's Regular Cloud Resource and Resource Plans tabs,
//! the refund-type and activation groups as filters with their counts, and the running
//! subscriptions as a dense table the server sorts across pages (one compact row each on a
//! phone) with the refund each would get now; one at a time through the review page, or Partial Refund ones in a
//! batch of at most 50, chosen across pages.

use super::batch::BatchReview;
use super::copy_id::InstanceId;
use crate::api;
use crate::components::form_errors::focus_element;
use crate::components::{Modal, date::date_time, date::long_date, money};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{
    GroupCount, MAX_BATCH, ResourceSort, SortDirection, UnsubscribableResource, UnsubscribeList,
    UnsubscribeQuery, Unsubscribed,
};
use shared::refund::{RefundType, ResourceKind};

pub fn kind_label(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::RegularCloudResource => "Regular Cloud Resource",
        ResourceKind::ResourcePlan => "Resource Plan",
    }
}

/// The seed's two tabs inside Unsubscribe Resource, the first shown by default.
const KINDS: [(ResourceKind, &str, &str); 2] = [
    (
        ResourceKind::RegularCloudResource,
        "regular",
        "Regular Cloud Resource",
    ),
    (ResourceKind::ResourcePlan, "plans", "Resource Plans"),
];

fn sort_button_id(column: ResourceSort) -> String {
    format!("sort-{}", column.as_str())
}

/// The refund types each kind of resource can have (seed 002), in the seed's order.
fn refund_types(kind: ResourceKind) -> &'static [RefundType] {
    match kind {
        ResourceKind::RegularCloudResource => {
            &[RefundType::PartialRefund, RefundType::Nonrefundable]
        }
        ResourceKind::ResourcePlan => &[
            RefundType::UnactivatedSubscriptionRefund,
            RefundType::FullRefundForUnusedResources,
            RefundType::PartialRefund,
        ],
    }
}

/// How many of `groups` pass `query`'s filters once `change` has set one of them.
fn count(
    groups: &[GroupCount],
    query: &UnsubscribeQuery,
    change: impl Fn(&mut UnsubscribeQuery),
) -> u32 {
    let mut q = query.clone();
    change(&mut q);
    groups
        .iter()
        .filter(|g| g.matches(&q))
        .map(|g| g.count)
        .sum()
}

#[component]
pub fn ResourceTab(
    list: UnsubscribeList,
    query: Memo<UnsubscribeQuery>,
    go: Callback<UnsubscribeQuery>,
    selected: RwSignal<Vec<UnsubscribableResource>>,
    reload: RwSignal<u32>,
    outcome: RwSignal<Option<(&'static str, Unsubscribed)>>,
    sort_focus: RwSignal<Option<ResourceSort>>,
) -> impl IntoView {
    let batch_open = RwSignal::new(false);
    let q = query.get_untracked();
    let kind = q.kind.unwrap_or(ResourceKind::RegularCloudResource);
    let groups = StoredValue::new(list.groups.clone());
    let matching_partial = count(&list.groups, &q, |q| {
        q.kind = Some(kind);
        q.refund_type = Some(RefundType::PartialRefund);
    });
    let chosen = move || selected.get();
    view! {
        <KindTabs kind groups=list.groups.clone() query go />
        <div role="tabpanel" id="kind-panel" aria-labelledby=format!("kind-tab-{}", if kind == ResourceKind::ResourcePlan { "plans" } else { "regular" })>
            <GroupFilters kind groups query go />
            <BatchBar selected matching_partial query batch_open />
            <section class="panel table-panel" aria-labelledby="resources-heading">
                <h2 id="resources-heading" class="table-heading">
                    {format!("{} {}", list.total, if list.total == 1 { "resource" } else { "resources" })}
                </h2>
                {if list.resources.is_empty() {
                    view! { <p class="muted empty">"No running subscription matches."</p> }.into_any()
                } else {
                    view! { <ResourceTable resources=list.resources.clone() selected query go sort_focus /> }.into_any()
                }}
            </section>
        </div>
        <Modal
            open=batch_open
            on_close=move |_| batch_open.set(false)
            title="Batch Unsubscribe Resources"
        >
            <BatchReview
                resources=chosen()
                on_done=Callback::new(move |result: Option<Unsubscribed>| {
                    batch_open.set(false);
                    if let Some(result) = result {
                        selected.set(Vec::new());
                        outcome.set(Some(("Resources unsubscribed", result)));
                        reload.update(|n| *n += 1);
                    }
                })
            />
        </Modal>
    }
}

/// Regular Cloud Resource | Resource Plans, each with its count; arrow keys move between them.
#[component]
fn KindTabs(
    kind: ResourceKind,
    groups: Vec<GroupCount>,
    query: Memo<UnsubscribeQuery>,
    go: Callback<UnsubscribeQuery>,
) -> impl IntoView {
    let select = move |k: ResourceKind| {
        if k != kind {
            // The refund types and activation differ between the two: they start afresh.
            go.run(UnsubscribeQuery {
                kind: Some(k),
                refund_type: None,
                activated: None,
                page: None,
                ..query.get_untracked()
            });
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let next = match ev.key().as_str() {
            "ArrowRight" | "ArrowLeft" | "Home" | "End" => KINDS
                .iter()
                .find(|(k, _, _)| *k != kind)
                .map(|(k, key, _)| (*k, *key)),
            _ => None,
        };
        if let Some((k, key)) = next {
            ev.prevent_default();
            select(k);
            crate::components::form_errors::focus_element(&format!("kind-tab-{key}"));
        }
    };
    let q = query.get_untracked();
    view! {
        <div class="tab-strip tab-strip-sub" role="tablist" aria-label="Resource type" on:keydown=on_keydown>
            {KINDS
                .iter()
                .map(|(k, key, label)| {
                    let k = *k;
                    let n = count(&groups, &q, |q| {
                        q.kind = Some(k);
                        q.refund_type = None;
                        q.activated = None;
                    });
                    let selected = k == kind;
                    view! {
                        <button
                            type="button"
                            role="tab"
                            class="tab"
                            id=format!("kind-tab-{key}")
                            aria-controls="kind-panel"
                            aria-selected=if selected { "true" } else { "false" }
                            tabindex=if selected { "0" } else { "-1" }
                            on:click=move |_| select(k)
                        >
                            {*label}
                            " "
                            <span class="count">{n}</span>
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// The refund-type groups (and, for plans, activation) as toggles with their counts.
#[component]
fn GroupFilters(
    kind: ResourceKind,
    groups: StoredValue<Vec<GroupCount>>,
    query: Memo<UnsubscribeQuery>,
    go: Callback<UnsubscribeQuery>,
) -> impl IntoView {
    let q = query.get_untracked();
    let apply = move |change: &dyn Fn(&mut UnsubscribeQuery)| {
        let mut next = query.get_untracked();
        change(&mut next);
        next.kind = Some(kind);
        next.page = None;
        go.run(next);
    };
    let chip =
        move |label: String, n: u32, pressed: bool, change: Box<dyn Fn(&mut UnsubscribeQuery)>| {
            view! {
                <button
                    type="button"
                    class="chip"
                    aria-pressed=if pressed { "true" } else { "false" }
                    on:click=move |_| apply(&*change)
                >
                    {label}
                    " "
                    <span class="count">{n}</span>
                </button>
            }
        };
    let with_kind = move |q: &mut UnsubscribeQuery| q.kind = Some(kind);
    let refund_chips = {
        let q = q.clone();
        let all = groups.with_value(|g| {
            count(g, &q, |q| {
                with_kind(q);
                q.refund_type = None;
            })
        });
        let mut chips = vec![chip(
            "All".to_owned(),
            all,
            q.refund_type.is_none(),
            Box::new(|q| q.refund_type = None),
        )];
        for t in refund_types(kind) {
            let t = *t;
            let n = groups.with_value(|g| {
                count(g, &q, |q| {
                    with_kind(q);
                    q.refund_type = Some(t);
                })
            });
            chips.push(chip(
                t.label().to_owned(),
                n,
                q.refund_type == Some(t),
                Box::new(move |q| q.refund_type = Some(t)),
            ));
        }
        chips
    };
    let activation_chips = (kind == ResourceKind::ResourcePlan).then(|| {
        [
            ("All", None),
            ("Activated", Some(true)),
            ("Not activated", Some(false)),
        ]
        .into_iter()
        .map(|(label, a)| {
            let n = groups.with_value(|g| {
                count(g, &q, |q| {
                    with_kind(q);
                    q.activated = a;
                })
            });
            chip(
                label.to_owned(),
                n,
                q.activated == a,
                Box::new(move |q| q.activated = a),
            )
        })
        .collect::<Vec<_>>()
    });
    view! {
        <div class="group-filters">
            <div class="filter-chips" role="group" aria-label="Refund type">
                <span class="filter-chips-label" aria-hidden="true">"Refund type"</span>
                {refund_chips}
            </div>
            {activation_chips.map(|chips| view! {
                <div class="filter-chips" role="group" aria-label="Activation status">
                    <span class="filter-chips-label" aria-hidden="true">"Activation status"</span>
                    {chips}
                </div>
            })}
        </div>
    }
}

/// The running count of the batch, kept across pages, and what can be done with it.
#[component]
fn BatchBar(
    selected: RwSignal<Vec<UnsubscribableResource>>,
    matching_partial: u32,
    query: Memo<UnsubscribeQuery>,
    batch_open: RwSignal<bool>,
) -> impl IntoView {
    let count = move || selected.with(Vec::len);
    let loading = RwSignal::new(false);
    // Every Partial Refund resource the filters match, on any page, up to the batch's limit.
    let select_all = move |_| {
        let q = UnsubscribeQuery {
            refund_type: Some(RefundType::PartialRefund),
            page: Some(1),
            page_size: Some(MAX_BATCH as u32),
            ..query.get_untracked()
        };
        loading.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(list) = api::unsubscribe_list(&q).await {
                selected.update(|s| {
                    for r in list.resources {
                        if s.len() < MAX_BATCH && !s.iter().any(|x| x.instance_id == r.instance_id)
                        {
                            s.push(r);
                        }
                    }
                });
            }
            let _ = loading.try_set(false);
        });
    };
    view! {
        <div class="batch-bar">
            <span aria-live="polite">
                {move || format!("{} of at most {MAX_BATCH} selected for a batch (Partial Refund only)", count())}
            </span>
            <div class="batch-actions">
                {(matching_partial > 0).then(|| view! {
                    <button
                        type="button"
                        class="button"
                        disabled=move || loading.get()
                        on:click=select_all
                    >
                        {format!("Select all {} Partial Refund", matching_partial.min(MAX_BATCH as u32))}
                    </button>
                })}
                <button
                    type="button"
                    class="button"
                    disabled=move || count() == 0
                    on:click=move |_| selected.set(Vec::new())
                >
                    "Clear selection"
                </button>
                <button
                    type="button"
                    class="button button-primary"
                    disabled=move || { count() == 0 || count() > MAX_BATCH }
                    on:click=move |_| batch_open.set(true)
                >
                    "Batch Unsubscribe Resources"
                </button>
            </div>
        </div>
    }
}

#[component]
fn ResourceTable(
    resources: Vec<UnsubscribableResource>,
    selected: RwSignal<Vec<UnsubscribableResource>>,
    query: Memo<UnsubscribeQuery>,
    go: Callback<UnsubscribeQuery>,
    /// The sort button pressed before this page loaded: it gets the focus back.
    sort_focus: RwSignal<Option<ResourceSort>>,
) -> impl IntoView {
    // The server orders every page (the order time, newest first, unless asked otherwise):
    // a header asks it for the first page in another order.
    let (sort, direction) = query.get_untracked().resource_order();
    if let Some(column) = sort_focus.get_untracked() {
        sort_focus.set(None);
        request_animation_frame(move || focus_element(&sort_button_id(column)));
    }
    let header = move |column: ResourceSort, label: &'static str, class: &'static str| {
        let current = column == sort;
        let aria_sort = current.then_some(match direction {
            SortDirection::Asc => "ascending",
            SortDirection::Desc => "descending",
        });
        let on_click = move |_| {
            sort_focus.set(Some(column));
            go.run(UnsubscribeQuery {
                sort: Some(column),
                direction: Some(if current {
                    direction.reversed()
                } else {
                    column.first_direction()
                }),
                page: None,
                ..query.get_untracked()
            });
        };
        view! {
            <th scope="col" class=class aria-sort=aria_sort>
                <button type="button" class="sort-button" id=sort_button_id(column) on:click=on_click>
                    {label}
                    <span class="sort-mark" aria-hidden="true">
                        {match (current, direction) {
                            (true, SortDirection::Asc) => "▲",
                            (true, SortDirection::Desc) => "▼",
                            _ => "↕",
                        }}
                    </span>
                </button>
            </th>
        }
    };
    let rows = StoredValue::new(resources);
    let page_partial: Vec<UnsubscribableResource> = rows.with_value(|rows| {
        rows.iter()
            .filter(|r| r.refund_type == RefundType::PartialRefund)
            .cloned()
            .collect()
    });
    let page_partial = StoredValue::new(page_partial);
    let all_on_page = move || {
        page_partial.with_value(|p| {
            !p.is_empty()
                && selected.with(|s| {
                    p.iter()
                        .all(|r| s.iter().any(|x| x.instance_id == r.instance_id))
                })
        })
    };
    let toggle_page = move |on: bool| {
        page_partial.with_value(|p| {
            selected.update(|s| {
                if on {
                    for r in p {
                        if s.len() < MAX_BATCH && !s.iter().any(|x| x.instance_id == r.instance_id)
                        {
                            s.push(r.clone());
                        }
                    }
                } else {
                    s.retain(|x| !p.iter().any(|r| r.instance_id == x.instance_id));
                }
            })
        })
    };
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="Resources">
            <table class="data-table resource-table">
                <thead>
                    <tr>
                        <th scope="col" class="col-select">
                            {(!page_partial.with_value(Vec::is_empty)).then(|| view! {
                                <input
                                    type="checkbox"
                                    aria-label="Select the Partial Refund resources of this page"
                                    prop:checked=all_on_page
                                    on:change:target=move |ev| toggle_page(ev.target().checked())
                                />
                            })}
                        </th>
                        {header(ResourceSort::Instance, "Instance ID", "col-instance")}
                        {header(ResourceSort::Product, "Product", "col-product")}
                        // Worked out per order at the moment of asking, not stored: the
                        // server cannot order pages by these two (see `ResourceSort`).
                        <th scope="col" class="col-type unsortable">"Refund type"</th>
                        {header(ResourceSort::OrderTime, "Order time", "col-order")}
                        {header(ResourceSort::Expires, "Expires", "col-expires")}
                        {header(ResourceSort::Paid, "Paid", "col-paid")}
                        <th scope="col" class="col-refund unsortable">"Refund if unsubscribed now"</th>
                        <th scope="col" class="col-action"><span class="visually-hidden">"Action"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || rows.get_value() key=|r| r.instance_id.clone() let(resource)>
                        <ResourceRow resource selected />
                    </For>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ResourceRow(
    resource: UnsubscribableResource,
    selected: RwSignal<Vec<UnsubscribableResource>>,
) -> impl IntoView {
    let id = resource.instance_id.clone();
    let batchable = resource.refund_type == RefundType::PartialRefund;
    let review = format!("/unsubscribe/review/{id}");
    let select = batchable.then(|| {
        let id_checked = id.clone();
        let row = resource.clone();
        let full = move || selected.with(|s| s.len() >= MAX_BATCH && !s.iter().any(|x| x.instance_id == id_checked));
        let id_checked = id.clone();
        view! {
            <input
                type="checkbox"
                aria-label=format!("Select {id} for a batch")
                prop:checked=move || selected.with(|s| s.iter().any(|x| x.instance_id == id_checked))
                disabled=full
                on:change:target=move |ev| {
                    let on = ev.target().checked();
                    selected.update(|s| {
                        s.retain(|x| x.instance_id != row.instance_id);
                        if on && s.len() < MAX_BATCH {
                            s.push(row.clone());
                        }
                    });
                }
            />
        }
    });
    view! {
        <tr>
            <td class="col-select">{select}</td>
            <td class="col-instance"><InstanceId id=id.clone() /></td>
            <td class="col-product">
                <span class="product-name">{resource.product_name.clone()}</span>
                {resource.quota.as_ref().map(|quota| view! { <span class="cell-note">{quota.to_string()}</span> })}
            </td>
            <td class="col-type">
                <span class="badge">{resource.refund_type.label()}</span>
                {(resource.resource_kind == ResourceKind::ResourcePlan && !resource.activated)
                    .then(|| view! { <span class="cell-note">"Not activated"</span> })}
                {(resource.pending_renewals > 0).then(|| view! {
                    <span class="cell-note">{format!("+{} pending renewal{}", resource.pending_renewals, if resource.pending_renewals == 1 { "" } else { "s" })}</span>
                })}
            </td>
            <td class="col-order nowrap"><time datetime=resource.order_time.clone() title=date_time(&resource.order_time)>{long_date(&resource.order_time)}</time></td>
            <td class="col-expires nowrap">
                <span class="phone-label">"Expires "</span>
                <time datetime=resource.expires_at.clone() title=date_time(&resource.expires_at)>{long_date(&resource.expires_at)}</time>
            </td>
            <td class="col-paid amount nowrap">
                {money(&resource.cash_paid)}
                {(!resource.non_cash_paid.amount.is_zero()).then(|| view! {
                    <span class="cell-note">{format!("+ {} credit", money(&resource.non_cash_paid))}</span>
                })}
            </td>
            <td class="col-refund amount nowrap">{money(&resource.refund)}</td>
            <td class="col-action">
                <A href=review attr:class="button button-compact" attr:aria-label=format!("Unsubscribe Resource {id}")>
                    "Unsubscribe"
                </A>
            </td>
        </tr>
    }
}
