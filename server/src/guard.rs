//! Request guards in front of the console: who is signed in (resolved once per request), cross-site request refusal,
//! and the sign-in requirement for pages.

use app::auth::server::{CookiePolicy, SignedInCaller};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sra_store::Store;

/// Resolves the sign-in cookie to the signed-in user and their visibility, once per request, and puts it in the
/// request's extensions ([`SignedInCaller`]) for the page guard, the server functions and the export. Static files
/// are passed by without a look-up.
pub async fn resolve_caller(
    State((store, cookies)): State<(Store, CookiePolicy)>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.starts_with("/pkg/") || path == "/favicon.svg" {
        return next.run(request).await;
    }
    if let Some(token) = cookies.token(request.headers()) {
        let resolved = async {
            let Some(principal) = store.console_session(&token).await? else { return Ok(None) };
            let caller = store.caller(&principal.login).await?;
            Ok::<_, sra_store::StoreError>(Some(SignedInCaller { principal, caller }))
        };
        match resolved.await {
            Ok(Some(signed_in)) => {
                request.extensions_mut().insert(signed_in);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "checking a sign-in failed");
                let mut response =
                    (StatusCode::SERVICE_UNAVAILABLE, "the sign-in could not be checked; try again shortly\n")
                        .into_response();
                response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
                return response;
            }
        }
    }
    next.run(request).await
}

/// While the database is known to be down ([`Store::database_down`]), requests that need it are answered at once with
/// 503 and `Retry-After` — in the shape their caller reads: the console's typed error for server functions, the API's
/// JSON error for API calls, text for pages — instead of each waiting for the pool's timeout.
pub async fn database_reachable(State(store): State<Store>, request: Request, next: Next) -> Response {
    let Some(reason) = store.database_down() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    if path.starts_with("/pkg/") || path == "/favicon.svg" {
        return next.run(request).await;
    }
    tracing::debug!(%reason, path, "answered 503: the database is down");
    let outage = sra_store::Outage::Unreachable;
    let mut response = if path.starts_with("/api/") {
        let error = app::error::ConsoleError::new(app::error::Failure::Unavailable, outage.message());
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(error)).into_response()
    } else if request.method() == Method::POST {
        crate::http::ApiError::new(StatusCode::SERVICE_UNAVAILABLE, outage.message()).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("{}\n", outage.message())).into_response()
    };
    response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(outage.retry_after_secs()));
    response
}

/// Console pages (and the overview's exports) that need a signed-in user; anyone else is sent to the login page first.
/// (The administration pages then answer 404 to anyone but an administrator: they render as not found.)
fn needs_sign_in(path: &str) -> bool {
    path == "/sessions"
        || path == "/audit"
        || path == "/blocks"
        || path.starts_with("/sessions/")
        || path.starts_with("/export/")
        || path == "/admin"
        || path.starts_with("/admin/")
}

/// Refuses state-changing requests to the console's server functions unless they come from the console's own pages:
/// the `Origin` (or, failing that, `Referer`) must name the host the request was sent to. Together with the
/// SameSite=Strict cookie this stops cross-site request forgery.
pub async fn same_origin(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<Uri>().ok())
        .and_then(|uri| uri.authority().map(|a| a.as_str().to_owned()));
    match (host, source) {
        (Some(host), Some(source)) if host.eq_ignore_ascii_case(&source) => next.run(request).await,
        _ => (StatusCode::FORBIDDEN, "cross-site request refused: the Origin must be this console\n").into_response(),
    }
}

/// Sends visitors without a live sign-in from a console page to `/login?next=…`.
pub async fn signed_in_pages(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let guarded = request.method() == Method::GET && needs_sign_in(path);
    if !guarded || request.extensions().get::<SignedInCaller>().is_some() {
        return next.run(request).await;
    }
    let wanted = request.uri().path_and_query().map_or("/sessions", |pq| pq.as_str());
    Redirect::to(&format!("/login?next={}", encode_component(wanted))).into_response()
}

/// Percent-encodes a URL query component.
fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::encode_component;

    #[test]
    fn next_paths_are_encoded() {
        assert_eq!(encode_component("/sessions?status=failed&x=1"), "/sessions%3Fstatus%3Dfailed%26x%3D1");
    }
}
