//! The grid: a sortable table of one page of sessions, its count and its page links; each row with live duration,
//! status, Terminate, and a click that opens the detail panel.

use std::collections::{BTreeSet, HashSet};

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use sra_domain::{format_duration, url_keys, SessionStatus, SessionSummary, SortDirection, SortField, StatusCounts};

use super::live::Live;
use super::panel::{link_id, open_detail};
use super::shown::{row_state, Layout, Shown};
use super::url::href_with;
use crate::error::ConsoleError;
use crate::local_time::{hover, LocalTime};
use crate::pages::terminate::{about, SelectForTermination, TerminateButton};

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

/// The grid area: the table while there are rows, else what stands in for it (loading, empty, the problem). It is
/// built anew only when that changes; a refresh updates the table in place.
#[component]
pub(super) fn Grid(
    shown: Memo<Shown>,
    /// Changes heard since the page was read, laid over it.
    live: RwSignal<Live>,
    now: RwSignal<i64>,
    params: Memo<ParamsMap>,
    grants: Resource<Result<sra_domain::VisibleGateways, ConsoleError>>,
    counts: Resource<Option<StatusCounts>>,
    /// Rows that changed since the last refresh.
    changed: Memo<HashSet<String>>,
) -> impl IntoView {
    let layout = Memo::new(move |_| shown.with(Shown::layout));
    move || match layout.get() {
        Layout::Loading => view! { <GridSkeleton /> }.into_any(),
        Layout::Problem(problem) => view! {
            <div class="error" role="alert">
                {format!("Sessions could not be loaded: {problem}")}
            </div>
        }
        .into_any(),
        Layout::Empty => {
            let filtered = move || {
                let p = params.read();
                ["status", "resource", "client", "gateway", "user", "q"]
                    .iter()
                    .any(|k| p.get(k).is_some_and(|v| !v.is_empty()))
            };
            view! {
                <p class="empty">
                    {move || {
                        if filtered() {
                            "No sessions match these filters in this timeframe."
                        } else {
                            "No sessions in this timeframe."
                        }
                    }}
                    {move || {
                        filtered()
                            .then(|| {
                                view! {
                                    " "
                                    <a href="/sessions">"Clear all filters"</a>
                                }
                            })
                    }}
                </p>
            }
            .into_any()
        }
        Layout::Rows => view! { <SessionsTable shown live now params grants counts changed /> }.into_any(),
    }
}

