//! The filter form: a GET form to the overview itself, so the URL holds the view.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::params::ParamsMap;
use sra_domain::{url_keys, ClientInterface, ResourceType, SessionStatus, StatusCounts, DEFAULT_PAGE_SIZE};

use crate::error::ConsoleError;

const PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];

/// The filter form: a GET form to this page, so the URL holds the view.
#[component]
pub(super) fn Filters(
    params: Memo<ParamsMap>,
    counts: Resource<Option<StatusCounts>>,
    grants: Resource<Result<sra_domain::VisibleGateways, ConsoleError>>,
    /// Shown on a narrow screen (on a wide one they always are).
    expanded: RwSignal<bool>,
) -> impl IntoView {
    // The timeframe chosen in the form (not yet applied): the browser's zone goes with a custom range only.
    let range_choice = RwSignal::new(params.read_untracked().get(url_keys::RANGE).unwrap_or_default());
    let tz = crate::local_time::tz_field;
    let selected = move |key: &str| -> BTreeSet<String> {
        params
            .read()
            .get_all(key)
            .unwrap_or_default()
            .iter()
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .collect()
    };
    let value = move |key: &str| params.read().get(key).unwrap_or_default();
    let users = move || selected(url_keys::USER).into_iter().collect::<Vec<_>>().join(",");
    let checkbox = move |key: &'static str, wire: String, label: String| {
        let checked = selected(key).iter().any(|v| v.eq_ignore_ascii_case(&wire));
        view! {
            <label class="check">
                <input type="checkbox" name=key value=wire checked=checked />
                {label}
            </label>
        }
    };
    view! {
        <Form
            method="GET"
            action="/sessions"
            attr:id="filters"
            attr:class=move || if expanded.get() { "filters open" } else { "filters" }
            attr:aria-label="Filters"
        >
            <input type="hidden" name="sort" prop:value=move || value("sort") />
            <input type="hidden" name="tz" prop:value=tz prop:disabled=move || range_choice.get() != url_keys::CUSTOM />
            <fieldset class="timeframe-choice">
                <legend>"Timeframe"</legend>
                <select
                    name="range"
                    aria-label="Timeframe"
                    prop:value=move || {
                        let r = value("range");
                        if r.is_empty() { "30d".to_owned() } else { r }
                    }
                    on:change=move |ev| range_choice.set(event_target_value(&ev))
                >
                    <option value="1h">"Last hour"</option>
                    <option value="24h">"Last 24 hours"</option>
                    <option value="7d">"Last 7 days"</option>
                    <option value="30d">"Last 30 days"</option>
                    <option value="custom">"Custom"</option>
                </select>
                <span class="custom-range">
                    <label>"From" <input type="datetime-local" name="from" prop:value=move || value("from") /></label>
                    <label>"To" <input type="datetime-local" name="to" prop:value=move || value("to") /></label>
                </span>
            </fieldset>
            <fieldset>
                <legend>"Status"</legend>
                {move || {
                    let counts = counts.get().flatten();
                    SessionStatus::ALL
                        .iter()
                        .map(|s| {
                            let label = match &counts {
                                Some(c) => format!("{} ({})", s.label(), c.get(*s)),
                                None => s.label().to_owned(),
                            };
                            checkbox("status", s.as_str().to_owned(), label)
                        })
                        .collect_view()
                }}
            </fieldset>
            <fieldset>
                <legend>"Client interface"</legend>
                {move || {
                    ClientInterface::ALL
                        .iter()
                        .map(|c| checkbox("client", c.as_str().to_owned(), c.label().to_owned()))
                        .collect_view()
                }}
            </fieldset>
            <fieldset>
                <legend>"Resource type"</legend>
                {move || {
                    ResourceType::ALL
                        .iter()
                        .map(|r| checkbox("resource", r.as_str().to_owned(), r.as_str().to_owned()))
                        .collect_view()
                }}
            </fieldset>
            <fieldset>
                <legend>"Gateway"</legend>
                <Transition fallback=|| ()>
                    {move || {
                        grants
                            .get()
                            .and_then(Result::ok)
                            .map(|g| {
                                g.filterable
                                    .into_iter()
                                    .map(|g| checkbox("gateway", g.cluster_name, g.cluster_display_name))
                                    .collect_view()
                            })
                    }}
                </Transition>
            </fieldset>
            <div class="search-row">
                <label>
                    "User"
                    <input
                        type="text"
                        name="user"
                        placeholder="exact login; several: a,b"
                        autocomplete="off"
                        prop:value=users
                    />
                </label>
                <label>
                    "Search"
                    <input
                        type="search"
                        name="q"
                        placeholder="user, session ID, secret, target"
                        prop:value=move || value("q")
                    />
                </label>
                <label>
                    "Per page"
                    <select
                        name="size"
                        prop:value=move || {
                            let s = value("size");
                            if s.is_empty() { DEFAULT_PAGE_SIZE.to_string() } else { s }
                        }
                    >
                        {PAGE_SIZES
                            .iter()
                            .map(|n| view! { <option value=n.to_string()>{n.to_string()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit">"Apply"</button>
                <a href="/sessions" class="clear">
                    "Clear all"
                </a>
            </div>
        </Form>
    }
}
