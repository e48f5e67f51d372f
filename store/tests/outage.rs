//! An acknowledgement means durably committed, whatever the database goes through: a SQLite database that fills up
//! (made full with `max_page_count`, then given room again) and PostgreSQL connections killed in the middle of
//! transactions. Gateways keep sending; afterwards every update that was answered `applied` is in the database as a
//! fresh connection sees it, every failure was a 503-kind outage, nothing was applied twice, and writes work again.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sea_orm::{ConnectionTrait, Database};
use sra_domain::{Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionUpdate};
use sra_store::testing::{limit_sqlite_pages, sqlite_pages, within_limit, TestDb};
use sra_store::{now_ms, AuditVerdict, ErrorKind, GatewayIdentity, GatewayUpdate, Outage, Outcome, Store};

const BATCH: usize = 50;

/// A batch that starts `BATCH` new sessions, with text long enough that each batch needs fresh pages.
fn batch(sender: usize, n: usize) -> Vec<GatewayUpdate> {
    let at = now_ms() - 60_000;
    (0..BATCH)
        .map(|i| GatewayUpdate {
            update_id: format!("u-{sender}-{n}-{i}"),
            update: SessionUpdate {
                session_id: format!("s-{sender}-{n}-{i}"),
                at,
                change: SessionChange::Started(NewSession {
                    user: format!("user-{i}"),
                    access_id: None,
                    client_interface: ClientInterface::Cli,
                    gateway: "gw-a".into(),
                    resource_type: ResourceType::Ssh,
                    secret_name: format!("/secrets/{}", "x".repeat(200)),
                    target_name: "target".into(),
                    target_host: "10.0.0.1:22".into(),
                }),
            },
        })
        .collect()
}

async fn gateway(store: &Store) -> GatewayIdentity {
    store.register_gateway(&Actor::System, "gw-a", "Gateway A").await.unwrap();
    let key = store.issue_gateway_key(&Actor::System, "gw-a").await.unwrap();
    store.authenticate_gateway(&key).await.unwrap()
}

/// What the senders were told: batches acknowledged as applied, and batches refused with the outage named.
#[derive(Default)]
struct Told {
    applied: BTreeSet<(usize, usize)>,
    failed: BTreeSet<(usize, usize)>,
    outages: BTreeSet<String>,
}

/// `batches` batches from each of `senders` gateways sending concurrently, numbered from `first`.
async fn send(store: &Store, gw: &GatewayIdentity, senders: usize, batches: usize, first: usize) -> Told {
    let mut tasks = Vec::new();
    for sender in 0..senders {
        let (store, gw) = (store.clone(), gw.clone());
        tasks.push(tokio::spawn(async move {
            let mut told = Told::default();
            for n in first..first + batches {
                match store.ingest(&gw, &batch(sender, n)).await {
                    Ok(outcomes) => {
                        assert!(outcomes.iter().all(|o| *o == Outcome::Applied), "new sessions: {outcomes:?}");
                        told.applied.insert((sender, n));
                    }
                    Err(e) => {
                        assert_eq!(e.kind(), ErrorKind::Unavailable, "a failed write is an outage (503), not {e}");
                        assert!(e.retry_after_secs().is_some(), "with Retry-After: {e}");
                        told.outages.insert(format!("{:?}", e.outage()));
                        told.failed.insert((sender, n));
                    }
                }
            }
            told
        }));
    }
    let mut all = Told::default();
    for task in tasks {
        let told = task.await.unwrap();
        all.applied.extend(told.applied);
        all.failed.extend(told.failed);
        all.outages.extend(told.outages);
    }
    all
}