/// The grid's shape without data, while the first page loads.
#[component]
pub(super) fn GridSkeleton() -> impl IntoView {
    view! {
        <div class="skeleton-grid" aria-busy="true">
            <span class="visually-hidden">"Loading sessions…"</span>
            {(0..8)
                .map(|_| {
                    view! {
                        <div class="skeleton-row" aria-hidden="true">
                            {(0..7).map(|_| view! { <span class="bar"></span> }).collect_view()}
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// The table of one page: rows keyed by session and state, so a refresh rebuilds only the rows that are new or
/// changed and keeps every other row's elements (focus, hover, the reader's place).
#[component]
fn SessionsTable(
    shown: Memo<Shown>,
    live: RwSignal<Live>,
    now: RwSignal<i64>,
    params: Memo<ParamsMap>,
    grants: Resource<Result<sra_domain::VisibleGateways, ConsoleError>>,
    counts: Resource<Option<StatusCounts>>,
    changed: Memo<HashSet<String>>,
) -> impl IntoView {
    let rows = Memo::new(move |_| {
        shown.with(|s| s.page.as_ref().map(|(page, _)| live.with(|l| l.rows(page))).unwrap_or_default())
    });
    let gone = Memo::new(move |_| live.with(|l| l.gone.clone()));
    let cursors = Memo::new(move |_| {
        shown.with(|s| s.page.as_ref().map(|(page, _)| (page.prev_cursor.clone(), page.next_cursor.clone())))
    });
    // Live durations: the server's `as_of`, moved on by the time that has passed in the browser since the page came
    // (not during server rendering, where the page has no arrival time).
    let arrival = Memo::new(move |_| shown.with(|s| s.page.as_ref().map(|(page, at)| (page.as_of, *at))));
    let server_now = Signal::derive(move || match arrival.get() {
        Some((as_of, 0)) => as_of,
        Some((as_of, received)) => as_of + (now.get() - received).max(0),
        None => 0,
    });
    // The gateways whose sessions the caller may terminate (Own and All grants), once known.
    let allowed = Signal::derive(move || {
        grants
            .get()
            .and_then(Result::ok)
            .map(|g| g.allowed.into_iter().map(|g| g.cluster_name).collect::<Vec<_>>())
            .unwrap_or_default()
    });
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
    let count = move || {
        let shown = rows.with(Vec::len);
        match total() {
            Some(total) => format!("{shown} shown of {total} matching sessions"),
            None => format!("{shown} sessions shown"),
        }
    };
    let page_link = move |cursor: Option<String>| href_with(&params.read(), &[("cursor", cursor)]);
    view! {
        <p class="count">{count}</p>
        <div class="table-wrap">
            <table class="sessions" aria-describedby="sessions-caption">
                <caption id="sessions-caption" class="visually-hidden">
                    "Sessions. Column headers sort; a session ID opens its detail."
                </caption>
                <thead>
                    <tr>
                        {move || header(&params.read())} <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || rows.get() key=|s| (s.session_id.clone(), row_state(s)) let:session>
                        <SessionRow session server_now allowed changed gone params />
                    </For>
                </tbody>
            </table>
        </div>
        <nav class="pages" aria-label="Pages">
            {move || cursors.get().and_then(|(prev, _)| prev).map(|c| page_to(page_link(Some(c)), "prev", "← Newer"))}
            <a href=move || page_link(None)>"First page"</a>
            {move || cursors.get().and_then(|(_, next)| next).map(|c| page_to(page_link(Some(c)), "next", "Older →"))}
        </nav>
    }
}

/// A link to the newer or older page.
fn page_to(href: String, rel: &'static str, label: &'static str) -> impl IntoView {
    view! {
        <a href=href rel=rel>
            {label}
        </a>
    }
}

/// The column headers of the view in `params`: each sorts by its column, the sorted one turns the direction around.
fn header(params: &ParamsMap) -> impl IntoView {
    let sort = params.get("sort").and_then(|s| s.parse::<sra_domain::Sort>().ok()).unwrap_or_default();
    COLUMNS
        .iter()
        .map(|(name, field)| {
            let active = sort.field == *field;
            let direction = match (active, sort.direction) {
                (true, SortDirection::Asc) => "desc",
                (true, SortDirection::Desc) => "asc",
                (false, _) if matches!(field, SortField::Duration) => "desc",
                (false, _) => "asc",
            };
            let href = href_with(params, &[("sort", Some(format!("{field}:{direction}"))), ("cursor", None)]);
            let (aria, arrow) = match (active, sort.direction) {
                (false, _) => ("none", ""),
                (true, SortDirection::Asc) => ("ascending", " ▲"),
                (true, SortDirection::Desc) => ("descending", " ▼"),
            };
            view! {
                <th scope="col" aria-sort=aria>
                    <a href=href data-noscroll>
                        {*name}
                        <span aria-hidden="true">{arrow}</span>
                    </a>
                </th>
            }
        })
        .collect_view()
}

#[component]
fn SessionRow(
    session: SessionSummary,
    server_now: Signal<i64>,
    /// Gateways whose active sessions get a Terminate button.
    allowed: Signal<Vec<String>>,
    /// Rows changed since the last refresh: highlighted for a moment.
    changed: Memo<HashSet<String>>,
    /// Rows no longer in the view (they stay in place until the view is read again).
    gone: Memo<HashSet<String>>,
    params: Memo<ParamsMap>,
) -> impl IntoView {
    let own = session.session_id.clone();
    let changed = Signal::derive(move || changed.with(|c| c.contains(&own)));
    let own = session.session_id.clone();
    let gone = Signal::derive(move || gone.with(|g| g.contains(&own)));
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
        (active && !terminating && allowed.get().contains(&gateway)).then(|| {
            view! {
                <SelectForTermination session_id=id.clone() />
                <TerminateButton session_id=id.clone() about=description.clone() place="row" />
            }
        })
    };
    // Reactive: a row stays on screen across views that both hold it, and its link follows the view.
    let href_id = session.session_id.clone();
    let href = move || href_with(&params.read(), &[(url_keys::OPEN, Some(href_id.clone()))]);
    // The user's name narrows the view to their sessions (the row's click opens the detail; a link acts for itself).
    let user = session.user.clone();
    let user_href = move || {
        href_with(&params.read(), &[(url_keys::USER, Some(user.clone())), ("cursor", None), (url_keys::OPEN, None)])
    };
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
            class:gone=gone
            title=move || gone.get().then_some("No longer in this view: it changed (Refresh to read the view again)")
            data-changed=move || changed.get().to_string()
            // A click anywhere on the row (outside its link and button) opens the detail, as the ID link does.
            on:click=move |ev| {
                if !clicked_control(&ev) {
                    open_detail(&navigate, &params.read_untracked(), &click_id);
                }
            }
        >
            <td data-label="Client Interface">{session.client_interface.label()}</td>
            <td data-label="User">
                <a class="user-filter" href=user_href title="Only this user's sessions">
                    {session.user}
                </a>
            </td>
            <td data-label="Gateway Name" title=session.gateway.cluster_name>
                {session.gateway.cluster_display_name}
            </td>
            <td data-label="Resource Type">{session.resource_type.as_str()}</td>
            <td class="secret" data-label="Secret Name" title=secret_title>
                {session.secret_name}
            </td>
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
            <td data-label="Status">
                <span class=status_class>{status_label}</span>
            </td>
            <td class="time" data-label="Started">
                <LocalTime ms=started />
            </td>
            <td
                class="num"
                data-label="Duration"
                title=move || ended.map_or_else(|| "still active".to_owned(), |e| format!("ended {}", hover(e)))
            >
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
