//! Session detail views, audited: who opened which session's detail (its page or panel in the console, its trail over
//! the API), so administrators can see who looked at what — the auditors are audited too.
//!
//! A reader who keeps a session open re-reads it on every refresh; one entry per reader, session and quarter of an
//! hour says what happened without burying the log. Views are administrators' business: other readers' listings and
//! timelines leave them out, and they are not changes, so the change feed skips them.

use sea_orm::ConnectionTrait;
use serde_json::json;
use sra_domain::{Actor, Caller, Millis, Scope, SessionSummary, MINUTE_MS};

use crate::audit::audit;
use crate::sql::Sql;
use crate::{now_ms, AuditRecord, Store, StoreError};

/// The audit action of a session detail view.
pub const VIEW_ACTION: &str = "view.session";
/// The audit action family of views (administrators only); `LIKE` pattern.
pub(crate) const VIEW_FAMILY_LIKE: &str = "view.%";
/// A reader's repeated views of one session within this long are one entry.
pub const VIEW_REPEAT_MS: Millis = 15 * MINUTE_MS;

/// Where a session's detail was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewedThrough {
    /// The console's session page or detail panel.
    Console,
    /// The HTTP API's session trail (and so the CLI's `sra audit SESSION`).
    Api,
}

impl ViewedThrough {
    fn as_str(self) -> &'static str {
        match self {
            ViewedThrough::Console => "console",
            ViewedThrough::Api => "api",
        }
    }
}

impl Store {
    /// A session `caller` may see and its audit timeline (oldest first), the view recorded in the audit log first
    /// (once per reader and session every [`VIEW_REPEAT_MS`]). [`StoreError::UnknownSession`] — and nothing recorded
    /// — when they may not see it. Only administrators' timelines include views.
    pub async fn view_session(
        &self,
        caller: &Caller,
        session_id: &str,
        through: ViewedThrough,
    ) -> Result<(SessionSummary, Vec<AuditRecord>), StoreError> {
        let session = self.visible_session(caller, session_id).await?;
        self.record_view(caller, session_id, through).await?;
        let mut timeline = self.session_audit(session_id).await?;
        if caller.scope != Scope::All {
            timeline.retain(|entry| !is_view(&entry.action));
        }
        Ok((session, timeline))
    }

    async fn record_view(&self, caller: &Caller, session_id: &str, through: ViewedThrough) -> Result<(), StoreError> {
        let now = now_ms();
        let actor = Actor::User(caller.login.clone());
        let mut txn = self.begin_write().await?;
        // Inside the write: writers take turns, so two refreshes at once still make one entry.
        let mut sql = Sql::new(txn.get_database_backend());
        sql.push("SELECT 1 AS seen FROM audit_log WHERE session_id = ")
            .bind(session_id.to_owned())
            .push(" AND action = ")
            .bind(VIEW_ACTION.to_owned())
            .push(" AND actor = ")
            .bind(actor.to_string())
            .push(" AND at > ")
            .bind(now - VIEW_REPEAT_MS)
            .push(" LIMIT 1");
        if txn.query_one(sql.build()).await?.is_some() {
            return Ok(());
        }
        audit(&mut txn, now, &actor, VIEW_ACTION, Some(session_id), json!({"through": through.as_str()})).await?;
        txn.commit().await
    }
}

/// Whether an audit action is a view (not a change; administrators' business).
pub(crate) fn is_view(action: &str) -> bool {
    action.starts_with("view.")
}
