//! The database schema, as SeaORM migrations.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL. The server applies them at start-up, so a
//! new data directory or an empty database is ready without a separate step. Until the first release the initial
//! migration may still be edited; after it, migrations are append-only.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_initial;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261128_000001_initial::Migration)]
    }
}
