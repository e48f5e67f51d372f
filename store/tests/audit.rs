//! The audit chain against someone with write access to the database (and, for checkpoints, with the chain key too),
//! on a real SQLite file and a real PostgreSQL database: every edit, deletion, reordering, NULLed hash, re-hash without
//! the key and cut-off tail is named by `audit verify`, which opens the database read-only and never repairs anything;
//! a chain is keyed once, and a different key file is refused.

use sea_orm::ConnectionTrait;
use sra_domain::{Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionUpdate};
use sra_store::testing::{rehash_chain_with_the_key, unkey_chain, TestDb};
use sra_store::{now_ms, read_checkpoints, verify_audit, AuditKeys, AuditVerdict, GatewayUpdate, Store, StoreError};

/// A gateway, its key and five sessions started: a chain of about nine entries. Returns the entries' IDs.
async fn history(store: &Store, first: usize) -> Vec<i64> {
    if first == 0 {
        store.register_gateway(&Actor::System, "gw-a", "A").await.unwrap();
    }
    let key = store.issue_gateway_key(&Actor::System, "gw-a").await.unwrap();
    let gw = store.authenticate_gateway(&key).await.unwrap();
    let t = now_ms() - 60_000;
    let batch: Vec<_> = (first..first + 5)
        .map(|i| GatewayUpdate {
            update_id: format!("u-{i}"),
            update: SessionUpdate {
                session_id: format!("s-{i}"),
                at: t,
                change: SessionChange::Started(NewSession {
                    user: "alice".into(),
                    access_id: None,
                    client_interface: ClientInterface::Cli,
                    gateway: "gw-a".into(),
                    resource_type: ResourceType::Ssh,
                    secret_name: "/ssh".into(),
                    target_name: "t".into(),
                    target_host: "h:22".into(),
                }),
            },
        })
        .collect();
    store.ingest(&gw, &batch).await.unwrap();
    ids(store).await
}

async fn ids(store: &Store) -> Vec<i64> {
    let backend = store.connection().get_database_backend();
    let sql = "SELECT id FROM audit_log ORDER BY id";
    let rows = store.connection().query_all(sea_orm::Statement::from_string(backend, sql)).await.unwrap();
    rows.iter().map(|r| r.try_get::<i64>("", "id").unwrap()).collect()
}

async fn exec(store: &Store, sql: String) {
    store.connection().execute_unprepared(&sql).await.unwrap();
}

