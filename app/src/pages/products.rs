//! `/products`: there is no catalog in this build yet, and the page says so.

use crate::components::set_title;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn ProductsPage() -> impl IntoView {
    set_title("Products");
    view! {
        <h1>"Products"</h1>
        <section class="panel empty-state" aria-labelledby="empty-heading">
            <h2 id="empty-heading">"No products to buy yet"</h2>
            <p>
                "The product catalog is not available in this build of Account Center, so there is nothing to buy or manage here yet."
            </p>
            <p class="muted">
                "When it arrives, buying a product will need a billing address and a payment method on your account. "
                <A href="/">"See your next steps"</A>
            </p>
        </section>
    }
}
