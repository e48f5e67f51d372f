//! `sessions.termination_reason`: why a termination was requested (required since this migration; earlier requests
//! have none). Kept after the session ends, as `terminate_requested_by` is.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("sessions"))
                    .add_column(ColumnDef::new(Alias::new("termination_reason")).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Alias::new("sessions")).drop_column(Alias::new("termination_reason")).to_owned(),
            )
            .await
    }
}
