//! The audit log: append-only, tamper-evident, written only inside write transactions.
//!
//! Every entry carries `hash = HMAC-SHA256(chain key; previous entry's hash, at, actor, action, session ID, details)`,
//! and the hash of the newest entry is kept as the chain's head in `settings.audit_head`. The chain key is not in the
//! database ([`AuditKeys`]): write access to the database alone cannot recompute the chain, so editing an entry,
//! deleting or reordering entries, setting hashes to NULL or cutting off the newest ones is found by
//! [`verify_audit`], which names the first entry where the chain breaks. Signed checkpoints of the head, kept outside
//! the database, cover what even the chain key's holder could rewrite (see `checkpoint`).
//!
//! Appending needs the head, so audit writers take turns: every write goes through [`WriteTxn`], which on PostgreSQL
//! locks the head row first thing (before any other row, so two writers can never wait on each other) and on SQLite
//! holds the store's writer lock (SQLite has one writer at a time anyway; taking turns in the process avoids
//! "database is locked" when a reading transaction turns into a writing one).

use hmac::Mac;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, TransactionTrait};
use serde_json::Value;
use sra_domain::{Actor, Millis};
use sra_migrations::GENESIS;

use crate::audit_keys::{hex, AuditKeys, KeyOrigin};
use crate::checkpoint::Checkpoint;
use crate::sql::Sql;
use crate::{Store, StoreError};

pub(crate) const HEAD: &str = "audit_head";
/// The setting that holds the chain key's check value ([`AuditKeys::id`]) once the chain is keyed.
const KEY_ID: &str = "audit_key";
/// The longest actor recorded, in characters.
const MAX_ACTOR_LEN: usize = crate::audit_listing::MAX_AUDIT_ACTOR_LEN;
/// Rows per multi-row INSERT (7 values each, far below SQLite's 32,766 bound parameters).
const INSERT_CHUNK: usize = 500;

/// A write transaction: the only way to append audit entries.
pub(crate) struct WriteTxn {
    txn: DatabaseTransaction,
    keys: std::sync::Arc<AuditKeys>,
    health: std::sync::Arc<crate::outage::WriteHealth>,
    /// The chain's head as this transaction leaves it, once read.
    head: Option<String>,
    dirty: bool,
    feed: std::sync::Arc<crate::changes::ChangeFeed>,
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
        let txn = match self.writes.begin().await {
            Ok(txn) => txn,
            Err(e) => {
                let e = StoreError::from(e);
                self.write_health.note(Err(&e));
                return Err(e);
            }
        };
        let health = self.write_health.clone();
        let mut write = WriteTxn {
            txn,
            keys: self.keys.clone(),
            health,
            head: None,
            dirty: false,
            feed: self.feed.clone(),
            _turn: turn,
        };
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
                head = chain(&self.keys, &head, entry.at, &actor, entry.action, entry.session_id, &details);
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
        let (health, wrote, feed) = (self.health.clone(), self.dirty, self.feed.clone());
        let committed = async {
            if let (true, Some(head)) = (self.dirty, &self.head) {
                let mut sql = Sql::new(self.txn.get_database_backend());
                sql.push("UPDATE settings SET value = ").bind(head.clone()).push(" WHERE name = ").bind(HEAD);
                self.txn.execute(sql.build()).await?;
                if let Some(notify) = crate::changes::notify_statement(self.txn.get_database_backend()) {
                    self.txn.execute_unprepared(&notify).await?;
                }
            }
            self.txn.commit().await?;
            Ok(())
        }
        .await;
        // Only a write that appended something says writes work again (a probe that wrote nothing lasting does not).
        match &committed {
            Ok(()) if wrote => {
                health.note(Ok(()));
                feed.moved();
            }
            Ok(()) => {}
            Err(e) => health.note(Err(e)),
        }
        committed
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

/// The hash of an entry given the one before it. Fields are separated by a byte that cannot occur in UTF-8 text, so no
/// two entries encode alike. (Also used by the test helpers that play an attacker holding the key.)
pub(crate) fn chain(
    keys: &AuditKeys,
    previous: &str,
    at: Millis,
    actor: &str,
    action: &str,
    session_id: Option<&str>,
    details: &str,
) -> String {
    let mut mac = keys.mac();
    for field in [previous, &at.to_string(), actor, action, session_id.unwrap_or(""), details] {
        mac.update(field.as_bytes());
        mac.update(&[0xff]);
    }
    hex(&mac.finalize().into_bytes())
}

/// What [`verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every entry chains to the one before, the newest is the recorded head, and every checkpoint given matches.
    Intact { entries: u64, checkpoints: usize },
    /// The chain breaks at entry `id` (0: before the first entry).
    Broken { id: i64, reason: String },
    /// Every entry present chains, but newer ones were cut off (the head or a checkpoint records more).
    Truncated { last_id: Option<i64>, reason: String },
    /// The key file is not the one the chain was written with.
    WrongKey,
}

