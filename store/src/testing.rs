//! Runs each store test against a real SQLite file and a real PostgreSQL database.
//!
//! PostgreSQL comes from `SRA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`, the server
//! `scripts/test` makes sure of). Every test gets a database of its own, created fresh and dropped afterwards, so tests
//! run in parallel without seeing each other's rows.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::Store;
use sea_orm::{ConnectionTrait, Database};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A store on a throw-away database, and what is needed to remove that database again.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    /// The audit keys the store was opened with (as a later start would read them from the key file).
    pub keys: crate::AuditKeys,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        // A nested folder proves the store creates the data folder itself.
        let url = format!("sqlite://{}/data/sra.db", dir.path().display());
        let keys = crate::AuditKeys::generate();
        let store = Store::connect(&url, &keys).await.expect("open SQLite store");
        TestDb { store, url, keys: keys.existing(), cleanup: Cleanup::Sqlite(dir) }
    }

    pub async fn postgres() -> TestDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let admin_url = std::env::var("SRA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!("sra_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let admin = Database::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL for tests at {admin_url} is unreachable ({e}); run scripts/test"));
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await.expect("drop old test db");
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test db");
        admin.close().await.ok();
        let url = database_url(&admin_url, &name);
        let keys = crate::AuditKeys::generate();
        let store = Store::connect(&url, &keys).await.expect("open PostgreSQL store");
        TestDb { store, url, keys: keys.existing(), cleanup: Cleanup::Postgres { admin_url, name } }
    }

    /// Closes the store and removes its database.
    pub async fn finish(self) {
        let closed = tokio::time::timeout(TEST_LIMIT, self.store.close()).await;
        closed.expect("closing the store timed out: a connection was never returned").expect("close store");
        match self.cleanup {
            Cleanup::Sqlite(dir) => drop(dir),
            Cleanup::Postgres { admin_url, name } => {
                let admin = Database::connect(&admin_url).await.expect("admin connection");
                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
                admin.close().await.ok();
            }
        }
    }
}

/// How long one backend test may take before it fails instead of hanging the suite.
pub const TEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs a test body, failing it with its name if it takes longer than [`TEST_LIMIT`] (a hung test must not stall
/// CI for its whole budget).
pub async fn within_limit(name: &str, check: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(TEST_LIMIT, check).await.is_err() {
        panic!("{name} did not finish within {} s", TEST_LIMIT.as_secs());
    }
}

/// `admin_url` with its database name replaced by `name` (query parameters kept).
pub fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Declares each listed `async fn(&Store)` check as a test on SQLite and a test on PostgreSQL (the calling crate needs
/// `tokio` with the `macros` feature).
#[macro_export]
macro_rules! on_both_backends {
    ($($check:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    let db = $crate::testing::TestDb::sqlite().await;
                    $crate::testing::within_limit(stringify!($check), super::$check(&db.store)).await;
                    db.finish().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $check() {
                    let db = $crate::testing::TestDb::postgres().await;
                    $crate::testing::within_limit(stringify!($check), super::$check(&db.store)).await;
                    db.finish().await;
                }
            )+
        }
    };
}

/// [`on_both_backends!`] for checks that need the database itself (its URL and keys, to open a second store on it):
/// each check takes `&TestDb`.
#[macro_export]
macro_rules! on_both_databases {
    ($($check:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    let db = $crate::testing::TestDb::sqlite().await;
                    $crate::testing::within_limit(stringify!($check), super::$check(&db)).await;
                    db.finish().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $check() {
                    let db = $crate::testing::TestDb::postgres().await;
                    $crate::testing::within_limit(stringify!($check), super::$check(&db)).await;
                    db.finish().await;
                }
            )+
        }
    };
}

/// Signs in with a login and password as the console does (from the address `test`), for tests that need a user's
/// principal.
pub async fn sign_in(store: &Store, login: &str, password: &str) -> Result<crate::Principal, crate::StoreError> {
    let attempt = crate::Attempt {
        channel: crate::Channel::Console,
        credential: crate::Credential::Password,
        account: login,
        secret: password,
        address: "test",
    };
    store.sign_in(attempt).await
}

/// Signs in with an API key as `POST /auth` does (from the address `test`).
pub async fn sign_in_with_key(
    store: &Store,
    access_id: &str,
    access_key: &str,
) -> Result<crate::Principal, crate::StoreError> {
    let attempt = crate::Attempt {
        channel: crate::Channel::Api,
        credential: crate::Credential::ApiKey,
        account: access_id,
        secret: access_key,
        address: "test",
    };
    store.sign_in(attempt).await
}

/// The people and places of a test: gateways (name, display name), users (all with one password), roles (name,
/// SRA rule, granted gateways) and who holds which role — declared in one value, created by [`Cast::create`].
pub struct Cast {
    pub gateways: Vec<(&'static str, &'static str)>,
    pub users: Vec<&'static str>,
    pub password: &'static str,
    pub roles: Vec<(&'static str, sra_domain::SraRule, Vec<&'static str>)>,
    /// (login, role)
    pub holders: Vec<(&'static str, &'static str)>,
}

