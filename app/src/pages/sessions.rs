//! The Sessions Overview: the sessions the caller may see, filtered, sorted and paged by the query engine.
//!
//! The whole view — timeframe, filters, search, sort, page size and page — lives in the URL, so a reload or a shared
//! link shows the same view and back/forward work. The filter form is a GET form to the same page. Refreshing (every
//! 20 s, or the Refresh button) asks again for exactly that view, so page, sort and filters stay as they are; if the
//! server cannot be reached, the last good page stays on screen under a "stale since" banner until it answers again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use sra_domain::{
    format_duration, url_keys, ClientInterface, RawSessionQuery, ResourceType, SessionStatus, SessionSummary,
    SessionsPage, SortDirection, SortField, StatusCounts, DEFAULT_PAGE_SIZE,
};

use super::audit::encode;
use super::detail::{detail_error, SessionDetail};
use super::terminate::{about, TerminateButton, Termination, TerminationDialog, TerminationError};
use crate::api::{caller_gateways, count_statuses, list_sessions, session_detail, SessionView};
use crate::error::{ConsoleError, Failure};
use crate::local_time::{browser_now as client_now, hover, zone_label, LocalTime};

/// The overview refreshes itself this often.
const AUTO_REFRESH_SECONDS: i64 = 20;
const PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];

/// The view as the URL holds it, checked: the query, or what is wrong with the URL.
fn query_from(params: &ParamsMap) -> Result<RawSessionQuery, String> {
    let pairs: Vec<(String, String)> = params.into_iter().map(|(k, v)| (k.to_string(), v.to_owned())).collect();
    RawSessionQuery::from_console_url(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| e.to_string())
}

/// This page's URL with some parameters replaced (`None` removes them) and the others kept.
fn href_with(params: &ParamsMap, changes: &[(&str, Option<String>)]) -> String {
    link("/sessions", params, changes)
}

