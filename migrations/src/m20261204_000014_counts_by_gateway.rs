//! The counts roll-up (migration 7) gains, per gateway and day, rows by status alone: `gateway_id` the gateway's id
//! negated, resource type and client interface empty. Counting by gateway, or over chosen gateways without a resource
//! type or interface filter, adds these few rows instead of one per kind (see `store/src/rollup.rs`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

/// The per-gateway bucket length (a day), as migration 7 uses it.
const DAY_MS: i64 = 86_400_000;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO session_counts (gateway_id, span_ms, bucket, resource_type, client_interface, status, \
                 sessions) SELECT -gateway_id, {DAY_MS}, (started_at / {DAY_MS}) * {DAY_MS} AS b, '', '', status, \
                 COUNT(*) FROM sessions GROUP BY gateway_id, b, status"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DELETE FROM session_counts WHERE gateway_id < 0").await?;
        Ok(())
    }
}
