//! `/closure/resolve`: the things that block closing the account, each with the action that
//! resolves it (seed 001, step 1): pay overdue bills, cancel ICP filings, leave multi-account
//! relationships, end the reseller partnership, transfer domain names out, turn auto-renewal
//! off. Running subscriptions are unsubscribed on Orders & Unsubscribe. Every action fetches
//! the lists again.

use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    FormAlert, FormErrors, Loading, Modal, date::long_date, load_failed, money, retryable_action,
    set_title, unique_id, use_reauth,
};
use crate::words::{self, grouped};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{AccountTies, BillStatus, BillView, InstanceStatus, InstanceView};
use shared::catalog::{Billing, DOMAIN};
use shared::closure::{BALANCE_LIMIT_CNY, OVERDUE_LIMIT_CNY};
use wasm_bindgen::JsCast;

/// One resolving action, with what the user sees of its subject.
#[derive(Clone)]
enum Resolution {
    /// A new key per click; a retry after the password prompt keeps it.
    PayBill(String, IdempotencyKey),
    CancelFiling(String),
    RemoveRelationship(String),
    EndPartnership,
    TransferDomain(String),
    AutoRenewOff(String),
}

impl Resolution {
    fn done(&self) -> &'static str {
        match self {
            Resolution::PayBill(..) => "Bill paid.",
            Resolution::CancelFiling(_) => "ICP filing cancelled.",
            Resolution::RemoveRelationship(_) => "Relationship removed.",
            Resolution::EndPartnership => "Reseller partnership ended.",
            Resolution::TransferDomain(_) => "Domain name transferred out.",
            Resolution::AutoRenewOff(_) => "Auto-renewal turned off.",
        }
    }
}

/// What a confirmation dialog asks before an action that cannot be undone.
#[derive(Clone)]
struct Asked {
    resolution: Resolution,
    title: String,
    text: String,
    button: &'static str,
}

#[component]
pub fn ResolvePage() -> impl IntoView {
    set_title("Resolve closure blockers");
    let auth = use_auth();
    let reauth = use_reauth();
    let ties = LocalResource::new(api::closure_ties);
    let instances = LocalResource::new(api::instances);
    // Out here, not in the lists: a refetch rebuilds the lists, and must not take the outcome
    // of the action that caused it (or the action itself) with it.
    let errors = FormErrors::new("resolve", &[]);
    let done = RwSignal::new(None::<&'static str>);
    let asked = RwSignal::new(None::<Asked>);

    let act = retryable_action(move |resolution: Resolution, this| async move {
        let csrf = auth.csrf();
        let csrf = csrf.as_deref();
        let result = match &resolution {
            Resolution::PayBill(id, key) => api::pay_bill(id, csrf, key).await.map(drop),
            Resolution::CancelFiling(id) => api::cancel_icp_filing(id, csrf).await.map(drop),
            Resolution::RemoveRelationship(id) => {
                api::remove_relationship(id, csrf).await.map(drop)
            }
            Resolution::EndPartnership => api::end_reseller_partnership(csrf).await.map(drop),
            Resolution::TransferDomain(id) => api::transfer_domain_out(id, csrf).await,
            Resolution::AutoRenewOff(id) => api::set_auto_renew(id, false, csrf).await,
        };
        asked.set(None);
        match result {
            Ok(()) => {
                done.set(Some(resolution.done()));
                ties.refetch();
                instances.refetch();
            }
            Err(e) => reauth.handle(&e, errors, move || {
                this.dispatch_local(resolution);
            }),
        }
    });
    let run = Callback::new(move |r: Resolution| {
        errors.clear();
        done.set(None);
        act.dispatch_local(r);
    });
    let pending: Signal<bool> = act.pending().into();
    let ask = Callback::new(move |a: Asked| {
        errors.clear();
        done.set(None);
        asked.set(Some(a));
    });

    view! {
        <h1>"Resolve closure blockers"</h1>
        <p class="lead">
            "Each item here blocks closing the account. Process them, then run the closure check again."
        </p>
        <p>
            <A href="/security" attr:class="back-link">"Back to security & closure"</A>
        </p>
        <FormAlert errors />
        <p class="status" role="status">{move || done.get()}</p>
        <Transition fallback=|| view! { <Loading what="what the account is tied to" /> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    let ties = ties.await?;
                    let instances = instances.await?;
                    // The lists arrive after the address: go to its #section now that it exists.
                    request_animation_frame(scroll_to_hash);
                    Ok::<_, api::ApiError>(view! { <Blockers ties instances pending run ask /> })
                })}
            </ErrorBoundary>
        </Transition>
        <Modal
            open=Signal::derive(move || asked.with(Option::is_some))
            on_close=move |_| asked.set(None)
            title=Signal::derive(move || asked.with(|a| a.as_ref().map(|a| a.title.clone()).unwrap_or_default()))
        >
            {move || asked.get().map(|a| {
                let resolution = a.resolution.clone();
                view! {
                    <p>{a.text.clone()}</p>
                    <p class="muted">"This cannot be undone from Account Center."</p>
                    <FormAlert errors />
                    <div class="actions">
                        <button
                            type="button"
                            class="button button-primary"
                            disabled=move || pending.get()
                            aria-busy=move || pending.get().then_some("true")
                            on:click=move |_| run.run(resolution.clone())
                        >
                            <Show when=move || pending.get()>
                                <span class="spinner" aria-hidden="true"></span>
                            </Show>
                            <span>{a.button}</span>
                        </button>
                        <button type="button" class="button" on:click=move |_| asked.set(None)>
                            "Cancel"
                        </button>
                    </div>
                }
            })}
        </Modal>
    }
}

