//! An index per sort column, so that a listing sorted by something else than start time can read its first page in
//! order instead of sorting every session of its timeframe (2–3 s at a million sessions).
//!
//! Each index ends with `session_id`, the tie-breaker of every order, so keyset pages continue inside the index.
//! - Status sorts by lifecycle rank, a handful of values: the engine reads each status apart from `(status,
//!   session_id)` and puts them in rank order, so a page deep inside a status starts at its cursor.
//! - The duration of ended sessions (`ended_at - started_at`) is an expression, indexed as such (both engines use an
//!   expression index when a query sorts by the very same expression); active sessions, whose duration grows, are
//!   ordered by start time in a partial index of just them (a few thousand entries at a million sessions).
//!
//! Sorting by gateway follows the gateway's display name: gateways are read in display-name order, each one's sessions
//! by its gateway index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

/// The sort indexes: name, and what each holds. The query engine names them when it reads in their order.
fn sort_indexes() -> [(&'static str, String); 6] {
    [
        ("idx_sessions_sort_user", "user_identifier, session_id".into()),
        ("idx_sessions_sort_secret", "secret_name, session_id".into()),
        ("idx_sessions_sort_resource", "resource_type, session_id".into()),
        ("idx_sessions_sort_client", "client_interface, session_id".into()),
        ("idx_sessions_sort_status", "status, session_id".into()),
        ("idx_sessions_sort_duration", "(ended_at - started_at), session_id".into()),
    ]
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, indexed) in sort_indexes() {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON sessions ({indexed})")).await?;
        }
        db.execute_unprepared(
            "CREATE INDEX idx_sessions_active ON sessions (started_at, session_id) WHERE ended_at IS NULL",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX idx_gateways_display ON gateways (display_name)").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in sort_indexes() {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}")).await?;
        }
        db.execute_unprepared("DROP INDEX IF EXISTS idx_sessions_active").await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_gateways_display").await?;
        Ok(())
    }
}
