//! Users: create (the password is shown once), disable or enable, give a new password, give and take roles.

use leptos::prelude::*;
use sra_domain::UserListing;

use super::{confirmed, frame, list_table, name_form, Admin, Change};
use crate::local_time::LocalTime;

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let admin = Admin::new();
    let form = name_form(admin, "New user", ("Login", "login"), "Create user", |login, display_name| {
        Change::CreateUser { login, display_name }
    });
    frame(
        admin,
        "Users",
        "Who may sign in, and the access roles that decide whose sessions they see beyond their own.",
        form,
        move |directory| {
            let roles: Vec<String> = directory.roles.iter().map(|r| r.name.clone()).collect();
            let rows = directory.users.into_iter().map(|user| user_row(admin, user, &roles)).collect_view();
            list_table("user-list", &["Login", "Name", "Access roles", "Last sign-in", "State"], rows)
        },
    )
}

fn user_row(admin: Admin, user: UserListing, all_roles: &[String]) -> impl IntoView {
    let UserListing { login, display_name, disabled, has_password, roles, last_sign_in_at } = user;
    let addable: Vec<String> = all_roles.iter().filter(|r| !roles.contains(r)).cloned().collect();
    let held = roles
        .into_iter()
        .map(|role| {
            let label = format!("Take the role {role} from {login}");
            let change = Change::UnassignRole { login: login.clone(), role: role.clone() };
            view! {
                <span class="chip">
                    {role}
                    <button
                        class="chip-remove"
                        aria-label=label
                        disabled=move || admin.busy().get()
                        on:click=move |_| admin.ask(change.clone())
                    >
                        "×"
                    </button>
                </span>
            }
        })
        .collect_view();
    let add = (!addable.is_empty()).then(|| {
        let login = login.clone();
        view! {
            <select
                aria-label=format!("Give {login} a role")
                prop:value=""
                disabled=move || admin.busy().get()
                on:change=move |ev| {
                    let role = event_target_value(&ev);
                    if !role.is_empty() {
                        admin
                            .ask(Change::AssignRole {
                                login: login.clone(),
                                role,
                            });
                    }
                }
            >
                <option value="">"Give a role…"</option>
                {addable
                    .into_iter()
                    .map(|r| {
                        let value = r.clone();
                        view! { <option value=value>{r}</option> }
                    })
                    .collect_view()}
            </select>
        }
    });
    let reset = {
        let login = login.clone();
        move |_| {
            if confirmed(&format!("Give {login} a new password? Their current password and sign-ins stop working.")) {
                admin.ask(Change::ResetPassword(login.clone()));
            }
        }
    };
    let toggle = {
        let login = login.clone();
        move |_| {
            if !disabled && !confirmed(&format!("Disable {login}? Their sign-ins and API tokens end at once.")) {
                return;
            }
            admin.ask(Change::SetDisabled(login.clone(), !disabled));
        }
    };
    view! {
        <tr data-login=login.clone() class:disabled=disabled>
            <th scope="row">{login.clone()}</th>
            <td>{display_name}</td>
            <td class="roles">{held} {add}</td>
            <td class="time">
                {match last_sign_in_at {
                    Some(ms) => view! { <LocalTime ms /> }.into_any(),
                    None => "Never".into_any(),
                }}
            </td>
            <td>
                {match (disabled, has_password) {
                    (true, _) => "Disabled",
                    (false, true) => "Active",
                    (false, false) => "No password",
                }}
            </td>
            <td class="actions">
                <button
                    aria-label=format!("New password for {login}")
                    disabled=move || admin.busy().get()
                    on:click=reset
                >
                    {if has_password { "New password" } else { "Set password" }}
                </button>
                <button
                    aria-label=format!("{} {login}", if disabled { "Enable" } else { "Disable" })
                    disabled=move || admin.busy().get()
                    on:click=toggle
                >
                    {if disabled { "Enable" } else { "Disable" }}
                </button>
            </td>
        </tr>
    }
}
