//! The Sessions Overview: every session the caller may see in the last 30 days.

use std::time::Duration;

use leptos::prelude::*;
use sra_domain::{format_duration, RawSessionQuery, SessionSummary, SessionsPage};

use crate::api::list_sessions;

/// The overview refreshes itself this often.
const AUTO_REFRESH: Duration = Duration::from_secs(20);

#[component]
pub fn SessionsOverview() -> impl IntoView {
    let sessions = Resource::new(|| (), |_| list_sessions(RawSessionQuery::default()));

    // Timers only exist in the browser: effects do not run during server rendering.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || sessions.refetch(), AUTO_REFRESH) {
            on_cleanup(move || handle.clear());
        }
    });

    view! {
        <section class="overview">
            <div class="overview-head">
                <h1>"Sessions Overview"</h1>
                <p class="timeframe">"Last 30 days"</p>
                <button class="refresh" on:click=move |_| sessions.refetch()>"Refresh"</button>
            </div>
            <Transition fallback=|| view! { <div class="skeleton" aria-busy="true">"Loading sessions…"</div> }>
                {move || sessions.get().map(|result| match result {
                    Ok(page) => view! { <SessionsTable page/> }.into_any(),
                    Err(e) if e.to_string().ends_with(crate::auth::NOT_SIGNED_IN) => {
                        // The sign-in ended (signed out elsewhere, idle too long): back to the login page.
                        let navigate = leptos_router::hooks::use_navigate();
                        navigate("/login?next=/sessions", Default::default());
                        view! { <p class="empty">"Your sign-in has ended."</p> }.into_any()
                    }
                    Err(e) => view! {
                        <div class="error" role="alert">{format!("Sessions could not be loaded: {e}")}</div>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SessionsTable(page: SessionsPage) -> impl IntoView {
    if page.sessions.is_empty() {
        return view! { <p class="empty">"No sessions in the last 30 days."</p> }.into_any();
    }
    let now = page.as_of;
    let count = page.sessions.len();
    view! {
        <p class="count">{format!("{count} newest sessions")}</p>
        <div class="table-wrap">
            <table class="sessions">
                <thead>
                    <tr>
                        <th scope="col">"Client Interface"</th>
                        <th scope="col">"User"</th>
                        <th scope="col">"Gateway Name"</th>
                        <th scope="col">"Resource Type"</th>
                        <th scope="col">"Secret Name"</th>
                        <th scope="col">"Session ID"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Duration"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.sessions.into_iter().map(|s| view! { <SessionRow session=s now/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn SessionRow(session: SessionSummary, now: i64) -> impl IntoView {
    let duration = format_duration(session.duration_ms(now));
    let status_class = format!("badge status-{}", session.status.as_str());
    let row_id = session.session_id.clone();
    let secret_title = session.secret_name.clone();
    view! {
        <tr data-session-id=row_id>
            <td>{session.client_interface.label()}</td>
            <td>{session.user}</td>
            <td title=session.gateway.cluster_name>{session.gateway.cluster_display_name}</td>
            <td>{session.resource_type.as_str()}</td>
            <td class="secret" title=secret_title>{session.secret_name}</td>
            <td class="mono">{session.session_id}</td>
            <td><span class=status_class>{session.status.label()}</span></td>
            <td class="num">{duration}</td>
        </tr>
    }
}
