//! Opening the database: SQLite (created with its folder on first use) or PostgreSQL, then the migrations.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{ConnectionTrait, DatabaseConnection, SqlxPostgresConnector, SqlxSqliteConnector};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sra_migrations::MigratorTrait;

use crate::cursor::CursorCodec;
use crate::sql::Sql;
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
        let (db, backend) = if url.starts_with("sqlite:") {
            (open_sqlite(url).await?, Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (open_postgres(url).await?, Backend::Postgres)
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        sra_migrations::Migrator::up(&db, None).await.map_err(StoreError::Migrate)?;
        let cursor_key = shared_secret(&db, "cursor_key").await?;
        let store = Store {
            db,
            backend,
            cursors: CursorCodec::new(&cursor_key),
            counts: Default::default(),
            writer: Default::default(),
            sign_ins: Default::default(),
        };
        store.seal_audit().await?;
        Ok(store)
    }
}

async fn open_sqlite(url: &str) -> Result<DatabaseConnection, StoreError> {
    let connect_error = |reason: String| StoreError::Connect { url: redact(url), reason };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| connect_error(e.to_string()))?
        .create_if_missing(true)
        // WAL lets the console read while gateways write; FULL makes every acknowledged commit survive a power cut.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // 64 MiB of page cache per connection (SQLite's default is 2 MiB): the indexes that every write touches stay
        // in memory as the tables grow, instead of being read back from the OS for each batch.
        .pragma("cache_size", "-65536")
        // Checkpoint the WAL every 64 MiB instead of every 4 MiB: under a stream of batched writes the default made
        // almost every commit also copy its scattered index pages into the database file (measured: commits growing
        // from 2 ms to 33 ms over 120,000 updates).
        .pragma("wal_autocheckpoint", "16384");
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
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

async fn open_postgres(url: &str) -> Result<DatabaseConnection, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect(url)
        .await
        .map_err(|e| StoreError::Connect { url: redact(url), reason: e.to_string() })?;
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
}

/// A random secret shared by every replica: created by whichever starts first, read by the others.
async fn shared_secret(db: &DatabaseConnection, name: &str) -> Result<Vec<u8>, StoreError> {
    let fresh: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
    let mut insert = Sql::new(db.get_database_backend());
    insert
        .push("INSERT INTO settings (name, value) VALUES (")
        .bind(name)
        .push(", ")
        .bind(fresh)
        .push(") ON CONFLICT (name) DO NOTHING");
    db.execute(insert.build()).await?;
    let mut select = Sql::new(db.get_database_backend());
    select.push("SELECT value FROM settings WHERE name = ").bind(name);
    let row = db.query_one(select.build()).await?.ok_or_else(|| StoreError::Corrupt {
        table: "settings",
        column: "value",
        reason: format!("{name} missing right after it was written"),
    })?;
    let hex: String = row.try_get("", "value")?;
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .filter(|bytes| bytes.len() >= 16);
    bytes.ok_or_else(|| StoreError::Corrupt {
        table: "settings",
        column: "value",
        reason: format!("{name} is not hex"),
    })
}

impl Store {
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

/// The URL with any password replaced — in the user part and in query parameters such as `?password=` — safe for
/// logs and error messages.
pub(crate) fn redact(url: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = redact_userinfo(base);
    match query {
        None => base,
        Some(query) => {
            let params: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.to_ascii_lowercase().contains("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
    }
}

fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
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
        assert_eq!(
            redact("postgres://sra@db/sra?sslmode=require&password=s3cret&PGPASSWORD=x"),
            "postgres://sra@db/sra?sslmode=require&password=***&PGPASSWORD=***"
        );
        assert_eq!(redact("postgres://sra:a@b@db/sra?password=p"), "postgres://sra:***@db/sra?password=***");
    }
}
