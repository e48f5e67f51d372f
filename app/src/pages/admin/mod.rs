//! The administration pages (administrators only; anyone else gets 404): users, access roles with their Secure Remote
//! Access rule, API keys, gateways and where the audit log is delivered.
//!
//! Every change on these pages goes through one action ([`Admin::change`]): its answer is said once at the top of the
//! page (or the one-time secret it made is shown), and the directory the pages list is read again after it.

mod destinations;
mod gateways;
mod keys;
mod roles;
mod users;

pub use destinations::AdminDestinationsPage;
pub use gateways::AdminGatewaysPage;
pub use keys::AdminKeysPage;
pub use roles::AdminRolesPage;
pub use users::AdminUsersPage;

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use sra_domain::{RoleSpec, MAX_ADMIN_NAME, MAX_DISPLAY_NAME};

use crate::admin::{
    add_destination, admin_directory, assign_role, create_api_key, create_role, create_user, register_gateway,
    remove_destination, reset_password, revoke_api_key, rotate_gateway_key, set_disabled, set_role_rule, unassign_role,
    Directory, OneTimeSecret,
};
use crate::error::{ConsoleError, Failure};

/// A change an administrator asks for.
#[derive(Debug, Clone)]
enum Change {
    CreateUser { login: String, display_name: String },
    ResetPassword(String),
    SetDisabled(String, bool),
    AssignRole { login: String, role: String },
    UnassignRole { login: String, role: String },
    CreateRole(RoleSpec),
    SetRoleRule(RoleSpec),
    CreateApiKey(String),
    RevokeApiKey(String),
    RegisterGateway { name: String, display_name: String },
    RotateGatewayKey(String),
    AddDestination { name: String, url: String, from_now: bool },
    RemoveDestination(String),
}

impl Change {
    /// What was done, said after it succeeded.
    fn done(&self) -> String {
        match self {
            Change::CreateUser { login, .. } => format!("Created the user {login}."),
            Change::ResetPassword(login) => format!("Gave {login} a new password; their sign-ins have ended."),
            Change::SetDisabled(login, true) => format!("Disabled {login}; their sign-ins have ended."),
            Change::SetDisabled(login, false) => format!("Enabled {login}."),
            Change::AssignRole { login, role } => format!("Gave {login} the role {role}."),
            Change::UnassignRole { login, role } => format!("Took the role {role} from {login}."),
            Change::CreateRole(spec) => format!("Created the role {}.", spec.name),
            Change::SetRoleRule(spec) => format!("Saved the Secure Remote Access rule of {}.", spec.name),
            Change::CreateApiKey(login) => format!("Created an API key for {login}."),
            Change::RevokeApiKey(id) => format!("Revoked the API key {id} and its tokens."),
            Change::RegisterGateway { name, .. } => format!("Registered the gateway {name}."),
            Change::RotateGatewayKey(name) => format!("Issued {name} a new ingest key; its old one no longer works."),
            Change::AddDestination { name, .. } => format!("Added {name}: the audit log is delivered to it."),
            Change::RemoveDestination(name) => format!("Removed {name}: nothing more is delivered to it."),
        }
    }

    async fn apply(self) -> Result<Option<OneTimeSecret>, ConsoleError> {
        match self {
            Change::CreateUser { login, display_name } => create_user(login, display_name).await.map(Some),
            Change::ResetPassword(login) => reset_password(login).await.map(Some),
            Change::SetDisabled(login, disabled) => set_disabled(login, disabled).await.map(|()| None),
            Change::AssignRole { login, role } => assign_role(login, role).await.map(|()| None),
            Change::UnassignRole { login, role } => unassign_role(login, role).await.map(|()| None),
            Change::CreateRole(spec) => create_role(spec.name, spec.rule, spec.gateways).await.map(|()| None),
            Change::SetRoleRule(spec) => set_role_rule(spec.name, spec.rule, spec.gateways).await.map(|()| None),
            Change::CreateApiKey(login) => create_api_key(login).await.map(Some),
            Change::RevokeApiKey(id) => revoke_api_key(id).await.map(|()| None),
            Change::RegisterGateway { name, display_name } => register_gateway(name, display_name).await.map(|()| None),
            Change::RotateGatewayKey(name) => rotate_gateway_key(name).await.map(Some),
            Change::AddDestination { name, url, from_now } => add_destination(name, url, from_now).await.map(Some),
            Change::RemoveDestination(name) => remove_destination(name).await.map(|()| None),
        }
    }
}

/// What a change answered: what was done and the secret it made, if any.
#[derive(Debug, Clone)]
struct Done {
    said: String,
    secret: Option<OneTimeSecret>,
}

/// The page's change action and the directory it lists, read again after every change.
#[derive(Clone, Copy)]
struct Admin {
    change: Action<Change, Result<Done, ConsoleError>>,
    directory: Resource<Result<Directory, ConsoleError>>,
}

