//! The audit log: append-only, tamper-evident, written only inside write transactions.
//!
//! Every entry carries `hash = SHA-256(previous entry's hash, at, actor, action, session ID, details)`, and the hash of
//! the newest entry is kept as the chain's head in `settings.audit_head`. Editing an entry, deleting or reordering
//! entries, or cutting off the newest ones breaks the chain; [`Store::verify_audit`] walks it and names the first entry
//! where it breaks.
//!
//! Appending needs the head, so audit writers take turns: every write goes through [`WriteTxn`], which on PostgreSQL
//! locks the head row first thing (before any other row, so two writers can never wait on each other) and on SQLite
//! holds the store's writer lock (SQLite has one writer at a time anyway; taking turns in the process avoids
//! "database is locked" when a reading transaction turns into a writing one).

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, TransactionTrait};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sra_domain::{Actor, Millis};

use crate::sql::Sql;
use crate::{Store, StoreError};

/// The head of an empty chain.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const HEAD: &str = "audit_head";
/// The longest actor recorded, in characters.
const MAX_ACTOR_LEN: usize = crate::audit_listing::MAX_AUDIT_ACTOR_LEN;
/// Rows per multi-row INSERT (7 values each, far below SQLite's 32,766 bound parameters).
const INSERT_CHUNK: usize = 500;

/// A write transaction: the only way to append audit entries.
pub(crate) struct WriteTxn {
    txn: DatabaseTransaction,
    /// The chain's head as this transaction leaves it, once read.
    head: Option<String>,
    dirty: bool,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Store {
    /// Begins a write transaction (see the module docs for why writers take turns).
    pub(crate) async fn begin_write(&self) -> Result<WriteTxn, StoreError> {
        let turn = match self.db.get_database_backend() {
            DbBackend::Sqlite => Some(self.writer.clone().lock_owned().await),
            _ => None,
        };
        let txn = self.db.begin().await?;
        let mut write = WriteTxn { txn, head: None, dirty: false, _turn: turn };
        if write.txn.get_database_backend() == DbBackend::Postgres {
            // Writes look rows up by lists of IDs in tables that grow fast (a gateway's update IDs). PostgreSQL's
            // generic plans for prepared statements, made without the values, stayed sequential scans as such a table
            // grew (measured: one batch's update-ID look-up went from 3 ms to 850 ms within 40,000 updates). Custom
            // plans cost a little planning and fit the values and the table as they are. Reads keep generic plans:
            // their cursor pages gain from them.
            write.txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
            write.head().await?;
        }
        Ok(write)
    }
}

impl WriteTxn {
    /// The chain's head, read (and on PostgreSQL locked) on first use.
    async fn head(&mut self) -> Result<String, StoreError> {
        if let Some(head) = &self.head {
            return Ok(head.clone());
        }
        let mut sql = Sql::new(self.txn.get_database_backend());
        sql.push("SELECT value FROM settings WHERE name = ").bind(HEAD);
        if sql.backend() == DbBackend::Postgres {
            sql.push(" FOR UPDATE");
        }
        let row = self.txn.query_one(sql.build()).await?.ok_or_else(|| StoreError::Corrupt {
            table: "settings",
            column: "value",
            reason: "the audit chain's head is missing".into(),
        })?;
        let head: String = row.try_get("", "value")?;
        self.head = Some(head.clone());
        Ok(head)
    }

    /// Appends entries in order, chaining each to the one before.
    pub(crate) async fn audit_many(&mut self, entries: &[Entry<'_>]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut head = self.head().await?;
        for chunk in entries.chunks(INSERT_CHUNK) {
            let mut sql = Sql::new(self.txn.get_database_backend());
            sql.push("INSERT INTO audit_log (at, actor, action, session_id, details, hash) VALUES ");
            for (i, entry) in chunk.iter().enumerate() {
                // An actor is a login or a gateway name someone sent: bounded here, whatever the edge let through.
                let actor = crate::sign_in::truncate(&entry.actor.to_string(), MAX_ACTOR_LEN);
                let details = entry.details.to_string();
                head = chain(&head, entry.at, &actor, entry.action, entry.session_id, &details);
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(entry.at).push(", ").bind(actor).push(", ").bind(entry.action).push(", ");
                sql.bind(entry.session_id.map(str::to_owned)).push(", ").bind(details).push(", ").bind(head.clone());
                sql.push(")");
            }
            self.txn.execute(sql.build()).await?;
        }
        self.head = Some(head);
        self.dirty = true;
        Ok(())
    }

    /// Commits, moving the chain's head forward if entries were appended.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        if let (true, Some(head)) = (self.dirty, &self.head) {
            let mut sql = Sql::new(self.txn.get_database_backend());
            sql.push("UPDATE settings SET value = ").bind(head.clone()).push(" WHERE name = ").bind(HEAD);
            self.txn.execute(sql.build()).await?;
        }
        self.txn.commit().await?;
        Ok(())
    }
}

/// One audit entry to append.
pub(crate) struct Entry<'a> {
    pub at: Millis,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub session_id: Option<&'a str>,
    pub details: Value,
}

/// Appends one audit entry inside the caller's write transaction.
pub(crate) async fn audit(
    txn: &mut WriteTxn,
    at: Millis,
    actor: &Actor,
    action: &str,
    session_id: Option<&str>,
    details: Value,
) -> Result<(), StoreError> {
    txn.audit_many(&[Entry { at, actor, action, session_id, details }]).await
}

