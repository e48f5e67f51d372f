//! Terminate: the buttons (one session, the sessions ticked in the grid, every active session of a user or a
//! gateway), and the confirmation dialog that asks for the reason and names what will end.
//!
//! One [`Termination`] per page (the overview, a session's page) holds the request, the question being asked and the
//! grid's ticked sessions. The dialog lives at page level, not inside the row that asked: the grid re-renders its rows
//! on every refresh, and a confirmation must not vanish under the person's cursor because 20 seconds passed. A bulk
//! question first asks the server what would happen (the same rule as the request), so the dialog says how many and
//! which sessions end, and which are skipped and why.

use std::collections::BTreeSet;

use leptos::prelude::*;
use sra_domain::{BlockFor, SessionSummary, TerminationTarget, Terminations, MAX_REASON_CHARS};

use crate::api::{preview_terminations, terminate_sessions};
use crate::error::ConsoleError;
use crate::local_time::LocalTime;

/// A confirmation being asked: of which sessions, how to put it, and where the keyboard focus goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ask {
    target: TerminationTarget,
    /// The dialog's title, a question.
    title: String,
    /// For one session: who, what, through which gateway. Bulk questions show the server's preview instead.
    about: Option<String>,
    /// The element ID of the button that asked.
    return_to: String,
}

/// The page's termination requests, their confirmation and the sessions ticked in the grid.
#[derive(Clone, Copy)]
pub(crate) struct Termination {
    pub action: Action<(TerminationTarget, String, Option<BlockFor>), Result<Terminations, ConsoleError>>,
    asking: RwSignal<Option<Ask>>,
    /// Sessions ticked in the grid, to terminate together.
    pub selected: RwSignal<BTreeSet<String>>,
}

impl Termination {
    /// Creates the page's termination and makes it available to the buttons below.
    pub fn provide() -> Termination {
        let selected = RwSignal::new(BTreeSet::new());
        let termination = Termination {
            action: Action::new(move |(target, reason, block): &(TerminationTarget, String, Option<BlockFor>)| {
                let (target, reason, block) = (target.clone(), reason.clone(), *block);
                async move {
                    let done = terminate_sessions(target, reason, block).await;
                    if done.is_ok() {
                        selected.set(BTreeSet::new());
                    }
                    done
                }
            }),
            asking: RwSignal::new(None),
            selected,
        };
        provide_context(termination);
        termination
    }
}

/// A one-line description of a session for the confirmation: who, what, through which gateway.
pub(crate) fn about(s: &SessionSummary) -> String {
    format!(
        "{} on {} ({}, {}) through {}",
        s.user,
        s.target_name,
        s.resource_type.as_str(),
        s.target_host,
        s.gateway.cluster_display_name
    )
}

/// Terminate a session, after confirming. `place` tells two buttons for one session apart (grid row, detail).
#[component]
pub(crate) fn TerminateButton(session_id: String, about: String, place: &'static str) -> impl IntoView {
    let termination = use_context::<Termination>();
    let id = format!("terminate-{place}-{session_id}");
    let label = format!("Terminate session {session_id}");
    let ask = Ask {
        title: format!("Terminate session {session_id}?"),
        target: TerminationTarget::Sessions(vec![session_id]),
        about: Some(about),
        return_to: id.clone(),
    };
    view! {
        <button
            class="terminate"
            id=id
            aria-label=label
            aria-haspopup="dialog"
            disabled=move || termination.is_some_and(|t| t.action.pending().get())
            on:click=move |_| {
                if let Some(t) = termination {
                    t.asking.set(Some(ask.clone()));
                }
            }
        >
            "Terminate"
        </button>
    }
}

/// Terminate every active session of a user or on a gateway that the caller may terminate, after a confirmation that
/// lists them. `id` is the button's element ID.
#[component]
pub(crate) fn TerminateAllButton(target: TerminationTarget, label: String, id: &'static str) -> impl IntoView {
    let termination = use_context::<Termination>();
    let title = format!("{label}?");
    let ask = Ask { target, title, about: None, return_to: id.to_owned() };
    view! {
        <button
            class="terminate"
            id=id
            aria-haspopup="dialog"
            disabled=move || termination.is_some_and(|t| t.action.pending().get())
            on:click=move |_| {
                if let Some(t) = termination {
                    t.asking.set(Some(ask.clone()));
                }
            }
        >
            {label}
        </button>
    }
}