impl Cast {
    /// The usual cast: gateways `gw-a` and `gw-b` ("Gateway A", "Gateway B"); `alice` (Self only), `olivia` (Own on
    /// `own_gateway`, role `own`) and `admin` (All, role `admins`).
    pub fn usual(password: &'static str, own_gateway: &'static str) -> Cast {
        Cast {
            gateways: vec![("gw-a", "Gateway A"), ("gw-b", "Gateway B")],
            users: vec!["alice", "olivia", "admin"],
            password,
            roles: vec![
                ("own", sra_domain::SraRule::Own, vec![own_gateway]),
                ("admins", sra_domain::SraRule::All, vec![]),
            ],
            holders: vec![("olivia", "own"), ("admin", "admins")],
        }
    }

    /// Creates everything, as the system.
    pub async fn create(&self, store: &Store) {
        let system = sra_domain::Actor::System;
        for (name, display) in &self.gateways {
            store.register_gateway(&system, name, display).await.expect("register gateway");
        }
        for login in &self.users {
            store.create_user(&system, login, login).await.expect("create user");
            store.set_password(&system, login, self.password).await.expect("set password");
        }
        for (name, rule, gateways) in &self.roles {
            let spec = crate::RoleSpec {
                name: (*name).to_owned(),
                rule: *rule,
                gateways: gateways.iter().map(|g| (*g).to_owned()).collect(),
            };
            store.create_role(&system, &spec).await.expect("create role");
        }
        for (login, role) in &self.holders {
            store.assign_role(&system, login, role).await.expect("assign role");
        }
    }
}

/// Caps a SQLite store at `pages` pages, or lifts the cap (`None`): the database is full without filling a disk.
pub fn limit_sqlite_pages(store: &Store, pages: Option<u32>) {
    store.limit_pages(pages);
}

/// The SQLite database's size in pages now.
pub async fn sqlite_pages(store: &Store) -> u32 {
    let row = store
        .db
        .query_one(sea_orm::Statement::from_string(store.db.get_database_backend(), "PRAGMA page_count"))
        .await
        .expect("page count")
        .expect("a row");
    let pages: i64 = row.try_get_by_index(0).expect("a number");
    u32::try_from(pages).expect("fits")
}

/// What someone holding the database and the chain key could do: hash every entry again as it stands now (after
/// their edits) and record the new head, so that the chain alone verifies. Only checkpoints can catch it.
pub async fn rehash_chain_with_the_key(store: &Store) {
    rehash(store, |previous, f| crate::audit::chain(&store.keys, previous, f.0, &f.1, &f.2, f.3.as_deref(), &f.4))
        .await;
}

/// Makes the chain look as a database from before audit keys left it: unkeyed SHA-256 hashes, no key record.
pub async fn unkey_chain(store: &Store) {
    rehash(store, |previous, f| sra_migrations::unkeyed_chain(previous, f.0, &f.1, &f.2, f.3.as_deref(), &f.4)).await;
    store.db.execute_unprepared("DELETE FROM settings WHERE name = 'audit_key'").await.expect("remove key record");
}

type EntryFields = (i64, String, String, Option<String>, String);

async fn rehash(store: &Store, hash: impl Fn(&str, &EntryFields) -> String) {
    let backend = store.db.get_database_backend();
    let rows = store
        .db
        .query_all(sea_orm::Statement::from_string(
            backend,
            "SELECT id, at, actor, action, session_id, details FROM audit_log ORDER BY id",
        ))
        .await
        .expect("read chain");
    let mut head = sra_migrations::GENESIS.to_owned();
    for row in rows {
        let id: i64 = row.try_get("", "id").expect("id");
        let fields: EntryFields = (
            row.try_get("", "at").expect("at"),
            row.try_get("", "actor").expect("actor"),
            row.try_get("", "action").expect("action"),
            row.try_get("", "session_id").expect("session_id"),
            row.try_get("", "details").expect("details"),
        );
        head = hash(&head, &fields);
        let mut update = crate::sql::Sql::new(backend);
        update.push("UPDATE audit_log SET hash = ").bind(head.clone()).push(" WHERE id = ").bind(id);
        store.db.execute(update.build()).await.expect("rewrite hash");
    }
    let mut update = crate::sql::Sql::new(backend);
    update.push("UPDATE settings SET value = ").bind(head).push(" WHERE name = 'audit_head'");
    store.db.execute(update.build()).await.expect("rewrite head");
}

/// A session's start as a gateway reports it: `user` on `gateway`, SSH from the CLI, to `target-SESSION_ID`.
pub fn started(session_id: &str, at: sra_domain::Millis, user: &str, gateway: &str) -> sra_domain::SessionUpdate {
    sra_domain::SessionUpdate {
        session_id: session_id.to_owned(),
        at,
        change: sra_domain::SessionChange::Started(sra_domain::NewSession {
            user: user.to_owned(),
            access_id: None,
            client_interface: sra_domain::ClientInterface::Cli,
            gateway: gateway.to_owned(),
            resource_type: sra_domain::ResourceType::Ssh,
            secret_name: "/prod/ssh".to_owned(),
            target_name: format!("target-{session_id}"),
            target_host: "10.0.0.5:22".to_owned(),
        }),
    }
}