impl Store {
    /// Makes sure the chain is kept with these keys. A chain with a key record must have been written with this key
    /// (a different key file is refused, never written over). A chain without one gets it: an empty chain at once; an
    /// unkeyed chain from before audit keys is checked and then hashed again with the key, in one transaction, with an
    /// audit entry saying so — but only by a key made at this start, so that removing the record from the database
    /// cannot get a rewritten history keyed by the running servers' key.
    pub(crate) async fn adopt_audit_key(&self) -> Result<(), StoreError> {
        let backend = self.db.get_database_backend();
        if let Some(recorded) = setting(&self.db, KEY_ID).await? {
            return self.same_key(&recorded);
        }
        let mut txn = self.begin_write().await?;
        let mut count = Sql::new(backend);
        count.push("SELECT COUNT(*) AS n FROM audit_log");
        let entries: i64 = match txn.query_one(count.build()).await? {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        // Another replica may have keyed it meanwhile (on PostgreSQL the head's lock orders us after it).
        if let Some(recorded) = setting(&*txn, KEY_ID).await? {
            return self.same_key(&recorded);
        }
        if entries > 0 {
            if self.keys.origin() != KeyOrigin::Created {
                return Err(StoreError::AuditUnkeyed {
                    reason: "the database's chain has no key record, and the key file given already existed: either \
                             the record was removed from the database (run `sra-server admin audit verify`), or this \
                             database comes from a version without audit keys and was given another database's key \
                             file; to key it, start once with a new key file"
                        .into(),
                });
            }
            self.key_unkeyed_chain(&mut txn).await?;
        }
        let mut record = Sql::new(backend);
        record.push("INSERT INTO settings (name, value) VALUES (").bind(KEY_ID).push(", ").bind(self.keys.id());
        record.push(")");
        txn.execute(record.build()).await?;
        txn.commit().await
    }

    /// Whether the chain's recorded key check value is this key's.
    fn same_key(&self, recorded: &str) -> Result<(), StoreError> {
        if recorded == self.keys.id() {
            Ok(())
        } else {
            Err(StoreError::AuditKeyMismatch)
        }
    }

    /// Checks the unkeyed chain of an older database and hashes every entry again with the chain key.
    async fn key_unkeyed_chain(&self, txn: &mut WriteTxn) -> Result<(), StoreError> {
        let rows = txn
            .query_all(sea_orm::Statement::from_string(
                txn.get_database_backend(),
                "SELECT id, at, actor, action, session_id, details, hash FROM audit_log ORDER BY id",
            ))
            .await?;
        let (mut unkeyed, mut keyed) = (GENESIS.to_owned(), GENESIS.to_owned());
        let entries = rows.len();
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let stored: Option<String> = row.try_get("", "hash")?;
            let f = Fields::read(&row)?;
            let sid = f.session_id.as_deref();
            unkeyed = sra_migrations::unkeyed_chain(&unkeyed, f.at, &f.actor, &f.action, sid, &f.details);
            if stored.as_deref() != Some(unkeyed.as_str()) {
                return Err(StoreError::AuditUnkeyed {
                    reason: format!(
                        "the unkeyed chain breaks at entry {id}, so it was not keyed; it needs looking into"
                    ),
                });
            }
            keyed = chain(&self.keys, &keyed, f.at, &f.actor, &f.action, sid, &f.details);
            let mut update = Sql::new(txn.get_database_backend());
            update.push("UPDATE audit_log SET hash = ").bind(keyed.clone()).push(" WHERE id = ").bind(id);
            txn.execute(update.build()).await?;
        }
        if setting(&**txn, HEAD).await?.as_deref().is_some_and(|head| head != unkeyed) {
            return Err(StoreError::AuditUnkeyed {
                reason: "the unkeyed chain's recorded head is not its last entry (entries were cut off)".into(),
            });
        }
        txn.head = Some(keyed);
        let details = serde_json::json!({ "entries": entries, "key": self.keys.id() });
        audit(txn, crate::now_ms(), &Actor::System, "audit.chain_keyed", None, details).await?;
        tracing::warn!(entries, "the audit chain was written without a key: checked, and keyed with the audit key");
        Ok(())
    }

