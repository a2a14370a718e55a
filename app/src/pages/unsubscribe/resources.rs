//! The "Unsubscribe Resource" tab: running subscriptions with the refund each would get now,
//! counted by resource type, refund type and activation; one at a time through the review
//! page, or Partial Refund ones in a batch of at most 50.

use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    CheckboxField, FormAlert, FormErrors, Modal, SubmitButton, date::date_time, money,
    retryable_action, unique_id, use_reauth,
};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{
    GroupCount, MAX_BATCH, UnsubscribableResource, UnsubscribeForm, UnsubscribeList, Unsubscribed,
};
use shared::refund::{RefundType, ResourceKind};

pub fn kind_label(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::RegularCloudResource => "Regular Cloud Resource",
        ResourceKind::ResourcePlan => "Resource Plan",
    }
}

#[component]
pub fn ResourceTab(
    list: UnsubscribeList,
    reload: RwSignal<u32>,
    outcome: RwSignal<Option<(&'static str, Unsubscribed)>>,
) -> impl IntoView {
    let selected = RwSignal::new(Vec::<String>::new());
    let batch_open = RwSignal::new(false);
    let resources = StoredValue::new(list.resources.clone());
    let count = move || selected.with(Vec::len);
    let chosen = move || {
        let ids = selected.get();
        resources.with_value(|all| {
            all.iter()
                .filter(|r| ids.contains(&r.instance_id))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <Groups groups=list.groups.clone() total=list.total />
        <section class="panel" aria-labelledby="resources-heading">
            <h2 id="resources-heading">"Resources you can unsubscribe"</h2>
            {if list.resources.is_empty() {
                view! { <p class="muted">"No running subscription matches."</p> }.into_any()
            } else {
                view! {
                    <div class="batch-bar">
                        <span aria-live="polite">
                            {move || format!("{} selected for a batch (Partial Refund only, at most {MAX_BATCH})", count())}
                        </span>
                        <button
                            type="button"
                            class="button"
                            disabled=move || { count() == 0 || count() > MAX_BATCH }
                            on:click=move |_| batch_open.set(true)
                        >
                            "Batch Unsubscribe Resources"
                        </button>
                    </div>
                    <ul class="resource-list">
                        {list
                            .resources
                            .iter()
                            .cloned()
                            .map(|resource| view! { <ResourceItem resource selected /> })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
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

/// Counts by resource type, refund type and activation status, over every page.
#[component]
fn Groups(groups: Vec<GroupCount>, total: u32) -> impl IntoView {
    fn tally<K: PartialEq + Copy>(
        groups: &[GroupCount],
        key: impl Fn(&GroupCount) -> K,
    ) -> Vec<(K, u32)> {
        let mut out: Vec<(K, u32)> = Vec::new();
        for g in groups {
            match out.iter_mut().find(|(k, _)| *k == key(g)) {
                Some((_, n)) => *n += g.count,
                None => out.push((key(g), g.count)),
            }
        }
        out
    }
    let line = |items: Vec<(String, u32)>| {
        items
            .into_iter()
            .map(|(label, n)| format!("{label}: {n}"))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let kinds = line(
        tally(&groups, |g| g.resource_kind)
            .into_iter()
            .map(|(k, n)| (kind_label(k).to_owned(), n))
            .collect(),
    );
    let refunds = line(
        tally(&groups, |g| g.refund_type)
            .into_iter()
            .map(|(k, n)| (k.label().to_owned(), n))
            .collect(),
    );
    let activation = line(
        tally(&groups, |g| g.activated)
            .into_iter()
            .map(|(a, n)| {
                (
                    (if a { "Activated" } else { "Not activated" }).to_owned(),
                    n,
                )
            })
            .collect(),
    );
    view! {
        <section class="panel" aria-labelledby="groups-heading">
            <h2 id="groups-heading">{format!("{total} {} by group", if total == 1 { "resource" } else { "resources" })}</h2>
            <dl class="facts">
                <div>
                    <dt>"Resource type"</dt>
                    <dd>{kinds}</dd>
                </div>
                <div>
                    <dt>"Refund type"</dt>
                    <dd>{refunds}</dd>
                </div>
                <div>
                    <dt>"Activation status"</dt>
                    <dd>{activation}</dd>
                </div>
            </dl>
        </section>
    }
}

#[component]
fn ResourceItem(
    resource: UnsubscribableResource,
    selected: RwSignal<Vec<String>>,
) -> impl IntoView {
    let label_id = unique_id("resource");
    let id = resource.instance_id.clone();
    let batchable = resource.refund_type == RefundType::PartialRefund;
    let checkbox_id = unique_id("select");
    let paid = if resource.non_cash_paid.amount.is_zero() {
        money(&resource.cash_paid)
    } else {
        format!(
            "{} in cash, {} in credit or coupons",
            money(&resource.cash_paid),
            money(&resource.non_cash_paid)
        )
    };
    let review = format!("/unsubscribe/review/{}", resource.instance_id);
    view! {
        <li class="resource">
            <div class="resource-head">
                {batchable.then(|| {
                    let id = id.clone();
                    let id_for_change = id.clone();
                    view! {
                        <input
                            type="checkbox"
                            id=checkbox_id.clone()
                            aria-label=format!("Select {id} for a batch")
                            prop:checked=move || selected.with(|s| s.contains(&id))
                            on:change:target=move |ev| {
                                let on = ev.target().checked();
                                selected.update(|s| {
                                    s.retain(|x| *x != id_for_change);
                                    if on {
                                        s.push(id_for_change.clone());
                                    }
                                });
                            }
                        />
                    }
                })}
                <span class="resource-name" id=label_id.clone()>
                    {format!("{} {}", resource.product_name, resource.instance_id)}
                </span>
                <span class="badge">{resource.refund_type.label()}</span>
                <span class="badge">{kind_label(resource.resource_kind)}</span>
                {(resource.resource_kind == ResourceKind::ResourcePlan).then(|| view! {
                    <span class="badge">{if resource.activated { "Activated" } else { "Not activated" }}</span>
                })}
            </div>
            <dl class="facts facts-compact">
                <div>
                    <dt>"Order time"</dt>
                    <dd>{date_time(&resource.order_time)}</dd>
                </div>
                <div>
                    <dt>"Expires"</dt>
                    <dd>{date_time(&resource.expires_at)}</dd>
                </div>
                <div>
                    <dt>"Paid"</dt>
                    <dd>{paid}</dd>
                </div>
                {resource.quota.as_ref().map(|quota| view! {
                    <div>
                        <dt>"Plan quota"</dt>
                        <dd>{quota.to_string()}</dd>
                    </div>
                })}
                {(resource.pending_renewals > 0).then(|| view! {
                    <div>
                        <dt>"Pending renewals"</dt>
                        <dd>{resource.pending_renewals}</dd>
                    </div>
                })}
                <div>
                    <dt>"Refund if unsubscribed now"</dt>
                    <dd class="amount">{money(&resource.refund)}</dd>
                </div>
            </dl>
            <div class="actions">
                <A href=review attr:class="button" attr:aria-describedby=label_id>
                    "Unsubscribe Resource"
                </A>
            </div>
        </li>
    }
}

#[component]
fn BatchReview(
    resources: Vec<UnsubscribableResource>,
    on_done: Callback<Option<Unsubscribed>>,
) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new(
        "batch",
        &[
            "instance_ids",
            "confirm_refund_amount",
            "confirm_data_backed_up",
        ],
    );
    let amount_ok = RwSignal::new(false);
    let backed_up = RwSignal::new(false);
    let total = resources
        .iter()
        .map(|r| r.refund)
        .try_fold(None::<shared::money::Money>, |sum, m| match sum {
            None => Ok(Some(m)),
            Some(s) => s.checked_add(m).map(Some),
        })
        .ok()
        .flatten();
    let ids: Vec<String> = resources.iter().map(|r| r.instance_id.clone()).collect();
    let unsubscribe = retryable_action(
        move |(form, key): (UnsubscribeForm, IdempotencyKey), this| async move {
            match api::unsubscribe(&form, auth.csrf().as_deref(), &key).await {
                Ok(result) => {
                    auth.refresh();
                    on_done.run(Some(result));
                }
                Err(e) => reauth.handle(&e, errors, move || {
                    this.dispatch_local((form, key));
                }),
            }
        },
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = UnsubscribeForm {
            instance_ids: ids.clone(),
            confirm_refund_amount: amount_ok.get_untracked(),
            confirm_data_backed_up: backed_up.get_untracked(),
        };
        if !errors.passes(form.check()) {
            return;
        }
        unsubscribe.dispatch_local((form, IdempotencyKey::new()));
    };
    view! {
        <form on:submit=on_submit novalidate>
            <p>"These resources are released and their data deleted. This cannot be undone."</p>
            <FormAlert errors />
            <ul class="batch-list">
                {resources
                    .iter()
                    .map(|r| view! {
                        <li>
                            <span>{format!("{} {}", r.product_name, r.instance_id)}</span>
                            <span class="amount">{money(&r.refund)}</span>
                        </li>
                    })
                    .collect_view()}
            </ul>
            <p class="amount-large">
                {total.map(|t| format!("Total refund {}", money(&t))).unwrap_or_default()}
            </p>
            <p class="field-help">{shared::refund::REFUND_RULE}</p>
            <CheckboxField errors name="confirm_refund_amount" label="I have confirmed the refund amount." checked=amount_ok />
            <CheckboxField
                errors
                name="confirm_data_backed_up"
                label="I have backed up or migrated my data. Unsubscribed resources are released and their data is deleted."
                checked=backed_up
            />
            <div class="actions">
                <SubmitButton
                    label="Unsubscribe Now"
                    pending=unsubscribe.pending()
                    disabled=Signal::derive(move || !(amount_ok.get() && backed_up.get()))
                />
                <button type="button" class="button" on:click=move |_| on_done.run(None)>"Cancel"</button>
            </div>
        </form>
    }
}
