//! The Sessions Overview: the sessions the caller may see, filtered, sorted and paged by the query engine.
//!
//! The whole view — timeframe, filters, search, sort, page size and page — lives in the URL, so a reload or a shared
//! link shows the same view and back/forward work. The filter form is a GET form to the same page. Refreshing (every
//! 20 s, or the Refresh button) asks again for exactly that view, so page, sort and filters stay as they are; if the
//! server cannot be reached, the last good page stays on screen under a "stale since" banner until it answers again.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use sra_domain::{
    format_duration, format_rfc3339, ClientInterface, RawSessionQuery, ResourceType, SessionStatus, SessionSummary,
    SessionsPage, SortDirection, SortField, StatusCounts, DEFAULT_PAGE_SIZE,
};

use super::audit::encode;
use crate::api::{caller_gateways, count_statuses, list_sessions, terminate_session};

/// The overview refreshes itself this often.
const AUTO_REFRESH_SECONDS: i64 = 20;
const PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];

/// The view as the URL holds it, checked: the query, or what is wrong with the URL.
fn query_from(params: &ParamsMap) -> Result<RawSessionQuery, String> {
    let list = |key: &str| params.get_all(key).unwrap_or_default();
    let text = |key: &str| params.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    // A date-time field sends minutes without seconds or zone; it is read as UTC.
    let time = |key: &str| -> Result<Option<i64>, String> {
        text(key)
            .map(|v| {
                let full = if v.len() == 16 && v.as_bytes().get(10) == Some(&b'T') { format!("{v}:00Z") } else { v };
                sra_domain::parse_rfc3339(&full).map_err(|e| format!("{key}: {e}"))
            })
            .transpose()
    };
    let custom = text("range").as_deref() == Some("custom");
    Ok(RawSessionQuery {
        range: text("range").filter(|_| !custom),
        from: if custom { time("from")? } else { None },
        to: if custom { time("to")? } else { None },
        statuses: list("status"),
        resource_types: list("resource"),
        client_interfaces: list("client"),
        gateways: list("gateway"),
        search: text("q"),
        sort: text("sort"),
        page_size: text("size")
            .map(|s| s.parse::<u32>().map_err(|_| format!("size: {s:?} is not a number")))
            .transpose()?,
        cursor: text("cursor"),
    })
}

/// This page's URL with some parameters replaced (`None` removes them) and the others kept.
fn href_with(params: &ParamsMap, changes: &[(&str, Option<String>)]) -> String {
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
        "/sessions".to_owned()
    } else {
        format!("/sessions?{}", parts.join("&"))
    }
}

/// The current time in the browser, in epoch milliseconds (0 on the server: nothing ticks there).
fn client_now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
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
                Ok(query) => list_sessions(query).await.map_err(|e| e.to_string()),
                Err(problem) => Err(problem),
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
    let terminate = Action::new(|session_id: &String| terminate_session(session_id.clone()));

    // What is on screen survives a failed refresh: the last good page, when it arrived (browser time), and since when
    // the server has not answered.
    let shown = RwSignal::new(None::<(SessionsPage, i64)>);
    let stale_since = RwSignal::new(None::<i64>);
    let problem = RwSignal::new(None::<String>);
    let now = RwSignal::new(client_now());
    let last_refresh = RwSignal::new(client_now());
    let auto = RwSignal::new(true);
    Effect::new(move |_| match sessions.get() {
        Some(Ok(page)) => {
            shown.set(Some((page, client_now())));
            stale_since.set(None);
            problem.set(None);
        }
        Some(Err(e)) if e.ends_with(crate::auth::NOT_SIGNED_IN) => {
            // The sign-in ended (signed out elsewhere, idle too long): back to the login page.
            let navigate = leptos_router::hooks::use_navigate();
            navigate("/login?next=/sessions", Default::default());
        }
        Some(Err(e)) => {
            let unreachable =
                e.contains("error reaching server") || e.contains("Failed to fetch") || e.contains("NetworkError");
            if unreachable && shown.with_untracked(Option::is_some) {
                if stale_since.get_untracked().is_none() {
                    stale_since.set(Some(client_now()));
                }
            } else {
                shown.set(None);
                problem.set(Some(e.trim_start_matches("error running server function: ").to_owned()));
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
    });

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
        <section class="overview">
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
            <Filters params counts grants/>
            {move || stale_since.get().map(|since| view! {
                <div class="stale" role="status">
                    {format!("The server cannot be reached: showing the sessions as of {}. Retrying…", clock(since))}
                </div>
            })}
            {move || terminate.value().get().and_then(Result::err).map(|e| view! {
                <div class="error" role="alert">{format!("Termination was not requested: {e}")}</div>
            })}
            <Transition fallback=|| view! { <div class="skeleton" aria-busy="true">"Loading sessions…"</div> }>
                {move || {
                    // Read inside the Transition so the first page is awaited during server rendering.
                    let _ = sessions.get();
                    if let Some(problem) = problem.get() {
                        return view! { <div class="error" role="alert">{format!("Sessions could not be loaded: {problem}")}</div> }.into_any();
                    }
                    let Some((page, received)) = shown.get() else {
                        return match sessions.get() {
                            // Server rendering: the effect that fills `shown` has not run; use the answer directly.
                            Some(Ok(page)) => view! { <SessionsTable page received=0 now params grants terminate counts/> }.into_any(),
                            _ => view! { <div class="skeleton" aria-busy="true">"Loading sessions…"</div> }.into_any(),
                        };
                    };
                    view! { <SessionsTable page received now params grants terminate counts/> }.into_any()
                }}
            </Transition>
        </section>
    }
}

