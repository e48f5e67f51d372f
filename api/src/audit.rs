//! `POST /list-sra-session-audit`: a session's audit trail.

use serde::{Deserialize, Serialize};
use sra_domain::Millis;
use utoipa::ToSchema;

/// Which session's audit trail to list. The caller must be allowed to see the session (Self, Own or All).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", default)]
pub struct ListSraSessionAudit {
    /// The bearer token from `/auth` (or send `Authorization: Bearer …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The SRA session ID (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// A session's audit trail, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListSraSessionAuditOutput {
    pub session_id: String,
    pub entries: Vec<AuditEntry>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the audit log (increasing).
    pub id: i64,
    /// When it was recorded (RFC 3339).
    #[serde(with = "crate::time")]
    #[schema(value_type = String, format = DateTime)]
    pub time: Millis,
    /// Who acted: `user:LOGIN`, `gateway:NAME` or `system`.
    pub actor: String,
    /// What happened, e.g. `session.started`, `session.connected`, `session.completed`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// What changed (for session changes: the status before and after, and the change's own details).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Extension: what happened, in words ("connecting → connected", "termination requested by olivia: …").
    #[serde(default)]
    pub summary: String,
}

/// Audit entries the caller may see, newest first: administrators (All) see every entry, administrative ones included;
/// others the entries of the sessions they may see. Every key narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", default)]
pub struct ListSraAudit {
    /// The bearer token from `/auth` (or send `Authorization: Bearer …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Exactly as recorded: `user:LOGIN`, `gateway:NAME` or `system`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// An action as recorded (`session.terminate_requested`) or a family of them (`session.*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// 1 to 500, default 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// The previous answer's `next_page`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination_token: Option<String>,
}

/// One page of audit entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListSraAuditOutput {
    pub entries: Vec<AuditEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
}
