//! `audit_log (action, id)`: the audit log filtered by action (`session.terminate_requested`) or family
//! (`session.*`, a prefix range), newest first, without walking every entry for a rare action.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_audit_action";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Alias::new("audit_log"))
                    .col(Alias::new("action"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table(Alias::new("audit_log")).to_owned()).await
    }
}
