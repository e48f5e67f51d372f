//! The sign-in page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::auth::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let next = move || use_query_map().read().get("next").unwrap_or_default();
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(e.message),
        _ => None,
    };
    view! {
        <section class="login">
            <h1>"Sign in to SRA Sessions"</h1>
            <ActionForm action=login attr:class="login-form">
                <input type="hidden" name="next" prop:value=next />
                <label for="login">"Login"</label>
                <input id="login" name="login" type="text" autocomplete="username" required autofocus />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
                {move || {
                    error()
                        .map(|message| {
                            view! {
                                <p class="error" role="alert">
                                    {message}
                                </p>
                            }
                        })
                }}
                <button type="submit" disabled=move || login.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
        </section>
    }
}
