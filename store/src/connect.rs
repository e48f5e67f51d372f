//! Opening the database: SQLite (created with its folder on first use) or PostgreSQL, then the migrations.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{ConnectionTrait, DatabaseConnection, SqlxPostgresConnector, SqlxSqliteConnector};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sra_migrations::MigratorTrait;

use crate::cursor::CursorCodec;
use crate::sql::Sql;
use crate::AuditKeys;
use crate::{Store, StoreError};

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How busy a connection pool is, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// How long a connection attempt may take before start-up gives up with a clear error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The readiness probe's row: 16 pages of SQLite's default 4 KiB, about what a large gateway batch needs, so a
/// database with room for less does not count as writable. The pages it frees stay in the file for the next write.
const PROBE_BYTES: usize = 65_536;
/// How long a SQLite writer waits for another writer before failing with "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Opens the database at `url` (`sqlite://PATH` or `postgres://…`), applies pending migrations and makes sure the
    /// audit chain is kept with `keys`.
    pub async fn connect(url: &str, keys: &AuditKeys) -> Result<Store, StoreError> {
        let page_limit = std::sync::Arc::new(AtomicU32::new(0));
        let mut postgres = None;
        let (Pools { reads: db, writes }, backend) = if url.starts_with("sqlite:") {
            (open_sqlite(url, page_limit.clone()).await?, Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Connect { url: redact(url), reason: e.to_string() })?;
            let pools = open_postgres(url, &options).await?;
            postgres = Some(options);
            (pools, Backend::Postgres)
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        sra_migrations::Migrator::up(&writes, None).await.map_err(StoreError::Migrate)?;
        let cursor_key = shared_secret(&writes, "cursor_key").await?;
        let store = Store {
            db,
            writes,
            backend,
            cursors: CursorCodec::new(&cursor_key),
            counts: Default::default(),
            choices: Default::default(),
            tally: Default::default(),
            feed: Default::default(),
            shared: Default::default(),
            writer: Default::default(),
            sign_ins: Default::default(),
            #[cfg(feature = "testing")]
            page_limit,
            postgres,
            reachability: Default::default(),
            leadership: Default::default(),
            keys: std::sync::Arc::new(keys.clone()),
            write_health: Default::default(),
            search_candidate_limit: crate::search::CANDIDATE_LIMIT,
            walk_above: crate::query::WALK_ABOVE,
            count_spans: Default::default(),
        };
        store.adopt_audit_key().await?;
        Ok(store)
    }
}

/// Opens the database at `url` for reading only, without migrations: SQLite in read-only mode, PostgreSQL sessions
/// whose transactions are read-only. For checks that must never change what they check (`audit verify`).
pub(crate) async fn open_read_only(url: &str) -> Result<DatabaseConnection, StoreError> {
    let connect_error = |reason: String| StoreError::Connect { url: redact(url), reason };
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url).map_err(|e| connect_error(e.to_string()))?.read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| connect_error(e.to_string()))?
            .options([("default_transaction_read_only", "on")]);
        crate::reachability::attempt(&options).await.map_err(connect_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
    } else {
        Err(StoreError::UnsupportedUrl(redact(url)))
    }
}

/// A store's two pools: reads, and writes on connections of their own, so that no number of console reads can keep
/// gateway ingest, sign-ins or the sweeper waiting for a connection. Reads that find every read connection busy wait
/// at most [`READ_QUEUE_TIMEOUT`] and are then refused as "busy" (503 with `Retry-After`): back-pressure falls on
/// reads, never on writes.
struct Pools {
    reads: DatabaseConnection,
    writes: DatabaseConnection,
}

/// How long a read waits for a read connection before it is refused as busy.
const READ_QUEUE_TIMEOUT: Duration = Duration::from_secs(2);

