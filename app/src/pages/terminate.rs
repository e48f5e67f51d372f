//! Terminate: the button, and the confirmation dialog that names what will end.
//!
//! One [`Termination`] per page (the overview, a session's page) holds the request and the question being asked. The
//! dialog lives at page level, not inside the row that asked: the grid re-renders its rows on every refresh, and a
//! confirmation must not vanish under the person's cursor because 20 seconds passed.

use leptos::prelude::*;
use sra_domain::SessionSummary;

use crate::api::terminate_session;
use crate::error::ConsoleError;

/// A confirmation being asked: of which session, what it is, and where the keyboard focus goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ask {
    session_id: String,
    about: String,
    /// The element ID of the button that asked.
    return_to: String,
}

/// The page's termination request and its confirmation.
#[derive(Clone, Copy)]
pub(crate) struct Termination {
    pub action: Action<String, Result<i64, ConsoleError>>,
    asking: RwSignal<Option<Ask>>,
}

impl Termination {
    /// Creates the page's termination and makes it available to the buttons below.
    pub fn provide() -> Termination {
        let termination = Termination {
            action: Action::new(|session_id: &String| terminate_session(session_id.clone())),
            asking: RwSignal::new(None),
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
    let ask = Ask { session_id, about, return_to: id.clone() };
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

/// The confirmation: a modal alert dialog. It takes the focus (on Cancel, the safe choice), keeps Tab inside, and
/// Escape or Cancel closes it; either way the focus returns to the button that asked.
#[component]
pub(crate) fn TerminationDialog() -> impl IntoView {
    let Some(termination) = use_context::<Termination>() else { return ().into_any() };
    let asking = termination.asking;
    let cancel = NodeRef::<leptos::html::Button>::new();
    let confirm = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = cancel.get() {
            let _ = button.focus();
        }
    });
    let close = move || {
        if let Some(ask) = asking.get_untracked() {
            asking.set(None);
            super::focus_by_id(&ask.return_to);
        }
    };
    view! {
        {move || {
            asking
                .get()
                .map(|ask| {
                    let session_id = ask.session_id.clone();
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
                                        let on_cancel = cancel.get_untracked().is_some_and(|c| is_focused(&c));
                                        let next = if on_cancel {
                                            confirm.get_untracked()
                                        } else {
                                            cancel.get_untracked()
                                        };
                                        if let Some(next) = next {
                                            let _ = next.focus();
                                        }
                                    }
                                    _ => {}
                                }
                            >
                                <h2 id="confirm-title">
                                    "Terminate session " <span class="mono">{ask.session_id.clone()}</span> "?"
                                </h2>
                                <p id="confirm-description">
                                    {ask.about.clone()}
                                    ". Its gateway ends the session when it next checks in; the request is recorded in the audit log."
                                </p>
                                <div class="confirm-actions">
                                    <button node_ref=cancel on:click=move |_| close()>
                                        "Cancel"
                                    </button>
                                    <button
                                        node_ref=confirm
                                        class="danger"
                                        on:click=move |_| {
                                            termination.action.dispatch(session_id.clone());
                                            close();
                                        }
                                    >
                                        "Yes, terminate"
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

/// Why the last termination was not requested, in the page.
#[component]
pub(crate) fn TerminationError() -> impl IntoView {
    let termination = use_context::<Termination>();
    move || {
        termination.and_then(|t| t.action.value().get()).and_then(Result::err).map(|e| {
            view! {
                <div class="error" role="alert">
                    {format!("Termination was not requested: {}", e.message)}
                </div>
            }
        })
    }
}

fn is_focused(element: &leptos::web_sys::HtmlElement) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let element: &leptos::web_sys::Element = element;
        document().active_element().is_some_and(|active| &active == element)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = element;
        false
    }
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
