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
    let [(_, reads), (_, writes)] = again.pool_stats();
    assert!(writes.size >= 1 && reads.max + writes.max == 16, "{reads:?} {writes:?}");
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

/// Reads never hold up writes: with every read connection taken (by long reads, as a flood of console users would),
/// a gateway's batch is still stored at once on the write connections, and a further read is refused as busy after a
/// short wait — a 503 with `Retry-After` for its caller — instead of queueing without end. Without separate pools the
/// write waited for a connection and failed after the pool's time-out.
async fn reads_never_hold_up_writes(store: &Store) {
    use sea_orm::TransactionTrait;
    use sra_domain::{Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionUpdate};
    store.register_gateway(&Actor::System, "gw-1", "Gateway 1").await.unwrap();
    let [(_, reads), _] = store.pool_stats();
    let mut held = Vec::new();
    for _ in 0..reads.max {
        held.push(store.connection().begin().await.expect("a read connection"));
    }
    let started = std::time::Instant::now();
    let update = SessionUpdate {
        session_id: "busy-1".into(),
        at: sra_store::now_ms(),
        change: SessionChange::Started(NewSession {
            user: "ida".into(),
            access_id: None,
            client_interface: ClientInterface::WebPortalWeb,
            gateway: "gw-1".into(),
            resource_type: ResourceType::Ssh,
            secret_name: "/s".into(),
            target_name: "t".into(),
            target_host: "h".into(),
        }),
    };
    store.apply_updates(&Actor::System, &[update]).await.expect("the write goes through while reads are saturated");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "the write waited {:?}", started.elapsed());

    let refused = store.session_count().await.expect_err("no read connection is free");
    let outage = refused.outage().expect("a saturated read pool is an outage answer (503), not an internal error");
    assert!(outage.retry_after_secs() >= 1, "{refused}");
    drop(held);
    assert_eq!(store.session_count().await.unwrap(), 1, "reads resume when connections are free");
}

sra_store::on_both_backends!(reads_never_hold_up_writes);
