//! `user_blocks`: users kept from opening new sessions on a gateway until a time, placed with a termination and
//! liftable. Gateways learn the live ones in their heartbeat answers; `(gateway_id, until)` finds those.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserBlocks {
    Table,
    Id,
    UserIdentifier,
    GatewayId,
    BlockedAt,
    Until,
    BlockedBy,
    Reason,
    LiftedAt,
    LiftedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserBlocks::Table)
                    .col(ColumnDef::new(UserBlocks::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(UserBlocks::UserIdentifier).string().not_null())
                    .col(ColumnDef::new(UserBlocks::GatewayId).big_integer().not_null())
                    .col(ColumnDef::new(UserBlocks::BlockedAt).big_integer().not_null())
                    .col(ColumnDef::new(UserBlocks::Until).big_integer().not_null())
                    .col(ColumnDef::new(UserBlocks::BlockedBy).string().not_null())
                    .col(ColumnDef::new(UserBlocks::Reason).text().not_null())
                    .col(ColumnDef::new(UserBlocks::LiftedAt).big_integer().null())
                    .col(ColumnDef::new(UserBlocks::LiftedBy).string().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserBlocks::Table, UserBlocks::GatewayId)
                            .to(Alias::new("gateways"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_blocks_gateway")
                    .table(UserBlocks::Table)
                    .col(UserBlocks::GatewayId)
                    .col(UserBlocks::Until)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(UserBlocks::Table).to_owned()).await
    }
}
