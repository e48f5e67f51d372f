//! Reading sessions and audit entries back as domain types.

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use sra_domain::{GatewayInfo, Millis, SessionSummary, SessionsPage, DAY_MS};

use crate::entity::{audit_entry, gateway, session};
use crate::{now_ms, Store, StoreError};

/// A closed time range in epoch milliseconds. A session belongs to it when the two overlap: it started before the
/// window's end and had not ended before its start (so a session connected since long ago is in today's view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub from: Millis,
    pub to: Millis,
}

impl TimeWindow {
    /// The overview's default: the last 30 days up to `now`.
    pub fn last_30_days(now: Millis) -> TimeWindow {
        TimeWindow { from: now - 30 * DAY_MS, to: now }
    }
}

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
    /// The newest sessions overlapping `window`, newest first, at most `limit` of them.
    pub async fn recent_sessions(&self, window: TimeWindow, limit: u64) -> Result<SessionsPage, StoreError> {
        let rows = session::Entity::find()
            .find_also_related(gateway::Entity)
            .filter(session::Column::StartedAt.lte(window.to))
            .filter(
                Condition::any()
                    .add(session::Column::EndedAt.is_null())
                    .add(session::Column::EndedAt.gte(window.from)),
            )
            .order_by_desc(session::Column::StartedAt)
            .order_by_desc(session::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let sessions = rows
            .into_iter()
            .map(|(row, gateway)| summary(row, gateway))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SessionsPage { sessions, now: now_ms() })
    }

    /// A session's audit timeline, oldest first.
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

fn summary(row: session::Model, gateway: Option<gateway::Model>) -> Result<SessionSummary, StoreError> {
    let gateway = gateway.ok_or_else(|| StoreError::Corrupt {
        table: "sessions",
        column: "gateway_id",
        reason: format!("session {} names missing gateway {}", row.session_id, row.gateway_id),
    })?;
    Ok(SessionSummary {
        client_interface: parse(&row.client_interface, "client_interface")?,
        resource_type: parse(&row.resource_type, "resource_type")?,
        status: parse(&row.status, "status")?,
        session_id: row.session_id,
        user: row.user_identifier,
        gateway: GatewayInfo { cluster_name: gateway.name, cluster_display_name: gateway.display_name },
        secret_name: row.secret_name,
        target_name: row.target_name,
        target_host: row.target_host,
        started_at: row.started_at,
        ended_at: row.ended_at,
        error_message: row.error_message,
        updated_at: row.updated_at,
    })
}

fn parse<T>(text: &str, column: &'static str) -> Result<T, StoreError>
where
    T: std::str::FromStr<Err = sra_domain::ParseEnumError>,
{
    text.parse().map_err(|e: sra_domain::ParseEnumError| StoreError::Corrupt {
        table: "sessions",
        column,
        reason: e.to_string(),
    })
}
