//! `POST /terminate-sra-session` and `POST /terminate-sra-sessions`: asking gateways to end sessions, with a reason.

use serde::{Deserialize, Serialize};
use sra_domain::{Block, Blocked, Millis, Skip, Skipped, Terminated, TerminationTarget, Terminations};
use utoipa::ToSchema;

/// Ask a session's gateway to terminate it. Needs All, or Own on the session's gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", default)]
pub struct TerminateSraSession {
    /// The bearer token from `/auth` (or send `Authorization: Bearer …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The SRA session ID (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Why (required): one line of 1–500 characters, kept with the session and in the audit log.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
    /// Also keep the session's user from opening new sessions on its gateway for this long: `30m`, `4h`, `7d` (1m–90d).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_for: Option<String>,
}

/// The request is recorded; the session shows as terminating until its gateway reports `terminated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminateSraSessionOutput {
    pub session_id: String,
    /// When termination was first requested (RFC 3339).
    #[serde(with = "crate::time")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: Millis,
    /// Whether it had already been requested (the first request's time and reason are kept).
    pub repeated: bool,
    /// With `block-for`: the user kept from new sessions on the gateway, until when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<BlockedPair>,
}

/// Ask the gateways to terminate several sessions: those named by `session-ids`, or every active session of `user`,
/// or every active session on `gateway` — exactly one of the three — that the caller may see. Each is terminated if
/// the caller holds All or Own on its gateway, else answered as skipped with why. With `dry-run`, nothing is
/// requested: the answer says what would be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", default)]
pub struct TerminateSraSessions {
    /// The bearer token from `/auth` (or send `Authorization: Bearer …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Session IDs (at most 500).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 500)]
    pub session_ids: Option<Vec<String>>,
    /// A user: every active session of theirs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A gateway's cluster name: every active session on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Why (required): one line of 1–500 characters, kept with each session and in the audit log.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
    /// Also keep each session's user from opening new sessions on that session's gateway for this long: `30m`,
    /// `4h`, `7d` (1m–90d).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_for: Option<String>,
    /// Only say what would be terminated and skipped.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

/// What is wrong with a bulk termination's selection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("say which sessions: exactly one of \"session-ids\", \"user\" or \"gateway\" (found {found})")]
    NotExactlyOne { found: String },
}

impl TerminateSraSessions {
    /// The one selection this request makes.
    pub fn target(&self) -> Result<TerminationTarget, TargetError> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let ids: Option<Vec<String>> =
            self.session_ids.as_ref().map(|ids| ids.iter().map(|id| id.trim().to_owned()).collect());
        match (ids, given(&self.user), given(&self.gateway)) {
            (Some(ids), None, None) => Ok(TerminationTarget::Sessions(ids)),
            (None, Some(user), None) => Ok(TerminationTarget::User(user)),
            (None, None, Some(gateway)) => Ok(TerminationTarget::Gateway(gateway)),
            (ids, user, gateway) => {
                let found: Vec<&str> =
                    [ids.map(|_| "\"session-ids\""), user.map(|_| "\"user\""), gateway.map(|_| "\"gateway\"")]
                        .into_iter()
                        .flatten()
                        .collect();
                let found = if found.is_empty() { "none".to_owned() } else { found.join(" and ") };
                Err(TargetError::NotExactlyOne { found })
            }
        }
    }
}

/// What was (or, for a dry run, would be) requested and skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminateSraSessionsOutput {
    pub dry_run: bool,
    pub requested: Vec<TerminatedSession>,
    pub skipped: Vec<SkippedSession>,
    /// With `block-for`: each user kept from new sessions on a gateway, until when.
    #[serde(default)]
    pub blocked: Vec<BlockedPair>,
}

/// A user blocked (or, in a dry run, to be blocked) from new sessions on a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockedPair {
    pub user_identifier: String,
    pub cluster_name: String,
    /// RFC 3339.
    #[serde(with = "crate::time")]
    #[schema(value_type = String, format = DateTime)]
    pub until: Millis,
}