/// `base` with this page's parameters, some replaced (`None` removes them).
fn link(base: &str, params: &ParamsMap, changes: &[(&str, Option<String>)]) -> String {
    let mut parts = Vec::new();
    for (key, value) in params {
        if changes.iter().any(|(k, _)| *k == key.as_ref()) {
            continue;
        }
        parts.push(format!("{}={}", encode(key), encode(value)));
    }
    for (key, value) in changes {
        if let Some(value) = value {
            parts.push(format!("{}={}", encode(key), encode(value)));
        }
    }
    if parts.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

fn page_hidden() -> bool {
    #[cfg(feature = "hydrate")]
    {
        document().hidden()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

#[component]
pub fn SessionsOverview() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| query_from(&params.read()));
    // Bumped by every refresh: the listing is asked for again with the same view.
    let refreshes = RwSignal::new(0_u64);
    let sessions = Resource::new(
        move || (query.get(), refreshes.get()),
        |(query, _)| async move {
            match query {
                Ok(query) => list_sessions(query).await,
                Err(problem) => Err(ConsoleError::new(Failure::BadInput, problem)),
            }
        },
    );
    let counts = Resource::new(
        move || (query.get(), refreshes.get()),
        |(query, _)| async move {
            match query {
                Ok(query) => count_statuses(query).await.ok(),
                Err(_) => None,
            }
        },
    );
    let grants = Resource::new(|| (), |_| caller_gateways());
    // The session whose detail panel is open (`open=ID`): part of the view, so a refresh or a reload keeps it.
    let open = Memo::new(move |_| params.read().get(url_keys::OPEN).filter(|id| !id.is_empty()));
    let terminate = Termination::provide().action;

    // What is on screen survives a failed refresh: the last good page, when it arrived (browser time), and since when
    // the server has not answered.
    let shown = RwSignal::new(None::<(SessionsPage, i64)>);
    let stale_since = RwSignal::new(None::<i64>);
    let problem = RwSignal::new(None::<String>);
    let now = RwSignal::new(client_now());
    let last_refresh = RwSignal::new(client_now());
    let auto = RwSignal::new(true);
    // Rows that changed since the previous answer for the same view (a refresh), briefly highlighted: the view and
    // each row's state as last shown.
    let previous = StoredValue::new(None::<(RawSessionQuery, HashMap<String, String>)>);
    let changed = RwSignal::new(HashSet::<String>::new());
    Effect::new(move |_| match sessions.get() {
        Some(Ok(page)) => {
            let view = query.get_untracked().ok();
            let states: HashMap<String, String> =
                page.sessions.iter().map(|s| (s.session_id.clone(), row_state(s))).collect();
            let differ = previous.with_value(|before| match before {
                Some((was, old)) if Some(was) == view.as_ref() => {
                    states.iter().filter(|(id, state)| old.get(*id) != Some(*state)).map(|(id, _)| id.clone()).collect()
                }
                _ => HashSet::new(),
            });
            previous.set_value(view.map(|view| (view, states)));
            changed.set(differ);
            shown.set(Some((page, client_now())));
            stale_since.set(None);
            problem.set(None);
        }
        Some(Err(e)) if e.kind == Failure::NotSignedIn => {
            // The sign-in ended (signed out elsewhere, idle too long): back to the login page.
            let navigate = leptos_router::hooks::use_navigate();
            navigate("/login?next=/sessions", Default::default());
        }
        Some(Err(e)) => {
            if e.kind == Failure::Unreachable && shown.with_untracked(Option::is_some) {
                if stale_since.get_untracked().is_none() {
                    stale_since.set(Some(client_now()));
                }
            } else {
                shown.set(None);
                problem.set(Some(e.message));
            }
        }
        None => {}
    });
    Effect::new(move |_| {
        if terminate.value().get().is_some() {
            refreshes.update(|n| *n += 1);
        }
    });
    let refresh = move || {
        last_refresh.set(client_now());
        refreshes.update(|n| *n += 1);
    };
    // A new view (filters, sort, page) is fetched as it opens: the refresh clock starts over from it.
    Effect::new(move |_| {
        query.track();
        last_refresh.set(client_now());
    });

    // Timers and page events exist only in the browser: effects do not run during server rendering. One tick a second
    // moves live durations and the "updated … ago" line, and starts the refresh when it is due — not while the tab is
    // hidden; when it shows again, at once if one is due.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                now.set(client_now());
                let due = client_now() - last_refresh.get_untracked() >= AUTO_REFRESH_SECONDS * 1_000;
                if due && auto.get_untracked() && !page_hidden() {
                    refresh();
                }
            },
            Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
        let visible = window_event_listener(leptos::ev::visibilitychange, move |_| {
            let due = client_now() - last_refresh.get_untracked() >= AUTO_REFRESH_SECONDS * 1_000;
            if !page_hidden() && due && auto.get_untracked() {
                refresh();
            }
        });
        on_cleanup(move || visible.remove());
        let navigate = leptos_router::hooks::use_navigate();
        let escape = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" && !ev.default_prevented() {
                if let Some(id) = open.get_untracked() {
                    close_detail(&navigate, &params.read_untracked(), &id);
                }
            }
        });
        on_cleanup(move || escape.remove());
    });

    // While another view (or a refresh) loads, the current one stays on screen, dimmed, and says so.
    let pending = RwSignal::new(false);
    // On narrow screens the filters fold away behind a button; on wide ones they are always shown.
    let filters_open = RwSignal::new(false);
    let status_line = move || {
        let age = ((now.get() - last_refresh.get()) / 1_000).max(0);
        let next = (AUTO_REFRESH_SECONDS - age).max(0);
        if auto.get() {
            format!("Updated {age} s ago · next refresh in {next} s")
        } else {
            format!("Updated {age} s ago · auto-refresh off")
        }
    };

    view! {
        <section class="overview" class:pending=move || pending.get() aria-busy=move || pending.get().to_string()>
            <div class="overview-head">
                <h1>"Sessions Overview"</h1>
                <p class="timeframe">{move || timeframe_label(&params.read())}</p>
                <p class="updated" aria-live="off">{status_line}</p>
                <label class="auto">
                    <input type="checkbox" prop:checked=move || auto.get() on:change=move |ev| auto.set(event_target_checked(&ev))/>
                    "Auto-refresh"
                </label>
                <button class="refresh" on:click=move |_| refresh()>"Refresh"</button>
            </div>
            <div class="overview-tools">
                <button
                    class="filters-toggle"
                    aria-controls="filters"
                    aria-expanded=move || filters_open.get().to_string()
                    on:click=move |_| filters_open.update(|o| *o = !*o)
                >
                    {move || if filters_open.get() { "Hide filters" } else { "Show filters" }}
                </button>
                <p class="zone">{move || format!("Times in {}", zone_label())}</p>
                <span class="export">
                    "Export this view: "
                    <a href=move || link("/export/sessions.csv", &params.read(), &[(url_keys::CURSOR, None), (url_keys::OPEN, None)]) download>"CSV"</a>
                    " · "
                    <a href=move || link("/export/sessions.json", &params.read(), &[(url_keys::CURSOR, None), (url_keys::OPEN, None)]) download>"JSON"</a>
                </span>
            </div>
            <Filters params counts grants expanded=filters_open/>
            {move || stale_since.get().map(|since| view! {
                <div class="stale" role="status">
                    "The server cannot be reached: showing the sessions as of " <LocalTime ms=since seconds=true/> ". Retrying…"
                </div>
            })}
            <TerminationError/>
            <Transition fallback=GridSkeleton set_pending=pending>
                {move || {
                    // Read inside the Transition so the first page is awaited during server rendering.
                    let _ = sessions.get();
                    if let Some(problem) = problem.get() {
                        return view! { <div class="error" role="alert">{format!("Sessions could not be loaded: {problem}")}</div> }.into_any();
                    }
                    let Some((page, received)) = shown.get() else {
                        return match sessions.get() {
                            // Server rendering: the effect that fills `shown` has not run; use the answer directly.
                            Some(Ok(page)) => view! { <SessionsTable page received=0 now params grants counts changed/> }.into_any(),
                            _ => view! { <GridSkeleton/> }.into_any(),
                        };
                    };
                    view! { <SessionsTable page received now params grants counts changed/> }.into_any()
                }}
            </Transition>
            <p class="visually-hidden" aria-live="polite">
                {move || match changed.with(HashSet::len) {
                    0 => String::new(),
                    1 => "1 session changed since the last refresh".to_owned(),
                    n => format!("{n} sessions changed since the last refresh"),
                }}
            </p>
            {move || open.get().map(|id| view! { <SessionPanel id params refreshes/> })}
            <TerminationDialog/>
        </section>
    }
}

