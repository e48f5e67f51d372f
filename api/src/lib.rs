//! The wire format of the SRA Sessions HTTP API: what `POST /auth`, `POST /list-sra-sessions`,
//! `POST /list-sra-session-audit`, `POST /terminate-sra-session` and `POST /terminate-sra-sessions` accept and answer, shaped like the Akeyless V2 API
//! so that Akeyless clients work unchanged (kebab-case request keys, snake_case answer keys, unknown request keys
//! ignored) — and the gateways' ingest API (`/gateway/…`).
//!
//! The server and the `sra` CLI both use these types, so the two cannot drift apart; the OpenAPI document is generated
//! from them. This crate only shapes and reads JSON: it converts a request into the domain's
//! [`RawSessionQuery`](sra_domain::RawSessionQuery), which the domain checks, and domain records into answers.

mod audit;
mod auth;
mod body;
pub mod contract;
mod gateway;
mod sessions;
mod terminate;
mod time;

pub use audit::{
    AuditEntry, ChainedAuditEntry, ListSraAudit, ListSraAuditOutput, ListSraSessionAudit, ListSraSessionAuditOutput,
    StreamSraAudit,
};
pub use auth::{AccessType, Auth, AuthOutput};
pub use body::{from_json, from_value, object, BodyError};
pub use gateway::{
    BlockedUser, Heartbeat, HeartbeatError, HeartbeatOutput, ReportError, ReportResult, ReportResults, SessionReport,
    SessionReports, MAX_BATCH, MAX_CLOCK_AHEAD_MS, MAX_ID_LEN, MAX_LIVE,
};
pub use sessions::{
    ChangeKind, ListSraSessions, ListSraSessionsAnswer, ListSraSessionsOutput, RequestError, SraGateway, SraSession,
    SraSessionChanges,
};
pub use terminate::{
    BlockEntry, BlockedPair, LiftSraBlock, ListSraBlocks, ListSraBlocksOutput, SkippedSession, TargetError,
    TerminateSraSession, TerminateSraSessionOutput, TerminateSraSessions, TerminateSraSessionsOutput,
    TerminatedSession,
};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error answer: `{"error": "…"}`, saying what was wrong (which value, what is allowed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}
