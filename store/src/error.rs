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
    #[error("unknown session {0:?}")]
    UnknownSession(String),
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
}
