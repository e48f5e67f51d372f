//! The sign-in throttle, shared by every replica: one row per account-and-address pair and per address that has failed
//! sign-ins in its current window (see `sra_store::sign_in`). Rows are removed when their window closes, so the table
//! holds only what the last few minutes' attackers left; refused attempts are counted here and reported in one audit
//! entry per row when it closes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SignInThrottle::Table)
                    .col(ColumnDef::new(SignInThrottle::Key).string().not_null().primary_key())
                    .col(ColumnDef::new(SignInThrottle::Account).string().null())
                    .col(ColumnDef::new(SignInThrottle::Address).string().not_null())
                    .col(ColumnDef::new(SignInThrottle::WindowStart).big_integer().not_null())
                    .col(ColumnDef::new(SignInThrottle::Failures).big_integer().not_null())
                    .col(ColumnDef::new(SignInThrottle::LastFailureAt).big_integer().not_null())
                    .col(ColumnDef::new(SignInThrottle::Refused).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sign_in_throttle_window")
                    .table(SignInThrottle::Table)
                    .col(SignInThrottle::WindowStart)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SignInThrottle::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum SignInThrottle {
    Table,
    Key,
    Account,
    Address,
    WindowStart,
    Failures,
    LastFailureAt,
    Refused,
}
