//! The purchase form: product, region, subscription period or pay-as-you-go, auto-renew, and
//! what pays (the default method, the balance or the free credit), with the price it comes to.

use super::{months, region_name};
use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    CheckboxField, FormAlert, FormErrors, Radio, SelectField, SubmitButton, money,
    retryable_action, use_reauth,
};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{Purchased, RealNameStatus};
use shared::catalog::{Billing, PRODUCTS, PayWith, Product, PurchaseForm, REGIONS, Region};
use shared::money::Money;
use shared::time::DurationMs;

const FIELDS: &[&str] = &[
    "product",
    "region",
    "billing",
    "period_months",
    "auto_renew",
    "pay_with",
];

/// The pay-as-you-go price of one hour, by the formula the usage job bills with.
fn hourly(product: &Product) -> Option<Money> {
    product.usage_charge(DurationMs::hours(1))
}

#[component]
pub fn BuyForm(on_bought: Callback<Purchased>) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("buy", FIELDS);
    let product = RwSignal::new(PRODUCTS[0].code.to_owned());
    let region = RwSignal::new(REGIONS[0].code.to_owned());
    let billing = RwSignal::new(Billing::Subscription);
    let period = RwSignal::new(PRODUCTS[0].periods[0].to_string());
    let auto_renew = RwSignal::new(false);
    let pay_with = RwSignal::new(PayWith::DefaultMethod);
    let bought = RwSignal::new(None::<Purchased>);

    let chosen = Memo::new(move |_| Product::find(&product.get()).unwrap_or(&PRODUCTS[0]));
    // A new product: its own periods, and subscription if it is not sold by the hour.
    Effect::new(move |_| {
        let p = chosen.get();
        if !p
            .periods
            .iter()
            .any(|m| m.to_string() == period.get_untracked())
        {
            period.set(p.periods[0].to_string());
        }
        if p.hourly_centi_cents.is_none() {
            billing.set(Billing::Subscription);
        }
    });
    let mainland =
        Memo::new(move |_| Region::find(&region.get()).is_some_and(|r| r.mainland_china));
    let real_name_verified = move || {
        auth.account()
            .is_some_and(|a| a.real_name == RealNameStatus::Verified)
    };
    let credit_left = move || {
        auth.account()
            .map(|a| format!("Free credit ({} left)", money(&a.credit_balance)))
            .unwrap_or_else(|| "Free credit".to_owned())
    };

    let price = move || {
        let p = chosen.get();
        match billing.get() {
            Billing::Payg => match (hourly(p), p.quota) {
                // SPEC §5: such usage draws on an active plan of the product before it is billed.
                (Some(h), Some(q)) => format!(
                    "{} per hour ({} {} an hour), billed by usage after what your active plan covers",
                    money(&h),
                    q.units_per_hour,
                    q.unit
                ),
                (Some(h), None) => format!("{} per hour, billed by usage", money(&h)),
                (None, _) => String::new(),
            },
            Billing::Subscription => {
                let m: u32 = period.get().parse().unwrap_or(p.periods[0]);
                format!("{} for {}", money(&p.price(m)), months(m))
            }
        }
    };

    let buy = retryable_action(
        move |(form, key): (PurchaseForm, IdempotencyKey), this| async move {
            match api::buy(&form, auth.csrf().as_deref(), &key).await {
                Ok(purchased) => {
                    bought.set(Some(purchased.clone()));
                    auth.refresh();
                    on_bought.run(purchased);
                }
                Err(e) => reauth.handle(&e, errors, move || {
                    this.dispatch_local((form, key));
                }),
            }
        },
    );

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        bought.set(None);
        let form = PurchaseForm {
            product: product.get_untracked(),
            region: region.get_untracked(),
            billing: billing.get_untracked(),
            period_months: period.get_untracked().parse().unwrap_or(0),
            auto_renew: auto_renew.get_untracked(),
            pay_with: pay_with.get_untracked(),
            ..Default::default()
        };
        if !errors.passes(form.parse()) {
            return;
        }
        buy.dispatch_local((form, IdempotencyKey::new()));
    };

    view! {
        <section class="panel" aria-labelledby="buy-heading">
            <h2 id="buy-heading">"Buy a product"</h2>
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <SelectField errors name="product" label="Product" value=product>
                    {PRODUCTS
                        .iter()
                        .map(|p| {
                            let from = money(&p.price(1));
                            view! { <option value=p.code>{format!("{} — {from} a month", p.name)}</option> }
                        })
                        .collect_view()}
                </SelectField>
                <SelectField errors name="region" label="Region" value=region>
                    {REGIONS
                        .iter()
                        .map(|r| {
                            let name = if r.mainland_china {
                                format!("{} — real-name registration needed", r.name)
                            } else {
                                r.name.to_owned()
                            };
                            view! { <option value=r.code>{name}</option> }
                        })
                        .collect_view()}
                </SelectField>
                <Show when=move || mainland.get()>
                    <p class="notice">
                        {move || format!("{} is a mainland-China region: buying there needs real-name registration. ", region_name(&region.get()))}
                        {move || if real_name_verified() {
                            view! { <span>"Your real name is verified."</span> }.into_any()
                        } else {
                            view! { <A href="/real-name">"Register your real name"</A> }.into_any()
                        }}
                    </p>
                </Show>
                <fieldset class="choices">
                    <legend>"Billing method"</legend>
                    <Radio group="billing" label="Subscription" option=Billing::Subscription selected=billing />
                    <Show
                        when=move || chosen.get().hourly_centi_cents.is_some()
                        fallback=|| view! { <p class="field-help">"This product is sold by subscription only."</p> }
                    >
                        <Radio group="billing" label="Pay-as-you-go" option=Billing::Payg selected=billing />
                    </Show>
                </fieldset>
                <Show
                    when=move || billing.get() == Billing::Subscription
                    fallback=|| view! {
                        <p class="muted">"Usage is charged to your default payment method. Release the instance to stop paying."</p>
                    }
                >
                    <SelectField errors name="period_months" label="Subscription period" value=period>
                        {move || chosen
                            .get()
                            .periods
                            .iter()
                            .map(|m| view! { <option value=m.to_string()>{months(*m)}</option> })
                            .collect_view()}
                    </SelectField>
                    <CheckboxField errors name="auto_renew" label="Renew automatically when it expires" checked=auto_renew />
                    <fieldset class="choices">
                        <legend>"Pay with"</legend>
                        <Radio group="pay-with" label="Default payment method" option=PayWith::DefaultMethod selected=pay_with />
                        <Radio group="pay-with" label="Account balance" option=PayWith::Balance selected=pay_with />
                        <label class="radio">
                            <input
                                type="radio"
                                name="pay-with"
                                prop:checked=move || pay_with.get() == PayWith::Credit
                                on:change=move |_| pay_with.set(PayWith::Credit)
                            />
                            <span>{credit_left}</span>
                        </label>
                    </fieldset>
                </Show>
                <dl class="facts price">
                    <div>
                        <dt>"Price"</dt>
                        <dd class="amount">{price}</dd>
                    </div>
                </dl>
                <SubmitButton label="Buy Now" pending=buy.pending() />
                <p class="status" role="status">
                    {move || bought.get().map(|b| {
                        format!(
                            "Bought {} in {}: instance {}. Charged {}.",
                            b.instance.product_name,
                            region_name(&b.instance.region),
                            b.instance.id,
                            money(&b.charged),
                        )
                    })}
                </p>
            </form>
        </section>
    }
}
