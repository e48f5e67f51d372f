//! One module a page.

mod audit;
mod detail;
mod login;
mod sessions;
mod terminate;

pub use audit::AuditPage;
pub use detail::SessionDetailPage;
pub use login::LoginPage;
pub use sessions::SessionsOverview;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p><a href="/sessions">"Go to the Sessions Overview"</a></p>
        </section>
    }
}
