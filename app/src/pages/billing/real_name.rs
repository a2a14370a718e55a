//! `/real-name`: real-name registration, needed only to buy in mainland-China regions. An
//! individual gives the name and 18-digit resident identity number; an enterprise its name
//! and 18-character unified social credit code. Once verified it is shown, masked.

use crate::api;
use crate::app::use_auth;
use crate::components::{
    FormAlert, FormErrors, Loading, Radio, SubmitButton, TextField, date::long_date, load_failed,
    set_title,
};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{RealNameStatus, RealNameView};
use shared::catalog::REGIONS;
use shared::realname::{RealNameForm, RealNameKind};

#[component]
pub fn RealNamePage() -> impl IntoView {
    set_title("Real-name registration");
    let status = LocalResource::new(api::real_name);
    let regions = REGIONS
        .iter()
        .filter(|r| r.mainland_china)
        .map(|r| r.name)
        .collect::<Vec<_>>()
        .join(" and ");
    view! {
        <h1>"Real-name registration"</h1>
        <p class="lead">
            {format!("Needed only to buy in mainland-China regions ({regions}). Other regions do not ask for it.")}
        </p>
        <Transition fallback=|| view! { <Loading what="your registration" /> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    status.await.map(|view| view! { <RealName view /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn RealName(view: RealNameView) -> impl IntoView {
    let current = RwSignal::new(view);
    move || {
        let view = current.get();
        match view.status {
            RealNameStatus::Verified => view! { <Registered view /> }.into_any(),
            RealNameStatus::NotRegistered => {
                view! { <Register on_done=Callback::new(move |v| current.set(v)) /> }.into_any()
            }
        }
    }
}

#[component]
fn Registered(view: RealNameView) -> impl IntoView {
    let kind = match view.kind {
        Some(RealNameKind::Enterprise) => "Enterprise",
        _ => "Individual",
    };
    view! {
        <section class="panel" aria-labelledby="registered-heading">
            <h2 id="registered-heading">"Registration verified"</h2>
            <p class="status" role="status">"Your real name is verified. You can buy in mainland-China regions."</p>
            <dl class="facts">
                <div>
                    <dt>"Type"</dt>
                    <dd>{kind}</dd>
                </div>
                <div>
                    <dt>"Name"</dt>
                    <dd>{view.name.unwrap_or_default()}</dd>
                </div>
                <div>
                    <dt>"ID number"</dt>
                    <dd class="mono">{view.id_masked.unwrap_or_default()}</dd>
                </div>
                <div>
                    <dt>"Verified on"</dt>
                    <dd>{view.verified_at.as_deref().map(long_date).unwrap_or_default()}</dd>
                </div>
            </dl>
            <p class="muted">"Only a masked form of the number is kept."</p>
            <p><A href="/products">"Buy cloud resources"</A></p>
        </section>
    }
}

#[component]
fn Register(on_done: Callback<RealNameView>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("real-name", &["name", "id_number"]);
    let kind = RwSignal::new(RealNameKind::Individual);
    let name = RwSignal::new(String::new());
    let id_number = RwSignal::new(String::new());
    let register = Action::new_local(move |form: &RealNameForm| {
        let form = form.clone();
        async move {
            match api::register_real_name(&form, auth.csrf().as_deref()).await {
                Ok(view) => {
                    auth.refresh();
                    on_done.run(view);
                }
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = RealNameForm {
            kind: kind.get_untracked(),
            name: name.get_untracked(),
            id_number: id_number.get_untracked(),
        };
        if errors.passes(form.parse()) {
            register.dispatch_local(form);
        }
    };
    // The help names what the number is for the kind chosen; the label stays the same.
    let help = Signal::derive(move || {
        match kind.get() {
            RealNameKind::Individual => {
                "Individual: the 18-digit resident identity number (the last character may be X)."
            }
            RealNameKind::Enterprise => "Enterprise: the 18-character unified social credit code.",
        }
        .to_owned()
    });
    view! {
        <section class="panel" aria-labelledby="register-heading">
            <h2 id="register-heading">"Register your real name"</h2>
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <fieldset class="choices">
                    <legend>"Registration type"</legend>
                    <Radio group="real-name-kind" label="Individual" option=RealNameKind::Individual selected=kind />
                    <Radio group="real-name-kind" label="Enterprise" option=RealNameKind::Enterprise selected=kind />
                </fieldset>
                <TextField
                    errors
                    name="name"
                    label="Name"
                    value=name
                    autocomplete="name"
                    help="As on the identity document or business licence."
                />
                <TextField errors name="id_number" label="ID number" value=id_number help=help />
                <SubmitButton label="Submit" pending=register.pending() />
            </form>
        </section>
    }
}
