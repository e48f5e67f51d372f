//! Failures that are the database's state, not the request's: a full disk, a database that cannot be reached, a
//! writer that held the lock too long. The request was not carried out and may be sent again as it is, so the edges
//! answer 503 with `Retry-After` instead of a 500.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::sqlx;
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

use crate::{Store, StoreError};

/// How long a failed write keeps a server "not ready" when no write has succeeded since: long enough for a load
/// balancer to notice, short enough that a server nobody writes to any more is probed again.
const FAILURE_MEMORY: Duration = Duration::from_secs(30);

/// Why the database cannot take requests now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// The disk (or the database's size limit) is full: nothing more can be written until space is freed.
    Full,
    /// The database cannot be reached (connection refused or lost).
    Unreachable,
    /// No connection came free in time: every one was busy with other requests, or the database stopped answering
    /// (a request waiting for the pool cannot tell which; on SQLite, where the file is always there, it is busy).
    NoConnection,
    /// The embedded database's disk refused a read or write (an I/O error, a file-size limit).
    Storage,
    /// Another writer held the database longer than a request may wait.
    Busy,
}

impl Outage {
    /// What the caller is told: what happened, and that nothing of the request was kept.
    pub fn message(self) -> &'static str {
        match self {
            Outage::Full => "the database is full: nothing of this request was stored; send it again later",
            Outage::Unreachable => "the database cannot be reached: nothing of this request was done; try again",
            Outage::Storage => "the database's disk refused the write: nothing of this request was stored; try again",
            Outage::Busy => "the database is busy: nothing of this request was done; try again",
            Outage::NoConnection => {
                "no database connection came free in time (the database is busy, or cannot be reached): nothing of \
                 this request was done; try again"
            }
        }
    }

    /// Seconds a caller should wait before trying again.
    pub fn retry_after_secs(self) -> u64 {
        match self {
            Outage::Full => 10,
            Outage::Unreachable => 2,
            Outage::Storage => 5,
            Outage::Busy | Outage::NoConnection => 1,
        }
    }

    /// The outage behind a database error, if it is one.
    pub fn of(error: &DbErr) -> Option<Outage> {
        match error {
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => Some(Outage::NoConnection),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => Some(Outage::Unreachable),
            DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => match e {
                RuntimeErr::SqlxError(e) => of_sqlx(e),
                RuntimeErr::Internal(_) => None,
            },
            _ => None,
        }
    }
}

/// Whether writes have been failing for an outage since the last one that was committed (for `/readyz`).
#[derive(Debug, Default)]
pub(crate) struct WriteHealth {
    failing: Mutex<Option<(Instant, Outage)>>,
}

impl WriteHealth {
    /// Notes a write's end: committed, or failed (only an outage counts; a refused request says nothing of the
    /// database).
    pub(crate) fn note(&self, result: Result<(), &StoreError>) {
        let mut failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(()) => *failing = None,
            Err(e) => {
                if let Some(outage) = e.outage() {
                    *failing = Some((Instant::now(), outage));
                }
            }
        }
    }

    fn recent(&self) -> Option<Outage> {
        let failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        failing.filter(|(at, _)| at.elapsed() < FAILURE_MEMORY).map(|(_, outage)| outage)
    }
}

impl Store {
    /// Whether a gateway's update would be committed now (for `/readyz`): not while the last writes failed for an
    /// outage and none has succeeded since, nor while a probe write fails.
    pub async fn check_writes(&self) -> Result<(), StoreError> {
        if let Some(outage) = self.write_health.recent() {
            return Err(StoreError::WritesFailing(outage));
        }
        self.probe_write().await
    }
}

fn of_sqlx(error: &sqlx::Error) -> Option<Outage> {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            Some(Outage::Unreachable)
        }
        sqlx::Error::Database(e) => {
            let code = e.code()?;
            // SQLite reports its (extended) result code as a number, PostgreSQL its SQLSTATE.
            if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                of_sqlite(code.parse::<i64>().ok()? & 0xff)
            } else {
                of_sqlstate(&code)
            }
        }
        sqlx::Error::PoolTimedOut => Some(Outage::NoConnection),
        _ => None,
    }
}

/// SQLite's primary result codes (https://sqlite.org/rescode.html).
fn of_sqlite(primary: i64) -> Option<Outage> {
    match primary {
        // SQLITE_FULL
        13 => Some(Outage::Full),
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL (a lock race)
        5 | 6 | 15 => Some(Outage::Busy),
        // SQLITE_NOMEM, SQLITE_IOERR, SQLITE_CANTOPEN
        7 | 10 | 14 => Some(Outage::Storage),
        _ => None,
    }
}

/// PostgreSQL's SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
fn of_sqlstate(code: &str) -> Option<Outage> {
    match code {
        // disk_full, out_of_memory; insufficient_resources in general
        "53100" | "53000" => Some(Outage::Full),
        // too_many_connections, admin/crash shutdown, cannot_connect_now, lock_not_available, deadlock
        "53300" | "57P01" | "57P02" | "57P03" => Some(Outage::Unreachable),
        "55P03" | "40P01" => Some(Outage::Busy),
        // connection_exception
        c if c.starts_with("08") => Some(Outage::Unreachable),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_name_the_outage() {
        assert_eq!(of_sqlite(13), Some(Outage::Full));
        assert_eq!(of_sqlite(778 & 0xff), Some(Outage::Storage), "SQLITE_IOERR_WRITE");
        assert_eq!(of_sqlite(19), None, "a constraint is the request's fault");
        assert_eq!(of_sqlstate("53100"), Some(Outage::Full));
        assert_eq!(of_sqlstate("08006"), Some(Outage::Unreachable));
        assert_eq!(of_sqlstate("23505"), None);
        assert_eq!(Outage::of(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)), Some(Outage::NoConnection));
    }
}