impl From<Blocked> for BlockedPair {
    fn from(b: Blocked) -> Self {
        BlockedPair { user_identifier: b.user, cluster_name: b.gateway, until: b.until }
    }
}

/// The live blocks the caller may see: on gateways whose sessions they may terminate, and their own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", default)]
pub struct ListSraBlocks {
    /// The bearer token from `/auth` (or send `Authorization: Bearer …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Live blocks, soonest to end first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListSraBlocksOutput {
    pub blocks: Vec<BlockEntry>,
}

/// A user kept from opening new sessions on a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockEntry {
    pub id: i64,
    pub user_identifier: String,
    pub cluster_name: String,
    #[serde(with = "crate::time")]
    #[schema(value_type = String, format = DateTime)]
    pub blocked_at: Millis,
    #[serde(with = "crate::time")]
    #[schema(value_type = String, format = DateTime)]
    pub until: Millis,
    pub blocked_by: String,
    pub reason: String,
}

impl From<Block> for BlockEntry {
    fn from(b: Block) -> Self {
        BlockEntry {
            id: b.id,
            user_identifier: b.user,
            cluster_name: b.gateway,
            blocked_at: b.blocked_at,
            until: b.until,
            blocked_by: b.blocked_by,
            reason: b.reason,
        }
    }
}

/// Lift a live block (needs All, or Own on its gateway).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", default)]
pub struct LiftSraBlock {
    /// The bearer token from `/auth` (or send `Authorization: Bearer …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The block's `id` (from `/list-sra-blocks`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

/// A session whose termination was requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminatedSession {
    pub session_id: String,
    pub user_identifier: String,
    /// The gateway's cluster name.
    pub cluster_name: String,
    /// When termination was first requested (RFC 3339).
    #[serde(with = "crate::time")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: Millis,
    /// Whether it had already been requested (the first request's time and reason are kept).
    pub repeated: bool,
}

/// A selected session that was left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SkippedSession {
    pub session_id: String,
    /// `not_found` (no such session, or not visible), `ended` or `not_permitted`.
    pub why: String,
    /// The reason in words.
    pub message: String,
}

impl TerminateSraSessionsOutput {
    pub fn new(dry_run: bool, outcome: Terminations) -> Self {
        TerminateSraSessionsOutput {
            dry_run,
            requested: outcome.requested.into_iter().map(TerminatedSession::from).collect(),
            skipped: outcome.skipped.into_iter().map(SkippedSession::from).collect(),
            blocked: outcome.blocked.into_iter().map(BlockedPair::from).collect(),
        }
    }
}

impl From<Terminated> for TerminatedSession {
    fn from(t: Terminated) -> Self {
        TerminatedSession {
            session_id: t.session_id,
            user_identifier: t.user,
            cluster_name: t.gateway,
            requested_at: t.requested_at,
            repeated: t.repeated,
        }
    }
}

impl From<Skipped> for SkippedSession {
    fn from(s: Skipped) -> Self {
        let why = match &s.why {
            Skip::NotFound => "not_found",
            Skip::Ended { .. } => "ended",
            Skip::NotPermitted { .. } => "not_permitted",
        };
        SkippedSession { session_id: s.session_id, why: why.to_owned(), message: s.why.describe() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_json;

    #[test]
    fn exactly_one_selection() {
        let read = |body: &str| from_json::<TerminateSraSessions>(body.as_bytes()).unwrap().target();
        assert_eq!(read(r#"{"user": " alice "}"#), Ok(TerminationTarget::User("alice".into())));
        assert_eq!(read(r#"{"gateway": "gw-a", "user": ""}"#), Ok(TerminationTarget::Gateway("gw-a".into())));
        assert_eq!(read(r#"{"session-ids": ["s-1"]}"#), Ok(TerminationTarget::Sessions(vec!["s-1".into()])));
        assert_eq!(
            read(r#"{"user": "a", "gateway": "g"}"#).unwrap_err().to_string(),
            "say which sessions: exactly one of \"session-ids\", \"user\" or \"gateway\" (found \"user\" and \"gateway\")"
        );
        assert!(read("{}").unwrap_err().to_string().ends_with("(found none)"));
    }
}
