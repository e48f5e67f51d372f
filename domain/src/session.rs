//! The session record as every reader sees it.

use serde::{Deserialize, Serialize};

use crate::{ClientInterface, Millis, ResourceType, SessionStatus};

/// A gateway (SRA server) as shown to readers: its unique cluster name and the name people read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GatewayInfo {
    pub cluster_name: String,
    pub cluster_display_name: String,
}

/// One row of the Sessions Overview: what the console, the API and the CLI show about a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The SRA session ID (unique).
    pub session_id: String,
    pub user: String,
    pub client_interface: ClientInterface,
    pub gateway: GatewayInfo,
    pub resource_type: ResourceType,
    pub secret_name: String,
    pub target_name: String,
    pub target_host: String,
    pub status: SessionStatus,
    pub started_at: Millis,
    pub ended_at: Option<Millis>,
    pub error_message: Option<String>,
    pub updated_at: Millis,
}

impl SessionSummary {
    /// How long the session lasted, or has lasted until `now` while it is still active.
    pub fn duration_ms(&self, now: Millis) -> Millis {
        self.ended_at.unwrap_or(now) - self.started_at
    }
}

/// A page of sessions, with the server's clock so that every client computes live durations against the same `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsPage {
    pub sessions: Vec<SessionSummary>,
    pub now: Millis,
}