async fn number(store: &Store, sql: &str) -> i64 {
    let backend = store.connection().get_database_backend();
    let row = store.connection().query_one(sea_orm::Statement::from_string(backend, sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// `audit verify` as the command line runs it: read-only, from the URL, with the key file's keys.
async fn verify(db: &TestDb) -> AuditVerdict {
    verify_audit(&db.url, &db.keys, &[]).await.unwrap()
}

fn broken_at(verdict: &AuditVerdict, at: i64) -> bool {
    matches!(verdict, AuditVerdict::Broken { id, .. } if *id == at)
}

async fn edits_and_reorders_are_named(db: &TestDb) {
    let store = &db.store;
    let ids = history(store, 0).await;
    assert_eq!(ids.len(), 7, "registration, key and 5 starts: {ids:?}");
    assert!(matches!(verify(db).await, AuditVerdict::Intact { .. }), "intact at first");

    // Edited, then put back.
    let original = number(store, &format!("SELECT at AS n FROM audit_log WHERE id = {}", ids[3])).await;
    exec(store, format!("UPDATE audit_log SET at = at + 1 WHERE id = {}", ids[3])).await;
    assert!(broken_at(&verify(db).await, ids[3]));
    exec(store, format!("UPDATE audit_log SET at = {original} WHERE id = {}", ids[3])).await;
    assert!(matches!(verify(db).await, AuditVerdict::Intact { .. }), "restored");

    // Reordered: two entries' contents swapped (their hashes go with them).
    exec(store, format!("UPDATE audit_log SET id = -1 WHERE id = {}", ids[4])).await;
    exec(store, format!("UPDATE audit_log SET id = {} WHERE id = {}", ids[4], ids[5])).await;
    exec(store, format!("UPDATE audit_log SET id = {} WHERE id = -1", ids[5])).await;
    assert!(broken_at(&verify(db).await, ids[4]));
}

async fn deletions_in_the_middle_and_at_the_end_are_named(db: &TestDb) {
    let store = &db.store;
    let ids = history(store, 0).await;
    let last = *ids.last().unwrap();
    exec(store, format!("DELETE FROM audit_log WHERE id = {last}")).await;
    assert!(
        matches!(verify(db).await, AuditVerdict::Truncated { last_id, .. } if last_id == Some(ids[ids.len() - 2])),
        "the newest entry deleted: the head names a newer one"
    );
    exec(store, format!("DELETE FROM audit_log WHERE id = {}", ids[3])).await;
    assert!(
        matches!(verify(db).await, AuditVerdict::Broken { id, ref reason } if id == ids[4] && reason.contains("deleted"))
    );
}

/// The attack that used to print "intact": edit an entry, delete the next, NULL every hash from there on. Sealing
/// happened on every start then; now a NULL hash is a break, for good.
async fn nulled_hashes_are_a_break_and_stay_one(db: &TestDb) {
    let store = &db.store;
    let ids = history(store, 0).await;
    exec(store, format!("UPDATE audit_log SET actor = 'nobody' WHERE id = {}", ids[4])).await;
    exec(store, format!("DELETE FROM audit_log WHERE id = {}", ids[5])).await;
    exec(store, format!("UPDATE audit_log SET hash = NULL WHERE id >= {}", ids[4])).await;
    assert!(broken_at(&verify(db).await, ids[4]));
    // A restart of the server and another verify change nothing.
    let restarted = Store::connect(&db.url, &db.keys).await.unwrap();
    restarted.close().await.unwrap();
    assert!(broken_at(&verify(db).await, ids[4]));
    assert!(number(store, "SELECT COUNT(*) AS n FROM audit_log WHERE hash IS NULL").await > 0, "nothing re-hashed");
}

async fn a_chain_rehashed_without_the_key_is_broken(db: &TestDb) {
    let store = &db.store;
    let ids = history(store, 0).await;
    // Recomputed as plain SHA-256 (the only chain anyone without the key can compute), head and all.
    unkey_chain(store).await;
    exec(store, format!("INSERT INTO settings (name, value) VALUES ('audit_key', '{}')", db.keys.id())).await;
    assert!(broken_at(&verify(db).await, ids[0]));
    // Removing the key record too: verify says so, and a restart with the existing key file refuses to key the
    // rewritten history.
    exec(store, "DELETE FROM settings WHERE name = 'audit_key'".to_owned()).await;
    assert!(broken_at(&verify(db).await, 0));
    let refused = Store::connect(&db.url, &db.keys).await.unwrap_err();
    assert!(matches!(refused, StoreError::AuditUnkeyed { .. }), "{refused}");
}

async fn a_different_key_file_is_refused(db: &TestDb) {
    history(&db.store, 0).await;
    let other = AuditKeys::generate();
    let refused = Store::connect(&db.url, &other).await.unwrap_err();
    assert!(matches!(refused, StoreError::AuditKeyMismatch), "{refused}");
    assert_eq!(verify_audit(&db.url, &other, &[]).await.unwrap(), AuditVerdict::WrongKey);
    assert!(matches!(verify(db).await, AuditVerdict::Intact { .. }), "nothing was written by the refused start");
}

async fn checkpoints_prove_what_came_before_them(db: &TestDb) {
    let store = &db.store;
    history(store, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checkpoints/audit.jsonl");
    let first = store.checkpoint().await.unwrap().expect("a chain to sign");
    first.append_to(&file).unwrap();
    let ids = history(store, 5).await;
    store.checkpoint().await.unwrap().unwrap().append_to(&file).unwrap();
    history(store, 10).await;
    let checkpoints = read_checkpoints(&file).unwrap();
    assert_eq!(checkpoints.len(), 2);
    assert!(matches!(
        verify_audit(&db.url, &db.keys, &checkpoints).await.unwrap(),
        AuditVerdict::Intact { checkpoints: 2, .. }
    ));

    // Someone with the database and the chain key edits an entry before the first checkpoint and re-hashes
    // everything: the chain alone verifies, the checkpoint does not.
    let target = ids.iter().copied().find(|id| *id <= first.last_id).unwrap();
    exec(store, format!("UPDATE audit_log SET actor = 'nobody' WHERE id = {target}")).await;
    rehash_chain_with_the_key(store).await;
    assert!(matches!(verify(db).await, AuditVerdict::Intact { .. }), "the key holder's chain verifies alone");
    let verdict = verify_audit(&db.url, &db.keys, &checkpoints).await.unwrap();
    assert!(
        matches!(verdict, AuditVerdict::Broken { id, ref reason } if id == first.last_id && reason.contains("rewritten")),
        "{verdict:?}"
    );

    // A forged checkpoint (another key) is named as such.
    let mut forged = checkpoints[1].clone();
    forged.entries += 1;
    let verdict = verify_audit(&db.url, &db.keys, &[forged]).await.unwrap();
    assert!(matches!(verdict, AuditVerdict::Broken { ref reason, .. } if reason.contains("not signed")), "{verdict:?}");
}

async fn a_tail_cut_after_a_checkpoint_is_found(db: &TestDb) {
    let store = &db.store;
    history(store, 0).await;
    let checkpoint = store.checkpoint().await.unwrap().unwrap();
    history(store, 5).await;
    let late = store.checkpoint().await.unwrap().unwrap();
    // Everything after the first checkpoint removed, and the head set back to match: consistent for the chain alone.
    exec(store, format!("DELETE FROM audit_log WHERE id > {}", checkpoint.last_id)).await;
    exec(store, format!("UPDATE settings SET value = '{}' WHERE name = 'audit_head'", checkpoint.head)).await;
    assert!(matches!(verify(db).await, AuditVerdict::Intact { .. }));
    let verdict = verify_audit(&db.url, &db.keys, &[checkpoint.clone(), late]).await.unwrap();
    assert!(
        matches!(verdict, AuditVerdict::Truncated { last_id, .. } if last_id == Some(checkpoint.last_id)),
        "{verdict:?}"
    );
}

/// A database from before audit keys: its unkeyed chain is checked and keyed by the first start with a new key file,
/// once; entries without any hash (from before the chain) were sealed once by a migration.
async fn an_old_chain_is_keyed_once_by_a_new_key(db: &TestDb) {
    let store = &db.store;
    history(store, 0).await;
    unkey_chain(store).await;
    let new_keys = AuditKeys::generate();
    let keyed = Store::connect(&db.url, &new_keys).await.unwrap();
    let later = new_keys.existing();
    assert!(matches!(verify_audit(&db.url, &later, &[]).await.unwrap(), AuditVerdict::Intact { .. }));
    let again = Store::connect(&db.url, &later).await.unwrap();
    assert_eq!(number(store, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'audit.chain_keyed'").await, 1);
    keyed.close().await.unwrap();
    again.close().await.unwrap();

    // Entries without hashes (from before the chain existed) and no head: the sealing migration, had it not run yet.
    exec(store, "UPDATE audit_log SET hash = NULL".to_owned()).await;
    exec(store, "DELETE FROM settings WHERE name IN ('audit_head', 'audit_key')".to_owned()).await;
    exec(store, "DELETE FROM seaql_migrations WHERE version = 'm20261202_000004_audit_seal'".to_owned()).await;
    let sealed_keys = AuditKeys::generate();
    let sealed = Store::connect(&db.url, &sealed_keys).await.unwrap();
    sealed.close().await.unwrap();
    assert!(matches!(verify_audit(&db.url, &sealed_keys, &[]).await.unwrap(), AuditVerdict::Intact { .. }));
}

sra_store::on_both_databases!(
    edits_and_reorders_are_named,
    deletions_in_the_middle_and_at_the_end_are_named,
    nulled_hashes_are_a_break_and_stay_one,
    a_chain_rehashed_without_the_key_is_broken,
    a_different_key_file_is_refused,
    checkpoints_prove_what_came_before_them,
    a_tail_cut_after_a_checkpoint_is_found,
    an_old_chain_is_keyed_once_by_a_new_key,
);
