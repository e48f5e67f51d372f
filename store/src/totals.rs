//! What `/metrics` reports of sessions, gateways and the audit chain, read from the database so that every replica
//! reports the same values (a per-process counter would only know the requests its replica served).
//!
//! The all-time totals (`session_totals`, `session_durations`; migration 12) are kept in the transaction that writes
//! the sessions, like the counts roll-up, but retention never takes from them: counters derived from them only grow.
//! What only happens in one process at a time — gateway batches answered, lost sessions closed by the leader — is
//! tallied in memory ([`Tally`]); summed over replicas, as Prometheus does, it is the whole.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::ConnectionTrait;
use sra_domain::{Millis, SessionStatus};

use crate::audit::WriteTxn;
use crate::query::parse_column;
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// The session duration histogram's upper bounds, in seconds (the same list as migration 12's). Bucket `i` holds
/// durations in `(BOUNDS[i-1], BOUNDS[i]]`; bucket `BOUNDS.len()` holds the longer ones.
pub const DURATION_BOUNDS_S: [i64; 11] = [10, 30, 60, 300, 900, 1_800, 3_600, 7_200, 14_400, 28_800, 86_400];

/// The histogram bucket of a duration.
fn bucket_of(duration_ms: Millis) -> i64 {
    let i = DURATION_BOUNDS_S.iter().position(|bound| duration_ms <= bound * 1_000).unwrap_or(DURATION_BOUNDS_S.len());
    i as i64
}

/// A session as the totals count it.
pub(crate) struct Totaled<'a> {
    pub gateway_id: i64,
    pub resource_type: &'a str,
    pub status: SessionStatus,
    /// Ended sessions' duration (`None` while active).
    pub duration_ms: Option<Millis>,
}

/// What a write batch does to the totals: net changes by key.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    sessions: BTreeMap<(i64, String, &'static str), i64>,
    /// (resource type, status, bucket) → (sessions, duration in ms).
    durations: BTreeMap<(String, &'static str, i64), (i64, i64)>,
}

impl Changes {
    /// Adds `delta` (1: the session now counts here; -1: it no longer does).
    pub fn add(&mut self, session: &Totaled<'_>, delta: i64) {
        let key = (session.gateway_id, session.resource_type.to_owned(), session.status.as_str());
        *self.sessions.entry(key).or_default() += delta;
        if let Some(duration) = session.duration_ms.filter(|_| !session.status.is_active()) {
            let key = (session.resource_type.to_owned(), session.status.as_str(), bucket_of(duration));
            let (n, sum) = self.durations.entry(key).or_default();
            *n += delta;
            *sum += delta * duration;
        }
    }

    /// Applies the changes inside the batch's transaction. Rows are kept at zero (an active status empties and fills
    /// again; there are at most a few thousand keys).
    pub async fn write(self, txn: &WriteTxn) -> Result<(), StoreError> {
        let backend = txn.get_database_backend();
        let sessions: Vec<_> = self.sessions.into_iter().filter(|(_, delta)| *delta != 0).collect();
        for chunk in sessions.chunks(500) {
            let mut sql = Sql::new(backend);
            sql.push("INSERT INTO session_totals (gateway_id, resource_type, status, sessions) VALUES ");
            for (i, ((gateway_id, resource_type, status), delta)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" }).bind(*gateway_id).push(", ").bind(resource_type.clone());
                sql.push(", ").bind(*status).push(", ").bind(*delta).push(")");
            }
            sql.push(
                " ON CONFLICT (gateway_id, resource_type, status) \
                 DO UPDATE SET sessions = session_totals.sessions + excluded.sessions",
            );
            txn.execute(sql.build()).await?;
        }
        let durations: Vec<_> = self.durations.into_iter().filter(|(_, (n, _))| *n != 0).collect();
        for chunk in durations.chunks(500) {
            let mut sql = Sql::new(backend);
            sql.push("INSERT INTO session_durations (resource_type, status, bucket, sessions, duration_ms) VALUES ");
            for (i, ((resource_type, status, bucket), (n, sum))) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" }).bind(resource_type.clone()).push(", ").bind(*status);
                sql.push(", ").bind(*bucket).push(", ").bind(*n).push(", ").bind(*sum).push(")");
            }
            sql.push(
                " ON CONFLICT (resource_type, status, bucket) DO UPDATE SET \
                 sessions = session_durations.sessions + excluded.sessions, \
                 duration_ms = session_durations.duration_ms + excluded.duration_ms",
            );
            txn.execute(sql.build()).await?;
        }
        Ok(())
    }
}

/// What happened in this process: gateway batches answered and lost sessions closed.
#[derive(Debug, Default)]
pub struct Tally {
    batches_applied: AtomicU64,
    batches_refused: AtomicU64,
    applied: AtomicU64,
    duplicate: AtomicU64,
    ignored: AtomicU64,
    lost: AtomicU64,
}

/// A reading of [`Tally`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tallied {
    /// Gateway batches stored (wholly), and refused (nothing stored).
    pub batches_applied: u64,
    pub batches_refused: u64,
    /// Updates of stored batches, by outcome.
    pub applied: u64,
    pub duplicate: u64,
    pub ignored: u64,
    /// Sessions closed as lost by this process.
    pub lost: u64,
}

