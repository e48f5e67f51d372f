//! Which replica does the work that one replica at a time should do — closing lost sessions, pruning, the demo's
//! traffic — when several serve one PostgreSQL database.
//!
//! The leader holds a PostgreSQL session-level advisory lock on a connection of its own, outside the pool. PostgreSQL
//! releases the lock when that connection ends — the replica stopped, crashed or lost the network — and another
//! replica takes it at its next try (every few seconds). The holder checks its connection just as often and stops
//! counting itself leader when it fails, so two replicas overlap by a few seconds at most; the work itself is safe to
//! repeat (a batch is judged again inside its write transaction). On SQLite the one process is always the leader.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use crate::Store;

/// The advisory lock's key (any 64-bit number no other application on the database uses: "SRA-LEAD").
const LOCK_KEY: i64 = 0x5352_412d_4c45_4144;
/// How often the lock is tried for, and its holder's connection checked.
const EVERY: Duration = Duration::from_secs(3);

/// Whether this process holds the lock (shared by a store's clones).
#[derive(Debug, Default)]
pub(crate) struct Leadership {
    held: AtomicBool,
}

impl Store {
    /// Whether this replica should do the one-at-a-time work now. Always on SQLite; on PostgreSQL once
    /// [`Store::seek_leadership`] holds the lock.
    pub fn is_leader(&self) -> bool {
        self.postgres.is_none() || self.leadership.held.load(Ordering::Relaxed)
    }

    /// Starts trying for the leader's lock, and holding it, for as long as the runtime runs (PostgreSQL only).
    pub fn seek_leadership(&self) {
        let Some(options) = self.postgres.clone() else {
            return;
        };
        let leadership = self.leadership.clone();
        tokio::spawn(async move {
            loop {
                let outcome = hold(&options, &leadership).await;
                if leadership.held.swap(false, Ordering::Relaxed) {
                    tracing::warn!(reason = %outcome.err().map(|e| e.to_string()).unwrap_or_default(), "no longer the leader replica");
                }
                tokio::time::sleep(EVERY).await;
            }
        });
    }
}

/// Tries for the lock on a connection of its own until it holds it, then checks the connection until it fails.
async fn hold(options: &PgConnectOptions, leadership: &Arc<Leadership>) -> Result<(), sqlx::Error> {
    let mut connection: PgConnection = options.connect().await?;
    loop {
        let got: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LOCK_KEY).fetch_one(&mut connection).await?;
        if got {
            break;
        }
        tokio::time::sleep(EVERY).await;
    }
    leadership.held.store(true, Ordering::Relaxed);
    tracing::info!("this replica is the leader: it closes lost sessions and prunes");
    loop {
        tokio::time::sleep(EVERY).await;
        tokio::time::timeout(EVERY, connection.ping())
            .await
            .map_err(|_| sqlx::Error::Protocol("the leader's connection did not answer".into()))??;
    }
}
