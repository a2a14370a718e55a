//! `/billing/withdraw`: withdraw cash from the balance to a card or PayPal of the account
//! (SPEC §6.5), and the record of withdrawals, Processing until paid out. Credit and coupons
//! are shown beside the cash but cannot be withdrawn.

use crate::api::{self, IdempotencyKey};
use crate::app::use_auth;
use crate::components::{
    FormAlert, FormErrors, Loading, SelectField, SubmitButton, TextField, date::date_time,
    load_failed, money, retryable_action, set_title, use_reauth,
};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{
    PaymentMethodKind, WithdrawalForm, WithdrawalStatus, WithdrawalView, WithdrawalsView,
};

#[component]
pub fn WithdrawPage() -> impl IntoView {
    set_title("Withdraw balance");
    let view = LocalResource::new(api::withdrawals);
    // Kept here: the page is drawn again from the new figures once a withdrawal is made.
    let done = RwSignal::new(None::<WithdrawalView>);
    view! {
        <h1>"Withdraw balance"</h1>
        <p class="lead">
            "Withdraw the cash in your balance to one of your bank cards or your PayPal account. "
            "It leaves the balance at once and shows as Processing until it has been paid out."
        </p>
        <Transition fallback=|| view! { <Loading what="your balance" /> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    view.await.map(|loaded| view! { <Withdraw loaded done on_done=Callback::new(move |_| view.refetch()) /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Withdraw(
    loaded: WithdrawalsView,
    /// The withdrawal just made, announced above the form.
    done: RwSignal<Option<WithdrawalView>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let auth = use_auth();
    let reauth = use_reauth();
    let errors = FormErrors::new("withdraw", &["amount", "payment_method_id"]);
    let amount = RwSignal::new(String::new());
    let destination = RwSignal::new(
        loaded
            .destinations
            .first()
            .map(|d| d.payment_method_id.clone())
            .unwrap_or_default(),
    );
    let withdrawable = loaded.withdrawable;
    let ids: Vec<String> = loaded
        .destinations
        .iter()
        .map(|d| d.payment_method_id.clone())
        .collect();

    let withdraw = retryable_action(
        move |(form, key): (WithdrawalForm, IdempotencyKey), this| async move {
            match api::withdraw(&form, auth.csrf().as_deref(), &key).await {
                Ok(made) => {
                    done.set(Some(made));
                    on_done.run(());
                }
                Err(e) => reauth.handle(&e, errors, move || {
                    this.dispatch_local((form, key));
                }),
            }
        },
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = WithdrawalForm {
            amount: amount.get_untracked(),
            payment_method_id: destination.get_untracked(),
        };
        let known: Vec<&str> = ids.iter().map(String::as_str).collect();
        if !errors.passes(form.check(withdrawable, &known)) {
            return;
        }
        done.set(None);
        withdraw.dispatch_local((form, IdempotencyKey::new()));
    };
    let all = move |_| {
        amount.set(withdrawable.amount.round_dp(2).to_string());
        errors.clear_field("amount");
    };
    let has_destinations = !loaded.destinations.is_empty();
    let has_cash = !withdrawable.amount.is_zero();
    view! {
        <section class="panel" aria-labelledby="withdrawable-heading">
            <h2 id="withdrawable-heading">"Your balance"</h2>
            <dl class="facts">
                <div>
                    <dt>"Withdrawable cash"</dt>
                    <dd class="amount">{money(&withdrawable)}</dd>
                </div>
                <div>
                    <dt>"Free credit (not withdrawable)"</dt>
                    <dd class="amount">{money(&loaded.credit)}</dd>
                </div>
            </dl>
            <p class="field-help">"Only cash can be withdrawn: free credit and coupons stay with the account."</p>
        </section>
        <section class="panel" aria-labelledby="withdraw-heading">
            <h2 id="withdraw-heading">"Withdraw"</h2>
            {move || done.get().map(|made| view! {
                <p class="status" role="status">
                    {format!("Withdrawal of {} to {} is processing.", money(&made.amount), made.destination)}
                </p>
            })}
            {if !has_destinations {
                view! {
                    <p class="muted">
                        "Add a bank card or PayPal to withdraw to. "
                        <A href="/payment-methods">"Go to Payment Methods"</A>
                    </p>
                }
                .into_any()
            } else if !has_cash {
                view! { <p class="muted">"There is no cash in your balance to withdraw."</p> }.into_any()
            } else {
                let destinations = loaded.destinations.clone();
                view! {
                    <form on:submit=on_submit.clone() novalidate>
                        <FormAlert errors />
                        <TextField
                            errors
                            name="amount"
                            label="Amount"
                            value=amount
                            inputmode="decimal"
                            autocomplete="off"
                            prefix=Signal::derive(move || withdrawable.currency.code().to_owned())
                            help=Signal::derive(move || format!("Up to {}, in whole cents.", money(&withdrawable)))
                        />
                        <p class="field-action">
                            <button type="button" class="button" on:click=all>"Withdraw all"</button>
                        </p>
                        <SelectField errors name="payment_method_id" label="Withdraw to" value=destination>
                            {destinations.into_iter().map(|d| {
                                let kind = match d.kind {
                                    PaymentMethodKind::Paypal => "PayPal",
                                    _ => "Bank card",
                                };
                                view! {
                                    <option value=d.payment_method_id.clone()>{format!("{kind}: {}", d.label)}</option>
                                }
                            }).collect_view()}
                        </SelectField>
                        <SubmitButton label="Withdraw" pending=withdraw.pending() />
                    </form>
                }
                .into_any()
            }}
        </section>
        <Records records=loaded.records.clone() />
    }
}

fn status_label(status: WithdrawalStatus) -> &'static str {
    match status {
        WithdrawalStatus::Processing => "Processing",
        WithdrawalStatus::Paid => "Paid",
    }
}

#[component]
fn Records(records: Vec<WithdrawalView>) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="withdrawals-heading">
            <h2 id="withdrawals-heading">"Withdrawal records"</h2>
            {if records.is_empty() {
                view! { <p class="muted">"No withdrawals yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table class="records">
                            <thead>
                                <tr>
                                    <th scope="col">"Time"</th>
                                    <th scope="col">"Amount"</th>
                                    <th scope="col">"Withdrawn to"</th>
                                    <th scope="col">"Status"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {records.into_iter().map(|r| view! {
                                    <tr>
                                        <td data-label="Time">{date_time(&r.created_at)}</td>
                                        <td data-label="Amount" class="amount">{money(&r.amount)}</td>
                                        <td data-label="Withdrawn to">{r.destination.clone()}</td>
                                        <td data-label="Status">
                                            <span class="badge" class:badge-success=r.status == WithdrawalStatus::Paid>
                                                {status_label(r.status)}
                                            </span>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </section>
    }
}
