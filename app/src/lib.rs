//! The SRA Sessions console: Leptos components and the server functions they call.
//!
//! The same crate is compiled twice: with `ssr` into the server (components render to HTML, server functions run
//! against the store) and with `hydrate` into the browser's WASM (components attach to that HTML, server functions
//! become HTTP calls). Server functions hold no logic of their own: they resolve the caller and ask the store, so the
//! console shows exactly what the HTTP API and the CLI show.

#![recursion_limit = "256"]

pub mod admin;
pub mod api;
pub mod auth;
pub mod clock;
pub mod error;
pub mod local_time;
mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The file names of the built front end: `/pkg/sra.js`, `/pkg/sra_bg.wasm`, `/pkg/sra.css`.
pub const OUTPUT_NAME: &str = "sra";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <link rel="stylesheet" href=stylesheet_href(&options) />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The stylesheet's address: its content-hashed name where the build made one (listed in Leptos's hash file beside the
/// server's binary, as the scripts' are), else the plain name. Linked by the server-rendered head only, so the browser
/// never needs to know it.
fn stylesheet_href(options: &LeptosOptions) -> String {
    static HREF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HREF.get_or_init(|| {
        let pkg = &options.site_pkg_dir;
        let hashed = || {
            let path = std::env::current_exe().ok()?.parent()?.join(options.hash_file.as_ref());
            let hashes = std::fs::read_to_string(path).ok()?;
            hashes.lines().find_map(|line| line.trim().strip_prefix("css:").map(|hash| hash.trim().to_owned()))
        };
        match options.hash_files.then(hashed).flatten() {
            Some(hash) => format!("/{pkg}/{OUTPUT_NAME}.{hash}.css"),
            None => format!("/{pkg}/{OUTPUT_NAME}.css"),
        }
    })
    .clone()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    local_time::provide_hydrated();
    // Effects run only in the browser, after hydration: this marks the page as interactive (browser tests wait on it).
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title text="SRA Sessions" />
        <Router>
            <TopBar />
            <main>
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/sessions") view=pages::SessionsOverview />
                    // Rendered whole before the answer starts, so that an unknown session answers 404, not 200.
                    <Route path=path!("/sessions/:id") view=pages::SessionDetailPage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=pages::AuditPage />
                    <Route path=path!("/blocks") view=pages::BlocksPage />
                    <Route path=path!("/login") view=pages::LoginPage />
                    // Async for the same reason: anyone but an administrator gets a 404 answer.
                    <Route path=path!("/admin/users") view=pages::AdminUsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/roles") view=pages::AdminRolesPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/keys") view=pages::AdminKeysPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/gateways") view=pages::AdminGatewaysPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/destinations") view=pages::AdminDestinationsPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// The bar above every page: the product name and, when signed in, who you are and a way out.
#[component]
fn TopBar() -> impl IntoView {
    // Asked again on every navigation, so signing in or out (which navigates) updates the bar.
    let location = leptos_router::hooks::use_location();
    let user = Resource::new(move || location.pathname.get(), |_| auth::current_user());
    let logout = ServerAction::<auth::Logout>::new();
    view! {
        <header class="topbar">
            <a class="brand" href="/sessions">
                "SRA Sessions"
            </a>
            <nav class="nav" aria-label="Pages">
                <a href="/sessions">"Sessions"</a>
                <a href="/audit">"Audit log"</a>
                <a href="/blocks">"Blocks"</a>
            </nav>
            <Transition fallback=|| ()>
                {move || {
                    user.get()
                        .and_then(Result::ok)
                        .flatten()
                        .map(|user| {
                            view! {
                                {user
                                    .admin
                                    .then(|| {
                                        view! {
                                            <a class="admin-link" href="/admin/users">
                                                "Administration"
                                            </a>
                                        }
                                    })}
                                <span class="whoami" title=user.login.clone()>
                                    {user.display_name}
                                </span>
                                <ActionForm action=logout attr:class="logout">
                                    <button type="submit">"Sign out"</button>
                                </ActionForm>
                            }
                        })
                }}
            </Transition>
        </header>
    }
}
