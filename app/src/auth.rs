//! Console sign-in: the login and logout server functions, and (on the server) who is calling.
//!
//! A sign-in is a random token in the `sra_session` cookie — HttpOnly (scripts cannot read it), SameSite=Strict (other
//! sites cannot send it), Secure when the console is served over TLS. The store keeps only its digest and decides
//! whether it is still live; every server function asks it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ConsoleError;

/// The name of the sign-in cookie; with `Secure` it carries the `__Host-` prefix, which browsers accept only from
/// this exact origin over HTTPS (a sibling subdomain cannot plant one).
pub const SESSION_COOKIE: &str = "sra_session";
/// The sign-in cookie's name when the console is served over TLS.
pub const SECURE_SESSION_COOKIE: &str = "__Host-sra_session";

/// The signed-in user as the header shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub login: String,
    pub display_name: String,
    /// An administrator (a role with the All rule): the administration pages are theirs.
    #[serde(default)]
    pub admin: bool,
}

/// Signs in with a login and password, sets the cookie and sends the browser on to `next` (a path of this console).
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(login: String, password: String, next: Option<String>) -> Result<(), ConsoleError> {
    use sra_store::{Attempt, Channel, Credential};

    let store = server::store()?;
    // Where to go is settled before anything is written: a bad `next` falls back to the overview.
    let next = safe_next(next.as_deref());
    let address = server::client_address();
    let attempt = Attempt {
        channel: Channel::Console,
        credential: Credential::Password,
        account: &login,
        secret: &password,
        address: &address,
    };
    let principal = store.sign_in(attempt).await.map_err(server::failure)?;
    let token = store.open_console_session(&principal).await.map_err(server::failure)?;
    server::set_cookie(&token, sra_store::ABSOLUTE_TIMEOUT_MS / 1000);
    leptos_axum::redirect(&next);
    Ok(())
}

/// Signs out: the sign-in ends on the server and the cookie is cleared.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ConsoleError> {
    let store = server::store()?;
    if let Some(token) = server::request_token() {
        store.close_console_session(&token).await.map_err(server::failure)?;
    }
    server::set_cookie("", 0);
    leptos_axum::redirect("/login");
    Ok(())
}

/// Who is signed in, if anyone.
#[server(prefix = "/api", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedIn>, ConsoleError> {
    Ok(server::signed_in().map(|s| SignedIn {
        admin: s.caller.scope == sra_domain::Scope::All,
        login: s.principal.login,
        display_name: s.principal.display_name,
    }))
}

/// Where to go after signing in: a path of this console only, the overview by default. The path must start with one
/// `/`, and contain no control characters, whitespace or backslashes anywhere (browsers drop or rewrite those, which
/// turns `/\t/evil.example` into `//evil.example`); resolved against the console's own origin it must stay there.
#[cfg(feature = "ssr")]
pub fn safe_next(next: Option<&str>) -> String {
    const FALLBACK: &str = "/sessions";
    let Some(path) = next else { return FALLBACK.to_owned() };
    let plain = path.len() <= 2_048
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if !plain {
        return FALLBACK.to_owned();
    }
    // Resolve it as a browser would, against a stand-in for our origin, and insist it stays there.
    const ORIGIN: &str = "http://console.invalid";
    match http::Uri::try_from(format!("{ORIGIN}{path}")) {
        Ok(uri) if uri.host() == Some("console.invalid") && uri.port().is_none() => path.to_owned(),
        _ => FALLBACK.to_owned(),
    }
}

/// The sign-in token in a `Cookie` header, under the cookie name `name`.
pub fn token_from_cookie_header<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The message a server function answers with when nobody is signed in; the pages recognise it.
pub const NOT_SIGNED_IN: &str = "not signed in";

#[cfg(feature = "ssr")]
pub mod server {
    use http::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
    use http::{HeaderMap, HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use sra_domain::Caller;
    use sra_store::{ErrorKind, Principal, Store, StoreError};

    use super::{token_from_cookie_header, SECURE_SESSION_COOKIE, SESSION_COOKIE};
    use crate::error::{ConsoleError, Failure};

    /// How the server hands out cookies; provided by the server from its configuration.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct CookiePolicy {
        /// Add `Secure` (and name the cookie `__Host-…`): the console is served over TLS.
        pub secure: bool,
    }

    impl CookiePolicy {
        pub fn cookie_name(self) -> &'static str {
            if self.secure {
                SECURE_SESSION_COOKIE
            } else {
                SESSION_COOKIE
            }
        }

