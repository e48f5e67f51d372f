//! Opening the database: SQLite (created with its folder on first use) or PostgreSQL, then the migrations.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{ConnectionTrait, SqlxPostgresConnector, SqlxSqliteConnector};
use sra_migrations::MigratorTrait;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{Store, StoreError};

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How busy the connection pool is, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// How long a connection attempt may take before start-up gives up with a clear error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a SQLite writer waits for another writer before failing with "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Opens the database at `url` (`sqlite://PATH` or `postgres://…`) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let store = if url.starts_with("sqlite:") {
            Self::open_sqlite(url).await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open_postgres(url).await?
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        sra_migrations::Migrator::up(&store.db, None).await.map_err(StoreError::Migrate)?;
        Ok(store)
    }

    async fn open_sqlite(url: &str) -> Result<Store, StoreError> {
        let connect_error = |reason: String| StoreError::Connect { url: url.to_owned(), reason };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| connect_error(e.to_string()))?
            .create_if_missing(true)
            // WAL lets the console read while gateways write; FULL makes every acknowledged commit survive a power cut.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        if let Some(parent) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| connect_error(format!("cannot create folder {}: {e}", parent.display())))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        Ok(Store { db: SqlxSqliteConnector::from_sqlx_sqlite_pool(pool), backend: Backend::Sqlite })
    }

    async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect(url)
            .await
            .map_err(|e| StoreError::Connect { url: redact(url), reason: e.to_string() })?;
        Ok(Store { db: SqlxPostgresConnector::from_sqlx_postgres_pool(pool), backend: Backend::Postgres })
    }

    /// Checks that the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub fn pool_stats(&self) -> PoolStats {
        match self.backend {
            Backend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                PoolStats { size: pool.size(), idle: pool.num_idle() as u32, max: pool.options().get_max_connections() }
            }
            Backend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                PoolStats { size: pool.size(), idle: pool.num_idle() as u32, max: pool.options().get_max_connections() }
            }
        }
    }

    /// Closes every pooled connection; on SQLite this also checkpoints the WAL into the database file.
    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await?;
        Ok(())
    }
}

/// The URL with any password replaced, safe for logs and error messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://sra:s3cret@db:5432/sra"), "postgres://sra:***@db:5432/sra");
        assert_eq!(redact("postgres://root@127.0.0.1/test"), "postgres://root@127.0.0.1/test");
        assert_eq!(redact("sqlite://data/sra.db"), "sqlite://data/sra.db");
    }
}