/// The sessions a fresh connection finds, as (sender, batch) pairs with all `BATCH` sessions present; panics on a
/// half-stored batch (a batch is one transaction).
async fn stored_batches(url: &str) -> BTreeSet<(usize, usize)> {
    let db = Database::connect(url).await.unwrap();
    let rows = db
        .query_all(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT session_id FROM sessions"))
        .await
        .unwrap();
    let mut per_batch = std::collections::BTreeMap::<(usize, usize), usize>::new();
    for row in rows {
        let id: String = row.try_get("", "session_id").unwrap();
        let mut parts = id.trim_start_matches("s-").split('-').map(|p| p.parse::<usize>().unwrap());
        let key = (parts.next().unwrap(), parts.next().unwrap());
        *per_batch.entry(key).or_default() += 1;
    }
    db.close().await.ok();
    for (key, n) in &per_batch {
        assert_eq!(*n, BATCH, "batch {key:?} is half stored");
    }
    per_batch.into_keys().collect()
}

async fn intact(store: &Store) {
    match store.verify_audit().await.unwrap() {
        AuditVerdict::Intact { .. } => {}
        other => panic!("the audit chain must stay intact: {other:?}"),
    }
}

#[tokio::test]
async fn sqlite_full_never_acknowledges_what_it_did_not_keep() {
    let db = TestDb::sqlite().await;
    within_limit("sqlite full", async {
        let store = &db.store;
        let gw = gateway(store).await;
        let before = send(store, &gw, 1, 3, 0).await;
        assert_eq!(before.applied.len(), 3);

        // Room for a few more batches, then the database is full while four gateways keep sending.
        let pages = sqlite_pages(store).await;
        limit_sqlite_pages(store, Some(pages + 40));
        let full = send(store, &gw, 4, 30, 1_000).await;
        assert!(!full.failed.is_empty(), "the database never filled up");
        assert!(full.outages.contains(&format!("{:?}", Some(Outage::Full))), "reported as full: {:?}", full.outages);
        assert!(store.check_writes().await.is_err(), "not ready while writes fail");

        // Room again: writes resume by themselves, and the refused batches can be sent again.
        limit_sqlite_pages(store, None);
        // Not ready until a write succeeds again (the last ones failed); the first batch after the room came back is it.
        let after = send(store, &gw, 4, 5, 2_000).await;
        assert!(after.failed.is_empty(), "writes resumed: {:?}", after.outages);
        store.check_writes().await.expect("ready again");
        for &(sender, n) in &full.failed {
            let outcomes = store.ingest(&gw, &batch(sender, n)).await.unwrap();
            assert!(outcomes.iter().all(|o| *o == Outcome::Applied), "a refused batch kept nothing: {outcomes:?}");
        }

        let stored = stored_batches(&db.url).await;
        let acknowledged: BTreeSet<_> =
            before.applied.iter().chain(&full.applied).chain(&after.applied).chain(&full.failed).copied().collect();
        let missing: Vec<_> = acknowledged.difference(&stored).collect();
        assert!(missing.is_empty(), "acknowledged but not stored: {missing:?}");
        assert_eq!(stored, acknowledged, "nothing stored that was not acknowledged");
        intact(store).await;
    })
    .await;
    db.finish().await;
}

#[tokio::test]
async fn postgres_connections_killed_mid_transaction_lose_nothing_acknowledged() {
    let db = TestDb::postgres().await;
    within_limit("postgres killed connections", async {
        let store = &db.store;
        let gw = gateway(store).await;
        let stop = Arc::new(AtomicBool::new(false));
        // Another session of the database ends every connection of the store, again and again, while gateways send.
        let killer = {
            let (url, stop) = (db.url.clone(), stop.clone());
            tokio::spawn(async move {
                let admin = Database::connect(&url).await.unwrap();
                let mut kills = 0_u32;
                while !stop.load(Ordering::Acquire) {
                    let killed = admin
                        .query_all(sea_orm::Statement::from_string(
                            admin.get_database_backend(),
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                             WHERE datname = current_database() AND pid <> pg_backend_pid()",
                        ))
                        .await
                        .unwrap();
                    kills += killed.len() as u32;
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                }
                admin.close().await.ok();
                kills
            })
        };
        let told = send(store, &gw, 4, 40, 0).await;
        stop.store(true, Ordering::Release);
        let kills = killer.await.unwrap();
        assert!(kills > 0 && !told.failed.is_empty(), "connections were killed ({kills}) and writes failed");

        // Every acknowledged batch is stored; a failed one may or may not be (its COMMIT may have gone through before
        // the connection died): sent again, it is applied or a duplicate, never applied twice.
        let stored = stored_batches(&db.url).await;
        let missing: Vec<_> = told.applied.difference(&stored).collect();
        assert!(missing.is_empty(), "acknowledged but not stored: {missing:?}");
        for &(sender, n) in &told.failed {
            let outcomes = store.ingest(&gw, &batch(sender, n)).await.unwrap();
            let first = outcomes[0].clone();
            assert!(outcomes.iter().all(|o| *o == first), "a batch is all or nothing: {outcomes:?}");
            assert_eq!(first == Outcome::Duplicate, stored.contains(&(sender, n)), "{outcomes:?}");
        }
        let all: BTreeSet<_> = told.applied.union(&told.failed).copied().collect();
        assert_eq!(stored_batches(&db.url).await, all);
        let starts = store
            .connection()
            .query_one(sea_orm::Statement::from_string(
                store.connection().get_database_backend(),
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'session.started'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(starts as usize, all.len() * BATCH, "each session's start audited once");
        intact(store).await;
    })
    .await;
    db.finish().await;
}