/// The hash of an entry given the one before it.
fn chain(previous: &str, at: Millis, actor: &str, action: &str, session_id: Option<&str>, details: &str) -> String {
    let mut hasher = Sha256::new();
    // Fields are separated by a byte that cannot occur in UTF-8 text, so no two entries encode alike.
    for field in [previous, &at.to_string(), actor, action, session_id.unwrap_or(""), details] {
        hasher.update(field.as_bytes());
        hasher.update([0xff]);
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every entry chains to the one before, and the newest is the recorded head.
    Intact { entries: u64 },
    /// The chain breaks at entry `id`.
    Broken { id: i64, reason: String },
    /// Every entry chains, but the head records a newer entry than the last one present.
    Truncated { last_id: Option<i64> },
}

impl Store {
    /// Chains entries written before the chain existed (databases from before the ingest migration) and creates the
    /// head. Idempotent; run at start-up.
    pub(crate) async fn seal_audit(&self) -> Result<(), StoreError> {
        let mut insert = Sql::new(self.db.get_database_backend());
        insert.push("INSERT INTO settings (name, value) VALUES (").bind(HEAD).push(", ").bind(GENESIS);
        insert.push(") ON CONFLICT (name) DO NOTHING");
        self.db.execute(insert.build()).await?;
        let mut count = Sql::new(self.db.get_database_backend());
        count.push("SELECT COUNT(*) AS n FROM audit_log WHERE hash IS NULL");
        let unsealed: i64 = match self.db.query_one(count.build()).await? {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        if unsealed == 0 {
            return Ok(());
        }
        let mut txn = self.begin_write().await?;
        let mut head = txn.head().await?;
        let rows = txn
            .query_all(sea_orm::Statement::from_string(
                txn.get_database_backend(),
                "SELECT id, at, actor, action, session_id, details, hash FROM audit_log ORDER BY id",
            ))
            .await?;
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let stored: Option<String> = row.try_get("", "hash")?;
            let fields = Fields::read(&row)?;
            let hash =
                chain(&head, fields.at, &fields.actor, &fields.action, fields.session_id.as_deref(), &fields.details);
            if stored.is_none() {
                let mut update = Sql::new(txn.get_database_backend());
                update.push("UPDATE audit_log SET hash = ").bind(hash.clone()).push(" WHERE id = ").bind(id);
                txn.execute(update.build()).await?;
            }
            head = stored.unwrap_or(hash);
        }
        txn.head = Some(head);
        txn.dirty = true;
        txn.commit().await
    }

    /// Walks the whole audit chain, oldest first, and reports the first entry where it breaks.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        const PAGE: i64 = 5_000;
        let backend = self.db.get_database_backend();
        let mut previous = GENESIS.to_owned();
        let mut last_id: Option<i64> = None;
        let mut entries = 0_u64;
        loop {
            let mut sql = Sql::new(backend);
            sql.push("SELECT id, at, actor, action, session_id, details, hash FROM audit_log WHERE id > ")
                .bind(last_id.unwrap_or(i64::MIN))
                .push(" ORDER BY id LIMIT ")
                .bind(PAGE);
            let rows = self.db.query_all(sql.build()).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let id: i64 = row.try_get("", "id")?;
                let stored: Option<String> = row.try_get("", "hash")?;
                let fields = Fields::read(row)?;
                let expected = chain(
                    &previous,
                    fields.at,
                    &fields.actor,
                    &fields.action,
                    fields.session_id.as_deref(),
                    &fields.details,
                );
                let Some(stored) = stored else {
                    return Ok(AuditVerdict::Broken {
                        id,
                        reason: "the entry has no hash (it was inserted outside the store)".into(),
                    });
                };
                if stored != expected {
                    let reason =
                        "its hash does not match its contents and the entry before it: this entry was edited, \
                                  or an entry before it was deleted or moved"
                            .to_owned();
                    return Ok(AuditVerdict::Broken { id, reason });
                }
                previous = stored;
                last_id = Some(id);
                entries += 1;
            }
        }
        let mut head = Sql::new(backend);
        head.push("SELECT value FROM settings WHERE name = ").bind(HEAD);
        let recorded: Option<String> = match self.db.query_one(head.build()).await? {
            Some(row) => Some(row.try_get("", "value")?),
            None => None,
        };
        if recorded.as_deref().is_some_and(|head| head != previous) {
            return Ok(AuditVerdict::Truncated { last_id });
        }
        Ok(AuditVerdict::Intact { entries })
    }
}

/// The hashed fields of a stored entry.
struct Fields {
    at: Millis,
    actor: String,
    action: String,
    session_id: Option<String>,
    details: String,
}

impl Fields {
    fn read(row: &sea_orm::QueryResult) -> Result<Fields, StoreError> {
        Ok(Fields {
            at: row.try_get("", "at")?,
            actor: row.try_get("", "actor")?,
            action: row.try_get("", "action")?,
            session_id: row.try_get("", "session_id")?,
            details: row.try_get("", "details")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_and_the_previous_hash_count() {
        let base = chain(GENESIS, 1, "system", "a", Some("s"), "{}");
        assert_eq!(base.len(), 64);
        assert_ne!(base, chain("1", 1, "system", "a", Some("s"), "{}"));
        assert_ne!(base, chain(GENESIS, 2, "system", "a", Some("s"), "{}"));
        assert_ne!(base, chain(GENESIS, 1, "user:x", "a", Some("s"), "{}"));
        assert_ne!(base, chain(GENESIS, 1, "system", "b", Some("s"), "{}"));
        assert_ne!(base, chain(GENESIS, 1, "system", "a", None, "{}"));
        assert_ne!(base, chain(GENESIS, 1, "system", "a", Some("s"), "{\"x\":1}"));
        // Moving text between fields changes the hash too.
        assert_ne!(chain(GENESIS, 1, "ab", "c", None, ""), chain(GENESIS, 1, "a", "bc", None, ""));
    }
}
