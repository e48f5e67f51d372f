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
    /// The API key (access ID) the user came through, if any.
    pub access_id: Option<String>,
    pub client_interface: ClientInterface,
    pub gateway: GatewayInfo,
    /// The gateway's numeric ID (the API's `cluster_unique_id`).
    pub gateway_id: i64,
    pub resource_type: ResourceType,
    pub secret_name: String,
    pub target_name: String,
    pub target_host: String,
    pub status: SessionStatus,
    pub started_at: Millis,
    pub ended_at: Option<Millis>,
    pub error_message: Option<String>,
    pub updated_at: Millis,
    /// When an administrator asked the gateway to terminate this (still active) session; it shows as "terminating…"
    /// until the gateway reports the end.
    pub terminate_requested_at: Option<Millis>,
    /// Who asked for the termination, and why (kept after the session ends).
    #[serde(default)]
    pub terminate_requested_by: Option<String>,
    #[serde(default)]
    pub termination_reason: Option<String>,
}

impl SessionSummary {
    /// How long the session lasted, or has lasted until `now` while it is still active.
    pub fn duration_ms(&self, now: Millis) -> Millis {
        self.ended_at.unwrap_or(now) - self.started_at
    }
}

/// One page of a session listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsPage {
    pub sessions: Vec<SessionSummary>,
    /// The cursor of the following page, if there is one.
    pub next_cursor: Option<String>,
    /// The cursor of the preceding page, if this is not the first.
    pub prev_cursor: Option<String>,
    /// The server time durations of active sessions are measured to. It is fixed for every page of one listing, so
    /// sorting by duration stays consistent while paging; clients tick live durations on from it.
    pub as_of: Millis,
    /// Ask what changed in this listing's view since it was read ([`SessionChanges`]) with this, instead of reading
    /// the page again.
    #[serde(default)]
    pub changes_token: Option<String>,
}

/// What changed in a listing's view since a changes token, and the token to ask with next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionChanges {
    pub token: String,
    pub changes: ViewChanges,
}

/// The changes of a view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ViewChanges {
    /// No session the caller may see has changed.
    Unchanged,
    /// `sessions`: the changed sessions that are in the view, as they are now (new ones among them); `removed`: the
    /// IDs of changed sessions the caller may see that are no longer in the view (e.g. ended, under "active only").
    Changed { sessions: Vec<SessionSummary>, removed: Vec<String> },
    /// Too much changed to list, or stored data was pruned meanwhile: read the view again.
    Reset,
}

/// How many sessions each choice of one filter ([`crate::Facet`]) would show: the query's other filters apply, the
/// filter's own choices do not. Keyed by the choice's wire value (a gateway by its cluster name); choices without
/// sessions are absent.
pub type ChoiceCounts = std::collections::BTreeMap<String, u64>;

/// How many sessions of each status match a query's other filters (the status filter's chips).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub connecting: u64,
    pub connected: u64,
    pub failed: u64,
    pub completed: u64,
    pub terminated: u64,
}

impl StatusCounts {
    pub fn get(&self, status: SessionStatus) -> u64 {
        match status {
            SessionStatus::Connecting => self.connecting,
            SessionStatus::Connected => self.connected,
            SessionStatus::Failed => self.failed,
            SessionStatus::Completed => self.completed,
            SessionStatus::Terminated => self.terminated,
        }
    }

    pub fn add(&mut self, status: SessionStatus, n: u64) {
        let slot = match status {
            SessionStatus::Connecting => &mut self.connecting,
            SessionStatus::Connected => &mut self.connected,
            SessionStatus::Failed => &mut self.failed,
            SessionStatus::Completed => &mut self.completed,
            SessionStatus::Terminated => &mut self.terminated,
        };
        *slot += n;
    }

    pub fn total(&self) -> u64 {
        SessionStatus::ALL.iter().map(|s| self.get(*s)).sum()
    }
}

/// The gateways a caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisibleGateways {
    /// Gateways whose every session the caller may see (their Own or All grants; the API's `allowed_gateways`).
    pub allowed: Vec<GatewayInfo>,
    /// `allowed` plus the gateways of the caller's own sessions: the choices of the console's gateway filter.
    pub filterable: Vec<GatewayInfo>,
}
