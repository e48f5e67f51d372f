//! The gateway ingest API: what gateways report (`/gateway/session-update`, `/gateway/session-updates`,
//! `/gateway/heartbeat`) and what they are answered. Unlike the Akeyless-shaped endpoints, unknown keys are refused
//! here: a gateway that sends a key the server does not understand has a bug that should surface at once.

use serde::{Deserialize, Serialize};
use sra_domain::{ClientInterface, Millis, NewSession, ResourceType, SessionChange, SessionStatus, SessionUpdate};
use utoipa::ToSchema;

/// The most updates one batch may carry.
pub const MAX_BATCH: usize = 1_000;
/// The most live session IDs one heartbeat may list.
pub const MAX_LIVE: usize = 20_000;
/// How far ahead of the server's clock a reported time may be.
pub const MAX_CLOCK_AHEAD_MS: Millis = 5 * sra_domain::MINUTE_MS;
/// The longest ID (update, session, API key access ID) accepted.
pub const MAX_ID_LEN: usize = 128;
pub(crate) const MAX_TEXT_LEN: usize = 512;
pub(crate) const MAX_ERROR_LEN: usize = 2_000;

/// One report about one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SessionReport {
    /// Unique per gateway and report; a report sent again with the same ID is acknowledged and not applied twice.
    pub update_id: String,
    /// The SRA session ID.
    pub session_id: String,
    /// The session's new status: `connecting` (it started), `connected`, `completed`, `failed` or `terminated`.
    #[schema(value_type = String, example = "connected")]
    pub status: SessionStatus,
    /// When it happened (RFC 3339); at most 5 minutes ahead of the server's clock.
    #[serde(with = "crate::time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Millis,
    /// For `connecting`: the user who started the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// For `connecting`: `web_portal_cli`, `web_portal_web`, `cli` or `desktop_app`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub client_interface: Option<ClientInterface>,
    /// For `connecting`: `ssh`, `rdp`, `mysql`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub resource_type: Option<ResourceType>,
    /// For `connecting`: the secret used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// For `connecting`, optional: the target's name and host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_host: Option<String>,
    /// For `connecting`, optional: the API key the user came through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_id: Option<String>,
    /// For `failed`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A batch of reports, applied all or nothing, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SessionReports {
    /// 1 to 1,000 reports.
    pub updates: Vec<SessionReport>,
}

/// What became of one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportResult {
    pub update_id: String,
    /// `applied`; `duplicate` (this update ID was acknowledged before: nothing done again); `ignored` (the session is
    /// already in that state or past it — a late report — so nothing changed).
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The answer to a batch: one result per report, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportResults {
    pub results: Vec<ReportResult>,
}

/// A heartbeat: the IDs of every session the gateway is carrying right now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Heartbeat {
    pub live: Vec<String>,
}

/// What the server wants the gateway to know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatOutput {
    /// Sessions to end (an administrator asked): end them and report `terminated`.
    pub terminate: Vec<String>,
    /// Live sessions this server has no record of: report their start (`connecting`).
    pub unknown: Vec<String>,
    /// Live sessions this server considers ended (for example closed as lost).
    pub ended: Vec<String>,
    /// Users an administrator blocked from new sessions on this gateway, until when: refuse their new sessions.
    #[serde(default)]
    pub blocked: Vec<BlockedUser>,
}

/// A user blocked from new sessions on the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockedUser {
    pub user: String,
    /// Until when (RFC 3339).
    #[serde(with = "crate::time")]
    #[schema(value_type = String, format = DateTime)]
    pub until: Millis,
}

/// A report that cannot be applied as sent, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ReportError {
    pub field: String,
    pub problem: String,
}

