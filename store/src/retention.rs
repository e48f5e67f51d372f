//! Retention: ended sessions and audit entries older than configured ages are deleted, in small batches, audited.
//!
//! - **Sessions** that ended before the cutoff go, 500 a transaction (through the `ended_at` index), each batch with
//!   the roll-up's counts taken back and, on SQLite, the search index's rows (its trigger), so listings, counts and
//!   searches agree at every step. Active sessions are never pruned.
//! - **Audit entries** go as a prefix of the chain — up to the entry before the first one recorded after the cutoff —
//!   500 a transaction. The chain stays verifiable: each batch records, in the same transaction, a signed anchor (a
//!   [`Checkpoint`] of the last entry deleted: how many entries were pruned in all, its ID and its hash, signed with
//!   the checkpoint key). `audit verify` starts from it, so the first entry kept must chain to it; deleting more, or
//!   forging the anchor without the key, still shows.
//! - Each run is itself audited (`sessions.pruned`, `audit.pruned`: how many, up to when), in its first batch's
//!   transaction — which also tells changes tokens from before it that their view must be read again.
//!
//! Writers take turns, and a batch is short (measured in BENCHMARKS.md), so pruning never holds ingest up for long.
//! The server runs it on the leader replica only.

use sea_orm::ConnectionTrait;
use serde_json::json;
use sra_domain::{Actor, Millis, SessionStatus};

use crate::audit::{audit, WriteTxn};
use crate::checkpoint::Checkpoint;
use crate::query::parse_column;
use crate::rollup;
use crate::sql::Sql;
use crate::{Store, StoreError};

/// Rows per pruning transaction.
const BATCH: i64 = 500;
/// The setting that holds the audit chain's signed anchor once entries were pruned.
pub(crate) const ANCHOR: &str = "audit_anchor";

/// How long ended sessions and audit entries are kept (`None`: for ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    sessions: Option<Millis>,
    audit: Option<Millis>,
}

/// Retention settings that contradict each other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("audit entries must be kept at least as long as sessions (audit {audit_days} days < sessions {sessions_days} days): a kept session would lose its timeline")]
    AuditShorter { audit_days: i64, sessions_days: i64 },
    #[error("audit retention needs session retention too (no longer than it): sessions kept for ever would lose their timelines")]
    AuditWithoutSessions,
}

impl Retention {
    /// Keep ended sessions for `sessions` and audit entries for `audit` (milliseconds; `None`: for ever).
    pub fn new(sessions: Option<Millis>, audit: Option<Millis>) -> Result<Retention, RetentionError> {
        const DAY: Millis = sra_domain::DAY_MS;
        match (sessions, audit) {
            (None, Some(_)) => Err(RetentionError::AuditWithoutSessions),
            (Some(s), Some(a)) if a < s => {
                Err(RetentionError::AuditShorter { audit_days: a / DAY, sessions_days: s / DAY })
            }
            _ => Ok(Retention { sessions, audit }),
        }
    }

    /// Whether anything is ever pruned.
    pub fn is_set(&self) -> bool {
        self.sessions.is_some() || self.audit.is_some()
    }
}

/// What one pruning run deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pruned {
    pub sessions: u64,
    pub audit_entries: u64,
}

impl Store {
    /// Deletes what `retention` no longer keeps at `now`, in batches (see the module's documentation).
    pub async fn prune(&self, retention: &Retention, now: Millis) -> Result<Pruned, StoreError> {
        let mut pruned = Pruned::default();
        if let Some(keep) = retention.sessions {
            pruned.sessions = self.prune_sessions(now - keep).await?;
        }
        if let Some(keep) = retention.audit {
            pruned.audit_entries = self.prune_audit(now - keep).await?;
        }
        Ok(pruned)
    }

    async fn prune_sessions(&self, ended_before: Millis) -> Result<u64, StoreError> {
        let mut count = Sql::new(self.db.get_database_backend());
        count.push("SELECT COUNT(*) AS n FROM sessions WHERE ended_at < ").bind(ended_before);
        let due: i64 = match self.db.query_one(count.build()).await? {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        let mut total = 0_u64;
        let mut first = true;
        loop {
            let mut txn = self.begin_write().await?;
            if first && due > 0 {
                let details = json!({"sessions": due, "ended_before": sra_domain::format_rfc3339(ended_before)});
                audit(&mut txn, crate::now_ms(), &Actor::System, "sessions.pruned", None, details).await?;
            }
            first = false;
            let deleted = self.prune_sessions_batch(&txn, ended_before).await?;
            txn.commit().await?;
            total += deleted;
            if deleted < BATCH as u64 {
                return Ok(total);
            }
            // Other writers take their turn between batches.
            tokio::task::yield_now().await;
        }
    }

    async fn prune_sessions_batch(&self, txn: &WriteTxn, ended_before: Millis) -> Result<u64, StoreError> {
        let backend = txn.get_database_backend();
        let mut select = Sql::new(backend);
        select
            .push(
                "SELECT id, gateway_id, started_at, resource_type, client_interface, status FROM sessions \
                 WHERE ended_at < ",
            )
            .bind(ended_before)
            .push(" ORDER BY ended_at LIMIT ")
            .bind(BATCH);
        let rows = txn.query_all(select.build()).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut counts = rollup::Changes::default();
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let status: String = row.try_get("", "status")?;
            let (resource_type, client_interface): (String, String) =
                (row.try_get("", "resource_type")?, row.try_get("", "client_interface")?);
            let counted = rollup::Counted {
                gateway_id: row.try_get("", "gateway_id")?,
                started_at: row.try_get("", "started_at")?,
                resource_type: &resource_type,
                client_interface: &client_interface,
                status: parse_column::<SessionStatus>(&status, "status")?,
            };
            counts.add(self.count_spans, &counted, -1);
            ids.push(row.try_get::<i64>("", "id")?);
        }
        let mut delete = Sql::new(backend);
        delete.push("DELETE FROM sessions WHERE id IN ").bind_list(ids.iter().copied());
        txn.execute(delete.build()).await?;
        counts.write(txn).await?;
        Ok(rows.len() as u64)
    }

