//! Seals, once, the audit entries written before the chain existed (databases older than the ingest migration, whose
//! entries have no hash), with the unkeyed SHA-256 chain of that time, and records the chain's head. It runs exactly
//! once, as every migration does: from then on an entry without a hash is a break in the chain, and nothing ever
//! hashes existing entries again except the one-time keying of an unkeyed chain (see `sra_store::AuditKeys`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use sha2::{Digest, Sha256};

/// The head of an empty chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry in the unkeyed chain, given the one before it. Fields are separated by a byte that cannot
/// occur in UTF-8 text, so no two entries encode alike.
pub fn unkeyed_chain(
    previous: &str,
    at: i64,
    actor: &str,
    action: &str,
    session_id: Option<&str>,
    details: &str,
) -> String {
    let mut hasher = Sha256::new();
    for field in [previous, &at.to_string(), actor, action, session_id.unwrap_or(""), details] {
        hasher.update(field.as_bytes());
        hasher.update([0xff]);
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let head = db
            .query_one(Statement::from_sql_and_values(
                backend,
                match backend {
                    sea_orm::DbBackend::Postgres => "SELECT value FROM settings WHERE name = $1",
                    _ => "SELECT value FROM settings WHERE name = ?",
                },
                ["audit_head".into()],
            ))
            .await?;
        let mut head: String = match head {
            Some(row) => row.try_get("", "value")?,
            None => GENESIS.to_owned(),
        };
        let rows = db
            .query_all(Statement::from_string(
                backend,
                "SELECT id, at, actor, action, session_id, details, hash FROM audit_log ORDER BY id",
            ))
            .await?;
        let placeholder = |n: usize| match backend {
            sea_orm::DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        };
        for row in rows {
            let stored: Option<String> = row.try_get("", "hash")?;
            if let Some(stored) = stored {
                head = stored;
                continue;
            }
            let id: i64 = row.try_get("", "id")?;
            let at: i64 = row.try_get("", "at")?;
            let actor: String = row.try_get("", "actor")?;
            let action: String = row.try_get("", "action")?;
            let session_id: Option<String> = row.try_get("", "session_id")?;
            let details: String = row.try_get("", "details")?;
            head = unkeyed_chain(&head, at, &actor, &action, session_id.as_deref(), &details);
            let sql = format!("UPDATE audit_log SET hash = {} WHERE id = {}", placeholder(1), placeholder(2));
            db.execute(Statement::from_sql_and_values(backend, sql, [head.clone().into(), id.into()])).await?;
        }
        let sql = format!(
            "INSERT INTO settings (name, value) VALUES ({}, {}) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            placeholder(1),
            placeholder(2)
        );
        db.execute(Statement::from_sql_and_values(backend, sql, ["audit_head".into(), head.into()])).await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Sealing cannot be undone: the hashes are part of the record.
        Ok(())
    }
}
