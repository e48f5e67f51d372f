//! Defences that hold for every answer: security headers (a Content-Security-Policy allowing only what the WASM
//! console needs, with a fresh nonce per page for Leptos's inline scripts), a bound on server-function bodies, and a
//! last-resort answer for a handler that panics.

use std::any::Any;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The largest body a console server function may send.
pub const MAX_SERVER_FN_BODY: usize = 64 * 1024;

/// This request's CSP nonce, for the page's inline scripts.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// The policy: scripts only from this origin or carrying this page's nonce (Leptos's hydration and resource scripts),
/// WebAssembly compilation for the console itself, styles and everything else from this origin only, no framing,
/// no plugins, forms posting only here.
fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Adds the security headers to every answer, and gives the request a nonce the page's scripts carry.
pub async fn headers(mut request: Request, next: Next) -> Response {
    let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy(&nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    response
}

/// Gives the page being rendered this request's nonce (Leptos puts it on every inline script it writes). Called in
/// the console's render context.
pub fn provide_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce =
        use_context::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

/// Refuses a server-function call whose body is over [`MAX_SERVER_FN_BODY`] with 413, before the function reads it
/// (announced by `Content-Length` or found while reading).
pub async fn limit_server_fn_body(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let too_large = || {
        (StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is over {MAX_SERVER_FN_BODY} bytes\n"))
            .into_response()
    };
    let announced =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_SERVER_FN_BODY as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_SERVER_FN_BODY).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(_) => too_large(),
    }
}

/// The answer when a handler panics: a JSON 500 that says nothing of the cause, which goes to the log. A safety net
/// only: handlers answer bad input with 4xx and never panic on purpose.
pub fn panic_answer(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = %message, "a request handler panicked");
    let body = serde_json::json!({"error": "the request failed on the server; the server log has the details"});
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_the_nonce_and_wasm_and_forbids_framing() {
        let p = policy("abc");
        assert!(p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"), "{p}");
        assert!(p.contains("frame-ancestors 'none'"), "{p}");
        assert!(!p.contains("unsafe-inline"), "{p}");
    }

    #[test]
    fn a_panic_becomes_a_json_500() {
        let response = panic_answer(Box::new("boom".to_owned()));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
