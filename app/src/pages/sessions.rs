//! The Sessions Overview: every session the caller may see in the last 30 days.

use std::time::Duration;

use leptos::prelude::*;
use sra_domain::{format_duration, RawSessionQuery, SessionSummary, SessionsPage};

use crate::api::{caller_gateways, list_sessions, terminate_session};

/// The overview refreshes itself this often.
const AUTO_REFRESH: Duration = Duration::from_secs(20);

#[component]
pub fn SessionsOverview() -> impl IntoView {
    let sessions = Resource::new(|| (), |_| list_sessions(RawSessionQuery::default()));
    // The gateways whose sessions the caller may terminate (Own and All grants).
    let grants = Resource::new(|| (), |_| caller_gateways());
    let terminate = Action::new(|session_id: &String| terminate_session(session_id.clone()));
    Effect::new(move |_| {
        if terminate.value().get().is_some() {
            sessions.refetch();
        }
    });

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
            {move || terminate.value().get().and_then(Result::err).map(|e| view! {
                <div class="error" role="alert">{format!("Termination was not requested: {e}")}</div>
            })}
            <Transition fallback=|| view! { <div class="skeleton" aria-busy="true">"Loading sessions…"</div> }>
                {move || sessions.get().map(|result| match result {
                    Ok(page) => {
                        let allowed: Vec<String> = grants
                            .get()
                            .and_then(Result::ok)
                            .map(|g| g.allowed.into_iter().map(|g| g.cluster_name).collect())
                            .unwrap_or_default();
                        view! { <SessionsTable page allowed terminate/> }.into_any()
                    }
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
fn SessionsTable(
    page: SessionsPage,
    /// Gateways whose active sessions get a Terminate button.
    allowed: Vec<String>,
    terminate: Action<String, Result<i64, ServerFnError>>,
) -> impl IntoView {
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
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .sessions
                        .into_iter()
                        .map(|s| {
                            let may_terminate = s.status.is_active() && allowed.contains(&s.gateway.cluster_name);
                            view! { <SessionRow session=s now may_terminate terminate/> }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn SessionRow(
    session: SessionSummary,
    now: i64,
    may_terminate: bool,
    terminate: Action<String, Result<i64, ServerFnError>>,
) -> impl IntoView {
    let duration = format_duration(session.duration_ms(now));
    let terminating = session.status.is_active() && session.terminate_requested_at.is_some();
    let (status_class, status_label) = if terminating {
        ("badge status-terminating".to_owned(), "Terminating…")
    } else {
        (format!("badge status-{}", session.status.as_str()), session.status.label())
    };
    let action = (may_terminate && !terminating)
        .then(|| view! { <TerminateButton session_id=session.session_id.clone() terminate/> });
    let href = format!("/sessions/{}", super::audit::encode(&session.session_id));
    let row_id = session.session_id.clone();
    let secret_title = session.secret_name.clone();
    view! {
        <tr data-session-id=row_id>
            <td>{session.client_interface.label()}</td>
            <td>{session.user}</td>
            <td title=session.gateway.cluster_name>{session.gateway.cluster_display_name}</td>
            <td>{session.resource_type.as_str()}</td>
            <td class="secret" title=secret_title>{session.secret_name}</td>
            <td class="mono"><a href=href>{session.session_id}</a></td>
            <td><span class=status_class>{status_label}</span></td>
            <td class="num">{duration}</td>
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
