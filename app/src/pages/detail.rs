//! One session: every field, its audit timeline, and — for administrators and Own users — Terminate.
//!
//! The same body shows in two places: the overview's detail panel (`/sessions?…&open=ID`, over the grid, refreshed
//! with it) and the session's own page (`/sessions/ID`, a permanent link).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use sra_domain::format_duration;

use super::audit::AuditTimeline;
use sra_domain::TerminationTarget;

use super::terminate::{
    about, TerminateAllButton, TerminateButton, Termination, TerminationDialog, TerminationOutcome,
};
use crate::api::{session_detail, SessionView};
use crate::clock::Clock;
use crate::error::ConsoleError;
use crate::local_time::{browser_now, zone_label, LocalTime};

#[component]
pub fn SessionDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, session_detail);
    // The page's clock, made here: one made inside the body below would be disposed when a refetch replaces the body
    // and then handed, dead, to the new body by its context (a panic on the first refresh after a termination).
    Clock::use_clock();
    let terminate = Termination::provide().action;
    Effect::new(move |_| {
        if terminate.value().get().is_some() {
            detail.refetch();
        }
    });
    view! {
        <section class="detail">
            <p>
                <a href="/sessions">"← Sessions Overview"</a>
            </p>
            <Transition fallback=|| {
                view! {
                    <div class="skeleton" aria-busy="true">
                        "Loading the session…"
                    </div>
                }
            }>
                {move || {
                    detail
                        .get()
                        .map(|result| match result {
                            Ok(d) => view! { <SessionDetail detail=d heading_id="session-title" /> }.into_any(),
                            Err(e) => detail_error(&e).into_any(),
                        })
                }}
            </Transition>
            <TerminationDialog />
        </section>
    }
}

/// Why a session cannot be shown, in the page.
pub(crate) fn detail_error(error: &ConsoleError) -> impl IntoView {
    view! {
        <div class="error" role="alert">
            {format!("This session cannot be shown: {}", error.message)}
        </div>
    }
}

/// A session's fields, audit timeline and Terminate button. `heading_id` names the heading for `aria-labelledby`.
#[component]
pub(crate) fn SessionDetail(detail: SessionView, heading_id: &'static str) -> impl IntoView {
    let s = detail.session;
    let terminating = s.status.is_active() && s.terminate_requested_at.is_some();
    let (badge, label) = if terminating {
        ("badge status-terminating".to_owned(), "Terminating…")
    } else {
        (format!("badge status-{}", s.status.as_str()), s.status.label())
    };
    // An active session's duration ticks on in the browser from the server's `as_of`, as in the grid.
    let (as_of, received) = (detail.as_of, browser_now());
    let clock = Clock::use_clock();
    let (started, ended) = (s.started_at, s.ended_at);
    let duration = move || match ended {
        Some(ended) => format_duration(ended - started),
        None => format_duration(as_of + (clock.now() - received).max(0) - started),
    };
    let text = |value: String| view! { {value} }.into_any();
    let time = |ms: i64| view! { <LocalTime ms seconds=true /> }.into_any();
    let mut fields: Vec<(&str, AnyView)> = vec![
        ("User", text(s.user.clone())),
        ("Client interface", text(s.client_interface.label().to_owned())),
        ("Gateway", text(format!("{} ({})", s.gateway.cluster_display_name, s.gateway.cluster_name))),
        ("Resource type", text(format!("{} — {}", s.resource_type.as_str(), s.resource_type.label()))),
        ("Secret", text(s.secret_name.clone())),
        ("Target", text(s.target_name.clone())),
        ("Target host", text(s.target_host.clone())),
        ("API key", text(s.access_id.clone().unwrap_or_else(|| "—".into()))),
        ("Started", time(s.started_at)),
        ("Ended", s.ended_at.map(time).unwrap_or_else(|| text("still active".into()))),
        ("Duration", view! { <span class="duration">{duration}</span> }.into_any()),
        ("Error", text(s.error_message.clone().unwrap_or_else(|| "—".into()))),
        ("Termination requested", s.terminate_requested_at.map(time).unwrap_or_else(|| text("—".into()))),
    ];
    if let Some(by) = s.terminate_requested_by.clone() {
        fields.push(("Requested by", text(by)));
    }
    if let Some(reason) = s.termination_reason.clone() {
        fields.push(("Reason", text(reason)));
    }
    let button = (detail.may_terminate && !terminating)
        .then(|| view! { <TerminateButton session_id=s.session_id.clone() about=about(&s) place="detail" /> });
    // Every active session of this user, or on this gateway, that the caller may terminate (the confirmation lists
    // them, and those skipped).
    let bulk = detail.may_terminate_any.then(|| {
        let user = TerminationTarget::User(s.user.clone());
        let gateway = TerminationTarget::Gateway(s.gateway.cluster_name.clone());
        view! {
            <div class="bulk-terminate">
                <TerminateAllButton
                    target=user
                    label=format!("Terminate every active session of {}", s.user)
                    id="terminate-user"
                />
                <TerminateAllButton
                    target=gateway
                    label=format!("Terminate every active session on {}", s.gateway.cluster_display_name)
                    id="terminate-gateway"
                />
            </div>
        }
    });
    view! {
        <TerminationOutcome />
        <div class="detail-head">
            <h1 id=heading_id>"Session " <span class="mono">{s.session_id.clone()}</span></h1>
            <span class=badge>{label}</span>
            {button}
        </div>
        <dl class="fields">
            {fields
                .into_iter()
                .map(|(name, value)| {
                    view! {
                        <dt>{name}</dt>
                        <dd>{value}</dd>
                    }
                })
                .collect_view()}
        </dl>
        {bulk}
        <p class="zone">{move || format!("Times in {}.", zone_label())}</p>
        <h2>"Audit log"</h2>
        <AuditTimeline entries=detail.audit with_session=false />
    }
}