#[component]
fn Blockers(
    ties: AccountTies,
    instances: Vec<InstanceView>,
    pending: Signal<bool>,
    run: Callback<Resolution>,
    ask: Callback<Asked>,
) -> impl IntoView {
    let running: Vec<&InstanceView> = instances
        .iter()
        .filter(|i| i.status == InstanceStatus::Running && i.billing == Billing::Subscription)
        .collect();
    let domains: Vec<InstanceView> = running
        .iter()
        .filter(|i| i.product == DOMAIN)
        .map(|i| (*i).clone())
        .collect();
    let renewing: Vec<InstanceView> = running
        .iter()
        .filter(|i| i.auto_renew)
        .map(|i| (*i).clone())
        .collect();
    let subscriptions = running.iter().filter(|i| i.product != DOMAIN).count();
    let balance = grouped(BALANCE_LIMIT_CNY);
    let bills: Vec<BillView> = ties
        .bills
        .iter()
        .filter(|b| b.status == BillStatus::Unpaid)
        .cloned()
        .collect();

    view! {
        <Section id="bills" title="Unpaid bills">
            <p class="muted">
                {format!("Overdue payments over {OVERDUE_LIMIT_CNY} CNY must be paid; smaller ones may be renounced with the account. Pay charges your default payment method.")}
            </p>
            {empty_or(bills.is_empty(), "No unpaid bills.", move || {
                bills.into_iter().map(|bill| {
                    let label_id = unique_id("bill");
                    let id = bill.id.clone();
                    view! {
                        <Tie
                            label_id=label_id.clone()
                            button="Pay"
                            pending
                            on_press=move || run.run(Resolution::PayBill(id.clone(), IdempotencyKey::new()))
                        >
                            <p class="check-item-title" id=label_id.clone()>{bill.description.clone()}</p>
                            <p class="muted">
                                <span class="amount">{money(&bill.amount)}</span>
                                {format!(" · due {}", long_date(&bill.due_at))}
                            </p>
                            {bill.overdue.then(|| view! { <span class="badge badge-error">"Overdue"</span> })}
                        </Tie>
                    }
                }).collect_view()
            })}
        </Section>

        <Section id="balance" title="Account balance">
            <p>
                "Cash balance: " <span class="amount">{money(&ties.cash_balance)}</span>
            </p>
            <p class="muted">
                {format!("A balance is lost with the account. One of {balance} CNY or less can be renounced with it; a larger one must be withdrawn or spent on resources first.")}
            </p>
            <p>
                <A href="/billing/withdraw">"Withdraw the balance"</A>
            </p>
        </Section>

        <Section id="domains" title="Domain names">
            <p class="muted">"Unexpired domain names must be transferred to another account or provider."</p>
            {empty_or(domains.is_empty(), "No unexpired domain names.", move || {
                domains.into_iter().map(|domain| {
                    let label_id = unique_id("domain");
                    let id = domain.id.clone();
                    let expires = domain.expires_at.as_deref().map(long_date).unwrap_or_default();
                    let asked_text = format!("The domain name {} leaves this account for good.", domain.id);
                    view! {
                        <Tie
                            label_id=label_id.clone()
                            button="Transfer out"
                            pending
                            on_press=move || ask.run(Asked {
                                resolution: Resolution::TransferDomain(id.clone()),
                                title: "Transfer the domain name out?".into(),
                                text: asked_text.clone(),
                                button: "Transfer out",
                            })
                        >
                            <p class="check-item-title mono" id=label_id.clone()>{domain.id.clone()}</p>
                            <p class="muted">{format!("{} · expires {expires}", domain.product_name)}</p>
                        </Tie>
                    }
                }).collect_view()
            })}
        </Section>

        <Section id="auto-renew" title="Auto-renewal">
            <p class="muted">"Subscriptions that renew automatically must have auto-renewal turned off."</p>
            {empty_or(renewing.is_empty(), "No subscription renews automatically.", move || {
                renewing.into_iter().map(|instance| {
                    let label_id = unique_id("renew");
                    let id = instance.id.clone();
                    view! {
                        <Tie
                            label_id=label_id.clone()
                            button="Turn off auto-renewal"
                            pending
                            on_press=move || run.run(Resolution::AutoRenewOff(id.clone()))
                        >
                            <p class="check-item-title" id=label_id.clone()>
                                {format!("{} ", instance.product_name)}
                                <span class="mono">{instance.id.clone()}</span>
                            </p>
                            <p class="muted">{instance.expires_at.as_deref().map(|e| format!("Renews on {}", long_date(e)))}</p>
                        </Tie>
                    }
                }).collect_view()
            })}
        </Section>

        <Section id="subscriptions" title="Running subscriptions">
            {if subscriptions == 0 {
                view! { <p class="muted">"No subscription is running."</p> }.into_any()
            } else {
                view! {
                    <p>
                        {format!("{subscriptions} running subscription{} must be unsubscribed (or left to expire). Back up their data first. ", if subscriptions == 1 { "" } else { "s" })}
                        <A href="/unsubscribe">"Go to orders & unsubscribe"</A>
                    </p>
                }
                .into_any()
            }}
        </Section>

        <Section id="icp" title="ICP filings">
            <p class="muted">"Cancel each ICP filing, or transfer its filing entity to another account."</p>
            {empty_or(ties.icp_filings.is_empty(), "No ICP filings.", {
                let filings = ties.icp_filings.clone();
                move || filings.into_iter().map(|filing| {
                    let label_id = unique_id("icp");
                    let id = filing.id.clone();
                    let asked_text = format!("The filing {} for {} is cancelled; the website may no longer be served in mainland China.", filing.number, filing.website);
                    view! {
                        <Tie
                            label_id=label_id.clone()
                            button="Cancel filing"
                            pending
                            on_press=move || ask.run(Asked {
                                resolution: Resolution::CancelFiling(id.clone()),
                                title: "Cancel the ICP filing?".into(),
                                text: asked_text.clone(),
                                button: "Cancel filing",
                            })
                        >
                            <p class="check-item-title" id=label_id.clone()>{filing.number.clone()}</p>
                            <p class="muted">{filing.website.clone()}</p>
                        </Tie>
                    }
                }).collect_view()
            })}
        </Section>

        <Section id="relationships" title="Multi-account relationships">
            <p class="muted">"An account in a multi-account system must leave it first."</p>
            {empty_or(ties.relationships.is_empty(), "No multi-account relationships.", {
                let relationships = ties.relationships.clone();
                move || relationships.into_iter().map(|rel| {
                    let label_id = unique_id("rel");
                    let id = rel.id.clone();
                    let title = words::relationship(rel.kind, rel.role);
                    let guidance = words::relationship_guidance(rel.kind, rel.role);
                    let asked_text = format!("{title} with {} ends. {guidance}", rel.peer);
                    view! {
                        <Tie
                            label_id=label_id.clone()
                            button="Remove"
                            pending
                            on_press=move || ask.run(Asked {
                                resolution: Resolution::RemoveRelationship(id.clone()),
                                title: "Remove the relationship?".into(),
                                text: asked_text.clone(),
                                button: "Remove",
                            })
                        >
                            <p class="check-item-title" id=label_id.clone()>{title.clone()}</p>
                            <p class="muted">{format!("With {}", rel.peer)}</p>
                            <p>{guidance}</p>
                        </Tie>
                    }
                }).collect_view()
            })}
        </Section>

        <Section id="partner" title="Reseller partnership">
            <p class="muted">"A partnership with an Alibaba Cloud partner (reseller) must be cancelled before closing."</p>
            {match ties.reseller_partner.clone() {
                None => view! { <p class="muted">"No reseller partnership."</p> }.into_any(),
                Some(partner) => {
                    let asked_text = format!("The partnership with {partner} ends.");
                    view! {
                        <ul class="ties">
                            <Tie
                                label_id="partner-name"
                                button="End partnership"
                                pending
                                on_press=move || ask.run(Asked {
                                    resolution: Resolution::EndPartnership,
                                    title: "End the reseller partnership?".into(),
                                    text: asked_text.clone(),
                                    button: "End partnership",
                                })
                            >
                                <p class="check-item-title" id="partner-name">{partner.clone()}</p>
                            </Tie>
                        </ul>
                    }
                    .into_any()
                }
            }}
        </Section>

    }
}