    /// Walks the whole audit chain, oldest first, and reports the first entry where it breaks.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        walk(&self.db, &self.keys, &[]).await
    }

    /// [`Store::verify_audit`], checking `checkpoints` on the way.
    pub async fn verify_audit_with(&self, checkpoints: &[Checkpoint]) -> Result<AuditVerdict, StoreError> {
        walk(&self.db, &self.keys, checkpoints).await
    }
}

/// Walks the chain of the database at `url` without writing to it: SQLite is opened read-only, PostgreSQL sessions are
/// read-only; no migration runs. `checkpoints` (from [`read_checkpoints`]) are checked on the way.
pub async fn verify_audit(url: &str, keys: &AuditKeys, checkpoints: &[Checkpoint]) -> Result<AuditVerdict, StoreError> {
    let db = crate::connect::open_read_only(url).await?;
    let verdict = walk(&db, keys, checkpoints).await;
    db.close().await.ok();
    verdict
}

async fn setting(db: &impl ConnectionTrait, name: &str) -> Result<Option<String>, StoreError> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT value FROM settings WHERE name = ").bind(name);
    Ok(match db.query_one(sql.build()).await? {
        Some(row) => Some(row.try_get("", "value")?),
        None => None,
    })
}

async fn walk(
    db: &impl ConnectionTrait,
    keys: &AuditKeys,
    checkpoints: &[Checkpoint],
) -> Result<AuditVerdict, StoreError> {
    const PAGE: i64 = 5_000;
    let backend = db.get_database_backend();
    match setting(db, KEY_ID).await? {
        Some(recorded) if recorded == keys.id() => {}
        Some(_) => return Ok(AuditVerdict::WrongKey),
        None => {
            return Ok(AuditVerdict::Broken {
                id: 0,
                reason: "the database has no record of the chain's key: it was removed, or the chain was never keyed"
                    .into(),
            })
        }
    }
    for (n, checkpoint) in checkpoints.iter().enumerate() {
        if !checkpoint.signed_by(keys) {
            return Ok(AuditVerdict::Broken {
                id: checkpoint.last_id,
                reason: format!("checkpoint #{} is not signed by this checkpoint key", n + 1),
            });
        }
    }
    // After pruning, the chain starts at its signed anchor: the last entry deleted, its hash and how many went.
    let anchor = crate::retention::anchor(db).await?;
    if let Some(anchor) = &anchor {
        if !anchor.signed_by(keys) {
            let reason = "the anchor the pruned chain starts from is not signed by this checkpoint key: it was forged                           or altered, and entries before the first one present may be missing";
            return Ok(AuditVerdict::Broken { id: anchor.last_id, reason: reason.into() });
        }
    }
    // Checkpoints of entries pruned since are covered by the anchor, which was signed when they were deleted.
    let mut pending: Vec<&Checkpoint> =
        checkpoints.iter().filter(|c| anchor.as_ref().is_none_or(|a| c.last_id > a.last_id)).collect();
    pending.sort_by_key(|c| c.last_id);
    let mut pending = pending.into_iter().peekable();
    let mut previous = anchor.as_ref().map_or_else(|| GENESIS.to_owned(), |a| a.head.clone());
    let mut last_id: Option<i64> = anchor.as_ref().map(|a| a.last_id);
    let mut entries = anchor.as_ref().map_or(0, |a| a.entries);
    loop {
        let mut sql = Sql::new(backend);
        sql.push("SELECT id, at, actor, action, session_id, details, hash FROM audit_log WHERE id > ")
            .bind(last_id.unwrap_or(i64::MIN))
            .push(" ORDER BY id LIMIT ")
            .bind(PAGE);
        let rows = db.query_all(sql.build()).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let stored: Option<String> = row.try_get("", "hash")?;
            let f = Fields::read(row)?;
            let expected = chain(keys, &previous, f.at, &f.actor, &f.action, f.session_id.as_deref(), &f.details);
            // A checkpoint whose entry is gone: entries up to it were deleted.
            if let Some(checkpoint) = pending.next_if(|c| c.last_id < id) {
                return Ok(AuditVerdict::Broken { id, reason: checkpoint.missing() });
            }
            let Some(stored) = stored else {
                return Ok(AuditVerdict::Broken { id, reason: "the entry has no hash".into() });
            };
            if stored != expected {
                let reason = "its hash does not match its contents and the entry before it: this entry was edited, \
                              or an entry before it was deleted or moved, or the chain was hashed without the key";
                return Ok(AuditVerdict::Broken { id, reason: reason.into() });
            }
            entries += 1;
            if let Some(checkpoint) = pending.next_if(|c| c.last_id == id) {
                if checkpoint.head != stored || checkpoint.entries != entries {
                    return Ok(AuditVerdict::Broken { id, reason: checkpoint.differs(entries) });
                }
            }
            previous = stored;
            last_id = Some(id);
        }
    }
    if let Some(checkpoint) = pending.next() {
        return Ok(AuditVerdict::Truncated { last_id, reason: checkpoint.missing() });
    }
    if setting(db, HEAD).await?.is_some_and(|head| head != previous) {
        let reason = "the recorded head is a newer entry than the last one present: entries were cut off".to_owned();
        return Ok(AuditVerdict::Truncated { last_id, reason });
    }
    Ok(AuditVerdict::Intact { entries, checkpoints: checkpoints.len() })
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
    fn every_field_the_previous_hash_and_the_key_count() {
        let k = AuditKeys::generate();
        let base = chain(&k, GENESIS, 1, "system", "a", Some("s"), "{}");
        assert_eq!(base.len(), 64);
        assert_ne!(base, chain(&k, "1", 1, "system", "a", Some("s"), "{}"));
        assert_ne!(base, chain(&k, GENESIS, 2, "system", "a", Some("s"), "{}"));
        assert_ne!(base, chain(&k, GENESIS, 1, "user:x", "a", Some("s"), "{}"));
        assert_ne!(base, chain(&k, GENESIS, 1, "system", "b", Some("s"), "{}"));
        assert_ne!(base, chain(&k, GENESIS, 1, "system", "a", None, "{}"));
        assert_ne!(base, chain(&k, GENESIS, 1, "system", "a", Some("s"), "{\"x\":1}"));
        // Moving text between fields changes the hash too.
        assert_ne!(chain(&k, GENESIS, 1, "ab", "c", None, ""), chain(&k, GENESIS, 1, "a", "bc", None, ""));
        // Without the key, nobody computes the same hash.
        assert_ne!(base, chain(&AuditKeys::generate(), GENESIS, 1, "system", "a", Some("s"), "{}"));
        assert_ne!(base, sra_migrations::unkeyed_chain(GENESIS, 1, "system", "a", Some("s"), "{}"));
    }
}
