//! The Sessions Overview: the sessions the caller may see, filtered, sorted and paged by the query engine.
//!
//! The whole view — timeframe, filters, search, sort, page size and page — lives in the URL, so a reload or a shared
//! link shows the same view and back/forward work. The filter form is a GET form to the same page.
//!
//! Live: while auto-refresh is on, the page follows the server's event stream for its view (`stream`): rows on screen
//! change in place, new sessions that belong above the first row wait behind an "N new sessions" control, the counts
//! follow (at most every few seconds). When the stream is down, the 20-second refresh takes over and asks only what
//! changed since the page's changes token; the server says when the page must be read again. Refresh (the button, or
//! "N new sessions") reads the view again, so page, sort and filters stay as they are; if the server cannot be reached,
//! the last good page stays on screen under a "stale since" banner until it answers again.
//!
//! The page is put together here (the view's resources, the stream, the refresh clock, the stale banner); the pieces
//! live beside it: `url` (the view in the URL and links to other views), `filters` (the filter form), `table` (the grid
//! and its rows), `panel` (the detail panel over the grid), `shown` and `live` (what the grid shows, from the pages
//! read and the changes heard since).

mod filters;
mod live;
mod panel;
mod shown;
mod stream;
mod table;
mod url;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sra_domain::url_keys;
use std::collections::HashSet;

use super::terminate::{SelectionBar, Termination, TerminationDialog, TerminationOutcome};
use crate::api::{caller_gateways, changes_since, count_statuses, list_sessions};
use crate::clock::Clock;
use crate::error::{ConsoleError, Failure};
use crate::local_time::{browser_now as client_now, zone_label, LocalTime};
use filters::{ActiveFilters, CountedView, Filters};
use live::{newest_first, Live, Outcome};
use panel::{close_detail, SessionPanel};
use shown::Shown;
use stream::{Heard, Stream};
use table::{Grid, GridSkeleton};
use url::{link, query_from, timeframe_label};

/// The overview refreshes itself this often (when its event stream is down).
const AUTO_REFRESH_SECONDS: i64 = 20;
/// The counts follow pushed changes at most this often.
const COUNTS_EVERY_MS: i64 = 5_000;

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