impl Tally {
    pub(crate) fn batch(&self, outcomes: Result<&[crate::Outcome], ()>) {
        let Ok(outcomes) = outcomes else {
            self.batches_refused.fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.batches_applied.fetch_add(1, Ordering::Relaxed);
        for outcome in outcomes {
            let slot = match outcome {
                crate::Outcome::Applied => &self.applied,
                crate::Outcome::Duplicate => &self.duplicate,
                crate::Outcome::Ignored { .. } => &self.ignored,
            };
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn lost(&self, sessions: usize) {
        self.lost.fetch_add(sessions as u64, Ordering::Relaxed);
    }

    fn read(&self) -> Tallied {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Tallied {
            batches_applied: get(&self.batches_applied),
            batches_refused: get(&self.batches_refused),
            applied: get(&self.applied),
            duplicate: get(&self.duplicate),
            ignored: get(&self.ignored),
            lost: get(&self.lost),
        }
    }
}

/// Sessions of one gateway and resource type: all-time, by their status now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTotal {
    pub gateway: String,
    pub resource_type: String,
    pub status: SessionStatus,
    pub sessions: u64,
}

/// Active sessions of one kind now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSessions {
    pub gateway: String,
    pub resource_type: String,
    pub client_interface: String,
    pub status: SessionStatus,
    pub sessions: u64,
}

/// One bucket of the duration histogram (not cumulative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationBucket {
    pub resource_type: String,
    pub status: SessionStatus,
    /// Index into [`DURATION_BOUNDS_S`] (its length: beyond the last bound).
    pub bucket: usize,
    pub sessions: u64,
    pub duration_ms: i64,
}

/// What `/metrics` reports of the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreMetrics {
    pub sessions: Vec<SessionTotal>,
    pub active: Vec<ActiveSessions>,
    pub durations: Vec<DurationBucket>,
    /// Each gateway, and how long ago (ms) it last sent a heartbeat (`None`: never since it was registered).
    pub heartbeat_age_ms: Vec<(String, Option<Millis>)>,
    /// The audit chain's newest sequence number (its length since the genesis entry; pruning keeps the numbers).
    pub audit_head: u64,
    pub tallied: Tallied,
    /// The audit destinations as administrators list them (how far behind, last delivery, failures).
    pub destinations: Vec<sra_domain::DestinationListing>,
}

impl Store {
    /// What `/metrics` reports of the store: a few small tables and one look-up each.
    pub async fn store_metrics(&self) -> Result<StoreMetrics, StoreError> {
        let now = now_ms();
        let backend = self.db.get_database_backend();
        let statement = |text: &'static str| {
            let mut sql = Sql::new(backend);
            sql.push(text);
            sql.build()
        };
        let mut metrics = StoreMetrics { tallied: self.tally.read(), ..Default::default() };
        let totals = statement(
            "SELECT g.name AS gateway, t.resource_type, t.status, t.sessions \
             FROM session_totals t JOIN gateways g ON g.id = t.gateway_id WHERE t.sessions > 0 \
             ORDER BY g.name, t.resource_type, t.status",
        );
        for row in self.db.query_all(totals).await? {
            let status: String = row.try_get("", "status")?;
            metrics.sessions.push(SessionTotal {
                gateway: row.try_get("", "gateway")?,
                resource_type: row.try_get("", "resource_type")?,
                status: parse_column(&status, "status")?,
                sessions: u64::try_from(row.try_get::<i64>("", "sessions")?).unwrap_or(0),
            });
        }
        // The active ones by interface too, from the sessions (the status index holds them: about 1 % of a store).
        let active = statement(
            "SELECT g.name AS gateway, s.resource_type, s.client_interface, s.status, COUNT(*) AS sessions \
             FROM sessions s JOIN gateways g ON g.id = +s.gateway_id WHERE s.status IN ('connecting', 'connected') \
             GROUP BY g.name, s.resource_type, s.client_interface, s.status \
             ORDER BY g.name, s.resource_type, s.client_interface, s.status",
        );
        for row in self.db.query_all(active).await? {
            let status: String = row.try_get("", "status")?;
            metrics.active.push(ActiveSessions {
                gateway: row.try_get("", "gateway")?,
                resource_type: row.try_get("", "resource_type")?,
                client_interface: row.try_get("", "client_interface")?,
                status: parse_column(&status, "status")?,
                sessions: u64::try_from(row.try_get::<i64>("", "sessions")?).unwrap_or(0),
            });
        }
        let durations = statement(
            "SELECT resource_type, status, bucket, sessions, duration_ms FROM session_durations \
             WHERE sessions > 0 ORDER BY resource_type, status, bucket",
        );
        for row in self.db.query_all(durations).await? {
            let status: String = row.try_get("", "status")?;
            metrics.durations.push(DurationBucket {
                resource_type: row.try_get("", "resource_type")?,
                status: parse_column(&status, "status")?,
                bucket: usize::try_from(row.try_get::<i64>("", "bucket")?).unwrap_or(0).min(DURATION_BOUNDS_S.len()),
                sessions: u64::try_from(row.try_get::<i64>("", "sessions")?).unwrap_or(0),
                duration_ms: row.try_get("", "duration_ms")?,
            });
        }
        for row in self.db.query_all(statement("SELECT name, last_heartbeat_at FROM gateways ORDER BY name")).await? {
            let at: Option<Millis> = row.try_get("", "last_heartbeat_at")?;
            metrics.heartbeat_age_ms.push((row.try_get("", "name")?, at.map(|at| now.saturating_sub(at).max(0))));
        }
        if let Some(row) = self.db.query_one(statement("SELECT COALESCE(MAX(id), 0) AS head FROM audit_log")).await? {
            metrics.audit_head = u64::try_from(row.try_get::<i64>("", "head")?).unwrap_or(0);
        }
        metrics.destinations = self.destination_listings(metrics.audit_head).await?;
        Ok(metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fall_in_the_first_bucket_whose_bound_holds_them() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(10_000), 0);
        assert_eq!(bucket_of(10_001), 1);
        assert_eq!(bucket_of(86_400_000), 10);
        assert_eq!(bucket_of(86_400_001), 11);
    }
}