impl SessionReport {
    /// The session update this report stands for, checked: required fields present, lengths bounded, time not in the
    /// future. `at` names the report in messages (e.g. `updates[3]`); `gateway` is the reporting gateway's name.
    pub fn to_update(&self, at: &str, gateway: &str, now: Millis) -> Result<SessionUpdate, ReportError> {
        let fail = |field: &str, problem: String| ReportError { field: format!("{at}.{field}"), problem };
        let bounded = |field: &str, value: &str, max: usize| -> Result<(), ReportError> {
            if value.trim().is_empty() {
                return Err(fail(field, "must not be empty".into()));
            }
            if value.chars().count() > max {
                return Err(fail(field, format!("is {} characters long; allowed: up to {max}", value.chars().count())));
            }
            Ok(())
        };
        let id = |field: &str, value: &str| -> Result<(), ReportError> {
            bounded(field, value, MAX_ID_LEN)?;
            check_id(value).map_err(|problem| fail(field, problem))
        };
        id("update-id", &self.update_id)?;
        id("session-id", &self.session_id)?;
        if let Some(access_id) = self.access_id.as_deref().filter(|a| !a.is_empty()) {
            id("access-id", access_id)?;
        }
        if self.at > now + MAX_CLOCK_AHEAD_MS {
            return Err(fail(
                "at",
                format!(
                    "{} is in the future (server time {}); allowed: up to 5 minutes ahead",
                    sra_domain::format_rfc3339(self.at),
                    sra_domain::format_rfc3339(now)
                ),
            ));
        }
        let required = |field: &str, value: &Option<String>| -> Result<String, ReportError> {
            let value = value.as_ref().ok_or_else(|| fail(field, format!("is required for status {}", self.status)))?;
            bounded(field, value, MAX_TEXT_LEN)?;
            Ok(value.clone())
        };
        let optional = |field: &str, value: &Option<String>| -> Result<String, ReportError> {
            match value {
                Some(v) if v.chars().count() > MAX_TEXT_LEN => {
                    Err(fail(field, format!("is {} characters long; allowed: up to {MAX_TEXT_LEN}", v.chars().count())))
                }
                Some(v) => Ok(v.clone()),
                None => Ok(String::new()),
            }
        };
        let change = match self.status {
            SessionStatus::Connecting => SessionChange::Started(NewSession {
                user: required("user", &self.user)?,
                access_id: self.access_id.clone().filter(|a| !a.is_empty()),
                client_interface: self
                    .client_interface
                    .ok_or_else(|| fail("client-interface", "is required for status connecting".into()))?,
                gateway: gateway.to_owned(),
                resource_type: self
                    .resource_type
                    .ok_or_else(|| fail("resource-type", "is required for status connecting".into()))?,
                secret_name: required("secret-name", &self.secret_name)?,
                target_name: optional("target-name", &self.target_name)?,
                target_host: optional("target-host", &self.target_host)?,
            }),
            SessionStatus::Connected => SessionChange::Connected,
            SessionStatus::Completed => SessionChange::Completed,
            SessionStatus::Terminated => SessionChange::Terminated,
            SessionStatus::Failed => {
                let error = self.error.clone().ok_or_else(|| fail("error", "is required for status failed".into()))?;
                bounded("error", &error, MAX_ERROR_LEN)?;
                SessionChange::Failed { error }
            }
        };
        Ok(SessionUpdate { session_id: self.session_id.clone(), at: self.at, change })
    }
}

impl Heartbeat {
    /// Checks the live IDs: at most [`MAX_LIVE`] (else [`HeartbeatError::TooMany`]), each a plausible ID.
    pub fn check(&self) -> Result<(), HeartbeatError> {
        if self.live.len() > MAX_LIVE {
            return Err(HeartbeatError::TooMany { count: self.live.len() });
        }
        for (i, id) in self.live.iter().enumerate() {
            if id.trim().is_empty() {
                return Err(HeartbeatError::Id { index: i, problem: "must not be empty".into() });
            }
            if id.chars().count() > MAX_ID_LEN {
                let problem = format!("is {} characters long; allowed: up to {MAX_ID_LEN}", id.chars().count());
                return Err(HeartbeatError::Id { index: i, problem });
            }
            check_id(id).map_err(|problem| HeartbeatError::Id { index: i, problem })?;
        }
        Ok(())
    }
}

/// A heartbeat that cannot be taken as sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeartbeatError {
    #[error("the heartbeat lists {count} sessions; allowed: up to {MAX_LIVE}")]
    TooMany { count: usize },
    #[error("live[{index}]: {problem}")]
    Id { index: usize, problem: String },
}