/// Whether the page has finished loading (its `load` event has fired).
fn page_loaded() -> bool {
    #[cfg(feature = "hydrate")]
    {
        document().ready_state() == "complete"
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
    // Bumped when pushed changes may have moved the counts.
    let recounts = RwSignal::new(0_u64);
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
        move || (query.get(), refreshes.get(), recounts.get()),
        |(query, _, _)| async move {
            match query {
                Ok(query) => count_statuses(query).await.ok(),
                Err(_) => None,
            }
        },
    );
    let grants = Resource::new(|| (), |_| caller_gateways());
    let counted = CountedView { query, refreshes, recounts };
    // The session whose detail panel is open (`open=ID`): part of the view, so a refresh or a reload keeps it.
    let open = Memo::new(move |_| params.read().get(url_keys::OPEN).filter(|id| !id.is_empty()));
    let terminate = Termination::provide().action;

    // What the grid shows: derived from each answer and what was shown before it (the last good page survives a
    // refresh that cannot reach the server; a refresh of the same view marks the rows that changed).
    let shown = Memo::new_owning(move |previous| {
        Shown::step(previous, sessions.get(), query.get_untracked().ok(), client_now())
    });
    // The changes heard since the page was read, laid over it; they start over with each page read.
    let live = RwSignal::new(Live::default());
    let page_read =
        Memo::new(move |_| shown.with(|s| s.page.as_ref().map(|(page, at)| (page.changes_token.clone(), *at))));
    Effect::new(move |_| {
        page_read.track();
        shown.with_untracked(|s| live.set(s.page.as_ref().map(|(page, _)| Live::for_page(page)).unwrap_or_default()));
    });
    let changed = Memo::new(move |_| {
        let mut changed = shown.with(|s| s.changed.clone());
        live.with(|l| changed.extend(l.changed.iter().cloned()));
        changed
    });
    let now = Clock::use_clock().signal();
    let last_refresh = RwSignal::new(client_now());
    let auto = RwSignal::new(true);
    // Whether the event stream is up: then the page follows it and the 20-second refresh rests.
    let streaming = RwSignal::new(false);
    // When the counts were last asked for because of pushed changes, and whether they are due again.
    let last_recount = RwSignal::new(0_i64);
    let recount_due = RwSignal::new(false);
    // Lays changes over the page on screen; what they call for follows.
    let hear = move |changes: sra_domain::SessionChanges| {
        let (newest, page) = {
            let p = params.read_untracked();
            let newest = newest_first(p.get(url_keys::SORT).as_deref(), p.get(url_keys::CURSOR).as_deref());
            (newest, shown.with_untracked(|s| s.page.as_ref().map(|(page, _)| page.clone())))
        };
        let Some(page) = page else { return };
        let mut outcome = Outcome::Unchanged;
        live.update(|l| outcome = l.apply(&page, newest, changes));
        match outcome {
            Outcome::Unchanged => {}
            Outcome::Applied => recount_due.set(true),
            Outcome::ReadAgain => {
                last_refresh.set(client_now());
                refreshes.update(|n| *n += 1);
            }
        }
    };
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
    // The 20-second refresh without a stream: only what changed since the page (or the last answer), if the page has a
    // changes token; the whole page otherwise, or when the server says so.
    let refresh_changes = move || {
        last_refresh.set(client_now());
        let token = live.with_untracked(|l| l.token.clone());
        match (query.get_untracked(), token) {
            (Ok(view), Some(token)) => leptos::task::spawn_local(async move {
                match changes_since(view, token).await {
                    Ok(changes) => hear(changes),
                    // Failures are the page's to show: reading it again does.
                    Err(_) => refreshes.update(|n| *n += 1),
                }
            }),
            _ => refreshes.update(|n| *n += 1),
        }
    };
    // The stream of the view on screen, opened once its page has been read (from that page's changes token, so nothing
    // between the two is missed) and kept across refreshes of the same view.
    // A stream opened before the page's `load` event would hold that event back (the browser counts it as loading).
    let loaded = RwSignal::new(false);
    Effect::new(move |_| {
        if page_loaded() {
            loaded.set(true);
            return;
        }
        let listener = window_event_listener(leptos::ev::load, move |_| loaded.set(true));
        on_cleanup(move || listener.remove());
    });
    let stream_url = Memo::new(move |_| {
        if !loaded.get() {
            return None;
        }
        let view = query.get().ok()?;
        let page_view = shown.with(|s| s.view().cloned())?;
        if page_view != view || !auto.get() {
            return None;
        }
        // From the page's own token: what changed since it was read comes first.
        let since =
            shown.with(|s| s.page.as_ref().and_then(|(page, _)| page.changes_token.clone())).unwrap_or_default();
        let base = link(
            "/events/sessions",
            &params.read(),
            &[(url_keys::CURSOR, None), (url_keys::OPEN, None), (url_keys::SIZE, None)],
        );
        let view_part = base.split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default();
        Some((view_part, since))
    });
    // The stream lives in the effect's value (browser only): replaced when the view changes, dropped — and so closed —
    // when the effect goes with the page.
    Effect::new(move |opened: Option<Option<(String, Stream)>>| {
        let opened = opened.flatten();
        let Some((view, since)) = stream_url.get() else {
            streaming.set(false);
            return None;
        };
        if opened.as_ref().is_some_and(|(open, _)| *open == view) {
            return opened;
        }
        drop(opened);
        let separator = if view.is_empty() { "" } else { "&" };
        let url = format!("/events/sessions?{view}{separator}since={}", crate::pages::audit::encode(&since));
        let heard = move |heard: Heard| match heard {
            Heard::Ready => streaming.set(true),
            Heard::Down => streaming.set(false),
            Heard::Changes(changes) => hear(changes),
        };
        Stream::open(&url, heard).map(|stream| (view, stream))
    });
    // A new view (filters, sort, page) is fetched as it opens: the refresh clock starts over from it.
    Effect::new(move |_| {
        query.track();
        last_refresh.set(client_now());
    });

    // Each tick of the page's clock (browser only) starts the refresh when it is due — not while the tab is hidden; when
    // it shows again, at once if one is due.
    Effect::new(move |_| {
        let now = now.get();
        if streaming.get_untracked() {
            last_refresh.set(now);
        }
        let due = now - last_refresh.get_untracked() >= AUTO_REFRESH_SECONDS * 1_000;
        if due && auto.get_untracked() && !page_hidden() {
            refresh_changes();
        }
        if recount_due.get_untracked() && now - last_recount.get_untracked() >= COUNTS_EVERY_MS {
            recount_due.set(false);
            last_recount.set(now);
            recounts.update(|n| *n += 1);
        }
    });
    // Page events exist only in the browser: effects do not run during server rendering.
    Effect::new(move |_| {
        let visible = window_event_listener(leptos::ev::visibilitychange, move |_| {
            let due = client_now() - last_refresh.get_untracked() >= AUTO_REFRESH_SECONDS * 1_000;
            if !page_hidden() && due && auto.get_untracked() && !streaming.get_untracked() {
                refresh_changes();
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

    filters::close_menus_on_outside_clicks();
    // While another view (or a refresh) loads, the current one stays on screen, dimmed, and says so.
    let pending = RwSignal::new(false);
    // On narrow screens the filters fold away behind a button; on wide ones they are always shown.
    let filters_open = RwSignal::new(false);
    let status_line = move || {
        let age = ((now.get() - last_refresh.get()) / 1_000).max(0);
        let next = (AUTO_REFRESH_SECONDS - age).max(0);
        if auto.get() && streaming.get() {
            "Live: changes show as they happen".to_owned()
        } else if auto.get() {
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
                <p class="updated" aria-live="off" data-mode=move || if streaming.get() { "live" } else { "polling" }>
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
            <Filters params counts counted grants expanded=filters_open />
            <ActiveFilters params grants />
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
            <TerminationOutcome />
            <SelectionBar />
            {move || {
                let fresh = live.with(|l| l.fresh.len());
                (fresh > 0)
                    .then(|| {
                        let label = if fresh == 1 {
                            "1 new session".to_owned()
                        } else {
                            format!("{fresh} new sessions")
                        };
                        view! {
                            <button class="new-sessions" on:click=move |_| refresh()>
                                {label}
                                " — show"
                            </button>
                        }
                    })
            }}
            <Transition fallback=GridSkeleton set_pending=pending>
                // Read inside the Transition so the first page is awaited during server rendering and a refresh counts
                // as pending; the grid itself follows `shown`.
                {move || sessions.with(|_| ())}
                <Grid shown live now params grants counts changed />
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
