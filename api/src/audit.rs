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

/// Audit entries after a position, oldest first, for a SIEM that pulls: the answer is newline-delimited JSON
/// (`application/x-ndjson`), one [`ChainedAuditEntry`] a line; when there is nothing new it waits up to `wait` seconds
/// for entries before answering (possibly with none). The same visibility as `/list-sra-audit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", default)]
pub struct StreamSraAudit {
    /// The bearer token from `/auth` (or send `Authorization: Bearer …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The `id` of the last entry already received (from the start of the log if absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many entries, 1 to 500 (default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Seconds to wait for new entries when there are none, 0 to 30 (default 25).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 30)]
    pub wait: Option<u32>,
}

/// One line of `/stream-sra-audit`: an entry and its place in the audit chain, so that the chain can be verified on
/// the reader's side (`hash = HMAC-SHA256(chain key; previous_hash, at, actor, action, session ID, details)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainedAuditEntry {
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The hash of the entry before it in the chain (which the caller may not see).
    pub previous_hash: String,
    pub hash: String,
}
