//! API keys: create one for a user (the key is shown once), revoke one (its tokens end with it).

use leptos::prelude::*;
use sra_domain::ApiKeyListing;

use super::{confirmed, frame, list_table, Admin, Change};
use crate::local_time::LocalTime;

#[component]
pub fn AdminKeysPage() -> impl IntoView {
    let admin = Admin::new();
    let owner = RwSignal::new(String::new());
    frame(
        admin,
        "API keys",
        "Keys for the HTTP API and the sra CLI. A key sees what its user sees; revoking it ends its tokens at once.",
        (),
        move |directory| {
            let users = directory
                .users
                .iter()
                .filter(|u| !u.disabled)
                .map(|u| view! { <option value=u.login.clone()>{u.login.clone()}</option> })
                .collect_view();
            let rows = directory.api_keys.into_iter().map(|key| key_row(admin, key)).collect_view();
            view! {
                <form
                    class="admin-form"
                    aria-label="New API key"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        admin.ask(Change::CreateApiKey(owner.get_untracked()));
                    }
                >
                    <label>
                        "For user" <select name="login" required bind:value=owner>
                            <option value="">"Choose…"</option>
                            {users}
                        </select>
                    </label>
                    <button type="submit" disabled=move || admin.busy().get()>
                        "Create API key"
                    </button>
                </form>
                {list_table("key-list", &["Access ID", "User", "Created", "State"], rows)}
            }
        },
    )
}

fn key_row(admin: Admin, key: ApiKeyListing) -> impl IntoView {
    let ApiKeyListing { access_id, login, created_at, revoked_at } = key;
    let revoke = revoked_at.is_none().then(|| {
        let id = access_id.clone();
        let question = format!("Revoke the API key {id} of {login}? Its tokens stop working at once.");
        view! {
            <button
                aria-label=format!("Revoke {id}")
                disabled=move || admin.busy().get()
                on:click=move |_| {
                    if confirmed(&question) {
                        admin.ask(Change::RevokeApiKey(id.clone()));
                    }
                }
            >
                "Revoke"
            </button>
        }
    });
    let row_id = access_id.clone();
    view! {
        <tr data-access-id=row_id class:disabled=revoked_at.is_some()>
            <th scope="row">
                <code>{access_id}</code>
            </th>
            <td>{login}</td>
            <td class="time">
                <LocalTime ms=created_at />
            </td>
            <td>
                {match revoked_at {
                    Some(ms) => {
                        view! {
                            "Revoked "
                            <LocalTime ms />
                        }
                            .into_any()
                    }
                    None => "Active".into_any(),
                }}
            </td>
            <td class="actions">{revoke}</td>
        </tr>
    }
}
