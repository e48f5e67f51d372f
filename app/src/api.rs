//! Server functions: the console's only way to reach the store.
//!
//! Each has a fixed endpoint under `/api` so that its URL is stable across builds (tests and proxies rely on it). They
//! hold no logic: they resolve the caller and hand a parsed query to the store's query engine, exactly as the HTTP API
//! and the CLI do.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use sra_domain::{
    Block, BlockFor, ChoiceCounts, Facet, Millis, RawSessionQuery, SessionChanges, SessionSummary, SessionsPage,
    StatusCounts, TerminationTarget, Terminations, VisibleGateways,
};

use crate::error::ConsoleError;

/// One page of the sessions the caller may see, for a query as the console's URL holds it.
#[server(prefix = "/api", endpoint = "list_sessions", input = Json)]
pub async fn list_sessions(#[server(default)] query: RawSessionQuery) -> Result<SessionsPage, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let query = query.parse(sra_store::now_ms()).map_err(|e| server::failure(sra_store::StoreError::Query(e)))?;
    server::store()?.list_sessions(&caller, &query).await.map_err(server::failure)
}

/// What changed in the view of `query` since `token` (a page's or an earlier answer's): the refresh of a console
/// whose event stream is down asks this instead of reading the page again.
#[server(prefix = "/api", endpoint = "session_changes", input = Json)]
pub async fn changes_since(
    #[server(default)] query: RawSessionQuery,
    token: String,
) -> Result<SessionChanges, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let query = query.parse(sra_store::now_ms()).map_err(|e| server::failure(sra_store::StoreError::Query(e)))?;
    server::store()?.session_changes(&caller, &query, &token).await.map_err(server::failure)
}

/// How many sessions of each status match the query's other filters (the status filter's counts; cached briefly).
#[server(prefix = "/api", endpoint = "count_statuses", input = Json)]
pub async fn count_statuses(#[server(default)] query: RawSessionQuery) -> Result<StatusCounts, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let query = query.parse(sra_store::now_ms()).map_err(|e| server::failure(sra_store::StoreError::Query(e)))?;
    server::store()?.status_counts_cached(&caller, &query).await.map_err(server::failure)
}

/// How many sessions each choice of one folded filter would show, the query's other filters applied (cached briefly).
#[server(prefix = "/api", endpoint = "count_choices", input = Json)]
pub async fn count_choices(
    #[server(default)] query: RawSessionQuery,
    facet: Facet,
) -> Result<ChoiceCounts, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let query = query.parse(sra_store::now_ms()).map_err(|e| server::failure(sra_store::StoreError::Query(e)))?;
    server::store()?.choice_counts_cached(&caller, &query, facet).await.map_err(server::failure)
}

/// The gateways the caller may see: `allowed` (Own and All grants: whose sessions they may also terminate) and
/// `filterable` (the gateway filter's choices).
#[server(prefix = "/api", endpoint = "caller_gateways", input = Json)]
pub async fn caller_gateways() -> Result<VisibleGateways, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    server::store()?.visible_gateways(&caller).await.map_err(server::failure)
}

/// What terminating several sessions would do now: which would be requested and which skipped, and why.
#[server(prefix = "/api", endpoint = "preview_terminations", input = Json)]
pub async fn preview_terminations(
    target: TerminationTarget,
    #[server(default)] block_for: Option<BlockFor>,
) -> Result<Terminations, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    server::store()?.preview_terminations(&caller, &target, block_for).await.map_err(server::failure)
}

/// Asks the gateways to terminate several sessions, for one reason; those the caller may not terminate are skipped.
#[server(prefix = "/api", endpoint = "terminate_sessions", input = Json)]
pub async fn terminate_sessions(
    target: TerminationTarget,
    reason: String,
    #[server(default)] block_for: Option<BlockFor>,
) -> Result<Terminations, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let reason =
        sra_domain::TerminationReason::parse(&reason).map_err(|e| server::failure(sra_store::StoreError::Reason(e)))?;
    server::store()?.terminate_sessions(&caller, &target, &reason, block_for).await.map_err(server::failure)
}

