//! Gateways: register one, issue it a new ingest key (shown once; the old key stops at once), and see when each
//! last reported.

use leptos::prelude::*;
use sra_domain::{GatewayListing, MAX_ADMIN_NAME, MAX_DISPLAY_NAME};

use super::{confirmed, frame, Admin, Change};
use crate::local_time::LocalTime;

#[component]
pub fn AdminGatewaysPage() -> impl IntoView {
    let admin = Admin::new();
    let name = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let form = view! {
        <form
            class="admin-form"
            aria-label="Register a gateway"
            on:submit=move |ev| {
                ev.prevent_default();
                admin
                    .ask(Change::RegisterGateway {
                        name: name.get_untracked(),
                        display_name: display_name.get_untracked(),
                    });
            }
        >
            <label>
                "Name" <input name="gateway" required maxlength=MAX_ADMIN_NAME autocomplete="off" bind:value=name />
            </label>
            <label>
                "Display name"
                <input name="display_name" maxlength=MAX_DISPLAY_NAME autocomplete="off" bind:value=display_name />
            </label>
            <button type="submit" disabled=move || admin.busy().get()>
                "Register gateway"
            </button>
        </form>
    };
    frame(
        admin,
        "Gateways",
        "The SRA gateways (bastions) that report sessions. Each reports with its own ingest key.",
        form,
        move |directory| {
            let rows = directory.gateways.into_iter().map(|gateway| gateway_row(admin, gateway)).collect_view();
            view! {
                <div class="table-wrap">
                    <table class="admin-list gateway-list">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Display name"</th>
                                <th scope="col">"Ingest key"</th>
                                <th scope="col">"Last heartbeat"</th>
                                <th scope="col">
                                    <span class="visually-hidden">"Actions"</span>
                                </th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
        },
    )
}

fn gateway_row(admin: Admin, gateway: GatewayListing) -> impl IntoView {
    let GatewayListing { name, display_name, has_key, last_heartbeat_at } = gateway;
    let issue = {
        let name = name.clone();
        move |_| {
            let question = format!("Issue {name} a new ingest key? Its current key stops working at once.");
            if !has_key || confirmed(&question) {
                admin.ask(Change::RotateGatewayKey(name.clone()));
            }
        }
    };
    view! {
        <tr data-gateway=name.clone()>
            <th scope="row">{name.clone()}</th>
            <td>{display_name}</td>
            <td>{if has_key { "Issued" } else { "None yet" }}</td>
            <td class="time">
                {match last_heartbeat_at {
                    Some(ms) => view! { <LocalTime ms seconds=true /> }.into_any(),
                    None => "Never".into_any(),
                }}
            </td>
            <td class="actions">
                <button
                    aria-label=format!("New ingest key for {name}")
                    disabled=move || admin.busy().get()
                    on:click=issue
                >
                    {if has_key { "New key" } else { "Issue key" }}
                </button>
            </td>
        </tr>
    }
}