/// The grid's shape without data, while the first page loads.
#[component]
fn GridSkeleton() -> impl IntoView {
    view! {
        <div class="skeleton-grid" aria-busy="true">
            <span class="visually-hidden">"Loading sessions…"</span>
            {(0..8)
                .map(|_| view! { <div class="skeleton-row" aria-hidden="true">{(0..7).map(|_| view! { <span class="bar"></span> }).collect_view()}</div> })
                .collect_view()}
        </div>
    }
}

/// What a row shows that can change while it is on screen; a refresh highlights rows where it did.
fn row_state(s: &SessionSummary) -> String {
    format!("{}|{:?}|{:?}|{:?}", s.status.as_str(), s.ended_at, s.terminate_requested_at, s.error_message)
}

/// Opens a session's detail panel over the grid, where the grid is (no jump to the top).
/// `navigate` comes from `use_navigate()` in the component: event listeners run outside the component tree.
fn open_detail(navigate: &impl Fn(&str, leptos_router::NavigateOptions), params: &ParamsMap, id: &str) {
    navigate(&href_with(params, &[(url_keys::OPEN, Some(id.to_owned()))]), quiet());
}

/// Closes the detail panel and gives the keyboard focus back to the row it was opened from.
fn close_detail(navigate: &impl Fn(&str, leptos_router::NavigateOptions), params: &ParamsMap, id: &str) {
    navigate(&href_with(params, &[(url_keys::OPEN, None)]), quiet());
    focus_row(id);
}