/// One thing the account is tied to, with the button that ends the tie; the button is
/// described by the element `label_id` names, and waits while any resolution is on its way.
#[component]
fn Tie<F>(
    #[prop(into)] label_id: String,
    button: &'static str,
    pending: Signal<bool>,
    on_press: F,
    children: Children,
) -> impl IntoView
where
    F: Fn() + 'static,
{
    view! {
        <li class="tie">
            <div class="tie-main">{children()}</div>
            <button
                type="button"
                class="button"
                aria-describedby=label_id
                disabled=move || pending.get()
                on:click=move |_| on_press()
            >
                {button}
            </button>
        </li>
    }
}

#[component]
fn Section(id: &'static str, title: &'static str, children: Children) -> impl IntoView {
    let heading = format!("{id}-heading");
    let labelled_by = heading.clone();
    view! {
        <section class="panel" id=id aria-labelledby=labelled_by>
            <h2 id=heading>{title}</h2>
            {children()}
        </section>
    }
}

/// The list of a section, or a line saying there is nothing in it.
fn empty_or<V: IntoView + 'static>(
    empty: bool,
    none: &'static str,
    items: impl FnOnce() -> V,
) -> AnyView {
    if empty {
        view! { <p class="muted">{none}</p> }.into_any()
    } else {
        view! { <ul class="ties">{items()}</ul> }.into_any()
    }
}

fn scroll_to_hash() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let hash = window.location().hash().unwrap_or_default();
    let Some(id) = hash.strip_prefix('#').filter(|id| !id.is_empty()) else {
        return;
    };
    if let Some(element) = window
        .document()
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        element.scroll_into_view();
    }
}