/// A tick box that adds a session to the sessions terminated together.
#[component]
pub(crate) fn SelectForTermination(session_id: String) -> impl IntoView {
    let Some(termination) = use_context::<Termination>() else { return ().into_any() };
    let selected = termination.selected;
    let (checked_id, toggled_id) = (session_id.clone(), session_id.clone());
    view! {
        <input
            type="checkbox"
            class="select-session"
            aria-label=format!("Select session {session_id} to terminate")
            prop:checked=move || selected.with(|s| s.contains(&checked_id))
            on:change=move |ev| {
                let on = event_target_checked(&ev);
                let id = toggled_id.clone();
                selected
                    .update(|s| {
                        if on {
                            s.insert(id);
                        } else {
                            s.remove(&id);
                        }
                    });
            }
        />
    }
    .into_any()
}

/// While sessions are ticked: how many, terminate them together, or clear the ticks.
#[component]
pub(crate) fn SelectionBar() -> impl IntoView {
    let Some(termination) = use_context::<Termination>() else { return ().into_any() };
    let selected = termination.selected;
    (move || {
        let count = selected.with(BTreeSet::len);
        (count > 0).then(|| {
            let sessions = if count == 1 { "1 session".to_owned() } else { format!("{count} sessions") };
            view! {
                <div class="selection-bar" role="region" aria-label="Selected sessions">
                    <span>{format!("{sessions} selected")}</span>
                    <button
                        class="terminate"
                        id="terminate-selected"
                        aria-haspopup="dialog"
                        disabled=move || termination.action.pending().get()
                        on:click=move |_| {
                            let ids: Vec<String> = selected.get_untracked().into_iter().collect();
                            let title = format!("Terminate {} selected?", plural(ids.len()));
                            termination
                                .asking
                                .set(
                                    Some(Ask {
                                        target: TerminationTarget::Sessions(ids),
                                        title,
                                        about: None,
                                        return_to: "terminate-selected".to_owned(),
                                    }),
                                );
                        }
                    >
                        {format!("Terminate {sessions}")}
                    </button>
                    <button on:click=move |_| selected.set(BTreeSet::new())>"Clear selection"</button>
                </div>
            }
        })
    })
    .into_any()
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 session".to_owned()
    } else {
        format!("{n} sessions")
    }
}

/// The most sessions a confirmation lists by name; the rest are counted.
const LISTED: usize = 10;

