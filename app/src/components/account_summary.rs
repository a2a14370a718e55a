//! Who the account is: shown on the overview and on the Me page.

use super::date::long_date;
use leptos::prelude::*;
use shared::account::Channel;
use shared::api::AccountView;

#[component]
pub fn AccountSummary(account: AccountView) -> impl IntoView {
    let verified = match (account.verified_channel, account.phone) {
        (Channel::Phone, Some(phone)) => format!("Phone ({phone})"),
        (Channel::Phone, None) => "Phone".to_owned(),
        (Channel::Email, _) => "Email".to_owned(),
    };
    view! {
        <dl class="facts">
            <div>
                <dt>"Email"</dt>
                <dd>{account.email}</dd>
            </div>
            <div>
                <dt>"Country/Region"</dt>
                <dd>{account.country_name}</dd>
            </div>
            <div>
                <dt>"Verified at sign-up"</dt>
                <dd>{verified}</dd>
            </div>
            <div>
                <dt>"Member since"</dt>
                <dd>
                    <time datetime=account.created_at.clone()>{long_date(&account.created_at)}</time>
                </dd>
            </div>
        </dl>
    }
}
