use sea_orm::DbErr;
use sra_domain::SessionStatus;

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
    #[error("unknown or already revoked API key {0:?}")]
    UnknownApiKey(String),
    #[error("session {0:?} already exists")]
    DuplicateSession(String),
    #[error("unknown session {0:?}")]
    UnknownSession(String),
    #[error("session {session_id:?} cannot go from {from} to {to}")]
    InvalidTransition { session_id: String, from: SessionStatus, to: SessionStatus },
    #[error(transparent)]
    Query(sra_domain::QueryError),
    #[error("wrong login or password")]
    BadCredentials,
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
}