/// The live blocks the caller may see (on gateways whose sessions they may terminate, and their own).
#[server(prefix = "/api", endpoint = "list_blocks", input = Json)]
pub async fn list_blocks() -> Result<Vec<Block>, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    server::store()?.list_blocks(&caller).await.map_err(server::failure)
}

/// Lifts a live block (All, or Own on its gateway).
#[server(prefix = "/api", endpoint = "lift_block", input = Json)]
pub async fn lift_block(id: i64) -> Result<Block, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    server::store()?.lift_block(&caller, id).await.map_err(server::failure)
}

/// One audit entry as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    pub id: i64,
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub session_id: Option<String>,
    /// The entry's details, as JSON text.
    pub details: String,
    /// What happened, in words.
    pub summary: String,
}

/// A session with its audit timeline, and whether the caller may terminate it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub session: SessionSummary,
    pub audit: Vec<AuditItem>,
    pub may_terminate: bool,
    /// Whether the caller may terminate sessions at all (All, or Own on some gateway): the bulk buttons.
    pub may_terminate_any: bool,
    /// The server's time, for the duration of an active session.
    pub as_of: Millis,
}

/// One page of audit entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub entries: Vec<AuditItem>,
    /// The `before` of the next (older) page.
    pub next: Option<i64>,
}

#[cfg(feature = "ssr")]
fn audit_item(r: sra_store::AuditRecord) -> AuditItem {
    AuditItem {
        summary: r.summary(),
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        session_id: r.session_id,
        details: r.details.to_string(),
    }
}

/// One session the caller may see, with its audit timeline (oldest first). The view is audited.
#[server(prefix = "/api", endpoint = "session_detail", input = Json)]
pub async fn session_detail(session_id: String) -> Result<SessionView, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let store = server::store()?;
    let (session, audit) =
        store.view_session(&caller, &session_id, sra_store::ViewedThrough::Console).await.map_err(server::failure)?;
    Ok(SessionView {
        may_terminate: session.status.is_active() && caller.may_terminate(&session.gateway.cluster_name),
        may_terminate_any: match &caller.scope {
            sra_domain::Scope::All => true,
            sra_domain::Scope::Gateways(granted) => !granted.is_empty(),
        },
        session,
        audit: audit.into_iter().map(audit_item).collect(),
        as_of: sra_store::now_ms(),
    })
}

/// A value the caller sent that is not allowed (400), named in the message.
#[cfg(feature = "ssr")]
fn bad_input(message: String) -> ConsoleError {
    crate::auth::server::status(http::StatusCode::BAD_REQUEST);
    ConsoleError::new(crate::error::Failure::BadInput, message)
}

/// Audit entries the caller may see, newest first, by actor, action (or family: `session.*`), session and time range (RFC 3339, or `YYYY-MM-DDTHH:MM` as a
/// browser's date-time field sends it, read at `tz` minutes east of UTC; without `tz`, as UTC).
#[server(prefix = "/api", endpoint = "audit_entries", input = Json)]
pub async fn audit_entries(
    #[server(default)] actor: Option<String>,
    #[server(default)] action: Option<String>,
    #[server(default)] session: Option<String>,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
    #[server(default)] tz: Option<String>,
    #[server(default)] before: Option<i64>,
) -> Result<AuditPageView, ConsoleError> {
    use crate::auth::server;
    let caller = server::caller().await?;
    let offset = match tz.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(tz) => sra_domain::parse_tz(tz).map_err(|e| bad_input(format!("tz: {e}")))?,
        None => 0,
    };
    let time = |name: &str, value: Option<String>| -> Result<Option<Millis>, ConsoleError> {
        match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => sra_domain::console_time(&v, offset).map(Some).map_err(|e| bad_input(format!("{name}: {e}"))),
        }
    };
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let query = sra_store::AuditQuery {
        session_id: given(session),
        actor: given(actor),
        action: given(action),
        from: time("from", from)?,
        to: time("to", to)?,
        page_size: 50,
        before_id: before,
    };
    let page = server::store()?.list_audit(&caller, &query).await.map_err(server::failure)?;
    Ok(AuditPageView { entries: page.entries.into_iter().map(audit_item).collect(), next: page.next })
}
