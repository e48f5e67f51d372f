//! Reading audit entries back.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use sra_domain::{Caller, Millis};

use crate::entity::audit_entry;
use crate::{Store, StoreError};

/// One audit entry as readers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub session_id: Option<String>,
    pub details: serde_json::Value,
}

impl Store {
    /// The audit timeline of a session `caller` may see, oldest first; [`StoreError::UnknownSession`] when they may
    /// not (or it does not exist).
    pub async fn audit_of_visible_session(
        &self,
        caller: &Caller,
        session_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.visible_session(caller, session_id).await?;
        self.session_audit(session_id).await
    }

    /// A session's audit timeline, oldest first, whoever asks (administration and tests).
    pub async fn session_audit(&self, session_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = audit_entry::Entity::find()
            .filter(audit_entry::Column::SessionId.eq(session_id))
            .order_by_asc(audit_entry::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let details = serde_json::from_str(&row.details).map_err(|e| StoreError::Corrupt {
                    table: "audit_log",
                    column: "details",
                    reason: e.to_string(),
                })?;
                Ok(AuditRecord {
                    id: row.id,
                    at: row.at,
                    actor: row.actor,
                    action: row.action,
                    session_id: row.session_id,
                    details,
                })
            })
            .collect()
    }
}
