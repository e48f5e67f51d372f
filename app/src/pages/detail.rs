//! One session: every field, its audit timeline, and — for administrators and Own users — Terminate.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use sra_domain::{format_duration, format_rfc3339};

use super::audit::AuditTimeline;
use super::sessions::TerminateButton;
use crate::api::{session_detail, terminate_session};

#[component]
pub fn SessionDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, session_detail);
    let terminate = Action::new(|session_id: &String| terminate_session(session_id.clone()));
    Effect::new(move |_| {
        if terminate.value().get().is_some() {
            detail.refetch();
        }
    });
    view! {
        <section class="detail">
            <p><a href="/sessions">"← Sessions Overview"</a></p>
            {move || terminate.value().get().and_then(Result::err).map(|e| view! {
                <div class="error" role="alert">{format!("Termination was not requested: {e}")}</div>
            })}
            <Transition fallback=|| view! { <div class="skeleton" aria-busy="true">"Loading the session…"</div> }>
                {move || detail.get().map(|result| match result {
                    Ok(d) => {
                        let s = d.session;
                        let terminating = s.status.is_active() && s.terminate_requested_at.is_some();
                        let (badge, label) = if terminating {
                            ("badge status-terminating".to_owned(), "Terminating…")
                        } else {
                            (format!("badge status-{}", s.status.as_str()), s.status.label())
                        };
                        let duration = format_duration(s.duration_ms(d.as_of));
                        let fields: Vec<(&str, String)> = vec![
                            ("User", s.user.clone()),
                            ("Client interface", s.client_interface.label().to_owned()),
                            ("Gateway", format!("{} ({})", s.gateway.cluster_display_name, s.gateway.cluster_name)),
                            ("Resource type", format!("{} — {}", s.resource_type.as_str(), s.resource_type.label())),
                            ("Secret", s.secret_name.clone()),
                            ("Target", s.target_name.clone()),
                            ("Target host", s.target_host.clone()),
                            ("API key", s.access_id.clone().unwrap_or_else(|| "—".into())),
                            ("Started (UTC)", format_rfc3339(s.started_at)),
                            ("Ended (UTC)", s.ended_at.map(format_rfc3339).unwrap_or_else(|| "still active".into())),
                            ("Duration", duration),
                            ("Error", s.error_message.clone().unwrap_or_else(|| "—".into())),
                            (
                                "Termination requested (UTC)",
                                s.terminate_requested_at.map(format_rfc3339).unwrap_or_else(|| "—".into()),
                            ),
                        ];
                        let button = (d.may_terminate && !terminating)
                            .then(|| view! { <TerminateButton session_id=s.session_id.clone() terminate/> });
                        view! {
                            <div class="detail-head">
                                <h1>"Session " <span class="mono">{s.session_id.clone()}</span></h1>
                                <span class=badge>{label}</span>
                                {button}
                            </div>
                            <dl class="fields">
                                {fields
                                    .into_iter()
                                    .map(|(name, value)| view! { <dt>{name}</dt><dd>{value}</dd> })
                                    .collect_view()}
                            </dl>
                            <h2>"Audit log"</h2>
                            <AuditTimeline entries=d.audit with_session=false/>
                        }
                        .into_any()
                    }
                    Err(e) => view! {
                        <div class="error" role="alert">
                            {format!("This session cannot be shown: {}", e.to_string().trim_start_matches("error running server function: "))}
                        </div>
                    }
                    .into_any(),
                })}
            </Transition>
        </section>
    }
}
