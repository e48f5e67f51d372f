//! The Sessions Overview: the sessions the caller may see, filtered, sorted and paged by the query engine.
//!
//! The whole view — timeframe, filters, search, sort, page size and page — lives in the URL, so a reload or a shared
//! link shows the same view and back/forward work. The filter form is a GET form to the same page. Refreshing (every
//! 20 s, or the Refresh button) asks again for exactly that view, so page, sort and filters stay as they are; if the
//! server cannot be reached, the last good page stays on screen under a "stale since" banner until it answers again.
//!
//! The page is put together here (the view's resources, the refresh clock, the stale banner); the pieces live beside
//! it: `url` (the view in the URL and links to other views), `filters` (the filter form), `table` (the grid and its
//! rows) and `panel` (the detail panel over the grid).

mod filters;
mod panel;
mod shown;
mod table;
mod url;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sra_domain::url_keys;
use std::collections::HashSet;

use super::terminate::{Termination, TerminationDialog, TerminationError};
use crate::api::{caller_gateways, count_statuses, list_sessions};
use crate::clock::Clock;
use crate::error::{ConsoleError, Failure};
use crate::local_time::{browser_now as client_now, zone_label, LocalTime};
use filters::Filters;
use panel::{close_detail, SessionPanel};
use shown::Shown;
use table::{Grid, GridSkeleton};
use url::{link, query_from, timeframe_label};

/// The overview refreshes itself this often.
const AUTO_REFRESH_SECONDS: i64 = 20;

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

    // What the grid shows: derived from each answer and what was shown before it (the last good page survives a
    // refresh that cannot reach the server; a refresh of the same view marks the rows that changed).
    let shown = Memo::new_owning(move |previous| {
        Shown::step(previous, sessions.get(), query.get_untracked().ok(), client_now())
    });
    let changed = Memo::new(move |_| shown.with(|s| s.changed.clone()));
    let now = Clock::use_clock().signal();
    let last_refresh = RwSignal::new(client_now());
    let auto = RwSignal::new(true);
    // The sign-in ended (signed out elsewhere, idle too long): back to the login page.
    Effect::new(move |_| {
        if sessions.with(|answer| matches!(answer, Some(Err(e)) if e.kind == Failure::NotSignedIn)) {
            let navigate = leptos_router::hooks::use_navigate();
            navigate("/login?next=/sessions", Default::default());
        }
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

    // Each tick of the page's clock (browser only) starts the refresh when it is due — not while the tab is hidden; when
    // it shows again, at once if one is due.
    Effect::new(move |_| {
        let due = now.get() - last_refresh.get_untracked() >= AUTO_REFRESH_SECONDS * 1_000;
        if due && auto.get_untracked() && !page_hidden() {
            refresh();
        }
    });
    // Page events exist only in the browser: effects do not run during server rendering.
    Effect::new(move |_| {
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
                <p class="updated" aria-live="off">
                    {status_line}
                </p>
                <label class="auto">
                    <input
                        type="checkbox"
                        prop:checked=move || auto.get()
                        on:change=move |ev| auto.set(event_target_checked(&ev))
                    />
                    "Auto-refresh"
                </label>
                <button class="refresh" on:click=move |_| refresh()>
                    "Refresh"
                </button>
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
                    <a
                        href=move || link(
                            "/export/sessions.csv",
                            &params.read(),
                            &[(url_keys::CURSOR, None), (url_keys::OPEN, None)],
                        )
                        download
                    >
                        "CSV"
                    </a> " · "
                    <a
                        href=move || link(
                            "/export/sessions.json",
                            &params.read(),
                            &[(url_keys::CURSOR, None), (url_keys::OPEN, None)],
                        )
                        download
                    >
                        "JSON"
                    </a>
                </span>
            </div>
            <Filters params counts grants expanded=filters_open />
            {move || {
                shown
                    .with(|s| s.stale_since)
                    .map(|(since, why)| {
                        let what = if why == Failure::Unavailable {
                            "The server cannot reach its database"
                        } else {
                            "The server cannot be reached"
                        };
                        view! {
                            <div class="stale" role="status">
                                {what}
                                ": showing the sessions as of "
                                <LocalTime ms=since seconds=true />
                                ". Retrying…"
                            </div>
                        }
                    })
            }}
            <TerminationError />
            <Transition fallback=GridSkeleton set_pending=pending>
                // Read inside the Transition so the first page is awaited during server rendering and a refresh counts
                // as pending; the grid itself follows `shown`.
                {move || sessions.with(|_| ())}
                <Grid shown now params grants counts changed />
            </Transition>
            <p class="visually-hidden" aria-live="polite">
                {move || match changed.with(HashSet::len) {
                    0 => String::new(),
                    1 => "1 session changed since the last refresh".to_owned(),
                    n => format!("{n} sessions changed since the last refresh"),
                }}
            </p>
            {move || open.get().map(|id| view! { <SessionPanel id params refreshes /> })}
            <TerminationDialog />
        </section>
    }
}
