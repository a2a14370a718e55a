//! `/ram-users` (owner only): RAM users sign in under this account's alias with their own
//! name and password and hold only the permissions given here. They never see the billing
//! address, payment methods or RAM users, and can never close the account.

use crate::api;
use crate::app::use_auth;
use crate::components::{
    FormAlert, FormErrors, Loading, Modal, SubmitButton, TextField, date::long_date, load_failed,
    set_title, unique_id,
};
use leptos::prelude::*;
use shared::api::{Permission, RamUserForm, RamUserView};

const PERMISSIONS: [(Permission, &str); 2] = [
    (
        Permission::BillingFullAccess,
        "BillingFullAccess: buy, renew, pay and unsubscribe",
    ),
    (
        Permission::BillingReadOnlyAccess,
        "BillingReadOnlyAccess: see orders, instances and unsubscription records",
    ),
];

#[component]
pub fn RamUsersPage() -> impl IntoView {
    set_title("RAM users");
    let auth = use_auth();
    let changed = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        changed.track();
        api::ram_users()
    });
    let alias = auth.account_untracked().map(|a| a.uid).unwrap_or_default();
    let sign_in_url = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .map(|origin| format!("{origin}/signin/ram"))
        .unwrap_or_else(|| "/signin/ram".to_owned());
    view! {
        <h1>"RAM users"</h1>
        <p class="lead">
            "RAM users work in this account under their own name and password, with only the permissions you give them. They cannot see or change the billing address, payment methods or RAM users, and can never close the account."
        </p>
        <section class="panel" aria-labelledby="alias-heading">
            <h2 id="alias-heading">"How RAM users sign in"</h2>
            <dl class="facts">
                <div>
                    <dt>"Account alias"</dt>
                    <dd class="mono">{alias}</dd>
                </div>
                <div>
                    <dt>"Sign-in page"</dt>
                    <dd class="mono">{sign_in_url}</dd>
                </div>
            </dl>
        </section>
        <CreateRamUser on_created=Callback::new(move |_| changed.update(|n| *n += 1)) />
        <section class="panel" aria-labelledby="users-heading">
            <h2 id="users-heading">"Your RAM users"</h2>
            <Transition fallback=|| view! { <Loading what="your RAM users" /> }>
                <ErrorBoundary fallback=load_failed>
                    {move || Suspend::new(async move {
                        users.await.map(|users| view! {
                            <UserList users on_deleted=Callback::new(move |_| changed.update(|n| *n += 1)) />
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn CreateRamUser(on_created: Callback<RamUserView>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("ram", &["username", "password", "permissions"]);
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let granted = RwSignal::new(Vec::<Permission>::new());
    let created = RwSignal::new(None::<String>);
    let create = Action::new_local(move |form: &RamUserForm| {
        let form = form.clone();
        async move {
            match api::create_ram_user(&form, auth.csrf().as_deref()).await {
                Ok(user) => {
                    created.set(Some(format!("RAM user {} created.", user.username)));
                    username.set(String::new());
                    password.set(String::new());
                    granted.set(Vec::new());
                    on_created.run(user);
                }
                Err(e) => errors.show_api(&e),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        created.set(None);
        let form = RamUserForm {
            username: username.get_untracked(),
            password: password.get_untracked(),
            permissions: granted.get_untracked(),
        };
        if !errors.passes(form.parse()) {
            return;
        }
        create.dispatch_local(form);
    };
    view! {
        <section class="panel" aria-labelledby="create-heading">
            <h2 id="create-heading">"Create a RAM user"</h2>
            <form on:submit=on_submit novalidate>
                <FormAlert errors />
                <TextField
                    errors
                    name="username"
                    label="Username"
                    value=username
                    autocomplete="off"
                    help="3 to 64 letters, digits, dots, dashes or underscores."
                />
                <TextField
                    errors
                    name="password"
                    label="Password"
                    value=password
                    input_type="password"
                    autocomplete="new-password"
                    help="8 to 64 characters with letters and digits, not a common password. Give it to the RAM user yourself."
                />
                <fieldset class="choices">
                    <legend>"Permissions"</legend>
                    {PERMISSIONS
                        .iter()
                        .map(|(permission, label)| {
                            let permission = *permission;
                            let id = unique_id("permission");
                            view! {
                                <div class="check">
                                    <input
                                        type="checkbox"
                                        id=id.clone()
                                        prop:checked=move || granted.with(|g| g.contains(&permission))
                                        on:change:target=move |ev| {
                                            let on = ev.target().checked();
                                            granted.update(|g| {
                                                g.retain(|p| *p != permission);
                                                if on {
                                                    g.push(permission);
                                                }
                                            });
                                        }
                                    />
                                    <label for=id>{*label}</label>
                                </div>
                            }
                        })
                        .collect_view()}
                    <p class="field-help">"Without BillingFullAccess a RAM user cannot buy or unsubscribe."</p>
                </fieldset>
                <SubmitButton label="Create RAM User" pending=create.pending() />
                <p class="status" role="status">{move || created.get()}</p>
            </form>
        </section>
    }
}

#[component]
fn UserList(users: Vec<RamUserView>, on_deleted: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let errors = FormErrors::new("ram-users", &[]);
    let deleting = RwSignal::new(None::<RamUserView>);
    let delete = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move {
            match api::delete_ram_user(&id, auth.csrf().as_deref()).await {
                Ok(()) => on_deleted.run(()),
                Err(e) => errors.show_api(&e),
            }
        }
    });
    if users.is_empty() {
        return view! { <p class="muted">"No RAM users yet."</p> }.into_any();
    }
    view! {
        <FormAlert errors />
        <ul class="resource-list">
            {users
                .into_iter()
                .map(|user| {
                    let label_id = unique_id("ram-user");
                    let permissions = if user.permissions.is_empty() {
                        "No permissions".to_owned()
                    } else {
                        user.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                    };
                    let for_delete = user.clone();
                    view! {
                        <li class="resource">
                            <div class="resource-head">
                                <span class="resource-name" id=label_id.clone()>{user.username.clone()}</span>
                            </div>
                            <p class="muted">{format!("{permissions} · created {}", long_date(&user.created_at))}</p>
                            <div class="actions">
                                <button
                                    type="button"
                                    class="button"
                                    aria-describedby=label_id
                                    on:click=move |_| deleting.set(Some(for_delete.clone()))
                                >
                                    "Delete"
                                </button>
                            </div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <Modal
            open=Signal::derive(move || deleting.with(Option::is_some))
            on_close=move |_| deleting.set(None)
            title=Signal::derive(move || {
                deleting.with(|u| u.as_ref().map(|u| format!("Delete RAM user {}?", u.username)).unwrap_or_default())
            })
        >
            <p>"Its sessions end at once and it can no longer sign in."</p>
            <div class="actions">
                <button
                    type="button"
                    class="button button-danger"
                    on:click=move |_| {
                        if let Some(user) = deleting.get_untracked() {
                            deleting.set(None);
                            delete.dispatch_local(user.id);
                        }
                    }
                >
                    "Delete"
                </button>
                <button type="button" class="button" on:click=move |_| deleting.set(None)>"Cancel"</button>
            </div>
        </Modal>
    }
    .into_any()
}
