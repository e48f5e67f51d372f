//! Where the audit log is delivered: SIEM webhooks and syslog receivers, each with how far it has got and why it
//! failed last; add one (its signing secret shown once) or remove one.

use leptos::prelude::*;
use sra_domain::{DestinationListing, MAX_ADMIN_NAME, MAX_DESTINATION_URL};

use super::{confirmed, frame, list_table, Admin, Change};
use crate::local_time::LocalTime;

#[component]
pub fn AdminDestinationsPage() -> impl IntoView {
    let admin = Admin::new();
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let from_now = RwSignal::new(false);
    let form = view! {
        <form
            class="admin-form"
            aria-label="Add a destination"
            on:submit=move |ev| {
                ev.prevent_default();
                admin
                    .ask(Change::AddDestination {
                        name: name.get_untracked(),
                        url: url.get_untracked(),
                        from_now: from_now.get_untracked(),
                    });
            }
        >
            <label>
                "Name" <input name="name" required maxlength=MAX_ADMIN_NAME autocomplete="off" bind:value=name />
            </label>
            <label>
                "URL"
                <input
                    name="url"
                    required
                    maxlength=MAX_DESTINATION_URL
                    autocomplete="off"
                    placeholder="https://siem.example.com/hook or syslog+tcp://host:514"
                    bind:value=url
                />
            </label>
            <label class="check">
                <input type="checkbox" name="from_now" bind:checked=from_now />
                "New entries only"
            </label>
            <button type="submit" disabled=move || admin.busy().get()>
                "Add destination"
            </button>
        </form>
    };
    frame(
        admin,
        "Audit destinations",
        "Every audit entry is delivered to each destination in order, at least once: webhooks as signed CloudEvents, \
         syslog receivers as RFC 5424 messages.",
        form,
        move |directory| {
            let rows = directory
                .destinations
                .into_iter()
                .map(|destination| destination_row(admin, destination))
                .collect_view();
            list_table("destination-list", &["Name", "URL", "Delivered", "Last delivery", "Last failure"], rows)
        },
    )
}

fn destination_row(admin: Admin, destination: DestinationListing) -> impl IntoView {
    let DestinationListing { name, url, lag, delivered_at, failures, last_error, last_error_at } = destination;
    let remove = {
        let name = name.clone();
        move |_| {
            if confirmed(&format!("Stop delivering the audit log to {name}?")) {
                admin.ask(Change::RemoveDestination(name.clone()));
            }
        }
    };
    let failing = failures > 0;
    let delivered = match lag {
        0 => "Caught up".to_owned(),
        1 => "1 entry behind".to_owned(),
        n => format!("{n} entries behind"),
    };
    view! {
        <tr data-destination=name.clone() class:failing=failing>
            <th scope="row">{name.clone()}</th>
            <td>
                <code>{url}</code>
            </td>
            <td>{delivered}</td>
            <td class="time">
                {match delivered_at {
                    Some(ms) => view! { <LocalTime ms seconds=true /> }.into_any(),
                    None => "Never".into_any(),
                }}
            </td>
            <td class="last-failure">
                {match (last_error, last_error_at) {
                    (Some(error), Some(ms)) if failures > 0 => {
                        view! { <span>{format!("{failures} × {error} · ")} <LocalTime ms seconds=true /></span> }
                            .into_any()
                    }
                    _ => "None".into_any(),
                }}
            </td>
            <td class="actions">
                <button aria-label=format!("Remove {name}") disabled=move || admin.busy().get() on:click=remove>
                    "Remove"
                </button>
            </td>
        </tr>
    }
}
