//! The account's instances: renew a subscription, activate a resource plan, release a
//! pay-as-you-go instance (subscriptions are unsubscribed on the Orders & Unsubscribe page).

use super::{months, region_name};
use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    FormAlert, FormErrors, Loading, Modal, Radio, SelectField, SubmitButton, date::long_date,
    load_failed, money, retryable_action, unique_id, use_reauth,
};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{InstanceStatus, InstanceView, RenewForm};
use shared::catalog::{Billing, PayWith, Product};
use shared::refund::ResourceKind;

#[derive(Clone)]
enum Change {
    Activate(String),
    Release(String),
}

#[component]
pub fn Instances(reload: Signal<u32>) -> impl IntoView {
    let auth = use_auth();
    let changed = RwSignal::new(0u32);
    let instances = LocalResource::new(move || {
        reload.track();
        changed.track();
        api::instances()
    });
    let errors = FormErrors::new("instances", &[]);
    let done = RwSignal::new(None::<String>);
    let renewing = RwSignal::new(None::<InstanceView>);
    let releasing = RwSignal::new(None::<InstanceView>);

    let change = Action::new_local(move |change: &Change| {
        let change = change.clone();
        async move {
            let csrf = auth.csrf();
            let result = match &change {
                Change::Activate(id) => api::activate(id, csrf.as_deref()).await,
                Change::Release(id) => api::release(id, csrf.as_deref()).await,
            };
            match result {
                Ok(instance) => {
                    done.set(Some(match change {
                        Change::Activate(_) => format!("{} activated.", instance.id),
                        Change::Release(_) => format!(
                            "{} released. Its usage until now is still billed.",
                            instance.id
                        ),
                    }));
                    changed.update(|n| *n += 1);
                }
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let start = move |c: Change| {
        errors.clear();
        done.set(None);
        change.dispatch_local(c);
    };
    let pending = change.pending();

    view! {
        <section class="panel" aria-labelledby="instances-heading">
            <h2 id="instances-heading">"Your instances"</h2>
            <FormAlert errors />
            <p class="status" role="status">{move || done.get()}</p>
            <Transition fallback=|| view! { <Loading what="your instances" /> }>
                <ErrorBoundary fallback=load_failed>
                    {move || Suspend::new(async move {
                        instances.await.map(|list| {
                            if list.is_empty() {
                                return view! { <p class="muted">"Nothing bought yet."</p> }.into_any();
                            }
                            view! {
                                <ul class="resource-list">
                                    {list
                                        .into_iter()
                                        .map(|instance| view! {
                                            <InstanceItem
                                                instance
                                                pending
                                                on_renew=Callback::new(move |i| renewing.set(Some(i)))
                                                on_activate=Callback::new(move |id| start(Change::Activate(id)))
                                                on_release=Callback::new(move |i| releasing.set(Some(i)))
                                            />
                                        })
                                        .collect_view()}
                                </ul>
                            }
                            .into_any()
                        })
                    })}
                </ErrorBoundary>
            </Transition>
            <p class="muted">
                "To end a subscription early and get a refund, use "
                <A href="/unsubscribe">"Orders & unsubscribe"</A>
                "."
            </p>
        </section>
        <Modal
            open=Signal::derive(move || renewing.with(Option::is_some))
            on_close=move |_| renewing.set(None)
            title=Signal::derive(move || {
                renewing.with(|i| i.as_ref().map(|i| format!("Renew {}", i.id)).unwrap_or_default())
            })
        >
            {move || renewing.get().map(|instance| view! {
                <RenewDialog
                    instance
                    on_done=Callback::new(move |message: Option<String>| {
                        renewing.set(None);
                        if let Some(message) = message {
                            done.set(Some(message));
                            changed.update(|n| *n += 1);
                        }
                    })
                />
            })}
        </Modal>
        <Modal
            open=Signal::derive(move || releasing.with(Option::is_some))
            on_close=move |_| releasing.set(None)
            title=Signal::derive(move || {
                releasing.with(|i| i.as_ref().map(|i| format!("Release {}?", i.id)).unwrap_or_default())
            })
        >
            <p>"The instance stops and its data is deleted. Usage until now is billed to your default payment method."</p>
            <div class="actions">
                <button
                    type="button"
                    class="button button-danger"
                    on:click=move |_| {
                        if let Some(instance) = releasing.get_untracked() {
                            releasing.set(None);
                            start(Change::Release(instance.id));
                        }
                    }
                >
                    "Release"
                </button>
                <button type="button" class="button" on:click=move |_| releasing.set(None)>
                    "Cancel"
                </button>
            </div>
        </Modal>
    }
}

#[component]
fn InstanceItem(
    instance: InstanceView,
    pending: Memo<bool>,
    on_renew: Callback<InstanceView>,
    on_activate: Callback<String>,
    on_release: Callback<InstanceView>,
) -> impl IntoView {
    let running = instance.status == InstanceStatus::Running;
    let label_id = unique_id("instance");
    let billing = match (instance.billing, &instance.expires_at) {
        (Billing::Subscription, Some(expires)) => format!(
            "Subscription, expires {}{}",
            long_date(expires),
            if instance.auto_renew {
                ", renews automatically"
            } else {
                ""
            }
        ),
        (Billing::Subscription, None) => "Subscription".to_owned(),
        (Billing::Payg, _) => format!("Pay-as-you-go since {}", long_date(&instance.started_at)),
    };
    let plan = instance.resource_kind == ResourceKind::ResourcePlan;
    let can_renew = running && instance.billing == Billing::Subscription;
    let can_activate = running && plan && !instance.activated;
    let can_release = running && instance.billing == Billing::Payg;
    let (for_renew, for_activate, for_release) =
        (instance.clone(), instance.id.clone(), instance.clone());
    view! {
        <li class="resource">
            <div class="resource-head">
                <span class="resource-name" id=label_id.clone()>{instance.product_name.clone()}</span>
                <span class="mono">{instance.id.clone()}</span>
                <span class="badge" class:badge-success=running>
                    {if running { "Running" } else { "Released" }}
                </span>
                {plan.then(|| view! {
                    <span class="badge">{if instance.activated { "Activated" } else { "Not activated" }}</span>
                })}
            </div>
            <p class="muted">{format!("{} · {billing}", region_name(&instance.region))}</p>
            <div class="actions">
                {can_renew.then(|| {
                    let described = label_id.clone();
                    view! {
                        <button type="button" class="button" aria-describedby=described
                            disabled=move || pending.get()
                            on:click=move |_| on_renew.run(for_renew.clone())>
                            "Renew"
                        </button>
                    }
                })}
                {can_activate.then(|| {
                    let described = label_id.clone();
                    view! {
                        <button type="button" class="button" aria-describedby=described
                            disabled=move || pending.get()
                            on:click=move |_| on_activate.run(for_activate.clone())>
                            "Activate"
                        </button>
                    }
                })}
                {can_release.then(|| view! {
                    <button type="button" class="button" aria-describedby=label_id
                        disabled=move || pending.get()
                        on:click=move |_| on_release.run(for_release.clone())>
                        "Release"
                    </button>
                })}
            </div>
        </li>
    }
}

/// A renewal: a period after the current one, paid now, pending until it begins.
#[component]
fn RenewDialog(instance: InstanceView, on_done: Callback<Option<String>>) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("renew", &["period_months", "pay_with"]);
    let product = Product::find(&instance.product);
    let periods: Vec<u32> = product
        .map(|p| p.periods.to_vec())
        .unwrap_or_else(|| vec![1]);
    let period = RwSignal::new(periods[0].to_string());
    let pay_with = RwSignal::new(PayWith::DefaultMethod);
    let id = instance.id.clone();
    let price = move || {
        let m: u32 = period.get().parse().unwrap_or(1);
        product
            .map(|p| format!("{} for {}", money(&p.price(m)), months(m)))
            .unwrap_or_default()
    };
    let renew = retryable_action(move |(form, key): (RenewForm, IdempotencyKey), this| {
        let id = id.clone();
        async move {
            match api::renew(&id, &form, auth.csrf().as_deref(), &key).await {
                Ok(renewed) => {
                    auth.refresh();
                    on_done.run(Some(format!(
                        "{} renewed for {}. Charged {}.",
                        renewed.instance.id,
                        months(form.period_months),
                        money(&renewed.charged)
                    )));
                }
                Err(e) => reauth.handle(&e, errors, move || {
                    this.dispatch_local((form, key));
                }),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = RenewForm {
            period_months: period.get_untracked().parse().unwrap_or(0),
            pay_with: pay_with.get_untracked(),
        };
        if !errors.passes(
            product
                .map(|p| p.check_period(form.period_months))
                .transpose(),
        ) {
            return;
        }
        renew.dispatch_local((form, IdempotencyKey::new()));
    };
    view! {
        <form on:submit=on_submit novalidate>
            <p>{format!("{} in {}.", instance.product_name, region_name(&instance.region))}</p>
            <FormAlert errors />
            <SelectField errors name="period_months" label="Renewal period" value=period>
                {periods.iter().map(|m| view! { <option value=m.to_string()>{months(*m)}</option> }).collect_view()}
            </SelectField>
            <fieldset class="choices">
                <legend>"Pay with"</legend>
                <Radio group="renew-pay-with" label="Default payment method" option=PayWith::DefaultMethod selected=pay_with />
                <Radio group="renew-pay-with" label="Account balance" option=PayWith::Balance selected=pay_with />
                <Radio group="renew-pay-with" label="Free credit" option=PayWith::Credit selected=pay_with />
            </fieldset>
            <p class="amount">{price}</p>
            <div class="actions">
                <SubmitButton label="Renew" pending=renew.pending() />
                <button type="button" class="button" on:click=move |_| on_done.run(None)>"Cancel"</button>
            </div>
        </form>
    }
}
