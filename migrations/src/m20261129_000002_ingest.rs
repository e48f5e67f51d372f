//! Gateway ingest: per-gateway credentials, idempotent update IDs, liveness and termination requests on sessions, and
//! the audit log's hash chain.
//!
//! - `gateways.credential_hash`: SHA-256 of the gateway's API key (unique; NULL until an admin issues one).
//! - `gateway_updates (gateway_id, update_id)`: every update ID a gateway has had acknowledged, so a retried update is
//!   recognised in the same transaction that would apply it.
//! - `sessions.last_seen_at`: the last time the gateway reported the session (an update or a heartbeat naming it);
//!   active sessions not seen for the configured time are closed as lost.
//! - `sessions.terminate_requested_at/_by`: a pending termination, handed to the gateway in its heartbeat answers.
//! - `audit_log.hash`: SHA-256 over the previous entry's hash and this entry's fields (see `sra_store::audit`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let add = |table: Alias, column: ColumnDef| Table::alter().table(table).add_column(column).to_owned();
        manager
            .alter_table(add(
                Alias::new("gateways"),
                ColumnDef::new(Alias::new("credential_hash")).string().null().to_owned(),
            ))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("gateways_credential_hash")
                    .table(Alias::new("gateways"))
                    .col(Alias::new("credential_hash"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        for column in ["last_seen_at", "terminate_requested_at"] {
            manager
                .alter_table(add(
                    Alias::new("sessions"),
                    ColumnDef::new(Alias::new(column)).big_integer().null().to_owned(),
                ))
                .await?;
        }
        manager
            .alter_table(add(
                Alias::new("sessions"),
                ColumnDef::new(Alias::new("terminate_requested_by")).string().null().to_owned(),
            ))
            .await?;
        manager
            .alter_table(add(Alias::new("audit_log"), ColumnDef::new(Alias::new("hash")).string().null().to_owned()))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GatewayUpdates::Table)
                    .col(ColumnDef::new(GatewayUpdates::GatewayId).big_integer().not_null())
                    .col(ColumnDef::new(GatewayUpdates::UpdateId).string().not_null())
                    .col(ColumnDef::new(GatewayUpdates::SessionId).string().not_null())
                    .col(ColumnDef::new(GatewayUpdates::Outcome).string().not_null())
                    .col(ColumnDef::new(GatewayUpdates::ReceivedAt).big_integer().not_null())
                    .primary_key(Index::create().col(GatewayUpdates::GatewayId).col(GatewayUpdates::UpdateId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(GatewayUpdates::Table, GatewayUpdates::GatewayId)
                            .to(Alias::new("gateways"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(GatewayUpdates::Table).to_owned()).await?;
        manager
            .drop_index(Index::drop().name("gateways_credential_hash").table(Alias::new("gateways")).to_owned())
            .await?;
        for (table, column) in [
            ("audit_log", "hash"),
            ("sessions", "terminate_requested_by"),
            ("sessions", "terminate_requested_at"),
            ("sessions", "last_seen_at"),
            ("gateways", "credential_hash"),
        ] {
            manager
                .alter_table(Table::alter().table(Alias::new(table)).drop_column(Alias::new(column)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum GatewayUpdates {
    Table,
    GatewayId,
    UpdateId,
    SessionId,
    Outcome,
    ReceivedAt,
}