        /// The sign-in token among a request's cookies.
        pub fn token(self, headers: &HeaderMap) -> Option<String> {
            headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|h| token_from_cookie_header(h, self.cookie_name()))
                .map(str::to_owned)
        }
    }

    /// The signed-in user of a request and their visibility, resolved once per request by the server (from the
    /// sign-in cookie) and kept in the request's extensions for the guard, the server functions and the export.
    #[derive(Debug, Clone)]
    pub struct SignedInCaller {
        pub principal: Principal,
        pub caller: Caller,
    }

    pub fn store() -> Result<Store, ConsoleError> {
        use_context::<Store>().ok_or_else(|| ConsoleError::new(Failure::Internal, "the server has no store configured"))
    }

    /// The client's address as the server saw the connection (`unknown` when not served over a socket, as in tests
    /// that call the router directly). Behind a proxy this is the proxy's address.
    pub fn address_of(extensions: &http::Extensions) -> String {
        use axum::extract::ConnectInfo;
        extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
    }

    /// This server function call's client address (see [`address_of`]).
    pub fn client_address() -> String {
        use_context::<http::request::Parts>()
            .map_or_else(|| "unknown".to_owned(), |parts| address_of(&parts.extensions))
    }

    pub fn status(code: StatusCode) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(code);
        }
    }

    /// This request's sign-in token (for signing out).
    pub fn request_token() -> Option<String> {
        let parts = use_context::<http::request::Parts>()?;
        use_context::<CookiePolicy>().unwrap_or_default().token(&parts.headers)
    }

    /// The signed-in user of this request, as the server resolved it.
    pub fn signed_in() -> Option<SignedInCaller> {
        use_context::<http::request::Parts>()?.extensions.get::<SignedInCaller>().cloned()
    }

    /// The caller of a server function with their visibility; 401 when nobody is signed in.
    pub async fn caller() -> Result<Caller, ConsoleError> {
        match signed_in() {
            Some(signed_in) => Ok(signed_in.caller),
            None => {
                status(StatusCode::UNAUTHORIZED);
                Err(ConsoleError::not_signed_in())
            }
        }
    }

    /// The caller of an administration server function, as the audit log's actor. Anyone but an administrator (All)
    /// gets 404, as for a page that does not exist: the administration is not advertised to them.
    pub async fn administrator() -> Result<sra_domain::Actor, ConsoleError> {
        let caller = caller().await?;
        if caller.scope == sra_domain::Scope::All {
            return Ok(sra_domain::Actor::User(caller.login));
        }
        status(StatusCode::NOT_FOUND);
        Err(ConsoleError::new(Failure::NotFound, "no such page"))
    }

    pub fn set_cookie(token: &str, max_age_seconds: i64) {
        let policy = use_context::<CookiePolicy>().unwrap_or_default();
        let secure = if policy.secure { "; Secure" } else { "" };
        let name = policy.cookie_name();
        let cookie = format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}");
        if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(&cookie)) {
            response.append_header(SET_COOKIE, value);
        }
    }

    /// A store error as the console shows it: the status of its kind (the same the HTTP API answers), with
    /// `Retry-After` when it says when to try again; server faults are logged and summarised.
    pub fn failure(e: StoreError) -> ConsoleError {
        let kind = e.kind();
        status(StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        if let (Some(seconds), Some(response)) = (e.retry_after_secs(), use_context::<ResponseOptions>()) {
            response.insert_header(RETRY_AFTER, HeaderValue::from(seconds));
        }
        let failure = match kind {
            ErrorKind::Unauthenticated if matches!(e, StoreError::BadCredentials) => Failure::WrongCredentials,
            ErrorKind::Unauthenticated => return ConsoleError::not_signed_in(),
            ErrorKind::BadInput => Failure::BadInput,
            ErrorKind::Forbidden => Failure::Forbidden,
            ErrorKind::NotFound => Failure::NotFound,
            ErrorKind::Conflict => Failure::Conflict,
            ErrorKind::Throttled => Failure::Throttled,
            ErrorKind::Unavailable => Failure::Unavailable,
            ErrorKind::Internal => Failure::Internal,
        };
        ConsoleError::new(failure, e.public_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ssr")]
    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/sessions?status=failed")), "/sessions?status=failed");
        assert_eq!(safe_next(Some("/sessions/a%2Fb?x=%09")), "/sessions/a%2Fb?x=%09", "encoded text is only text");
        for hostile in [
            "https://evil.example",
            "//evil.example/x",
            "/\\evil.example",
            "sessions",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\u{7f}/evil.example",
            "/ /evil.example",
            "/\u{a0}/evil.example",
            "/x\\..\\..",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/sessions", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/sessions");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        assert_eq!(token_from_cookie_header("a=1; sra_session=tok; b=2", SESSION_COOKIE), Some("tok"));
        assert_eq!(token_from_cookie_header("sra_session=", SESSION_COOKIE), None);
        assert_eq!(token_from_cookie_header("other=1", SESSION_COOKIE), None);
        assert_eq!(token_from_cookie_header("sra_session=planted", SECURE_SESSION_COOKIE), None);
        assert_eq!(token_from_cookie_header("__Host-sra_session=t", SECURE_SESSION_COOKIE), Some("t"));
    }
}