impl Admin {
    fn new() -> Admin {
        let change = Action::new(|change: &Change| {
            let change = change.clone();
            async move {
                let said = change.done();
                change.apply().await.map(|secret| Done { said, secret })
            }
        });
        let directory = Resource::new(move || change.version().get(), |_| admin_directory());
        Admin { change, directory }
    }

    fn ask(&self, change: Change) {
        self.change.dispatch(change);
    }

    fn busy(&self) -> Memo<bool> {
        self.change.pending()
    }
}

/// Asks the person to confirm an action that cannot be undone (browser only; pages run handlers in the browser only).
fn confirmed(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        window().confirm_with_message(question).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        false
    }
}

/// The frame of an administration page: its heading, the section links, what the last change answered, and the body
/// made from the directory — or the not-found page for anyone but an administrator.
fn frame<V: IntoView + 'static>(
    admin: Admin,
    title: &'static str,
    about: &'static str,
    form: impl IntoView + 'static,
    body: impl Fn(Directory) -> V + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <section class="admin">
            <div class="overview-head">
                <h1>{title}</h1>
                <p class="timeframe">{about}</p>
            </div>
            <AdminNav />
            {move || {
                admin
                    .change
                    .value()
                    .get()
                    .map(|answer| match answer {
                        Ok(done) => outcome(admin, done).into_any(),
                        Err(e) => {
                            view! {
                                <div class="error" role="alert">
                                    {e.message}
                                </div>
                            }
                                .into_any()
                        }
                    })
            }}
            {form}
            <Transition fallback=|| {
                view! {
                    <div class="skeleton" aria-busy="true">
                        "Loading…"
                    </div>
                }
            }>
                {move || {
                    admin
                        .directory
                        .get()
                        .map(|result| match result {
                            Ok(directory) => body(directory).into_any(),
                            Err(e) if e.kind == Failure::NotFound => view! { <super::NotFound /> }.into_any(),
                            Err(e) => {
                                view! {
                                    <div class="error" role="alert">
                                        {format!("This page could not be loaded: {}", e.message)}
                                    </div>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}

/// A change that succeeded: said in words, and a secret it made shown once, with a way to put it away.
fn outcome(admin: Admin, done: Done) -> impl IntoView {
    match done.secret {
        None => view! {
            <p class="saved" role="status">
                {done.said}
            </p>
        }
        .into_any(),
        Some(secret) => view! {
            <div class="one-time-secret" role="status">
                <p>{done.said}</p>
                <p>
                    <strong>{secret.label}</strong>
                    " — shown this once: copy it now."
                </p>
                {secret
                    .id
                    .map(|id| {
                        view! { <p>"Access ID " <code class="access-id">{id}</code></p> }
                    })}
                <p>
                    <code class="secret">{secret.secret}</code>
                </p>
                <button on:click=move |_| admin.change.clear()>"Done, I have copied it"</button>
            </div>
        }
        .into_any(),
    }
}

/// The links between the administration pages.
#[component]
fn AdminNav() -> impl IntoView {
    let location = use_location();
    let link = move |href: &'static str, text: &'static str| {
        view! {
            <a href=href aria-current=move || (location.pathname.get() == href).then_some("page")>
                {text}
            </a>
        }
    };
    view! {
        <nav class="admin-nav" aria-label="Administration">
            {link("/admin/users", "Users")}
            {link("/admin/roles", "Access roles")}
            {link("/admin/keys", "API keys")}
            {link("/admin/gateways", "Gateways")}
            {link("/admin/destinations", "Audit destinations")}
        </nav>
    }
}

/// A list of what an administrator manages: `class` names it (`user-list`…), `columns` head it, and a last column of
/// actions is named for screen readers only.
pub(crate) fn list_table(class: &'static str, columns: &'static [&'static str], rows: impl IntoView) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class=format!("admin-list {class}")>
                <thead>
                    <tr>
                        {columns.iter().map(|c| view! { <th scope="col">{*c}</th> }).collect_view()} <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The form that creates something named, with a display name (a user, a gateway): `change` makes the change
/// from the two.
fn name_form(
    admin: Admin,
    label: &'static str,
    name: (&'static str, &'static str),
    submit: &'static str,
    change: fn(String, String) -> Change,
) -> impl IntoView {
    let (name_label, field) = name;
    let given = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    view! {
        <form
            class="admin-form"
            aria-label=label
            on:submit=move |ev| {
                ev.prevent_default();
                admin.ask(change(given.get_untracked(), display_name.get_untracked()));
            }
        >
            <label>
                {name_label} <input name=field required maxlength=MAX_ADMIN_NAME autocomplete="off" bind:value=given />
            </label>
            <label>
                "Display name"
                <input name="display_name" maxlength=MAX_DISPLAY_NAME autocomplete="off" bind:value=display_name />
            </label>
            <button type="submit" disabled=move || admin.busy().get()>
                {submit}
            </button>
        </form>
    }
}