/// `HH:MM:SS` UTC of an epoch-milliseconds time.
fn clock(ms: i64) -> String {
    format_rfc3339(ms)[11..19].to_owned() + " UTC"
}

fn timeframe_label(params: &ParamsMap) -> String {
    match params.get("range").as_deref() {
        Some("1h") => "Last hour".into(),
        Some("24h") => "Last 24 hours".into(),
        Some("7d") => "Last 7 days".into(),
        Some("custom") => format!(
            "From {} to {} (UTC)",
            params.get("from").filter(|v| !v.is_empty()).unwrap_or_else(|| "30 days before the end".into()),
            params.get("to").filter(|v| !v.is_empty()).unwrap_or_else(|| "now".into())
        ),
        _ => "Last 30 days".into(),
    }
}

/// The filter form: a GET form to this page, so the URL holds the view.
#[component]
fn Filters(
    params: Memo<ParamsMap>,
    counts: Resource<Option<StatusCounts>>,
    grants: Resource<Result<sra_domain::VisibleGateways, ServerFnError>>,
) -> impl IntoView {
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
        <Form method="GET" action="/sessions" attr:class="filters" attr:aria-label="Filters">
            <input type="hidden" name="sort" prop:value=move || value("sort")/>
            <fieldset class="timeframe-choice">
                <legend>"Timeframe"</legend>
                <select name="range" aria-label="Timeframe" prop:value=move || { let r = value("range"); if r.is_empty() { "30d".to_owned() } else { r } }>
                    <option value="1h">"Last hour"</option>
                    <option value="24h">"Last 24 hours"</option>
                    <option value="7d">"Last 7 days"</option>
                    <option value="30d">"Last 30 days"</option>
                    <option value="custom">"Custom (UTC)"</option>
                </select>
                <label>"From" <input type="datetime-local" name="from" prop:value=move || value("from")/></label>
                <label>"To" <input type="datetime-local" name="to" prop:value=move || value("to")/></label>
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
const COLUMNS: [(&str, SortField); 8] = [
    ("Client Interface", SortField::ClientInterface),
    ("User", SortField::User),
    ("Gateway Name", SortField::Gateway),
    ("Resource Type", SortField::ResourceType),
    ("Secret Name", SortField::SecretName),
    ("Session ID", SortField::SessionId),
    ("Status", SortField::Status),
    ("Duration", SortField::Duration),
];

#[component]
fn SessionsTable(
    page: SessionsPage,
    /// When the page arrived, in browser time (0 during server rendering).
    received: i64,
    now: RwSignal<i64>,
    params: Memo<ParamsMap>,
    grants: Resource<Result<sra_domain::VisibleGateways, ServerFnError>>,
    terminate: Action<String, Result<i64, ServerFnError>>,
    counts: Resource<Option<StatusCounts>>,
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
            <table class="sessions">
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
                                view! { <th scope="col" aria-sort=aria><a href=href>{*name}{arrow}</a></th> }
                            })
                            .collect_view()}
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .sessions
                        .into_iter()
                        .map(|s| view! { <SessionRow session=s server_now=Signal::derive(server_now) allowed terminate/> })
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
    terminate: Action<String, Result<i64, ServerFnError>>,
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
    let active = session.status.is_active();
    let action = move || {
        (active && !terminating && allowed.get().contains(&gateway))
            .then(|| view! { <TerminateButton session_id=id.clone() terminate/> })
    };
    let href = format!("/sessions/{}", encode(&session.session_id));
    let row_id = session.session_id.clone();
    let secret_title = session.secret_name.clone();
    let times = format!(
        "started {}{}",
        format_rfc3339(started),
        ended.map(|e| format!(", ended {}", format_rfc3339(e))).unwrap_or_default()
    );
    view! {
        <tr data-session-id=row_id>
            <td>{session.client_interface.label()}</td>
            <td>{session.user}</td>
            <td title=session.gateway.cluster_name>{session.gateway.cluster_display_name}</td>
            <td>{session.resource_type.as_str()}</td>
            <td class="secret" title=secret_title>{session.secret_name}</td>
            <td class="mono"><a href=href>{session.session_id}</a></td>
            <td><span class=status_class>{status_label}</span></td>
            <td class="num" title=times>{duration}</td>
            <td class="actions">{action}</td>
        </tr>
    }
}

/// Terminate, with the browser's confirmation dialog first.
#[component]
pub(crate) fn TerminateButton(
    session_id: String,
    terminate: Action<String, Result<i64, ServerFnError>>,
) -> impl IntoView {
    let label = format!("Terminate session {session_id}");
    view! {
        <button
            class="terminate"
            aria-label=label
            disabled=move || terminate.pending().get()
            on:click=move |_| {
                if web_sys_confirm("Terminate this session? Its gateway will end it.") {
                    terminate.dispatch(session_id.clone());
                }
            }
        >
            "Terminate"
        </button>
    }
}

/// Asks the person to confirm (the browser's dialog). Never called during server rendering: only from a click.
fn web_sys_confirm(message: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::window().confirm_with_message(message).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = message;
        false
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
        let custom = query_from(&params(&[("range", "custom"), ("from", "2026-11-01T08:00"), ("to", "")])).unwrap();
        assert_eq!((custom.range, custom.from, custom.to), (None, Some(1_793_520_000_000), None));
        assert_eq!(query_from(&params(&[("size", "x")])).unwrap_err(), "size: \"x\" is not a number");
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
