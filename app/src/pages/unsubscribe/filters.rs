//! Filters shared by the three tabs: product, instance ID and order time. Always shown on a
//! desktop; behind a "Filters" button on a phone, where they would push the list off screen.

use crate::components::{FormErrors, SelectField, TextField};
use leptos::prelude::*;
use shared::api::UnsubscribeQuery;
use shared::catalog::PRODUCTS;

#[component]
pub fn Filters(query: Memo<UnsubscribeQuery>, go: Callback<UnsubscribeQuery>) -> impl IntoView {
    let errors = FormErrors::new(
        "filter",
        &["product", "instance_id", "order_from", "order_to"],
    );
    let initial = query.get_untracked();
    let product = RwSignal::new(initial.product.unwrap_or_default());
    let instance_id = RwSignal::new(initial.instance_id.unwrap_or_default());
    let order_from = RwSignal::new(initial.order_from.unwrap_or_default());
    let order_to = RwSignal::new(initial.order_to.unwrap_or_default());
    // The address bar changed (a tab, Back): the inputs follow it.
    Effect::new(move |_| {
        let q = query.get();
        product.set(q.product.unwrap_or_default());
        instance_id.set(q.instance_id.unwrap_or_default());
        order_from.set(q.order_from.unwrap_or_default());
        order_to.set(q.order_to.unwrap_or_default());
    });
    let some =
        |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|v| !v.is_empty());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The resource type, refund type and activation chosen above the list stay.
        let filters = UnsubscribeQuery {
            product: some(product),
            instance_id: some(instance_id),
            order_from: some(order_from),
            order_to: some(order_to),
            page: None,
            ..query.get_untracked()
        };
        if errors.passes(filters.check()) {
            go.run(filters);
        }
    };
    let reset = move |_| {
        errors.clear();
        let now = query.get_untracked();
        go.run(UnsubscribeQuery {
            tab: now.tab,
            kind: now.kind,
            // The table's order is not a filter: it stays.
            sort: now.sort,
            direction: now.direction,
            page_size: now.page_size,
            ..Default::default()
        });
    };
    let open = RwSignal::new(false);
    let active = move || {
        query.with(|q| {
            [&q.product, &q.instance_id, &q.order_from, &q.order_to]
                .iter()
                .filter(|v| v.is_some())
                .count()
        })
    };
    view! {
        <button
            type="button"
            class="button filters-toggle"
            aria-expanded=move || if open.get() { "true" } else { "false" }
            aria-controls="unsubscribe-filters"
            on:click=move |_| open.update(|o| *o = !*o)
        >
            "Filters"
            {move || match active() {
                0 => String::new(),
                n => format!(" ({n} on)"),
            }}
        </button>
        <form
            id="unsubscribe-filters"
            class="panel filters"
            class:filters-closed=move || !open.get()
            role="search" aria-label="Filter orders" on:submit=on_submit novalidate>
            <div class="filter-grid">
                <SelectField errors name="product" label="Product" value=product>
                    <option value="">"All products"</option>
                    {PRODUCTS.iter().map(|p| view! { <option value=p.code>{p.name}</option> }).collect_view()}
                </SelectField>
                <TextField errors name="instance_id" label="Instance ID" value=instance_id />
                <TextField errors name="order_from" label="Order time from" value=order_from input_type="date" />
                <TextField errors name="order_to" label="Order time to" value=order_to input_type="date" />
            </div>
            <div class="actions">
                <button type="submit" class="button">"Search"</button>
                <button type="button" class="button" on:click=reset>"Reset"</button>
            </div>
        </form>
    }
}
