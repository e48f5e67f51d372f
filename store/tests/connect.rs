//! Opening databases: folders are created, migrations are idempotent, bad URLs get clear errors.

use sra_store::{AuditKeys, Backend, Store, StoreError};

#[tokio::test]
async fn sqlite_creates_its_folder_and_reopens_with_migrations_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/a/b/sra.db", dir.path().display());
    let keys = AuditKeys::generate();
    let store = Store::connect(&url, &keys).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.ping().await.unwrap();
    store.close().await.unwrap();
    assert!(dir.path().join("a/b/sra.db").exists());
    let again = Store::connect(&url, &keys.existing())
        .await
        .expect("reopening an existing database applies no migration twice");
    assert_eq!(again.session_count().await.unwrap(), 0);
    again.close().await.unwrap();
}

#[tokio::test]
async fn postgres_reopens_with_migrations_applied_once() {
    let db = sra_store::testing::TestDb::postgres().await;
    assert_eq!(db.store.backend(), Backend::Postgres);
    let again = Store::connect(&db.url, &db.keys).await.expect("second connect");
    again.ping().await.unwrap();
    let stats = again.pool_stats();
    assert!(stats.size >= 1 && stats.max == 16, "{stats:?}");
    again.close().await.unwrap();
    db.finish().await;
}

#[tokio::test]
async fn unsupported_urls_say_what_is_supported() {
    let err = Store::connect("mysql://root@localhost/sra", &AuditKeys::generate()).await.unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)));
    assert!(err.to_string().contains("sqlite://PATH"), "{err}");
}

#[tokio::test]
async fn unreachable_postgres_fails_fast_with_the_redacted_url() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let err = Store::connect("postgres://sra:secret@127.0.0.1:1/sra", &AuditKeys::generate()).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{message}");
    assert!(message.contains("postgres://sra:***@127.0.0.1:1/sra"), "{message}");
    assert!(message.contains("refused"), "the cause, not a pool time-out: {message}");
    assert!(!message.contains("secret"), "{message}");
}

#[tokio::test]
async fn an_unwritable_data_folder_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::connect(&format!("sqlite://{}/sra.db", file.display()), &AuditKeys::generate()).await.unwrap_err();
    assert!(err.to_string().contains("not-a-folder"), "{err}");
}