/// IDs travel into URLs, headers and logs: no control characters.
fn check_id(id: &str) -> Result<(), String> {
    if id.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_json;

    #[test]
    fn heartbeats_are_bounded() {
        assert_eq!(Heartbeat { live: vec!["s-1".into()] }.check(), Ok(()));
        let long = Heartbeat { live: vec!["s".into(), "x".repeat(MAX_ID_LEN + 1)] };
        assert_eq!(long.check().unwrap_err().to_string(), "live[1]: is 129 characters long; allowed: up to 128");
        let control = Heartbeat { live: vec!["a\nb".into()] };
        assert_eq!(control.check().unwrap_err().to_string(), "live[0]: must not contain control characters");
        let many = Heartbeat { live: vec!["s".into(); MAX_LIVE + 1] };
        assert!(matches!(many.check(), Err(HeartbeatError::TooMany { count }) if count == MAX_LIVE + 1));
    }

    const NOW: Millis = 1_795_824_000_000; // 2026-11-28T00:00:00Z

    fn report(json: &str) -> Result<SessionUpdate, String> {
        let report: SessionReport = from_json(json.as_bytes()).map_err(|e| e.to_string())?;
        report.to_update("updates[0]", "gw-a", NOW).map_err(|e| e.to_string())
    }

    #[test]
    fn a_start_carries_what_the_overview_shows() {
        let update = report(
            r#"{"update-id": "u1", "session-id": "s1", "status": "connecting", "at": "2026-11-27T23:59:00Z",
                "user": "alice", "client-interface": "cli", "resource-type": "ssh", "secret-name": "/ssh/prod"}"#,
        )
        .unwrap();
        let SessionChange::Started(new) = update.change else { panic!("a start") };
        assert_eq!((new.user.as_str(), new.gateway.as_str(), new.target_name.as_str()), ("alice", "gw-a", ""));
        assert_eq!(update.at, NOW - 60_000);
    }

    #[test]
    fn bad_reports_name_the_field() {
        let cases = [
            (
                r#"{"update-id": "u", "session-id": "s", "status": "connected", "at": "2026-11-28T00:00:00Z", "colour": 1}"#,
                "unknown field `colour`",
            ),
            (
                r#"{"update-id": "u", "session-id": "s", "status": "open", "at": "2026-11-28T00:00:00Z"}"#,
                "\"status\": unknown status \"open\"; allowed: connecting",
            ),
            (
                r#"{"update-id": "u", "session-id": "s", "status": "connected", "at": "now"}"#,
                "\"at\": invalid time \"now\"",
            ),
            (
                r#"{"update-id": "u", "session-id": "s", "status": "connected", "at": "2026-11-28T00:06:00Z"}"#,
                "updates[0].at: 2026-11-28T00:06:00.000Z is in the future",
            ),
            (
                r#"{"update-id": "u", "session-id": "s", "status": "failed", "at": "2026-11-28T00:00:00Z"}"#,
                "updates[0].error: is required for status failed",
            ),
            (
                r#"{"update-id": "u", "session-id": "s", "status": "connecting", "at": "2026-11-28T00:00:00Z", "user": "a", "resource-type": "ssh", "secret-name": "x"}"#,
                "updates[0].client-interface: is required for status connecting",
            ),
            (
                r#"{"update-id": "", "session-id": "s", "status": "connected", "at": "2026-11-28T00:00:00Z"}"#,
                "updates[0].update-id: must not be empty",
            ),
            (
                r#"{"session-id": "s", "status": "connected", "at": "2026-11-28T00:00:00Z"}"#,
                "missing field `update-id`",
            ),
        ];
        for (json, message) in cases {
            let err = report(json).unwrap_err();
            assert!(err.contains(message), "{err:?} lacks {message:?}");
        }
        let long = format!(
            r#"{{"update-id": "u", "session-id": "{}", "status": "connected", "at": "2026-11-28T00:00:00Z"}}"#,
            "s".repeat(129)
        );
        assert_eq!(report(&long).unwrap_err(), "updates[0].session-id: is 129 characters long; allowed: up to 128");
    }
}
