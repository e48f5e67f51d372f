//! One module a page.

mod admin;
mod audit;
mod blocks;
mod detail;
mod login;
mod sessions;
mod terminate;

pub use admin::{AdminDestinationsPage, AdminGatewaysPage, AdminKeysPage, AdminRolesPage, AdminUsersPage};
pub use audit::AuditPage;
pub use blocks::BlocksPage;
pub use detail::SessionDetailPage;
pub use login::LoginPage;
pub use sessions::SessionsOverview;

use leptos::prelude::*;

/// Gives the keyboard focus to the element with this ID, if it is on the page (browser only).
pub(crate) fn focus_by_id(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if let Some(element) =
            document().get_element_by_id(id).and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p>
                <a href="/sessions">"Go to the Sessions Overview"</a>
            </p>
        </section>
    }
}