/// Navigation inside the overview: the page stays scrolled where it is.
fn quiet() -> leptos_router::NavigateOptions {
    leptos_router::NavigateOptions { scroll: false, ..Default::default() }
}

/// The element ID of a row's session link (any text is a valid ID; it is never parsed as a selector).
fn link_id(session_id: &str) -> String {
    format!("open-{session_id}")
}

fn focus_row(id: &str) {
    super::focus_by_id(&link_id(id));
}

/// The detail panel over the grid: a non-modal dialog (the grid stays usable: another row's ID switches it). It
/// takes the keyboard focus when it opens, refreshes with the grid, and closes with its button or Escape.
#[component]
fn SessionPanel(id: String, params: Memo<ParamsMap>, refreshes: RwSignal<u64>) -> impl IntoView {
    let (page_href, own_id) = (format!("/sessions/{}", encode(&id)), id.clone());
    let detail = Resource::new(move || (id.clone(), refreshes.get()), |(id, _)| session_detail(id));
    // The last good answer stays on screen while a refresh cannot reach the server.
    let last = RwSignal::new(None::<SessionView>);
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get() {
            last.set(Some(d));
        }
    });
    let panel = NodeRef::<leptos::html::Aside>::new();
    Effect::new(move |_| {
        if let Some(panel) = panel.get() {
            let _ = panel.focus();
        }
    });
    let close_href = move || href_with(&params.read(), &[(url_keys::OPEN, None)]);
    let navigate = leptos_router::hooks::use_navigate();
    view! {
        <aside class="panel" role="dialog" aria-modal="false" aria-labelledby="panel-title" tabindex="-1" node_ref=panel>
            <div class="panel-bar">
                <a
                    class="panel-close"
                    href=close_href
                    aria-label="Close the session detail"
                    on:click=move |ev| {
                        ev.prevent_default();
                        close_detail(&navigate, &params.read_untracked(), &own_id);
                    }
                >
                    "✕ Close"
                </a>
                <a href=page_href class="permalink">"Open as a page"</a>
            </div>
            <Transition fallback=|| view! { <div class="skeleton" aria-busy="true">"Loading the session…"</div> }>
                {move || {
                    let answer = detail.get();
                    match (answer, last.get()) {
                        (Some(Ok(d)), _) => view! { <SessionDetail detail=d heading_id="panel-title"/> }.into_any(),
                        (Some(Err(e)), Some(d)) if e.kind == Failure::Unreachable => {
                            view! { <SessionDetail detail=d heading_id="panel-title"/> }.into_any()
                        }
                        (Some(Err(e)), _) => view! { <h1 id="panel-title" class="visually-hidden">"Session"</h1> {detail_error(&e)} }.into_any(),
                        (None, _) => view! { <div class="skeleton" aria-busy="true">"Loading the session…"</div> }.into_any(),
                    }
                }}
            </Transition>
        </aside>
    }
}

fn timeframe_label(params: &ParamsMap) -> String {
    match params.get("range").as_deref() {
        Some("1h") => "Last hour".into(),
        Some("24h") => "Last 24 hours".into(),
        Some("7d") => "Last 7 days".into(),
        Some("custom") => {
            let zone = params
                .get(url_keys::TZ)
                .and_then(|tz| sra_domain::parse_tz(&tz).ok())
                .map_or_else(|| "UTC".to_owned(), crate::local_time::offset_label);
            let time = |key: &str| params.get(key).filter(|v| !v.is_empty()).map(|v| v.replacen('T', " ", 1));
            format!(
                "From {} to {} ({zone})",
                time("from").unwrap_or_else(|| "30 days before the end".into()),
                time("to").unwrap_or_else(|| "now".into())
            )
        }
        _ => "Last 30 days".into(),
    }
}

