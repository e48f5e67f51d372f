//! A trigram index for the free-text search, so that a search for a rare text (a user's name, a session ID) reads the
//! few sessions that contain it instead of testing every session of the timeframe (2.7 s at a million sessions).
//!
//! The search looks for its text inside five columns: user, session ID, secret, target name and target host.
//! - SQLite: an FTS5 table with the `trigram` tokenizer over those columns, its content read from `sessions` (no copy of
//!   the text), with `detail=none` (no positions: a third of the size, and candidates are checked against the row
//!   anyway) and `columnsize=0` (no per-row size table, which nothing here reads: it halved the ingest rate). Triggers keep it in step with `sessions` inside the writing transaction, and re-index a row only when one
//!   of its searched columns changes (a status update does not touch the index).
//! - PostgreSQL: `pg_trgm` GIN indexes over the lower-cased columns, which `LIKE '%…%'` uses directly. `pg_trgm` ships
//!   with PostgreSQL (contrib) and is a trusted extension: the database owner may create it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The searched columns, in the index's order.
const COLUMNS: [&str; 5] = ["user_identifier", "session_id", "secret_name", "target_name", "target_host"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let columns = COLUMNS.join(", ");
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
                for column in COLUMNS {
                    db.execute_unprepared(&format!(
                        "CREATE INDEX idx_sessions_search_{column} ON sessions USING gin (lower({column}) gin_trgm_ops)"
                    ))
                    .await?;
                }
            }
            _ => {
                let new = COLUMNS.map(|c| format!("new.{c}")).join(", ");
                let old = COLUMNS.map(|c| format!("old.{c}")).join(", ");
                let changed = COLUMNS.map(|c| format!("old.{c} IS NOT new.{c}")).join(" OR ");
                db.execute_unprepared(&format!(
                    "CREATE VIRTUAL TABLE session_search USING fts5({columns}, content='sessions', content_rowid='id', \
                     tokenize='trigram', detail=none, columnsize=0)"
                ))
                .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER session_search_insert AFTER INSERT ON sessions BEGIN \
                     INSERT INTO session_search (rowid, {columns}) VALUES (new.id, {new}); END"
                ))
                .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER session_search_delete AFTER DELETE ON sessions BEGIN \
                     INSERT INTO session_search (session_search, rowid, {columns}) VALUES ('delete', old.id, {old}); END"
                ))
                .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER session_search_update AFTER UPDATE ON sessions WHEN {changed} BEGIN \
                     INSERT INTO session_search (session_search, rowid, {columns}) VALUES ('delete', old.id, {old}); \
                     INSERT INTO session_search (rowid, {columns}) VALUES (new.id, {new}); END"
                ))
                .await?;
                db.execute_unprepared("INSERT INTO session_search (session_search) VALUES ('rebuild')").await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                for column in COLUMNS {
                    db.execute_unprepared(&format!("DROP INDEX IF EXISTS idx_sessions_search_{column}")).await?;
                }
            }
            _ => {
                for trigger in ["session_search_insert", "session_search_delete", "session_search_update"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger}")).await?;
                }
                db.execute_unprepared("DROP TABLE IF EXISTS session_search").await?;
            }
        }
        Ok(())
    }
}
