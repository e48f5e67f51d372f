//! `audit_destinations`: where the audit log is delivered (a SIEM's webhook), and how far each has got.
//!
//! `position` is the last audit entry the destination acknowledged: delivery resumes after it, on whichever replica
//! leads, after any restart (at least once: a batch whose acknowledgement was lost is sent again). The signing secret
//! is kept as given (each delivery is signed with it; it is never shown again after it is created).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (id, int) = match db.get_database_backend() {
            DbBackend::Postgres => ("BIGSERIAL PRIMARY KEY", "BIGINT"),
            _ => ("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER"),
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE audit_destinations (id {id}, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL, \
             secret TEXT NOT NULL, position {int} NOT NULL, delivered_at {int}, failures {int} NOT NULL, \
             last_error TEXT, last_error_at {int}, created_at {int} NOT NULL)"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS audit_destinations").await?;
        Ok(())
    }
}