/// The confirmation: a modal alert dialog asking for the reason. It takes the focus (on the reason), keeps Tab inside,
/// and Escape or Cancel closes it; either way the focus returns to the button that asked.
#[component]
pub(crate) fn TerminationDialog() -> impl IntoView {
    let Some(termination) = use_context::<Termination>() else { return ().into_any() };
    let asking = termination.asking;
    let reason = RwSignal::new(String::new());
    // "" (no block) or a length of time the block-for select offers.
    let block = RwSignal::new(String::new());
    let reason_box = NodeRef::<leptos::html::Input>::new();
    let block_box = NodeRef::<leptos::html::Select>::new();
    let cancel = NodeRef::<leptos::html::Button>::new();
    let confirm = NodeRef::<leptos::html::Button>::new();
    // A bulk question asks the server what would happen first (browser only: the dialog opens on a click).
    let preview = LocalResource::new(move || {
        let target = asking.with(|a| a.as_ref().filter(|a| a.about.is_none()).map(|a| a.target.clone()));
        let block_for = BlockFor::parse(&block.get()).ok();
        async move {
            match target {
                Some(target) => Some(preview_terminations(target, block_for).await),
                None => None,
            }
        }
    });
    // Each question starts blank; only a new question clears what was typed.
    Effect::new(move |_| {
        // Set only what changed: setting the block would ask the server for the preview again.
        if asking.with(Option::is_some) {
            for field in [reason, block] {
                if !field.with_untracked(String::is_empty) {
                    field.set(String::new());
                }
            }
        }
    });
    Effect::new(move |_| {
        if let Some(input) = reason_box.get() {
            let _ = input.focus();
        }
    });
    let close = move || {
        if let Some(ask) = asking.get_untracked() {
            asking.set(None);
            super::focus_by_id(&ask.return_to);
        }
    };
    // Nothing to confirm yet: no reason, or a bulk question whose preview has not come or selects nothing.
    let blocked = move || {
        let no_reason = reason.with(|r| r.trim().is_empty());
        let bulk = asking.with(|a| a.as_ref().is_some_and(|a| a.about.is_none()));
        let nothing = bulk && !preview.with(|p| matches!(p, Some(Some(Ok(t))) if !t.requested.is_empty()));
        no_reason || nothing
    };
    view! {
        {move || {
            asking
                .get()
                .map(|ask| {
                    let target = ask.target.clone();
                    let single = ask.about.is_some();
                    let confirm_label = move || {
                        if single {
                            return "Yes, terminate".to_owned();
                        }
                        preview
                            .with(|p| match p {
                                Some(Some(Ok(t))) => format!("Yes, terminate {}", plural(t.requested.len())),
                                _ => "Yes, terminate".to_owned(),
                            })
                    };
                    // Its own closure: the preview arriving relabels the button without rebuilding the dialog (a
                    // rebuild would clear the reason being typed).
                    view! {
                        <div
                            class="modal-backdrop"
                            // Clicks stay here (the grid row underneath would open the session) and outside the box cancel.
                            on:click=move |ev| {
                                ev.stop_propagation();
                                if is_backdrop(&ev) {
                                    close();
                                }
                            }
                        >
                            <div
                                class="confirm"
                                role="alertdialog"
                                aria-modal="true"
                                aria-labelledby="confirm-title"
                                aria-describedby="confirm-description"
                                on:keydown=move |ev| match ev.key().as_str() {
                                    "Escape" => {
                                        ev.prevent_default();
                                        ev.stop_propagation();
                                        close();
                                    }
                                    "Tab" => {
                                        ev.prevent_default();
                                        move_focus(reason_box, block_box, cancel, confirm, ev.shift_key());
                                    }
                                    _ => {}
                                }
                            >
                                <h2 id="confirm-title">{ask.title.clone()}</h2>
                                <div id="confirm-description">
                                    {match ask.about.clone() {
                                        Some(about) => {
                                            view! {
                                                <p>
                                                    {about}
                                                    ". Its gateway ends the session when it next checks in; the request is recorded in the audit log."
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        None => view! { <Preview preview /> }.into_any(),
                                    }}
                                </div>
                                <label class="reason" for="termination-reason">
                                    "Reason (required, kept in the audit log)"
                                </label>
                                <input
                                    id="termination-reason"
                                    node_ref=reason_box
                                    type="text"
                                    required
                                    maxlength=MAX_REASON_CHARS.to_string()
                                    placeholder="e.g. credentials leaked, user left the company"
                                    prop:value=move || reason.get()
                                    on:input=move |ev| reason.set(event_target_value(&ev))
                                />
                                <label class="reason" for="termination-block">
                                    "Also keep the user from new sessions on the gateway"
                                </label>
                                <select
                                    id="termination-block"
                                    node_ref=block_box
                                    prop:value=move || block.get()
                                    on:change=move |ev| block.set(event_target_value(&ev))
                                >
                                    <option value="">"No block"</option>
                                    <option value="1h">"for 1 hour"</option>
                                    <option value="24h">"for 24 hours"</option>
                                    <option value="7d">"for 7 days"</option>
                                    <option value="30d">"for 30 days"</option>
                                </select>
                                <div class="confirm-actions">
                                    <button node_ref=cancel on:click=move |_| close()>
                                        "Cancel"
                                    </button>
                                    <button
                                        node_ref=confirm
                                        class="danger"
                                        disabled=blocked
                                        on:click=move |_| {
                                            let why = reason.get_untracked();
                                            let block_for = BlockFor::parse(&block.get_untracked()).ok();
                                            termination.action.dispatch((target.clone(), why, block_for));
                                            close();
                                        }
                                    >
                                        {confirm_label}
                                    </button>
                                </div>
                            </div>
                        </div>
                    }
                })
        }}
    }
    .into_any()
}

/// What a bulk termination would do, as the server answered: the sessions that end and the ones skipped, and why.
#[component]
fn Preview(preview: LocalResource<Option<Result<Terminations, ConsoleError>>>) -> impl IntoView {
    move || match preview.get().flatten() {
        None => view! { <p aria-busy="true">"Finding the sessions…"</p> }.into_any(),
        Some(Err(e)) => {
            view! { <p class="error">{format!("The sessions cannot be listed: {}", e.message)}</p> }.into_any()
        }
        Some(Ok(t)) => {
            let ending = match t.requested.len() {
                0 => "No active session you may terminate is selected.".to_owned(),
                n => format!(
                    "{} will end when {} next check in; each request is recorded in the audit log:",
                    plural(n),
                    if n == 1 { "its gateway" } else { "their gateways" }
                ),
            };
            let more = t.requested.len().saturating_sub(LISTED);
            let skipped_more = t.skipped.len().saturating_sub(LISTED);
            view! {
                <p>{ending}</p>
                <ul class="terminating">
                    {t
                        .requested
                        .iter()
                        .take(LISTED)
                        .map(|s| {
                            let repeated = if s.repeated { " (already requested)" } else { "" };
                            view! {
                                <li>
                                    {format!("{} on {} — ", s.user, s.gateway)}
                                    <span class="mono">{s.session_id.clone()}</span> {repeated}
                                </li>
                            }
                        })
                        .collect_view()} {(more > 0).then(|| view! { <li>{format!("and {more} more")}</li> })}
                </ul>
                {(!t.blocked.is_empty())
                    .then(|| {
                        view! {
                            <p>"Blocked from new sessions:"</p>
                            <ul class="blocking">
                                {t
                                    .blocked
                                    .iter()
                                    .map(|b| {
                                        view! {
                                            <li>
                                                {format!("{} on {} until ", b.user, b.gateway)} <LocalTime ms=b.until />
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })}
                {(!t.skipped.is_empty())
                    .then(|| {
                        view! {
                            <p>{format!("{} skipped:", plural(t.skipped.len()))}</p>
                            <ul class="skipped">
                                {t
                                    .skipped
                                    .iter()
                                    .take(LISTED)
                                    .map(|s| {
                                        view! {
                                            <li>
                                                <span class="mono">{s.session_id.clone()}</span>
                                                {format!(": {}", s.why.describe())}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                                {(skipped_more > 0).then(|| view! { <li>{format!("and {skipped_more} more")}</li> })}
                            </ul>
                        }
                    })}
            }
            .into_any()
        }
    }
}

/// What the last termination request did, in the page: why it failed, what was skipped, or how many were asked to end.
#[component]
pub(crate) fn TerminationOutcome() -> impl IntoView {
    let termination = use_context::<Termination>();
    move || {
        let outcome = termination.and_then(|t| t.action.value().get())?;
        Some(match outcome {
            Err(e) => view! {
                <div class="error" role="alert">
                    {format!("Termination was not requested: {}", e.message)}
                </div>
            }
            .into_any(),
            Ok(t) if !t.skipped.is_empty() => {
                let skipped = t
                    .skipped
                    .iter()
                    .take(LISTED)
                    .map(|s| format!("{}: {}", s.session_id, s.why.describe()))
                    .collect::<Vec<_>>()
                    .join("; ");
                view! {
                    <div class="error" role="alert">
                        {format!(
                            "Termination requested for {}; {} skipped — {skipped}",
                            plural(t.requested.len()),
                            plural(t.skipped.len()),
                        )}
                    </div>
                }
                .into_any()
            }
            Ok(t) if t.requested.len() > 1 => view! {
                <div class="notice" role="status">
                    {format!(
                        "Termination requested for {}; each gateway ends them when it next checks in.",
                        plural(t.requested.len()),
                    )}
                </div>
            }
            .into_any(),
            Ok(_) => ().into_any(),
        })
    }
}

/// Moves the focus to the dialog's next (or previous) control: the reason, the block, Cancel, and Confirm once it is
/// enabled.
fn move_focus(
    reason: NodeRef<leptos::html::Input>,
    block: NodeRef<leptos::html::Select>,
    cancel: NodeRef<leptos::html::Button>,
    confirm: NodeRef<leptos::html::Button>,
    backwards: bool,
) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let mut controls: Vec<leptos::web_sys::HtmlElement> = Vec::new();
        if let Some(r) = reason.get_untracked() {
            controls.push(r.unchecked_into());
        }
        if let Some(b) = block.get_untracked() {
            controls.push(b.unchecked_into());
        }
        if let Some(c) = cancel.get_untracked() {
            controls.push(c.unchecked_into());
        }
        if let Some(c) = confirm.get_untracked().filter(|c| !c.disabled()) {
            controls.push(c.unchecked_into());
        }
        let active = document().active_element();
        let at = controls
            .iter()
            .position(|c| active.as_ref().is_some_and(|a| a == c.unchecked_ref::<leptos::web_sys::Element>()));
        let n = controls.len();
        if n == 0 {
            return;
        }
        let next = match (at, backwards) {
            (None, _) => 0,
            (Some(i), false) => (i + 1) % n,
            (Some(i), true) => (i + n - 1) % n,
        };
        let _ = controls[next].focus();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (reason, block, cancel, confirm, backwards);
}

/// Whether a click landed on the backdrop itself rather than inside the dialog.
fn is_backdrop(ev: &leptos::ev::MouseEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        ev.target().is_some_and(|t| Some(t) == ev.current_target())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}
