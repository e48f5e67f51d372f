//! Server functions: the console's only way to reach the store.
//!
//! Each has a fixed endpoint under `/api` so that its URL is stable across builds (tests and proxies rely on it). They
//! hold no logic: they resolve the caller and hand a parsed query to the store's query engine, exactly as the HTTP API
//! and the CLI do.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use sra_domain::{RawSessionQuery, SessionsPage};

/// One page of the sessions the caller may see, for a query as the console's URL holds it.
#[server(prefix = "/api", endpoint = "list_sessions", input = Json)]
pub async fn list_sessions(#[server(default)] query: RawSessionQuery) -> Result<SessionsPage, ServerFnError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let query = query.parse(sra_store::now_ms()).map_err(|e| server::failure(sra_store::StoreError::Query(e)))?;
    server::store()?.list_sessions(&caller, &query).await.map_err(server::failure)
}