/// The filter form: a GET form to this page, so the URL holds the view.
#[component]
fn Filters(
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
    let checkbox = move |key: &'static str, wire: String, label: String| {
        let checked = selected(key).iter().any(|v| v.eq_ignore_ascii_case(&wire));
        view! {
            <label class="check">
                <input type="checkbox" name=key value=wire checked=checked/>
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
            <input type="hidden" name="sort" prop:value=move || value("sort")/>
            <input type="hidden" name="tz" prop:value=tz prop:disabled=move || range_choice.get() != url_keys::CUSTOM/>
            <fieldset class="timeframe-choice">
                <legend>"Timeframe"</legend>
                <select
                    name="range"
                    aria-label="Timeframe"
                    prop:value=move || { let r = value("range"); if r.is_empty() { "30d".to_owned() } else { r } }
                    on:change=move |ev| range_choice.set(event_target_value(&ev))
                >
                    <option value="1h">"Last hour"</option>
                    <option value="24h">"Last 24 hours"</option>
                    <option value="7d">"Last 7 days"</option>
                    <option value="30d">"Last 30 days"</option>
                    <option value="custom">"Custom"</option>
                </select>
                <span class="custom-range">
                    <label>"From" <input type="datetime-local" name="from" prop:value=move || value("from")/></label>
                    <label>"To" <input type="datetime-local" name="to" prop:value=move || value("to")/></label>
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
                {move || ClientInterface::ALL.iter().map(|c| checkbox("client", c.as_str().to_owned(), c.label().to_owned())).collect_view()}
            </fieldset>
            <fieldset>
                <legend>"Resource type"</legend>
                {move || ResourceType::ALL.iter().map(|r| checkbox("resource", r.as_str().to_owned(), r.as_str().to_owned())).collect_view()}
            </fieldset>
            <fieldset>
                <legend>"Gateway"</legend>
                <Transition fallback=|| ()>
                    {move || grants.get().and_then(Result::ok).map(|g| {
                        g.filterable
                            .into_iter()
                            .map(|g| checkbox("gateway", g.cluster_name, g.cluster_display_name))
                            .collect_view()
                    })}
                </Transition>
            </fieldset>
            <div class="search-row">
                <label>"Search" <input type="search" name="q" placeholder="user, session ID, secret, target" prop:value=move || value("q")/></label>
                <label>"Per page"
                    <select name="size" prop:value=move || { let s = value("size"); if s.is_empty() { DEFAULT_PAGE_SIZE.to_string() } else { s } }>
                        {PAGE_SIZES.iter().map(|n| view! { <option value=n.to_string()>{n.to_string()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Apply"</button>
                <a href="/sessions" class="clear">"Clear all"</a>
            </div>
        </Form>
    }
}

/// The grid's columns: header, and the sort field behind it.
const COLUMNS: [(&str, SortField); 9] = [
    ("Client Interface", SortField::ClientInterface),
    ("User", SortField::User),
    ("Gateway Name", SortField::Gateway),
    ("Resource Type", SortField::ResourceType),
    ("Secret Name", SortField::SecretName),
    ("Session ID", SortField::SessionId),
    ("Status", SortField::Status),
    ("Started", SortField::StartTime),
    ("Duration", SortField::Duration),
];

#[component]
fn SessionsTable(
    page: SessionsPage,
    /// When the page arrived, in browser time (0 during server rendering).
    received: i64,
    now: RwSignal<i64>,
    params: Memo<ParamsMap>,
    grants: Resource<Result<sra_domain::VisibleGateways, ConsoleError>>,
    counts: Resource<Option<StatusCounts>>,
    /// Rows that changed since the last refresh.
    changed: RwSignal<HashSet<String>>,
) -> impl IntoView {
    let filtered = {
        let p = params.read_untracked();
        ["status", "resource", "client", "gateway", "q"].iter().any(|k| p.get(k).is_some_and(|v| !v.is_empty()))
    };
    if page.sessions.is_empty() {
        let text = if filtered {
            "No sessions match these filters in this timeframe."
        } else {
            "No sessions in this timeframe."
        };
        return view! {
            <p class="empty">{text} {filtered.then(|| view! { " " <a href="/sessions">"Clear all filters"</a> })}</p>
        }
        .into_any();
    }
    let sort = params.read_untracked().get("sort").and_then(|s| s.parse::<sra_domain::Sort>().ok()).unwrap_or_default();
    // The gateways whose sessions the caller may terminate (Own and All grants), once known.
    let allowed = Signal::derive(move || {
        grants
            .get()
            .and_then(Result::ok)
            .map(|g| g.allowed.into_iter().map(|g| g.cluster_name).collect::<Vec<_>>())
            .unwrap_or_default()
    });
    // Live durations: the server's `as_of`, moved on by the time that has passed in the browser since the page came.
    let as_of = page.as_of;
    let server_now = move || if received == 0 { as_of } else { as_of + (now.get() - received).max(0) };
    let shown = page.sessions.len();
    let total = move || {
        let selected: BTreeSet<String> = params
            .read()
            .get_all("status")
            .unwrap_or_default()
            .iter()
            .flat_map(|v| v.split(',').map(|s| s.trim().to_owned()).collect::<Vec<_>>())
            .collect();
        counts.get().flatten().map(|c| {
            SessionStatus::ALL
                .iter()
                .filter(|s| selected.is_empty() || selected.contains(s.as_str()))
                .map(|s| c.get(*s))
                .sum::<u64>()
        })
    };
    let prev = page.prev_cursor.clone().map(|c| href_with(&params.read_untracked(), &[("cursor", Some(c))]));
    let next = page.next_cursor.clone().map(|c| href_with(&params.read_untracked(), &[("cursor", Some(c))]));
    view! {
        <p class="count">
            {move || match total() {
                Some(total) => format!("{shown} shown of {total} matching sessions"),
                None => format!("{shown} sessions shown"),
            }}
        </p>
        <div class="table-wrap">
            <table class="sessions" aria-describedby="sessions-caption">
                <caption id="sessions-caption" class="visually-hidden">
                    "Sessions. Column headers sort; a session ID opens its detail."
                </caption>
                <thead>
                    <tr>
                        {COLUMNS
                            .iter()
                            .map(|(name, field)| {
                                let active = sort.field == *field;
                                // A second click on the sorted column turns the direction around.
                                let direction = match (active, sort.direction) {
                                    (true, SortDirection::Asc) => "desc",
                                    (true, SortDirection::Desc) => "asc",
                                    (false, _) if matches!(field, SortField::Duration) => "desc",
                                    (false, _) => "asc",
                                };
                                let href = href_with(
                                    &params.read_untracked(),
                                    &[("sort", Some(format!("{field}:{direction}"))), ("cursor", None)],
                                );
                                let aria = match (active, sort.direction) {
                                    (false, _) => "none",
                                    (true, SortDirection::Asc) => "ascending",
                                    (true, SortDirection::Desc) => "descending",
                                };
                                let arrow = match (active, sort.direction) {
                                    (false, _) => "",
                                    (true, SortDirection::Asc) => " ▲",
                                    (true, SortDirection::Desc) => " ▼",
                                };
                                view! { <th scope="col" aria-sort=aria><a href=href data-noscroll>{*name}<span aria-hidden="true">{arrow}</span></a></th> }
                            })
                            .collect_view()}
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .sessions
                        .into_iter()
                        .map(|s| {
                            let changed = changed.with_untracked(|c| c.contains(&s.session_id));
                            view! { <SessionRow session=s server_now=Signal::derive(server_now) allowed changed params/> }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pages" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">"← Newer"</a> })}
            <a href=href_with(&params.read_untracked(), &[("cursor", None)])>"First page"</a>
            {next.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn SessionRow(
    session: SessionSummary,
    server_now: Signal<i64>,
    /// Gateways whose active sessions get a Terminate button.
    allowed: Signal<Vec<String>>,
    /// Changed since the last refresh: highlighted for a moment.
    changed: bool,
    params: Memo<ParamsMap>,
) -> impl IntoView {
    let started = session.started_at;
    let ended = session.ended_at;
    let duration = move || format_duration(ended.unwrap_or_else(|| server_now.get()) - started);
    let terminating = session.status.is_active() && session.terminate_requested_at.is_some();
    let (status_class, status_label) = if terminating {
        ("badge status-terminating".to_owned(), "Terminating…")
    } else {
        (format!("badge status-{}", session.status.as_str()), session.status.label())
    };
    let (id, gateway) = (session.session_id.clone(), session.gateway.cluster_name.clone());
    let description = about(&session);
    let active = session.status.is_active();
    let action = move || {
        (active && !terminating && allowed.get().contains(&gateway))
            .then(|| view! { <TerminateButton session_id=id.clone() about=description.clone() place="row"/> })
    };
    let href = href_with(&params.read_untracked(), &[(url_keys::OPEN, Some(session.session_id.clone()))]);
    let row_id = session.session_id.clone();
    let (open_id, click_id) = (session.session_id.clone(), session.session_id.clone());
    let secret_title = session.secret_name.clone();
    let id_title = session.session_id.clone();
    let is_open = move || params.read().get(url_keys::OPEN).as_deref() == Some(row_id.as_str());
    let (data_id, anchor_id) = (session.session_id.clone(), link_id(&session.session_id));
    let navigate = leptos_router::hooks::use_navigate();
    let navigate_too = navigate.clone();
    view! {
        <tr
            data-session-id=data_id
            class:changed=changed
            class:open=is_open
            data-changed=changed.to_string()
            // A click anywhere on the row (outside its link and button) opens the detail, as the ID link does.
            on:click=move |ev| {
                if !clicked_control(&ev) {
                    open_detail(&navigate, &params.read_untracked(), &click_id);
                }
            }
        >
            <td data-label="Client Interface">{session.client_interface.label()}</td>
            <td data-label="User">{session.user}</td>
            <td data-label="Gateway Name" title=session.gateway.cluster_name>{session.gateway.cluster_display_name}</td>
            <td data-label="Resource Type">{session.resource_type.as_str()}</td>
            <td class="secret" data-label="Secret Name" title=secret_title>{session.secret_name}</td>
            <td class="mono session-id" data-label="Session ID" title=id_title>
                <a
                    href=href
                    id=anchor_id
                    class="open-detail"
                    on:click=move |ev| {
                        ev.prevent_default();
                        open_detail(&navigate_too, &params.read_untracked(), &open_id);
                    }
                >
                    {session.session_id}
                </a>
            </td>
            <td data-label="Status"><span class=status_class>{status_label}</span></td>
            <td class="time" data-label="Started"><LocalTime ms=started/></td>
            <td class="num" data-label="Duration" title=move || ended.map_or_else(|| "still active".to_owned(), |e| format!("ended {}", hover(e)))>
                {duration}
            </td>
            <td class="actions">{action}</td>
        </tr>
    }
}

/// Whether a click on a row landed on one of its own controls (link, button), which act for themselves.
fn clicked_control(ev: &leptos::ev::MouseEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|e| e.closest("a, button, input, select").ok().flatten())
            .is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ParamsMap {
        let mut map = ParamsMap::new();
        for (k, v) in pairs {
            map.insert(k.to_string(), (*v).to_owned());
        }
        map
    }

    #[test]
    fn the_url_holds_the_whole_view() {
        let p =
            params(&[("status", "failed"), ("status", "completed"), ("range", "7d"), ("q", " db "), ("size", "25")]);
        let q = query_from(&p).unwrap();
        assert_eq!(q.statuses, ["failed", "completed"]);
        assert_eq!((q.range.as_deref(), q.search.as_deref(), q.page_size), (Some("7d"), Some("db"), Some(25)));
        assert_eq!(
            query_from(&params(&[("size", "x")])).unwrap_err(),
            "URL parameter \"size\": \"x\" is not a number of sessions per page"
        );
    }

    #[test]
    fn links_keep_the_view_and_change_only_what_they_say() {
        let p = params(&[("status", "failed"), ("cursor", "abc")]);
        assert_eq!(
            href_with(&p, &[("cursor", None), ("sort", Some("user:asc".into()))]),
            "/sessions?status=failed&sort=user%3Aasc"
        );
        assert_eq!(href_with(&ParamsMap::new(), &[]), "/sessions");
    }
}
