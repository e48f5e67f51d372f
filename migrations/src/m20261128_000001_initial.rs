//! The initial schema: gateways, users and roles (with their SRA rule), sessions and the audit log.
//!
//! Times are `BIGINT` milliseconds since the Unix epoch (see `sra_domain::Millis`); enums are stored as their
//! lower-case wire names and parsed back at the store boundary.
//!
//! Indexes follow the overview's queries. Every list is "sessions overlapping a time window, newest first", narrowed by
//! the caller's visibility and the filters:
//! - `sessions (started_at, session_id)`: the window and the default order (newest first) for every caller; the
//!   session ID is the tie-breaker that makes the order total, so keyset pages never skip or repeat a row.
//! - `sessions (gateway_id, started_at, session_id)`: Own visibility and the gateway filter — a range per gateway.
//! - `sessions (user_identifier, started_at, session_id)`: Self visibility — a user's own sessions without touching
//!   anyone else's.
//! - `sessions (status, started_at, session_id)`: the status filter, above all the CLI's and API's default (active
//!   only), a tiny fraction of the table.
//!
//! On PostgreSQL the text columns that are sorted on use the "C" collation, so text orders byte by byte exactly as on
//! SQLite (and in Rust): the same query gives the same order, and cursors mean the same thing, on both engines.
//! - `sessions (status, gateway_id, started_at, session_id)`: a status filter within Own visibility (e.g. "active
//!   sessions of my 20 gateways"): one short range per gateway and status instead of every session of the gateway.
//! - `sessions (ended_at)`: the sessions that started before a window but still overlap it (ended inside it, or not
//!   ended at all) — few, and found without reading the older history.
//! - `audit_log (session_id, id)`: a session's audit timeline; `audit_log (at)`: audit by time range.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Gateways::Table)
                    .col(pk(Gateways::Id))
                    .col(ColumnDef::new(Gateways::Name).string().not_null().unique_key())
                    .col(text_c(manager, Gateways::DisplayName).not_null())
                    .col(ColumnDef::new(Gateways::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk(Users::Id))
                    .col(ColumnDef::new(Users::Login).string().not_null().unique_key())
                    .col(ColumnDef::new(Users::DisplayName).string().not_null())
                    .col(ColumnDef::new(Users::PasswordHash).string().null())
                    .col(ColumnDef::new(Users::Disabled).boolean().not_null().default(false))
                    .col(ColumnDef::new(Users::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(pk(Roles::Id))
                    .col(ColumnDef::new(Roles::Name).string().not_null().unique_key())
                    .col(ColumnDef::new(Roles::SraRule).string().not_null().default("none"))
                    .col(ColumnDef::new(Roles::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserRoles::Table)
                    .col(ColumnDef::new(UserRoles::UserId).big_integer().not_null())
                    .col(ColumnDef::new(UserRoles::RoleId).big_integer().not_null())
                    .primary_key(Index::create().col(UserRoles::UserId).col(UserRoles::RoleId))
                    .foreign_key(&mut fk(UserRoles::Table, UserRoles::UserId, Users::Table, Users::Id))
                    .foreign_key(&mut fk(UserRoles::Table, UserRoles::RoleId, Roles::Table, Roles::Id))
                    .to_owned(),
            )
            .await?;
        index(manager, UserRoles::Table, "idx_user_roles_role", &[UserRoles::RoleId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(RoleGateways::Table)
                    .col(ColumnDef::new(RoleGateways::RoleId).big_integer().not_null())
                    .col(ColumnDef::new(RoleGateways::GatewayId).big_integer().not_null())
                    .primary_key(Index::create().col(RoleGateways::RoleId).col(RoleGateways::GatewayId))
                    .foreign_key(&mut fk(RoleGateways::Table, RoleGateways::RoleId, Roles::Table, Roles::Id))
                    .foreign_key(&mut fk(RoleGateways::Table, RoleGateways::GatewayId, Gateways::Table, Gateways::Id))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk(Sessions::Id))
                    .col(text_c(manager, Sessions::SessionId).not_null().unique_key())
                    .col(text_c(manager, Sessions::UserIdentifier).not_null())
                    .col(ColumnDef::new(Sessions::AccessId).string().null())
                    .col(text_c(manager, Sessions::ClientInterface).not_null())
                    .col(ColumnDef::new(Sessions::GatewayId).big_integer().not_null())
                    .col(text_c(manager, Sessions::ResourceType).not_null())
                    .col(text_c(manager, Sessions::SecretName).not_null())
                    .col(ColumnDef::new(Sessions::TargetName).string().not_null())
                    .col(ColumnDef::new(Sessions::TargetHost).string().not_null())
                    .col(ColumnDef::new(Sessions::Status).string().not_null())
                    .col(ColumnDef::new(Sessions::StartedAt).big_integer().not_null())
                    .col(ColumnDef::new(Sessions::EndedAt).big_integer().null())
                    .col(ColumnDef::new(Sessions::ErrorMessage).string().null())
                    .col(ColumnDef::new(Sessions::UpdatedAt).big_integer().not_null())
                    .foreign_key(&mut fk(Sessions::Table, Sessions::GatewayId, Gateways::Table, Gateways::Id))
                    .to_owned(),
            )
            .await?;
        index(manager, Sessions::Table, "idx_sessions_started", &[Sessions::StartedAt, Sessions::SessionId]).await?;
        index(
            manager,
            Sessions::Table,
            "idx_sessions_gateway_started",
            &[Sessions::GatewayId, Sessions::StartedAt, Sessions::SessionId],
        )
        .await?;
        index(
            manager,
            Sessions::Table,
            "idx_sessions_user_started",
            &[Sessions::UserIdentifier, Sessions::StartedAt, Sessions::SessionId],
        )
        .await?;
        index(manager, Sessions::Table, "idx_sessions_ended", &[Sessions::EndedAt]).await?;
        index(
            manager,
            Sessions::Table,
            "idx_sessions_status_gateway_started",
            &[Sessions::Status, Sessions::GatewayId, Sessions::StartedAt, Sessions::SessionId],
        )
        .await?;
        index(
            manager,
            Sessions::Table,
            "idx_sessions_status_started",
            &[Sessions::Status, Sessions::StartedAt, Sessions::SessionId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk(AuditLog::Id))
                    .col(ColumnDef::new(AuditLog::At).big_integer().not_null())
                    .col(ColumnDef::new(AuditLog::Actor).string().not_null())
                    .col(ColumnDef::new(AuditLog::Action).string().not_null())
                    .col(ColumnDef::new(AuditLog::SessionId).string().null())
                    .col(ColumnDef::new(AuditLog::Details).text().not_null())
                    .to_owned(),
            )
            .await?;
        index(manager, AuditLog::Table, "idx_audit_session", &[AuditLog::SessionId, AuditLog::Id]).await?;
        index(manager, AuditLog::Table, "idx_audit_at", &[AuditLog::At]).await?;

        // Console sign-ins: a random token in an HttpOnly cookie, stored here only as its SHA-256, so any replica can
        // check it and a database leak does not hand out live sessions.
        manager
            .create_table(
                Table::create()
                    .table(ConsoleSessions::Table)
                    .col(ColumnDef::new(ConsoleSessions::TokenHash).string().not_null().primary_key())
                    .col(ColumnDef::new(ConsoleSessions::UserId).big_integer().not_null())
                    .col(ColumnDef::new(ConsoleSessions::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(ConsoleSessions::LastSeenAt).big_integer().not_null())
                    .col(ColumnDef::new(ConsoleSessions::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(ConsoleSessions::RevokedAt).big_integer().null())
                    .foreign_key(&mut fk(ConsoleSessions::Table, ConsoleSessions::UserId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;
        index(manager, ConsoleSessions::Table, "idx_console_sessions_user", &[ConsoleSessions::UserId]).await?;

        // API keys (access-id + key) for the CLI and automation; the key is shown once and kept only as its SHA-256
        // (it is 256 random bits, so a fast digest is as safe as a slow one).
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(ColumnDef::new(ApiKeys::AccessId).string().not_null().primary_key())
                    .col(ColumnDef::new(ApiKeys::KeyHash).string().not_null())
                    .col(ColumnDef::new(ApiKeys::UserId).big_integer().not_null())
                    .col(ColumnDef::new(ApiKeys::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(ApiKeys::RevokedAt).big_integer().null())
                    .foreign_key(&mut fk(ApiKeys::Table, ApiKeys::UserId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;

        // Bearer tokens handed out by `POST /auth`, likewise kept only as digests.
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(ColumnDef::new(ApiTokens::TokenHash).string().not_null().primary_key())
                    .col(ColumnDef::new(ApiTokens::UserId).big_integer().not_null())
                    .col(ColumnDef::new(ApiTokens::AccessId).string().null())
                    .col(ColumnDef::new(ApiTokens::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(ApiTokens::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(ApiTokens::RevokedAt).big_integer().null())
                    .foreign_key(&mut fk(ApiTokens::Table, ApiTokens::UserId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;

        // Server-wide secrets and settings every replica must share (e.g. the key that signs page cursors).
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(ColumnDef::new(Settings::Name).string().not_null().primary_key())
                    .col(ColumnDef::new(Settings::Value).text().not_null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApiTokens::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            ConsoleSessions::Table.into_iden(),
            Settings::Table.into_iden(),
            AuditLog::Table.into_iden(),
            Sessions::Table.into_iden(),
            RoleGateways::Table.into_iden(),
            UserRoles::Table.into_iden(),
            Roles::Table.into_iden(),
            Users::Table.into_iden(),
            Gateways::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// A text column that sorts byte by byte on every engine: SQLite's default (BINARY) already does; PostgreSQL's
/// database collation may not, so the column gets the "C" collation there.
fn text_c(manager: &SchemaManager<'_>, column: impl IntoIden + 'static) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.string();
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
        def.extra("COLLATE \"C\"");
    }
    def
}

/// A 64-bit auto-incrementing primary key (`INTEGER PRIMARY KEY` on SQLite, `BIGSERIAL` on PostgreSQL).
fn pk(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().auto_increment().primary_key().to_owned()
}

fn fk(
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
    ref_table: impl IntoIden + 'static,
    ref_column: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(ref_table, ref_column).on_delete(ForeignKeyAction::Cascade).to_owned()
}

async fn index<T: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    name: &str,
    columns: &[T],
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(*column);
    }
    manager.create_index(statement.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Gateways {
    Table,
    Id,
    Name,
    DisplayName,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Login,
    DisplayName,
    PasswordHash,
    Disabled,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    Id,
    Name,
    SraRule,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserRoles {
    Table,
    UserId,
    RoleId,
}

#[derive(DeriveIden, Clone, Copy)]
enum RoleGateways {
    Table,
    RoleId,
    GatewayId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    SessionId,
    UserIdentifier,
    AccessId,
    ClientInterface,
    GatewayId,
    ResourceType,
    SecretName,
    TargetName,
    TargetHost,
    Status,
    StartedAt,
    EndedAt,
    ErrorMessage,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Action,
    SessionId,
    Details,
}

#[derive(DeriveIden, Clone, Copy)]
enum Settings {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConsoleSessions {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiKeys {
    Table,
    AccessId,
    KeyHash,
    UserId,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiTokens {
    Table,
    TokenHash,
    UserId,
    AccessId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}
