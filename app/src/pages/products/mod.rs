//! `/products` (SPEC §4): buy from the catalog by subscription or pay-as-you-go, then manage
//! what is running: renew, activate a resource plan, release a pay-as-you-go instance.

mod buy;
mod instances;

use crate::components::set_title;
use leptos::prelude::*;

#[component]
pub fn ProductsPage() -> impl IntoView {
    set_title("Products");
    // Bumped after a purchase so the instance list loads again.
    let bought = RwSignal::new(0u32);
    view! {
        <h1>"Products"</h1>
        <p class="lead">
            "Subscriptions are paid now for a period and can renew automatically; pay-as-you-go is billed by usage, a few hours late."
        </p>
        <buy::BuyForm on_bought=Callback::new(move |_| bought.update(|n| *n += 1)) />
        <instances::Instances reload=bought.into() />
    }
}

/// A region's name, or its code when the catalog no longer lists it.
pub fn region_name(code: &str) -> String {
    shared::catalog::Region::find(code).map_or_else(|| code.to_owned(), |r| r.name.to_owned())
}

/// "1 month", "12 months".
pub fn months(n: u32) -> String {
    if n == 1 {
        "1 month".to_owned()
    } else {
        format!("{n} months")
    }
}