async fn open_sqlite(url: &str, page_limit: std::sync::Arc<AtomicU32>) -> Result<Pools, StoreError> {
    let connect_error = |reason: String| StoreError::Connect { url: redact(url), reason };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| connect_error(e.to_string()))?
        .create_if_missing(true)
        // WAL lets the console read while gateways write; FULL makes every acknowledged commit survive a power cut.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // Pages are read through a memory map of the file: the operating system's page cache, shared by every
        // connection and given back under memory pressure, instead of a private copy per connection in the process's
        // own memory (8 connections × 64 MiB of page cache made 250–330 MB of anonymous memory at a million sessions).
        .pragma("mmap_size", SQLITE_MMAP_BYTES)
        // Checkpoint the WAL every 64 MiB instead of every 4 MiB: under a stream of batched writes the default made
        // almost every commit also copy its scattered index pages into the database file (measured: commits growing
        // from 2 ms to 33 ms over 120,000 updates).
        .pragma("wal_autocheckpoint", "16384");
    if let Some(parent) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| connect_error(format!("cannot create folder {}: {e}", parent.display())))?;
    }
    let pool = |connections: u32, acquire_timeout: Duration| {
        let page_limit = page_limit.clone();
        SqlitePoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(acquire_timeout)
            .after_release(|conn, _| Box::pin(async move { settled::<sqlx::Sqlite>(conn).await }))
            .before_acquire(move |conn, _| {
                let pages = page_limit.load(Ordering::Acquire);
                Box::pin(async move {
                    if pages != 0 {
                        sqlx::query(&format!("PRAGMA max_page_count = {pages}")).execute(&mut *conn).await?;
                    }
                    Ok(true)
                })
            })
    };
    // SQLite has one writer at a time: one write connection. Its page cache holds the index pages every write touches
    // (16 MiB); readers need only a little, the map serves them.
    let writes = pool(1, CONNECT_TIMEOUT)
        .connect_with(options.clone().pragma("cache_size", "-16384"))
        .await
        .map_err(|e| connect_error(e.to_string()))?;
    let reads = pool(SQLITE_READ_CONNECTIONS, READ_QUEUE_TIMEOUT)
        .connect_with(options.pragma("cache_size", "-2048"))
        .await
        .map_err(|e| connect_error(e.to_string()))?;
    Ok(Pools {
        reads: SqlxSqliteConnector::from_sqlx_sqlite_pool(reads),
        writes: SqlxSqliteConnector::from_sqlx_sqlite_pool(writes),
    })
}

/// Readers at once on SQLite: enough to keep both cores busy while some wait on the disk.
const SQLITE_READ_CONNECTIONS: u32 = 6;
/// The largest database file mapped whole; beyond it, the rest is read with ordinary reads.
const SQLITE_MMAP_BYTES: &str = "17179869184";

async fn open_postgres(url: &str, options: &PgConnectOptions) -> Result<Pools, StoreError> {
    // One direct attempt first: a pool that cannot connect only says it timed out, this names the cause (connection
    // refused, authentication failed, unknown host).
    crate::reachability::attempt(options).await.map_err(|reason| StoreError::Connect { url: redact(url), reason })?;
    let pool = |connections: u32, acquire_timeout: Duration| {
        PgPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(acquire_timeout)
            .after_release(|conn, _| Box::pin(async move { settled::<sqlx::Postgres>(conn).await }))
            .connect_with(options.clone())
    };
    let connect_error = |e: sqlx::Error| StoreError::Connect { url: redact(url), reason: e.to_string() };
    // 16 connections a replica, as before the split: a share reserved for writes.
    let writes = pool(POSTGRES_WRITE_CONNECTIONS, CONNECT_TIMEOUT).await.map_err(connect_error)?;
    let reads = pool(POSTGRES_READ_CONNECTIONS, READ_QUEUE_TIMEOUT).await.map_err(connect_error)?;
    Ok(Pools {
        reads: SqlxPostgresConnector::from_sqlx_postgres_pool(reads),
        writes: SqlxPostgresConnector::from_sqlx_postgres_pool(writes),
    })
}

const POSTGRES_WRITE_CONNECTIONS: u32 = 6;
const POSTGRES_READ_CONNECTIONS: u32 = 10;

