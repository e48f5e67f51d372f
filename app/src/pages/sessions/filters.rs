//! The filter form: a GET form to the overview itself, so the URL holds the view.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::params::ParamsMap;
use sra_domain::{
    url_keys, ClientInterface, Facet, RawSessionQuery, ResourceType, SessionStatus, StatusCounts, DEFAULT_PAGE_SIZE,
};

use super::url::href_without;
use crate::api::count_choices;
use crate::error::ConsoleError;

const PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];

/// What an open filter menu counts its choices for: the view, and the signals that say its sessions may have changed.
#[derive(Clone, Copy)]
pub(super) struct CountedView {
    pub query: Memo<Result<RawSessionQuery, String>>,
    pub refreshes: RwSignal<u64>,
    pub recounts: RwSignal<u64>,
}

/// The filter form: a GET form to this page, so the URL holds the view.
#[component]
pub(super) fn Filters(
    params: Memo<ParamsMap>,
    counts: Resource<Option<StatusCounts>>,
    counted: CountedView,
    grants: Resource<Result<sra_domain::VisibleGateways, ConsoleError>>,
    /// Shown on a narrow screen (on a wide one they always are).
    expanded: RwSignal<bool>,
) -> impl IntoView {
    // The timeframe chosen in the form (not yet applied): the browser's zone goes with a custom range only.
    let range_choice = RwSignal::new(params.read_untracked().get(url_keys::RANGE).unwrap_or_default());
    let tz = crate::local_time::tz_field;
    let value = move |key: &str| params.read().get(key).unwrap_or_default();
    let users = move || {
        values_in(&params.read(), url_keys::USER)
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(",")
    };
    let checkbox = move |key: &'static str, wire: String, label: &'static str, count: AnyView| {
        let value = wire.clone();
        // The URL decides: an attribute for the server's page, the property after (a chip taken away unticks).
        let checked = move || values_in(&params.read(), key).iter().any(|v| v.eq_ignore_ascii_case(&wire));
        view! {
            <label class="check">
                <input type="checkbox" name=key value=value checked=checked.clone() prop:checked=checked />
                {label}
                {count}
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
                {SessionStatus::ALL
                    .iter()
                    .map(|s| {
                        let s = *s;
                        let count = // Read inside a Transition (the server renders the counts it has, and the browser takes them
                        // over when it hydrates), as a text of its own: new counts never rebuild the check boxes.
                        view! {
                            <Transition fallback=|| ()>
                                {move || counts.get().flatten().map(|c| format!(" ({})", c.get(s)))}
                            </Transition>
                        };
                        checkbox("status", s.as_str().to_owned(), s.label(), count.into_any())
                    })
                    .collect_view()}
            </fieldset>
            <div class="multi-row">
                <MultiSelect
                    key=url_keys::CLIENT
                    facet=Facet::ClientInterface
                    counted
                    legend="Client interface"
                    choices=Signal::stored(
                        ClientInterface::ALL.iter().map(|c| (c.as_str().to_owned(), c.label().to_owned())).collect(),
                    )
                    params
                />
                <MultiSelect
                    key=url_keys::RESOURCE
                    facet=Facet::ResourceType
                    counted
                    legend="Resource type"
                    choices=Signal::stored(
                        ResourceType::ALL.iter().map(|r| (r.as_str().to_owned(), r.as_str().to_owned())).collect(),
                    )
                    params
                />
                // Read inside a Transition: the server renders the choices, and the browser gets them with the page.
                <Transition fallback=|| ()>
                    {move || {
                        grants
                            .get()
                            .map(|grants| {
                                let choices: Vec<(String, String)> = grants
                                    .map(|g| {
                                        g.filterable
                                            .into_iter()
                                            .map(|g| (g.cluster_name, g.cluster_display_name))
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                view! {
                                    <MultiSelect
                                        key=url_keys::GATEWAY
                                        facet=Facet::Gateway
                                        counted
                                        legend="Gateway"
                                        choices=Signal::stored(choices)
                                        params
                                    />
                                }
                            })
                    }}
                </Transition>
            </div>
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

/// The values of a list parameter as the URL holds them (repeated, or comma-separated), trimmed, in order.
fn values_in(params: &ParamsMap, key: &str) -> Vec<String> {
    params
        .get_all(key)
        .unwrap_or_default()
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The values of a list parameter, lower-cased, to compare with choices.
fn chosen_in(params: &ParamsMap, key: &str) -> BTreeSet<String> {
    values_in(params, key).iter().map(|v| v.to_ascii_lowercase()).collect()
}

/// A filter of many choices folded into one control. Its face says what the URL has chosen ("Any", "ssh, rdp",
/// "4 chosen"); opened, it lists the choices as the form's own check boxes (so Apply and the URL work as before), each
/// with how many sessions of the view it would show, and a box that narrows them as one types when there are many. One
/// opens at a time (`details` sharing a name); Escape or a click elsewhere closes it.
#[component]
fn MultiSelect(
    key: &'static str,
    facet: Facet,
    counted: CountedView,
    legend: &'static str,
    /// (value in the URL, label)
    choices: Signal<Vec<(String, String)>>,
    params: Memo<ParamsMap>,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let chosen = Memo::new(move |_| chosen_in(&params.read(), key));
    let face = move || {
        let chosen = chosen.get();
        let labels: Vec<String> = choices.with(|all| {
            all.iter().filter(|(wire, _)| chosen.contains(&wire.to_ascii_lowercase())).map(|(_, l)| l.clone()).collect()
        });
        match labels.len() {
            0 if chosen.is_empty() => "Any".to_owned(),
            0 => format!("{} chosen", chosen.len()),
            1 | 2 => labels.join(", "),
            n => format!("{n} chosen"),
        }
    };
    let many = move || choices.with(|c| c.len() > 6);
    let menu_id = format!("filter-{key}");
    // Counted only while open (the browser asks when the menu opens, and again with each refresh of the view).
    let open = RwSignal::new(false);
    let counts = LocalResource::new(move || {
        let wanted = open.get().then(|| (counted.query.get(), counted.refreshes.get(), counted.recounts.get()));
        async move {
            match wanted {
                Some((Ok(query), _, _)) => count_choices(query, facet).await.ok(),
                _ => None,
            }
        }
    });
    // A text of its own, so that new counts never rebuild the check boxes (and undo ticks not yet applied).
    let count_of = move |wire: String| {
        move || {
            counts.get().flatten().map(|c| {
                let n = c.iter().find(|(k, _)| k.eq_ignore_ascii_case(&wire)).map_or(0, |(_, n)| *n);
                format!(" ({n})")
            })
        }
    };
    view! {
        <details
            class="multi"
            name="filter-menus"
            data-key=key
            class:active=move || !chosen.with(BTreeSet::is_empty)
            on:keydown=close_on_escape
            on:toggle=move |ev| open.set(is_open(&ev))
        >
            <summary aria-controls=menu_id.clone()>
                <span class="multi-name">{legend}</span>
                <span class="multi-face">{face}</span>
            </summary>
            <div class="multi-menu" id=menu_id role="group" aria-label=legend>
                <Show when=many>
                    <input
                        type="search"
                        class="multi-filter"
                        placeholder="Type to filter"
                        aria-label=format!("Filter the {} choices", legend.to_lowercase())
                        autocomplete="off"
                        bind:value=typed
                    />
                </Show>
                {move || {
                    let chosen = chosen.get();
                    choices
                        .get()
                        .into_iter()
                        .map(|(wire, label)| {
                            let checked = chosen.contains(&wire.to_ascii_lowercase());
                            let haystack = format!("{wire} {label}").to_lowercase();
                            let hidden = move || {
                                typed.with(|t| !haystack.contains(t.trim().to_lowercase().as_str()))
                            };
                            let count = count_of(wire.clone());
                            view! {
                                <label class="check" class:hidden=hidden>
                                    <input type="checkbox" name=key value=wire checked=checked />
                                    {label}
                                    <span class="choice-count">{count}</span>
                                </label>
                            }
                        })
                        .collect_view()
                }}
            </div>
        </details>
    }
}

/// Whether the `details` element a `toggle` event is about is open now.
fn is_open(ev: &leptos::ev::Event) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        ev.current_target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .is_some_and(|details| details.has_attribute("open"))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// Escape inside an open filter menu closes it and puts the focus back on its face (and nothing else: the detail
/// panel behind stays open).
fn close_on_escape(ev: leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if ev.key() != "Escape" {
            return;
        }
        let Some(details) = ev.current_target().and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok()) else {
            return;
        };
        if !details.has_attribute("open") {
            return;
        }
        ev.prevent_default();
        let _ = details.remove_attribute("open");
        if let Some(face) = details
            .query_selector("summary")
            .ok()
            .flatten()
            .and_then(|s| s.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = face.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// Closes an open filter menu when a click lands outside it (browser only).
pub(super) fn close_menus_on_outside_clicks() {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use leptos::wasm_bindgen::JsCast;
        let listener = window_event_listener(leptos::ev::pointerdown, move |ev| {
            let inside = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .and_then(|e| e.closest("details.multi").ok().flatten());
            // Menus share a name, so at most one is open.
            let Some(open) = document().query_selector("details.multi[open]").ok().flatten() else { return };
            if inside.as_ref() != Some(&open) {
                let _ = open.remove_attribute("open");
            }
        });
        on_cleanup(move || listener.remove());
    });
}

/// The filters in force, as chips above the grid: each says what it keeps ("Resource type: ssh") and its × link
/// takes it away (back on the first page); the URL stays the one source of the view.
#[component]
pub(super) fn ActiveFilters(
    params: Memo<ParamsMap>,
    grants: Resource<Result<sra_domain::VisibleGateways, ConsoleError>>,
) -> impl IntoView {
    let chips = move || {
        let p = params.read();
        let mut chips: Vec<(String, String)> = Vec::new();
        let mut each = |key: &'static str, name: &str, label: &dyn Fn(&str) -> String| {
            for value in chosen_in(&p, key) {
                chips.push((format!("{name}: {}", label(&value)), href_without(&p, &[key], Some(&value))));
            }
        };
        each(url_keys::STATUS, "Status", &|v| {
            v.parse::<SessionStatus>().map_or_else(|_| v.to_owned(), |s| s.label().to_owned())
        });
        each(url_keys::CLIENT, "Client", &|v| {
            v.parse::<ClientInterface>().map_or_else(|_| v.to_owned(), |c| c.label().to_owned())
        });
        each(url_keys::RESOURCE, "Resource type", &|v| v.to_owned());
        let gateways = grants.get().and_then(Result::ok).map(|g| g.filterable).unwrap_or_default();
        each(url_keys::GATEWAY, "Gateway", &|v| {
            gateways
                .iter()
                .find(|g| g.cluster_name.eq_ignore_ascii_case(v))
                .map_or_else(|| v.to_owned(), |g| g.cluster_display_name.clone())
        });
        for user in values_in(&p, url_keys::USER) {
            chips.push((format!("User: {user}"), href_without(&p, &[url_keys::USER], Some(&user))));
        }
        if let Some(q) = p.get(url_keys::SEARCH).filter(|q| !q.trim().is_empty()) {
            chips.push((format!("Search: {}", q.trim()), href_without(&p, &[url_keys::SEARCH], None)));
        }
        if p.get(url_keys::RANGE).is_some_and(|r| !r.is_empty() && r != "30d") {
            let keys = [url_keys::RANGE, url_keys::FROM, url_keys::TO, url_keys::TZ];
            chips.push((super::url::timeframe_label(&p), href_without(&p, &keys, None)));
        }
        chips
    };
    view! {
        <Transition fallback=|| ()>
            <Show when=move || !chips().is_empty()>
                <ul class="active-filters" aria-label="Filters in force">
                    {move || {
                        chips()
                            .into_iter()
                            .map(|(text, href)| {
                                let label = format!("Remove the filter {text}");
                                view! {
                                    <li>
                                        <a class="chip" href=href aria-label=label>
                                            {text}
                                            <span aria-hidden="true">" ×"</span>
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </Show>
        </Transition>
    }
}
