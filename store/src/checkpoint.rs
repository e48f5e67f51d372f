//! Signed checkpoints of the audit chain: now and then the head (entry count, last entry, its hash) is signed with the
//! Ed25519 checkpoint key and appended to a file outside the database (and logged). Whoever holds the database and the
//! chain key could rewrite the whole chain consistently; they cannot sign a checkpoint, so `audit verify
//! --checkpoints FILE` proves that no entry up to each checkpoint was edited, deleted, reordered or cut off.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::Path;

use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use sra_domain::Millis;

use crate::audit::HEAD;
use crate::audit_keys::AuditKeys;
use crate::sql::Sql;
use crate::{Store, StoreError};

/// The longest checkpoint line read back (a real one is about 300 bytes).
const MAX_LINE: usize = 4_096;

/// One signed statement of the chain's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// When it was taken (epoch milliseconds).
    pub at: Millis,
    /// How many entries the chain held.
    pub entries: u64,
    /// The newest entry's ID, and its hash (the chain's head).
    pub last_id: i64,
    pub head: String,
    /// Ed25519 over the fields above.
    pub signature: String,
}

/// A checkpoint file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointFileError {
    #[error("cannot read the checkpoint file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the checkpoint file {path}, line {line}: {reason}")]
    Invalid { path: String, line: usize, reason: String },
    #[error("cannot append to the checkpoint file {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

impl Checkpoint {
    fn message(at: Millis, entries: u64, last_id: i64, head: &str) -> Vec<u8> {
        format!("sra-audit-checkpoint/v1\n{at}\n{entries}\n{last_id}\n{head}").into_bytes()
    }

    /// The chain's state (`entries` in all, the last one's ID and hash) at `at`, signed with the checkpoint key.
    pub(crate) fn sign(keys: &AuditKeys, at: Millis, entries: u64, last_id: i64, head: String) -> Checkpoint {
        let signature = keys.sign(&Checkpoint::message(at, entries, last_id, &head));
        Checkpoint { at, entries, last_id, head, signature }
    }

    pub(crate) fn signed_by(&self, keys: &AuditKeys) -> bool {
        keys.verify_signature(&Checkpoint::message(self.at, self.entries, self.last_id, &self.head), &self.signature)
    }

    pub(crate) fn missing(&self) -> String {
        format!(
            "the checkpoint of {} ({} entries, the last #{}) names an entry that is not there: entries were deleted or cut off",
            self.at, self.entries, self.last_id
        )
    }

    pub(crate) fn differs(&self, entries: u64) -> String {
        format!(
            "the checkpoint of {} recorded {} entries up to here with another hash; the chain now has {entries}: entries \
             up to here were rewritten",
            self.at, self.entries
        )
    }

    /// Appends this checkpoint as one JSON line to `path` (created with its folder if needed) and syncs it to disk.
    pub fn append_to(&self, path: &Path) -> Result<(), CheckpointFileError> {
        let write = || -> std::io::Result<()> {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
            let line = serde_json::to_string(self).map_err(std::io::Error::other)?;
            writeln!(file, "{line}")?;
            file.sync_all()
        };
        write().map_err(|source| CheckpointFileError::Write { path: path.display().to_string(), source })
    }
}

/// Reads a checkpoint file: one JSON checkpoint per line.
pub fn read_checkpoints(path: &Path) -> Result<Vec<Checkpoint>, CheckpointFileError> {
    let file = std::fs::File::open(path)
        .map_err(|source| CheckpointFileError::Read { path: path.display().to_string(), source })?;
    let mut checkpoints = Vec::new();
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|source| CheckpointFileError::Read { path: path.display().to_string(), source })?;
        if read == 0 {
            break;
        }
        let invalid =
            |reason: String| CheckpointFileError::Invalid { path: path.display().to_string(), line: number, reason };
        if line.len() > MAX_LINE {
            return Err(invalid(format!("longer than {MAX_LINE} bytes")));
        }
        let text = std::str::from_utf8(&line).map_err(|_| invalid("not UTF-8".into()))?.trim();
        if text.is_empty() {
            continue;
        }
        checkpoints.push(serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?);
    }
    Ok(checkpoints)
}

impl Store {
    /// Signs the chain's state now: `None` while the chain is empty. Taken inside a write transaction, so the head,
    /// the count and the newest entry belong together.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let txn = self.begin_write().await?;
        let backend = txn.get_database_backend();
        let mut sql = Sql::new(backend);
        sql.push("SELECT COUNT(*) AS n, MAX(id) AS last_id FROM audit_log");
        let row = txn.query_one(sql.build()).await?;
        let (entries, last_id): (i64, Option<i64>) = match row {
            Some(row) => (row.try_get("", "n")?, row.try_get("", "last_id")?),
            None => (0, None),
        };
        let Some(last_id) = last_id else { return Ok(None) };
        let mut sql = Sql::new(backend);
        sql.push("SELECT hash FROM audit_log WHERE id = ").bind(last_id);
        let head: Option<String> = match txn.query_one(sql.build()).await? {
            Some(row) => row.try_get("", "hash")?,
            None => None,
        };
        let mut recorded = Sql::new(backend);
        recorded.push("SELECT value FROM settings WHERE name = ").bind(HEAD);
        let recorded: Option<String> = match txn.query_one(recorded.build()).await? {
            Some(row) => Some(row.try_get("", "value")?),
            None => None,
        };
        drop(txn);
        // Never sign a state that is already wrong: the head must be the newest entry's hash.
        let head = match (head, recorded) {
            (Some(head), Some(recorded)) if head == recorded => head,
            _ => {
                return Err(StoreError::Corrupt {
                    table: "audit_log",
                    column: "hash",
                    reason: format!("the newest entry #{last_id} is not the recorded head: not signing it"),
                })
            }
        };
        // Entries pruned before the first one present still count (see `retention`).
        let pruned = crate::retention::anchor(&self.db).await?.map_or(0, |a| a.entries);
        Ok(Some(Checkpoint::sign(&self.keys, crate::now_ms(), pruned + entries as u64, last_id, head)))
    }
}
