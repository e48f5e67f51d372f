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
    let store = server::store()?;
    let query = query.parse(sra_store::now_ms()).map_err(|e| ServerFnError::new(e.to_string()))?;
    let caller = server::caller(&store).await?;
    store.list_sessions(&caller, &query).await.map_err(server::failure)
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;
    use sra_domain::Caller;
    use sra_store::{Store, StoreError};

    pub fn store() -> Result<Store, ServerFnError> {
        use_context::<Store>().ok_or_else(|| ServerFnError::new("the server has no store configured"))
    }

    /// Who is asking. Until console sign-in lands (the identity issue), the console is an administrator's view and
    /// the server listens on loopback by default.
    pub async fn caller(_store: &Store) -> Result<Caller, ServerFnError> {
        Ok(Caller::admin("console"))
    }

    /// A store error as the console shows it: bad input as it is, anything else logged and summarised.
    pub fn failure(e: StoreError) -> ServerFnError {
        match e {
            StoreError::Query(e) => ServerFnError::new(e.to_string()),
            other => {
                tracing::error!(error = %other, "listing sessions failed");
                ServerFnError::new("the sessions could not be read; the server log has the details")
            }
        }
    }
}
