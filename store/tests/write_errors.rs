//! A disk that refuses writes at commit time — here the process's file-size limit (`RLIMIT_FSIZE`), which makes the
//! WAL's growth fail exactly as a full disk does, no special mount needed — never turns into an acknowledgement of
//! something that was not committed. SQLite rolls such a transaction back by itself; the driver then still counted it
//! open, and every later "transaction" on that pooled connection became a savepoint inside one that never committed:
//! batches answered `applied` and lost. Alone in its test binary, because the limit holds for the whole process.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, Database};
use sra_domain::{Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionUpdate};
use sra_store::testing::{within_limit, TestDb};
use sra_store::{now_ms, AuditVerdict, ErrorKind, GatewayUpdate, Outcome};

fn batch(n: usize) -> Vec<GatewayUpdate> {
    (0..50)
        .map(|i| GatewayUpdate {
            update_id: format!("u-{n}-{i}"),
            update: SessionUpdate {
                session_id: format!("s-{n}-{i}"),
                at: now_ms() - 60_000,
                change: SessionChange::Started(NewSession {
                    user: "alice".into(),
                    access_id: None,
                    client_interface: ClientInterface::Cli,
                    gateway: "gw-a".into(),
                    resource_type: ResourceType::Ssh,
                    secret_name: format!("/secrets/{}", "x".repeat(300)),
                    target_name: "t".into(),
                    target_host: "h:22".into(),
                }),
            },
        })
        .collect()
}

/// Caps the size of any file this process writes (`None`: no cap). Past it, a write fails with EFBIG instead of the
/// process being stopped by SIGXFSZ.
fn limit_file_size(bytes: Option<u64>) {
    // SAFETY: plain system calls on this process's own signal disposition and resource limit.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = bytes.unwrap_or(libc::RLIM_INFINITY);
        let mut current = std::mem::zeroed::<libc::rlimit>();
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut current), 0);
        let wanted = libc::rlimit { rlim_cur: limit.min(current.rlim_max), rlim_max: current.rlim_max };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &wanted), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_the_disk_refuses_is_never_acknowledged() {
    let db = TestDb::sqlite().await;
    within_limit("commit refused", async {
        let store = &db.store;
        store.register_gateway(&Actor::System, "gw-a", "A").await.unwrap();
        let key = store.issue_gateway_key(&Actor::System, "gw-a").await.unwrap();
        let gw = store.authenticate_gateway(&key).await.unwrap();
        let path = db.url.trim_start_matches("sqlite://").to_owned();
        let mut applied = BTreeSet::new();
        let mut failed = BTreeSet::new();
        for n in 0..3 {
            store.ingest(&gw, &batch(n)).await.unwrap();
            applied.insert(n);
        }
        // The WAL may grow by about one batch more, then every commit that needs more room fails.
        let wal = std::fs::metadata(format!("{path}-wal")).map(|m| m.len()).unwrap_or(0);
        limit_file_size(Some(wal + 60_000));
        for n in 3..60 {
            match store.ingest(&gw, &batch(n)).await {
                Ok(outcomes) => {
                    assert!(outcomes.iter().all(|o| *o == Outcome::Applied));
                    applied.insert(n);
                }
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                    failed.insert(n);
                }
            }
        }
        assert!(store.check_writes().await.is_err(), "not ready while writes fail");
        limit_file_size(None);
        assert!(failed.len() > 10, "the disk refused most commits: failed {failed:?}");
        for n in 60..65 {
            store.ingest(&gw, &batch(n)).await.expect("writes resume once the disk has room");
            applied.insert(n);
        }
        store.check_writes().await.expect("ready again");

        // What a fresh connection finds: every acknowledged batch, whole; nothing of the refused ones.
        let fresh = Database::connect(&db.url).await.unwrap();
        let rows = fresh
            .query_all(sea_orm::Statement::from_string(fresh.get_database_backend(), "SELECT session_id FROM sessions"))
            .await
            .unwrap();
        let mut stored = std::collections::BTreeMap::<usize, usize>::new();
        for row in rows {
            let id: String = row.try_get("", "session_id").unwrap();
            *stored.entry(id.split('-').nth(1).unwrap().parse().unwrap()).or_default() += 1;
        }
        fresh.close().await.ok();
        let lost: Vec<_> = applied.iter().filter(|n| stored.get(n) != Some(&50)).collect();
        assert!(lost.is_empty(), "acknowledged as applied but not stored: batches {lost:?}");
        let kept: Vec<_> = failed.iter().filter(|n| stored.contains_key(n)).collect();
        assert!(kept.is_empty(), "refused but stored: {kept:?}");
        assert!(matches!(store.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
    })
    .await;
    db.finish().await;
}