/// Whether a connection coming back to the pool may serve again: only if no transaction is left open on it.
///
/// A transaction whose COMMIT or ROLLBACK failed (SQLite: a full disk rolls the transaction back by itself, the
/// ROLLBACK that follows then fails) leaves the driver counting a transaction that is not there; the next "transaction"
/// on that connection would become a SAVEPOINT inside one that never commits, and every write acknowledged on it would
/// be lost. Such a connection is closed instead, and the pool opens a fresh one.
async fn settled<DB: sqlx::Database>(conn: &mut DB::Connection) -> Result<bool, sqlx::Error> {
    use sqlx::{Connection, TransactionManager};
    // The rollback of a dropped transaction is queued on the connection: let it run before looking.
    conn.ping().await?;
    let depth = <DB::TransactionManager as TransactionManager>::get_transaction_depth(conn);
    if depth != 0 {
        tracing::warn!(
            depth,
            "a database connection still held a transaction after a failed commit or rollback: closed"
        );
    }
    Ok(depth == 0)
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

    /// Checks that a write can be committed now: a write transaction that needs fresh pages (a row of 16 pages,
    /// removed again before the commit). It fails while the disk or the database is full, the database cannot be
    /// reached, or another writer holds it longer than a request may wait.
    pub(crate) async fn probe_write(&self) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let mut insert = Sql::new(self.db.get_database_backend());
        insert.push("INSERT INTO settings (name, value) VALUES (").bind("readiness_probe").push(", ");
        insert.bind("x".repeat(PROBE_BYTES)).push(") ON CONFLICT (name) DO NOTHING");
        txn.execute(insert.build()).await?;
        let mut delete = Sql::new(self.db.get_database_backend());
        delete.push("DELETE FROM settings WHERE name = ").bind("readiness_probe");
        txn.execute(delete.build()).await?;
        txn.commit().await
    }

    /// The read pool's and the write pool's state.
    pub fn pool_stats(&self) -> [(&'static str, PoolStats); 2] {
        let stats = |db: &DatabaseConnection| match self.backend {
            Backend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                PoolStats { size: pool.size(), idle: pool.num_idle() as u32, max: pool.options().get_max_connections() }
            }
            Backend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                PoolStats { size: pool.size(), idle: pool.num_idle() as u32, max: pool.options().get_max_connections() }
            }
        };
        [("reads", stats(&self.db)), ("writes", stats(&self.writes))]
    }

    /// Caps the SQLite database at `pages` pages (`PRAGMA max_page_count` on each connection as it is handed out), or
    /// lifts the cap (`None`). This is how the tests make the database full without filling a disk.
    #[cfg(feature = "testing")]
    pub(crate) fn limit_pages(&self, pages: Option<u32>) {
        // 4,294,967,294 is SQLite's largest allowed value: no cap in practice.
        self.page_limit.store(pages.unwrap_or(4_294_967_294), Ordering::Release);
    }

    /// Folds SQLite's write-ahead log back into the database file and empties it (nothing to do on PostgreSQL).
    ///
    /// SQLite checkpoints by itself as the log grows, but only up to the oldest page a reader still uses, and it starts
    /// the log over only once no reader uses it: under a constant stream of console reads that moment never comes and
    /// the log grew without bound (746 MB in a load run). This checkpoint waits for the readers of the moment to finish
    /// (reads take milliseconds; new ones read from the database file once everything is folded in) and then truncates
    /// the log. It takes the writer's turn, so no write races it. Returns whether it completed.
    pub async fn bound_wal(&self) -> Result<bool, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(true);
        }
        let _turn = self.writer.clone().lock_owned().await;
        let row = self
            .writes
            .query_one(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA wal_checkpoint(TRUNCATE)"))
            .await?;
        // One row: busy (1 when readers kept it from completing), pages in the log, pages folded in.
        Ok(row.and_then(|row| row.try_get_by_index::<i64>(0).ok()) == Some(0))
    }

    /// Brings SQLite's planner statistics up to date (PostgreSQL's autovacuum does it by itself). SQLite plans with
    /// what `ANALYZE` last recorded, and an index it has no figures for looks more selective than any: a new sort index
    /// took over a filtered listing by start time (3 ms → 390 ms at a million sessions) until the statistics knew it.
    /// Each index is sampled (`analysis_limit`): 1.4 s at a million sessions, so the server runs it in the background
    /// (at start, then hourly) rather than in `connect`. It takes the writer's turn.
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let _turn = self.writer.clone().lock_owned().await;
        self.writes.execute_unprepared("PRAGMA analysis_limit = 1000").await?;
        self.writes.execute_unprepared("ANALYZE").await?;
        Ok(())
    }

    /// Closes every pooled connection; on SQLite this also checkpoints the WAL into the database file.
    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await?;
        self.writes.close().await?;
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
