//! Console sign-in: the login and logout server functions, and (on the server) who is calling.
//!
//! A sign-in is a random token in the `sra_session` cookie — HttpOnly (scripts cannot read it), SameSite=Strict (other
//! sites cannot send it), Secure when the console is served over TLS. The store keeps only its digest and decides
//! whether it is still live; every server function asks it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The name of the sign-in cookie.
pub const SESSION_COOKIE: &str = "sra_session";

/// The signed-in user as the header shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub login: String,
    pub display_name: String,
}

/// Signs in with a login and password, sets the cookie and sends the browser on to `next` (a path of this console).
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(login: String, password: String, next: Option<String>) -> Result<(), ServerFnError> {
    use sra_domain::Actor;
    use sra_store::StoreError;
    use std::time::Instant;

    let store = server::store()?;
    let login = login.trim().to_owned();
    let address = server::client_address().await;
    let throttle = server::throttle();
    let actor = Actor::User(login.clone());
    if let Err(refused) = throttle.check(&login, &address, Instant::now()) {
        store
            .record(&actor, "console.sign_in_throttled", serde_json::json!({"address": address}))
            .await
            .map_err(server::failure)?;
        server::status(http::StatusCode::TOO_MANY_REQUESTS);
        return Err(ServerFnError::new(refused.to_string()));
    }
    let principal = match store.authenticate(&login, &password).await {
        Ok(principal) => principal,
        Err(e @ (StoreError::BadCredentials | StoreError::AccountDisabled)) => {
            throttle.failed(&login, &address, Instant::now());
            let details = serde_json::json!({"address": address, "reason": e.to_string()});
            store.record(&actor, "console.sign_in_failed", details).await.map_err(server::failure)?;
            server::status(http::StatusCode::UNAUTHORIZED);
            return Err(ServerFnError::new(e.to_string()));
        }
        Err(other) => return Err(server::failure(other)),
    };
    throttle.succeeded(&login);
    let token = store.open_console_session(&principal).await.map_err(server::failure)?;
    server::set_cookie(&token, sra_store::ABSOLUTE_TIMEOUT_MS / 1000);
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Signs out: the sign-in ends on the server and the cookie is cleared.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    let store = server::store()?;
    if let Some(token) = server::request_token().await {
        store.close_console_session(&token).await.map_err(server::failure)?;
    }
    server::set_cookie("", 0);
    leptos_axum::redirect("/login");
    Ok(())
}

/// Who is signed in, if anyone.
#[server(prefix = "/api", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedIn>, ServerFnError> {
    Ok(server::principal().await?.map(|p| SignedIn { login: p.login, display_name: p.display_name }))
}

/// Where to go after signing in: a local path only (never another site), the overview by default.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/sessions".to_owned(),
    }
}

/// The sign-in token in a `Cookie` header, if there is one.
pub fn token_from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The message a server function answers with when nobody is signed in; the pages recognise it.
pub const NOT_SIGNED_IN: &str = "not signed in";

#[cfg(feature = "ssr")]
pub mod server {
    use http::header::{COOKIE, SET_COOKIE};
    use http::{HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use sra_domain::Caller;
    use sra_store::{Principal, Store, StoreError};

    use super::{token_from_cookie_header, NOT_SIGNED_IN, SESSION_COOKIE};

    /// How the server hands out cookies; provided by the server from its configuration.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct CookiePolicy {
        /// Add `Secure`: the console is served over TLS.
        pub secure: bool,
    }

    pub fn store() -> Result<Store, ServerFnError> {
        use_context::<Store>().ok_or_else(|| ServerFnError::new("the server has no store configured"))
    }

    /// The sign-in throttle shared by the server's requests (a fresh one if the server provided none, as in tests
    /// that render components alone).
    pub fn throttle() -> std::sync::Arc<sra_store::throttle::SignInThrottle> {
        use_context::<std::sync::Arc<sra_store::throttle::SignInThrottle>>().unwrap_or_default()
    }

    /// The client's address as the server saw the connection (`unknown` when not served over a socket).
    pub async fn client_address() -> String {
        use axum::extract::ConnectInfo;
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string()))
            .unwrap_or_else(|| "unknown".to_owned())
    }

    pub fn status(code: StatusCode) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(code);
        }
    }

    pub async fn request_token() -> Option<String> {
        let parts = use_context::<http::request::Parts>()?;
        let header = parts.headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
        header.iter().find_map(|h| token_from_cookie_header(h)).map(str::to_owned)
    }

    /// The signed-in user of this request, if the cookie names a live sign-in.
    pub async fn principal() -> Result<Option<Principal>, ServerFnError> {
        let Some(token) = request_token().await else {
            return Ok(None);
        };
        store()?.console_session(&token).await.map_err(failure)
    }

    /// The caller of a server function with their visibility; 401 when nobody is signed in.
    pub async fn caller() -> Result<Caller, ServerFnError> {
        let Some(principal) = principal().await? else {
            status(StatusCode::UNAUTHORIZED);
            return Err(ServerFnError::new(NOT_SIGNED_IN));
        };
        store()?.caller(&principal.login).await.map_err(failure)
    }

    pub fn set_cookie(token: &str, max_age_seconds: i64) {
        let policy = use_context::<CookiePolicy>().unwrap_or_default();
        let secure = if policy.secure { "; Secure" } else { "" };
        let cookie =
            format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}");
        if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(&cookie)) {
            response.append_header(SET_COOKIE, value);
        }
    }

    /// A store error as the console shows it: bad input as it is, anything else logged and summarised.
    pub fn failure(e: StoreError) -> ServerFnError {
        match e {
            StoreError::Query(e) => {
                status(StatusCode::BAD_REQUEST);
                ServerFnError::new(e.to_string())
            }
            e @ StoreError::UnknownSession(_) => {
                status(StatusCode::NOT_FOUND);
                ServerFnError::new(e.to_string())
            }
            e @ StoreError::NotPermitted(_) => {
                status(StatusCode::FORBIDDEN);
                ServerFnError::new(e.to_string())
            }
            e @ StoreError::SessionEnded { .. } => {
                status(StatusCode::CONFLICT);
                ServerFnError::new(e.to_string())
            }
            other => {
                tracing::error!(error = %other, "a console request failed");
                ServerFnError::new("the request failed on the server; the server log has the details")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/sessions?status=failed")), "/sessions?status=failed");
        for hostile in ["https://evil.example", "//evil.example/x", "/\\evil.example", "sessions"] {
            assert_eq!(safe_next(Some(hostile)), "/sessions", "{hostile}");
        }
        assert_eq!(safe_next(None), "/sessions");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        assert_eq!(token_from_cookie_header("a=1; sra_session=tok; b=2"), Some("tok"));
        assert_eq!(token_from_cookie_header("sra_session="), None);
        assert_eq!(token_from_cookie_header("other=1"), None);
    }
}
