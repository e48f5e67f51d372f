//! The SRA Sessions store.
//!
//! One [`Store`] wraps the database — an embedded SQLite file by default, PostgreSQL for scale-out — and is the only
//! code that reads or writes it. Session changes go through [`Store::ingest`] (gateways: idempotent update IDs, own
//! sessions only) or [`Store::apply_updates`] (the server itself), which record every change together with its audit
//! entry in one transaction; every audit entry is chained to the one before (see [`Store::verify_audit`]). Reads return
//! domain types ([`sra_domain`]); a stored value that no longer parses is reported as [`StoreError::Corrupt`] instead of
//! being shown half-right.
//!
//! Sessions are listed only through [`Store::list_sessions`] (with [`Store::status_counts`] and
//! [`Store::visible_gateways`]): the query engine that applies a caller's visibility inside the SQL. The console, the
//! HTTP API and the CLI all read through it.

mod administration;
mod api_keys;
mod audit;
mod audit_keys;
mod audit_listing;
mod audit_words;
mod blocks;
mod changes;
mod checkpoint;
mod connect;
mod counts;
mod counts_cache;
mod cursor;
mod destinations;
pub mod entity;
mod error;
mod gateways;
mod identity;
mod ingest;
mod leader;
mod outage;
mod query;
mod reachability;
mod retention;
mod rollup;
mod search;
mod sign_in;
mod sql;
mod termination;
#[cfg(feature = "testing")]
pub mod testing;
mod totals;
mod views;

pub use administration::{RoleSpec, UserListing};
pub use api_keys::{IssuedToken, NewApiKey, TOKEN_LIFETIME_MS};
pub use audit::{verify_audit, AuditVerdict};
pub use audit_keys::{AuditKeys, KeyFileError, KeyOrigin};
pub use audit_listing::{AuditPage, AuditQuery, AuditRecord, ChainedRecord, MAX_AUDIT_PAGE};
pub use audit_words::summary as audit_summary;
pub use blocks::MAX_BLOCKS;
pub use changes::{StreamChanges, HEAD_REUSE, MAX_CHANGES};
pub use checkpoint::{read_checkpoints, Checkpoint, CheckpointFileError};
pub use connect::{Backend, PoolStats};
pub use destinations::{Destination, StartAt, Transport};
pub use error::{ErrorKind, StoreError};
pub use identity::{random_password, Principal, ABSOLUTE_TIMEOUT_MS, IDLE_TIMEOUT_MS, MIN_PASSWORD_LEN};
pub use ingest::{GatewayIdentity, GatewayUpdate, HeartbeatAnswer, Outcome};
pub use outage::Outage;
pub use retention::{Pruned, Retention, RetentionError};
pub use sign_in::{
    Attempt, Channel, Credential, Throttled, ADDRESS_LIMIT, FIRST_DELAY_MS, MAX_ACCOUNT_LEN, MAX_SECRET_LEN,
    PAIR_FREE_FAILURES, WINDOW_MS as THROTTLE_WINDOW_MS,
};
pub use totals::{ActiveSessions, DurationBucket, SessionTotal, StoreMetrics, Tallied, DURATION_BOUNDS_S};
pub use views::{ViewedThrough, VIEW_ACTION, VIEW_REPEAT_MS};

use sea_orm::DatabaseConnection;

/// The application's handle on its database. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    /// Reads. Writes have their own connections (see `connect`).
    db: DatabaseConnection,
    writes: DatabaseConnection,
    backend: Backend,
    cursors: cursor::CursorCodec,
    counts: std::sync::Arc<counts_cache::CountsCache<sra_domain::StatusCounts>>,
    choices: std::sync::Arc<counts_cache::CountsCache<sra_domain::ChoiceCounts>>,
    /// Gateway batches and lost sessions handled by this process (see `totals`).
    tally: std::sync::Arc<totals::Tally>,
    /// Moved after every commit that changed something (see `changes`).
    feed: std::sync::Arc<changes::ChangeFeed>,
    /// Readings of changes shared by event streams (see `changes`).
    shared: std::sync::Arc<changes::SharedReadings>,
    /// Writers take turns on SQLite (see `audit`).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Hashing slots and refused sign-ins not yet written (see `sign_in`).
    sign_ins: std::sync::Arc<sign_in::SignIns>,
    /// The SQLite size cap in pages handed to each connection (0: never capped; only tests set one; see `connect`).
    #[cfg(feature = "testing")]
    page_limit: std::sync::Arc<std::sync::atomic::AtomicU32>,
    /// How to connect to PostgreSQL directly, for the reachability watcher (`None` on SQLite).
    postgres: Option<sea_orm::sqlx::postgres::PgConnectOptions>,
    reachability: std::sync::Arc<reachability::Reachability>,
    /// Whether this replica holds the leader's lock (see `leader`).
    leadership: std::sync::Arc<leader::Leadership>,
    /// The audit chain's keys (not in the database; see `audit_keys`).
    keys: std::sync::Arc<AuditKeys>,
    /// Whether writes have been failing for an outage (see `outage`).
    write_health: std::sync::Arc<outage::WriteHealth>,
    /// How many candidates a search reads before it walks instead (see `search`).
    search_candidate_limit: usize,
    /// Above how many matching sessions a listing walks the sort column's index (see `query`).
    walk_above: usize,
    /// The bucket lengths of the session roll-up (see `rollup`).
    count_spans: rollup::Spans,
}

impl Store {
    /// Which database engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The underlying SeaORM connection, for tests and tools that need raw SQL.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// The current time in epoch milliseconds.
pub fn now_ms() -> sra_domain::Millis {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
