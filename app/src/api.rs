//! Server functions: the console's only way to reach the store.
//!
//! Each has a fixed endpoint under `/api` so that its URL is stable across builds (tests and proxies rely on it).

use leptos::prelude::*;
use sra_domain::SessionsPage;

/// How many sessions the first page shows until the query engine brings real paging.
pub const PAGE_SIZE: u64 = 50;

/// The newest sessions of the last 30 days.
#[server(prefix = "/api", endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<SessionsPage, ServerFnError> {
    let store = use_context::<sra_store::Store>()
        .ok_or_else(|| ServerFnError::new("the server has no store configured"))?;
    let window = sra_store::TimeWindow::last_30_days(sra_store::now_ms());
    store.recent_sessions(window, PAGE_SIZE).await.map_err(|e| {
        tracing::error!(error = %e, "listing sessions failed");
        ServerFnError::new(format!("cannot list sessions: {e}"))
    })
}
