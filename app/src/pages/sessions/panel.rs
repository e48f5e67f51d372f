//! The detail panel over the grid, and moving between grid and panel without losing the reader's place.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use sra_domain::url_keys;

use super::url::href_with;
use crate::api::{session_detail, SessionView};
use crate::error::Failure;
use crate::pages::audit::encode;
use crate::pages::detail::{detail_error, SessionDetail};

/// Opens a session's detail panel over the grid, where the grid is (no jump to the top).
/// `navigate` comes from `use_navigate()` in the component: event listeners run outside the component tree.
pub(super) fn open_detail(navigate: &impl Fn(&str, leptos_router::NavigateOptions), params: &ParamsMap, id: &str) {
    navigate(&href_with(params, &[(url_keys::OPEN, Some(id.to_owned()))]), quiet());
}

/// Closes the detail panel and gives the keyboard focus back to the row it was opened from.
pub(super) fn close_detail(navigate: &impl Fn(&str, leptos_router::NavigateOptions), params: &ParamsMap, id: &str) {
    navigate(&href_with(params, &[(url_keys::OPEN, None)]), quiet());
    focus_row(id);
}

/// Navigation inside the overview: the page stays scrolled where it is.
fn quiet() -> leptos_router::NavigateOptions {
    leptos_router::NavigateOptions { scroll: false, ..Default::default() }
}

/// The element ID of a row's session link (any text is a valid ID; it is never parsed as a selector).
pub(super) fn link_id(session_id: &str) -> String {
    format!("open-{session_id}")
}

fn focus_row(id: &str) {
    crate::pages::focus_by_id(&link_id(id));
}

/// The detail panel over the grid: a non-modal dialog (the grid stays usable: another row's ID switches it). It
/// takes the keyboard focus when it opens, refreshes with the grid, and closes with its button or Escape.
#[component]
pub(super) fn SessionPanel(id: String, params: Memo<ParamsMap>, refreshes: RwSignal<u64>) -> impl IntoView {
    let (page_href, own_id) = (format!("/sessions/{}", encode(&id)), id.clone());
    let detail = Resource::new(move || (id.clone(), refreshes.get()), |(id, _)| session_detail(id));
    // The last good answer stays on screen while a refresh cannot reach the server.
    let last = Memo::new_owning(move |previous: Option<Option<SessionView>>| match detail.get() {
        Some(Ok(d)) => (Some(d), true),
        _ => (previous.flatten(), false),
    });
    let panel = NodeRef::<leptos::html::Aside>::new();
    Effect::new(move |_| {
        if let Some(panel) = panel.get() {
            let _ = panel.focus();
        }
    });
    let close_href = move || href_with(&params.read(), &[(url_keys::OPEN, None)]);
    let navigate = leptos_router::hooks::use_navigate();
    view! {
        <aside
            class="panel"
            role="dialog"
            aria-modal="false"
            aria-labelledby="panel-title"
            tabindex="-1"
            node_ref=panel
        >
            <div class="panel-bar">
                <a
                    class="panel-close"
                    href=close_href
                    aria-label="Close the session detail"
                    on:click=move |ev| {
                        ev.prevent_default();
                        close_detail(&navigate, &params.read_untracked(), &own_id);
                    }
                >
                    "✕ Close"
                </a>
                <a href=page_href class="permalink">
                    "Open as a page"
                </a>
            </div>
            <Transition fallback=|| {
                view! {
                    <div class="skeleton" aria-busy="true">
                        "Loading the session…"
                    </div>
                }
            }>
                {move || {
                    let answer = detail.get();
                    match (answer, last.get()) {
                        (Some(Ok(d)), _) => view! { <SessionDetail detail=d heading_id="panel-title" /> }.into_any(),
                        (Some(Err(e)), Some(d)) if matches!(e.kind, Failure::Unreachable | Failure::Unavailable) => {
                            view! { <SessionDetail detail=d heading_id="panel-title" /> }.into_any()
                        }
                        (Some(Err(e)), _) => {
                            view! {
                                <h1 id="panel-title" class="visually-hidden">
                                    "Session"
                                </h1>
                                {detail_error(&e)}
                            }
                                .into_any()
                        }
                        (None, _) => {
                            view! {
                                <div class="skeleton" aria-busy="true">
                                    "Loading the session…"
                                </div>
                            }
                                .into_any()
                        }
                    }
                }}
            </Transition>
        </aside>
    }
}
