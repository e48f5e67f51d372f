//! The front end's files (`/pkg/…`): served precompressed (brotli or gzip, as the browser accepts; `scripts/build`
//! makes the copies), and cached by content: a content-hashed name never changes, so it is cached for a year without
//! asking again (a new build has new names); any other file is revalidated on each use.

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::services::ServeDir;

/// Leptos's hash file (the content-hashed names of the scripts and the stylesheet), which Leptos reads beside the
/// server's binary; `None` where the build made none (the front end then goes by its plain names).
pub fn hash_file() -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.parent()?.join("hash.txt");
    path.exists().then_some(path)
}

/// `/pkg/…` from `site_root/pkg`.
pub fn router(site_root: &Path) -> Router {
    let files = ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip();
    Router::new().nest_service("/pkg", files).layer(axum::middleware::from_fn(cache_by_content))
}

async fn cache_by_content(request: Request, next: Next) -> Response {
    let hashed = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == axum::http::StatusCode::NOT_MODIFIED {
        let policy = if hashed { "public, max-age=31536000, immutable" } else { "no-cache" };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// `sra.0123456789abcdef.wasm`: the name carries 16 hex digits of the content's hash.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.split('.');
    let (_, hash) = (parts.next(), parts.next().unwrap_or_default());
    parts.next().is_some() && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_hashed_names_are_cached_for_good() {
        assert!(super::is_content_hashed("/pkg/sra.0123456789abcdef.wasm"));
        assert!(!super::is_content_hashed("/pkg/sra_bg.wasm"));
        assert!(!super::is_content_hashed("/pkg/sra.css"));
        assert!(!super::is_content_hashed("/pkg/sra.0123456789abcdeg.js"));
    }
}
