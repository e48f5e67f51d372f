//! Server functions: the console's only way to reach the store.
//!
//! Each has a fixed endpoint under `/api` so that its URL is stable across builds (tests and proxies rely on it). They
//! hold no logic: they resolve the caller and hand a parsed query to the store's query engine, exactly as the HTTP API
//! and the CLI do.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use sra_domain::{Millis, RawSessionQuery, SessionsPage, VisibleGateways};

/// One page of the sessions the caller may see, for a query as the console's URL holds it.
#[server(prefix = "/api", endpoint = "list_sessions", input = Json)]
pub async fn list_sessions(#[server(default)] query: RawSessionQuery) -> Result<SessionsPage, ServerFnError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let query = query.parse(sra_store::now_ms()).map_err(|e| server::failure(sra_store::StoreError::Query(e)))?;
    server::store()?.list_sessions(&caller, &query).await.map_err(server::failure)
}

/// The gateways the caller may see: `allowed` (Own and All grants: whose sessions they may also terminate) and
/// `filterable` (the gateway filter's choices).
#[server(prefix = "/api", endpoint = "caller_gateways", input = Json)]
pub async fn caller_gateways() -> Result<VisibleGateways, ServerFnError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    server::store()?.visible_gateways(&caller).await.map_err(server::failure)
}

/// Asks a session's gateway to terminate it; returns when that was first requested. The store decides who may.
#[server(prefix = "/api", endpoint = "terminate_session", input = Json)]
pub async fn terminate_session(session_id: String) -> Result<Millis, ServerFnError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let request = server::store()?.request_termination(&caller, &session_id).await.map_err(server::failure)?;
    Ok(request.requested_at)
}
