//! What a gateway reports about a session, and who made a change.

use serde::{Deserialize, Serialize};

use crate::{ClientInterface, Millis, ResourceType};

/// One reported change of one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUpdate {
    pub session_id: String,
    /// When the change happened, by the reporter's clock.
    pub at: Millis,
    pub change: SessionChange,
}

/// The change itself. A session is born `connecting`; each later change moves it along the state machine of
/// [`crate::SessionStatus::can_become`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionChange {
    Started(NewSession),
    Connected,
    Completed,
    Failed { error: String },
    Terminated,
}

/// Everything known about a session when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSession {
    pub user: String,
    #[serde(default)]
    pub access_id: Option<String>,
    pub client_interface: ClientInterface,
    /// The gateway's cluster name; it must be registered.
    pub gateway: String,
    pub resource_type: ResourceType,
    pub secret_name: String,
    pub target_name: String,
    pub target_host: String,
}

/// Who made a change, as written to the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    User(String),
    Gateway(String),
    /// The server itself (start-up, the demo driver, stale-session sweeps).
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User(login) => write!(f, "user:{login}"),
            Actor::Gateway(name) => write!(f, "gateway:{name}"),
            Actor::System => f.write_str("system"),
        }
    }
}
