//! Gateways: register one, issue it a new ingest key (shown once; the old key stops at once), and see when each
//! last reported.

use leptos::prelude::*;
use sra_domain::GatewayListing;

use super::{confirmed, frame, list_table, name_form, Admin, Change};
use crate::local_time::LocalTime;

#[component]
pub fn AdminGatewaysPage() -> impl IntoView {
    let admin = Admin::new();
    let form = name_form(admin, "Register a gateway", ("Name", "gateway"), "Register gateway", |name, display_name| {
        Change::RegisterGateway { name, display_name }
    });
    frame(
        admin,
        "Gateways",
        "The SRA gateways (bastions) that report sessions. Each reports with its own ingest key.",
        form,
        move |directory| {
            let rows = directory.gateways.into_iter().map(|gateway| gateway_row(admin, gateway)).collect_view();
            list_table("gateway-list", &["Name", "Display name", "Ingest key", "Last heartbeat"], rows)
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
