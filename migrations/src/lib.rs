//! The database schema, as SeaORM migrations.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL. The server applies them at start-up, so a
//! new data directory or an empty database is ready without a separate step. Migrations are append-only: a database
//! made by an earlier build is brought forward, never rebuilt.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_initial;
mod m20261129_000002_ingest;
mod m20261201_000003_sign_in_throttle;
mod m20261202_000004_audit_seal;
mod m20261202_000005_search_index;
mod m20261202_000006_sort_indexes;
mod m20261202_000007_session_counts;
mod m20261203_000008_termination_reason;
mod m20261203_000009_audit_action_index;
mod m20261203_000010_user_blocks;
mod m20261204_000011_last_seen;
mod m20261204_000012_session_totals;
mod m20261204_000013_audit_destinations;
mod m20261204_000014_counts_by_gateway;

pub use m20261202_000004_audit_seal::{unkeyed_chain, GENESIS};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_initial::Migration),
            Box::new(m20261129_000002_ingest::Migration),
            Box::new(m20261201_000003_sign_in_throttle::Migration),
            Box::new(m20261202_000004_audit_seal::Migration),
            Box::new(m20261202_000005_search_index::Migration),
            Box::new(m20261202_000006_sort_indexes::Migration),
            Box::new(m20261202_000007_session_counts::Migration),
            Box::new(m20261203_000008_termination_reason::Migration),
            Box::new(m20261203_000009_audit_action_index::Migration),
            Box::new(m20261203_000010_user_blocks::Migration),
            Box::new(m20261204_000011_last_seen::Migration),
            Box::new(m20261204_000012_session_totals::Migration),
            Box::new(m20261204_000013_audit_destinations::Migration),
            Box::new(m20261204_000014_counts_by_gateway::Migration),
        ]
    }
}
