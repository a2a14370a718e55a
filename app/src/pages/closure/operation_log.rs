//! `/operation-log`: the account's security and money actions, newest first, with who did
//! them, when and from which address (SPEC §1; what ActionTrail is to Alibaba Cloud).

use crate::api;
use crate::components::date::date_time;
use crate::components::{load_failed, set_title};
use crate::words::{operation_action, operation_actor, operation_category, operation_detail};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{OperationAction, OperationCategory, OperationEntry, OperationLogQuery};
use strum::VariantArray;

#[component]
pub fn OperationLogPage() -> impl IntoView {
    set_title("Operation log");
    let category = RwSignal::new(None::<OperationCategory>);
    let page = RwSignal::new(1u32);
    let log = LocalResource::new(move || {
        let query = OperationLogQuery {
            category: category.get(),
            page: Some(page.get()),
        };
        async move { api::operation_log(&query).await }
    });
    let choices = [None]
        .into_iter()
        .chain(OperationCategory::VARIANTS.iter().copied().map(Some))
        .map(|choice| {
            view! {
                <button
                    type="button"
                    class="tab"
                    aria-pressed=move || if category.get() == choice { "true" } else { "false" }
                    on:click=move |_| {
                        category.set(choice);
                        page.set(1);
                    }
                >
                    {operation_category(choice)}
                </button>
            }
        })
        .collect_view();
    view! {
        <A href="/security" attr:class="back-link">"Back to security & closure"</A>
        <h1>"Operation log"</h1>
        <p class="muted">
            "Sign-ins, password and two-step changes, RAM users, payment methods, purchases, unsubscriptions, withdrawals and closure steps: who did them, when, and from which address. The log goes with the account when it is closed; export it first from Security & closure."
        </p>
        <div class="tab-strip" role="group" aria-label="Show">
            {choices}
        </div>
        <section class="panel" aria-label="Entries">
            <Transition fallback=|| view! { <p role="status">"Loading the log…"</p> }>
                <ErrorBoundary fallback=load_failed>
                    {move || Suspend::new(async move {
                        log.await
                            .map(|log| {
                                let pages = log.total.div_ceil(u64::from(log.page_size)).max(1);
                                let current = log.page;
                                view! {
                                    {log.entries.is_empty().then(|| view! {
                                        <p class="empty-state">"Nothing recorded here yet."</p>
                                    })}
                                    <ul class="log-list">
                                        {log.entries.into_iter().map(|entry| view! { <LogRow entry /> }).collect_view()}
                                    </ul>
                                    <div class="pager">
                                        <span class="muted">{format!("Page {current} of {pages} · {} entries", log.total)}</span>
                                        <button
                                            type="button"
                                            class="button button-compact"
                                            disabled={current <= 1}
                                            on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))
                                        >
                                            "Newer"
                                        </button>
                                        <button
                                            type="button"
                                            class="button button-compact"
                                            disabled={u64::from(current) >= pages}
                                            on:click=move |_| page.update(|p| *p += 1)
                                        >
                                            "Older"
                                        </button>
                                    </div>
                                }
                            })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn LogRow(entry: OperationEntry) -> impl IntoView {
    let refused = entry.action == OperationAction::SignInFailed;
    view! {
        <li class="log-row">
            <div class="log-what">
                <strong class=if refused { "log-refused" } else { "" }>{operation_action(entry.action)}</strong>
                <span class="log-detail">{operation_detail(&entry.detail)}</span>
            </div>
            <div class="log-meta muted">
                {format!(
                    "{} · {} · {}",
                    date_time(&entry.at),
                    operation_actor(&entry.actor),
                    entry.ip.unwrap_or_else(|| "no address".to_owned()),
                )}
            </div>
        </li>
    }
}
