//! Whether PostgreSQL can be reached, known ahead of the requests that need it.
//!
//! While the database is down, a request would wait the pool's whole acquire timeout before failing. A watcher
//! connects directly (outside the pool, so a pool busy with readers is never taken for an outage) once a second, and
//! four times a second while the database is down; while it is down, the server answers at once (503 with
//! `Retry-After`) instead of making every caller wait. SQLite is a file of this process: it is never "unreachable".

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sqlx;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::Store;

/// How often the database is tried while it answers, and while it does not.
const CHECK_EVERY: Duration = Duration::from_secs(1);
const RECHECK_EVERY: Duration = Duration::from_millis(250);
/// How long one direct connection attempt may take before the database counts as down.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(2);

/// What the watcher last found.
#[derive(Debug, Default)]
pub(crate) struct Reachability {
    down: Mutex<Option<Down>>,
}

#[derive(Debug)]
struct Down {
    since: Instant,
    reason: String,
}

impl Reachability {
    fn set(&self, found: Result<(), String>) {
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        match (found, down.as_ref()) {
            (Ok(()), Some(was)) => {
                tracing::info!(after_ms = was.since.elapsed().as_millis() as u64, "the database answers again");
                *down = None;
            }
            (Err(reason), None) => {
                tracing::error!(%reason, "the database cannot be reached: requests are answered 503 until it returns");
                *down = Some(Down { since: Instant::now(), reason });
            }
            _ => {}
        }
    }
}

impl Store {
    /// Why the database cannot be reached, while the watcher finds it down (always `None` on SQLite or without
    /// [`Store::watch_reachability`]).
    pub fn database_down(&self) -> Option<String> {
        let down = self.reachability.down.lock().unwrap_or_else(|p| p.into_inner());
        down.as_ref().map(|d| d.reason.clone())
    }

    /// Starts the watcher (PostgreSQL only); it ends with the runtime.
    pub fn watch_reachability(&self) {
        let Some(options) = self.postgres.clone() else {
            return;
        };
        let reachability: Arc<Reachability> = self.reachability.clone();
        tokio::spawn(async move {
            loop {
                let found = attempt(&options).await;
                let pause = if found.is_ok() { CHECK_EVERY } else { RECHECK_EVERY };
                reachability.set(found);
                tokio::time::sleep(pause).await;
            }
        });
    }
}

/// One direct connection and a query: what is wrong, in the words of the failure (refused, authentication, unknown
/// host, starting up).
pub(crate) async fn attempt(options: &PgConnectOptions) -> Result<(), String> {
    let connected = tokio::time::timeout(ATTEMPT_LIMIT, async {
        let mut conn = options.connect().await?;
        conn.ping().await?;
        conn.close().await
    })
    .await;
    match connected {
        Ok(Ok(())) => Ok(()),
        // Too many connections: the pool's own connections still serve; not an outage.
        Ok(Err(sqlx::Error::Database(e))) if e.code().as_deref() == Some("53300") => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", ATTEMPT_LIMIT.as_secs())),
    }
}
