//! The audit log: entries the caller may see (administrators: every entry; others: those of the sessions they may
//! see), newest first, by actor, action, session and time range — and the timeline component the session detail
//! shows. Each entry reads in words first; its raw details are one toggle away.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{audit_entries, AuditItem};
use crate::local_time::LocalTime;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &str| query.read().get(name).unwrap_or_default();
    let filters = move || {
        let text = (field("actor"), field("action"), field("session"), field("from"), field("to"), field("tz"));
        (text, field("before").parse::<i64>().ok())
    };
    let page = Resource::new(filters, |((actor, action, session, from, to, tz), before)| {
        let some = |v: String| Some(v).filter(|v| !v.is_empty());
        audit_entries(some(actor), some(action), some(session), some(from), some(to), some(tz), before)
    });
    // From/To are the browser's wall-clock times: its offset from UTC goes with them.
    let tz = crate::local_time::tz_field;
    view! {
        <section class="audit">
            <div class="overview-head">
                <h1>"Audit log"</h1>
                <p class="timeframe">"Latest recorded first"</p>
            </div>
            <form class="audit-filters" method="get" action="/audit">
                <label>
                    "Actor"
                    <input
                        name="actor"
                        type="text"
                        placeholder="olivia, gateway:gw-eu-west-1, system"
                        prop:value=move || field("actor")
                    />
                </label>
                <label>
                    "Action" <select name="action" prop:value=move || field("action")>
                        {ACTIONS
                            .iter()
                            .map(|(value, label)| {
                                let selected = move || field("action") == *value;
                                view! {
                                    <option value=*value selected=selected>
                                        {*label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>"Session ID" <input name="session" type="text" prop:value=move || field("session") /></label>
                <input type="hidden" name="tz" prop:value=tz />
                <label>"From" <input name="from" type="datetime-local" prop:value=move || field("from") /></label>
                <label>"To" <input name="to" type="datetime-local" prop:value=move || field("to") /></label>
                <span class="zone">{move || format!("Times in {}", crate::local_time::zone_label())}</span>
                <button type="submit">"Apply"</button>
                <a href="/audit">"Clear"</a>
            </form>
            <Transition fallback=|| {
                view! {
                    <div class="skeleton" aria-busy="true">
                        "Loading the audit log…"
                    </div>
                }
            }>
                {move || {
                    page.get()
                        .map(|result| match result {
                            Ok(page) if page.entries.is_empty() => {
                                view! { <p class="empty">"No audit entries match."</p> }.into_any()
                            }
                            Ok(page) => {
                                let older = page
                                    .next
                                    .map(|before| {
                                        format!(
                                            "/audit?actor={}&action={}&session={}&from={}&to={}&tz={}&before={before}",
                                            encode(&field("actor")),
                                            encode(&field("action")),
                                            encode(&field("session")),
                                            encode(&field("from")),
                                            encode(&field("to")),
                                            encode(&field("tz")),
                                        )
                                    });
                                view! {
                                    <AuditTimeline entries=page.entries with_session=true />
                                    {older
                                        .map(|href| {
                                            view! {
                                                <p class="more">
                                                    <a href=href>"Older entries →"</a>
                                                </p>
                                            }
                                        })}
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <div class="error" role="alert">
                                        {format!("The audit log could not be loaded: {e}")}
                                    </div>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}

/// Audit entries as a table: time, actor, action, (session,) what changed.
#[component]
pub fn AuditTimeline(entries: Vec<AuditItem>, with_session: bool) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="audit-log">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        {with_session.then(|| view! { <th scope="col">"Session ID"</th> })}
                        <th scope="col">"What happened"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|e| {
                            let session = e.session_id.clone();
                            view! {
                                <tr data-audit-id=e.id>
                                    <td class="mono">
                                        <LocalTime ms=e.at seconds=true />
                                    </td>
                                    <td>{e.actor}</td>
                                    <td>{e.action}</td>
                                    {with_session
                                        .then(|| match session {
                                            Some(id) => {
                                                let href = format!("/sessions/{}", encode(&id));
                                                view! {
                                                    <td class="mono">
                                                        <a href=href>{id}</a>
                                                    </td>
                                                }
                                                    .into_any()
                                            }
                                            None => view! { <td>"—"</td> }.into_any(),
                                        })}
                                    <td class="summary">{e.summary}</td>
                                    <td class="details">
                                        <details>
                                            <summary>"Raw"</summary>
                                            <code class="mono">{e.details}</code>
                                        </details>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The action filter's choices: a family, or one action as recorded.
const ACTIONS: [(&str, &str); 14] = [
    ("", "Any"),
    ("session.*", "Session changes (all)"),
    ("session.terminate_requested", "Termination requested"),
    ("session.failed", "Session failed (or lost)"),
    ("session.terminated", "Session terminated"),
    ("console.*", "Console sign-ins and outs"),
    ("api.*", "API sign-ins and tokens"),
    ("sign_in.throttled", "Sign-ins throttled"),
    ("user.*", "Users"),
    ("role.*", "Roles"),
    ("gateway.*", "Gateways"),
    ("export.sessions", "Exports"),
    ("view.session", "Session views"),
    ("user.blocked", "Users blocked"),
];

/// Percent-encodes text for a URL query value or path segment.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(super::encode("user:olivia & co/x"), "user%3Aolivia%20%26%20co%2Fx");
        assert_eq!(super::encode("2026-11-28T09:30"), "2026-11-28T09%3A30");
    }
}
