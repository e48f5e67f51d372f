use sea_orm::DbErr;
use sra_domain::SessionStatus;

use crate::outage::Outage;

/// Everything that can go wrong in the store, each with a message that says which value was wrong.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH (embedded) or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot open database {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("applying database migrations failed: {0}")]
    Migrate(#[source] DbErr),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("unknown gateway {0:?}: register it first")]
    UnknownGateway(String),
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    #[error("{what} {name:?} already exists")]
    Exists { what: &'static str, name: String },
    #[error(transparent)]
    Name(#[from] sra_domain::NameError),
    #[error("this would leave no enabled user with an All role: keep at least one administrator")]
    LastAdministrator,
    #[error("unknown or already revoked API key {0:?}")]
    UnknownApiKey(String),
    #[error("unknown session {0:?}")]
    UnknownSession(String),
    /// No live block by that id that the caller may see (unknown, ended, lifted or another's).
    #[error("no live block #{0} you may lift")]
    UnknownBlock(i64),
    #[error("session {session_id:?} belongs to another gateway than {gateway:?}")]
    ForeignSession { session_id: String, gateway: String },
    #[error(
        "update #{} ({}) refused: {reason}; nothing in this batch was applied",
        .index + 1,
        .update_id.as_deref().map_or_else(|| "no update ID".to_owned(), |id| format!("{id:?}"))
    )]
    UpdateRefused { index: usize, update_id: Option<String>, reason: Box<StoreError> },
    #[error("session {session_id:?} cannot go from {from} to {to}")]
    InvalidTransition { session_id: String, from: SessionStatus, to: SessionStatus },
    #[error(transparent)]
    Query(sra_domain::QueryError),
    #[error(transparent)]
    Reason(#[from] sra_domain::ReasonError),
    #[error("wrong login or password")]
    BadCredentials,
    #[error("unknown gateway key: issue one with `sra-server admin gateway key NAME`")]
    UnknownGatewayKey,
    #[error("not permitted: {0}")]
    NotPermitted(String),
    #[error("session {session_id:?} has already ended ({status})")]
    SessionEnded { session_id: String, status: SessionStatus },
    #[error("the token is not valid: it was never issued by this server; get one from /auth")]
    UnknownToken,
    #[error("the token expired at {at}; get a new one from /auth")]
    TokenExpired { at: String },
    #[error("the token was revoked; get a new one from /auth")]
    TokenRevoked,
    #[error("this account is disabled; ask an administrator")]
    AccountDisabled,
    #[error("the password is too short; use at least {min} characters")]
    WeakPassword { min: usize },
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("corrupt value in {table}.{column}: {reason}")]
    Corrupt { table: &'static str, column: &'static str, reason: String },
    #[error("{field:?}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Throttled(#[from] crate::sign_in::Throttled),
    #[error("the server is busy checking other sign-ins; try again in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    #[error("the audit key file is not the one this database's audit chain was written with: give every server the same key file")]
    AuditKeyMismatch,
    #[error("the audit chain cannot be kept with this key: {reason}")]
    AuditUnkeyed { reason: String },
    #[error("writes are failing: {}", .0.message())]
    WritesFailing(Outage),
}

/// What kind of failure an error is, whatever the edge that reports it: the console's server functions and the HTTP
/// API turn it into the same status, so the two cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong: the message names the value and what is allowed (400).
    BadInput,
    /// No valid credentials (401).
    Unauthenticated,
    /// Known caller, not allowed (403).
    Forbidden,
    /// No such thing, or not visible to the caller — the two are not told apart (404).
    NotFound,
    /// The state of things forbids it (409).
    Conflict,
    /// Too many attempts; try again later (429, with `Retry-After`).
    Throttled,
    /// The server cannot take it now; try again later (503, with `Retry-After`).
    Unavailable,
    /// A fault on the server: logged, never shown in detail (500).
    Internal,
}

impl ErrorKind {
    /// The HTTP status for this kind.
    pub const fn status(self) -> u16 {
        match self {
            ErrorKind::BadInput => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Throttled => 429,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

impl StoreError {
    /// What kind of failure this is (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        if self.outage().is_some() {
            return ErrorKind::Unavailable;
        }
        match self {
            StoreError::Query(_)
            | StoreError::Reason(_)
            | StoreError::Invalid { .. }
            | StoreError::Name(_)
            | StoreError::UnknownGateway(_)
            | StoreError::UnknownUser(_)
            | StoreError::UnknownRole(_)
            | StoreError::UnknownApiKey(_)
            | StoreError::WeakPassword { .. } => ErrorKind::BadInput,
            StoreError::BadCredentials
            | StoreError::UnknownToken
            | StoreError::TokenExpired { .. }
            | StoreError::TokenRevoked
            | StoreError::AccountDisabled
            | StoreError::UnknownGatewayKey => ErrorKind::Unauthenticated,
            StoreError::NotPermitted(_) | StoreError::ForeignSession { .. } => ErrorKind::Forbidden,
            StoreError::UnknownSession(_) | StoreError::UnknownBlock(_) => ErrorKind::NotFound,
            StoreError::SessionEnded { .. }
            | StoreError::InvalidTransition { .. }
            | StoreError::Exists { .. }
            | StoreError::LastAdministrator => ErrorKind::Conflict,
            StoreError::UpdateRefused { reason, .. } => match reason.kind() {
                ErrorKind::Forbidden => ErrorKind::Forbidden,
                _ => ErrorKind::Conflict,
            },
            StoreError::Throttled(_) => ErrorKind::Throttled,
            StoreError::Busy { .. } => ErrorKind::Unavailable,
            StoreError::UnsupportedUrl(_)
            | StoreError::Connect { .. }
            | StoreError::Migrate(_)
            | StoreError::Db(_)
            | StoreError::Hashing(_)
            | StoreError::Corrupt { .. }
            | StoreError::AuditKeyMismatch
            | StoreError::AuditUnkeyed { .. } => ErrorKind::Internal,
            StoreError::WritesFailing(_) => ErrorKind::Unavailable,
        }
    }

    /// The database outage behind this error, if the database's state (not the request) made it fail.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            StoreError::Db(e) => Outage::of(e),
            StoreError::WritesFailing(outage) => Some(*outage),
            _ => None,
        }
    }

    /// Seconds to wait before trying again, for answers that say so (`Retry-After`).
    pub fn retry_after_secs(&self) -> Option<u64> {
        if let Some(outage) = self.outage() {
            return Some(outage.retry_after_secs());
        }
        match self {
            StoreError::Throttled(t) => Some(t.retry_after_secs()),
            StoreError::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The message a caller is shown: the error itself, except for server faults, which are logged here and
    /// summarised.
    pub fn public_message(&self) -> String {
        if let Some(outage) = self.outage() {
            tracing::warn!(error = %self, "the database cannot take requests");
            return outage.message().to_owned();
        }
        if self.kind() == ErrorKind::Internal {
            tracing::error!(error = %self, "a request failed on the server");
            "the request failed on the server; the server log has the details".to_owned()
        } else {
            self.to_string()
        }
    }
}