    async fn prune_audit(&self, recorded_before: Millis) -> Result<u64, StoreError> {
        let backend = self.db.get_database_backend();
        // A prefix of the chain: everything before the first entry recorded at or after the cutoff.
        let mut bound = Sql::new(backend);
        bound
            .push("SELECT (SELECT MIN(id) FROM audit_log WHERE at >= ")
            .bind(recorded_before)
            .push(") AS keep_from, (SELECT MAX(id) FROM audit_log) AS last");
        let (keep_from, last): (Option<i64>, Option<i64>) = match self.db.query_one(bound.build()).await? {
            Some(row) => (row.try_get("", "keep_from")?, row.try_get("", "last")?),
            None => (None, None),
        };
        let Some(through) = keep_from.map(|k| k - 1).or(last) else { return Ok(0) };
        let mut count = Sql::new(backend);
        count.push("SELECT COUNT(*) AS n FROM audit_log WHERE id <= ").bind(through);
        let due: i64 = match self.db.query_one(count.build()).await? {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        if due == 0 {
            return Ok(0);
        }
        let mut total = 0_u64;
        let mut first = true;
        loop {
            let mut txn = self.begin_write().await?;
            let mut select = Sql::new(backend);
            select.push("SELECT id, hash FROM audit_log WHERE id <= ").bind(through);
            select.push(" ORDER BY id LIMIT ").bind(BATCH);
            let rows = txn.query_all(select.build()).await?;
            let Some(newest) = rows.last() else { return Ok(total) };
            let (from, to): (i64, i64) = (rows[0].try_get("", "id")?, newest.try_get("", "id")?);
            let head: Option<String> = newest.try_get("", "hash")?;
            let head = head.ok_or(StoreError::Corrupt {
                table: "audit_log",
                column: "hash",
                reason: format!("entry {to} has no hash: verify the chain before pruning it"),
            })?;
            let mut delete = Sql::new(backend);
            delete.push("DELETE FROM audit_log WHERE id >= ").bind(from).push(" AND id <= ").bind(to);
            txn.execute(delete.build()).await?;
            let before = anchor(&*txn).await?.map_or(0, |a| a.entries);
            let now = crate::now_ms();
            let signed = Checkpoint::sign(&self.keys, now, before + rows.len() as u64, to, head);
            let value = serde_json::to_string(&signed).expect("a checkpoint always serializes");
            let mut record = Sql::new(backend);
            record.push("DELETE FROM settings WHERE name = ").bind(ANCHOR);
            txn.execute(record.build()).await?;
            let mut record = Sql::new(backend);
            record.push("INSERT INTO settings (name, value) VALUES (").bind(ANCHOR).push(", ").bind(value).push(")");
            txn.execute(record.build()).await?;
            if first {
                let details = json!({"entries": due, "through_id": through,
                                     "recorded_before": sra_domain::format_rfc3339(recorded_before)});
                audit(&mut txn, now, &Actor::System, "audit.pruned", None, details).await?;
                first = false;
            }
            txn.commit().await?;
            total += rows.len() as u64;
            if rows.len() < BATCH as usize {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

/// The chain's signed anchor: where it starts after pruning (`None`: nothing was ever pruned).
pub(crate) async fn anchor(db: &impl ConnectionTrait) -> Result<Option<Checkpoint>, StoreError> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT value FROM settings WHERE name = ").bind(ANCHOR);
    let Some(row) = db.query_one(sql.build()).await? else { return Ok(None) };
    let value: String = row.try_get("", "value")?;
    serde_json::from_str(&value).map(Some).map_err(|e| StoreError::Corrupt {
        table: "settings",
        column: "value",
        reason: format!("the audit chain's anchor cannot be read: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_is_kept_at_least_as_long_as_sessions() {
        let day = sra_domain::DAY_MS;
        assert!(Retention::new(Some(180 * day), Some(400 * day)).is_ok());
        assert!(Retention::new(Some(180 * day), Some(180 * day)).is_ok());
        assert!(Retention::new(Some(180 * day), None).is_ok());
        assert_eq!(Retention::new(None, None).map(|r| r.is_set()), Ok(false));
        assert_eq!(
            Retention::new(Some(400 * day), Some(180 * day)),
            Err(RetentionError::AuditShorter { audit_days: 180, sessions_days: 400 })
        );
        assert_eq!(Retention::new(None, Some(day)), Err(RetentionError::AuditWithoutSessions));
    }
}
