//! What `/metrics` reports of the store, against the sessions themselves, on a real SQLite file and a real PostgreSQL
//! database: all-time totals by kind and status follow every change; the duration histogram holds each ended
//! session once in its bucket; retention takes nothing from them (counters only grow); a second store on the same
//! database (another replica) reports the same; gateway batches and lost sessions are tallied by the process that
//! handled them; heartbeat ages and the audit chain's head are read from the database.

use sra_domain::{
    Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionStatus, SessionUpdate, DAY_MS,
};
use sra_store::testing::TestDb;
use sra_store::{now_ms, DurationBucket, GatewayUpdate, Retention, SessionTotal, Store, StoreMetrics};

fn started(session_id: &str, at: i64, resource_type: ResourceType) -> SessionUpdate {
    SessionUpdate {
        session_id: session_id.into(),
        at,
        change: SessionChange::Started(NewSession {
            user: "alice".into(),
            access_id: None,
            client_interface: ClientInterface::Cli,
            gateway: "gw-a".into(),
            resource_type,
            secret_name: "/s".into(),
            target_name: "t".into(),
            target_host: "h".into(),
        }),
    }
}

fn change(session_id: &str, at: i64, change: SessionChange) -> SessionUpdate {
    SessionUpdate { session_id: session_id.into(), at, change }
}

/// The totals as `(resource type, status) → sessions`, for gw-a.
fn totals(metrics: &StoreMetrics) -> Vec<(String, SessionStatus, u64)> {
    metrics
        .sessions
        .iter()
        .map(|SessionTotal { gateway, resource_type, status, sessions }| {
            assert_eq!(gateway, "gw-a");
            (resource_type.clone(), *status, *sessions)
        })
        .collect()
}

/// The active sessions as `(resource type, client interface, status) → sessions`, for gw-a.
fn active(metrics: &StoreMetrics) -> Vec<(String, String, SessionStatus, u64)> {
    metrics
        .active
        .iter()
        .map(|a| {
            assert_eq!(a.gateway, "gw-a");
            (a.resource_type.clone(), a.client_interface.clone(), a.status, a.sessions)
        })
        .collect()
}

fn durations(metrics: &StoreMetrics) -> Vec<(String, SessionStatus, usize, u64, i64)> {
    metrics
        .durations
        .iter()
        .map(|DurationBucket { resource_type, status, bucket, sessions, duration_ms }| {
            (resource_type.clone(), *status, *bucket, *sessions, *duration_ms)
        })
        .collect()
}

async fn the_totals_follow_every_change_and_outlive_retention(db: &TestDb) {
    let store = &db.store;
    store.register_gateway(&Actor::System, "gw-a", "A").await.unwrap();
    let gateway = Actor::Gateway("gw-a".into());
    let now = now_ms();
    let old = now - 200 * DAY_MS;
    // Two old ssh sessions completed after 5 s and 20 min; an rdp session connected; a new ssh session connecting.
    store
        .apply_updates(
            &gateway,
            &[
                started("a", old, ResourceType::Ssh),
                change("a", old + 1_000, SessionChange::Connected),
                change("a", old + 5_000, SessionChange::Completed),
                started("b", old, ResourceType::Ssh),
                change("b", old + 1_000, SessionChange::Connected),
                change("b", old + 20 * 60_000, SessionChange::Completed),
                started("c", now - 60_000, ResourceType::Rdp),
                change("c", now - 50_000, SessionChange::Connected),
                started("d", now - 1_000, ResourceType::Ssh),
            ],
        )
        .await
        .unwrap();
    let metrics = store.store_metrics().await.unwrap();
    assert_eq!(
        totals(&metrics),
        vec![
            ("rdp".into(), SessionStatus::Connected, 1),
            ("ssh".into(), SessionStatus::Completed, 2),
            ("ssh".into(), SessionStatus::Connecting, 1),
        ]
    );
    assert_eq!(
        active(&metrics),
        vec![
            ("rdp".into(), "cli".into(), SessionStatus::Connected, 1),
            ("ssh".into(), "cli".into(), SessionStatus::Connecting, 1),
        ]
    );
    assert_eq!(
        durations(&metrics),
        vec![
            ("ssh".into(), SessionStatus::Completed, 0, 1, 5_000),
            ("ssh".into(), SessionStatus::Completed, 5, 1, 1_200_000)
        ]
    );

    // The connecting session fails, the connected one is terminated after 2 h: they move, nothing is counted twice.
    store
        .apply_updates(
            &gateway,
            &[
                change("d", now, SessionChange::Failed { error: "refused".into() }),
                change("c", now - 60_000 + 2 * 3_600_000, SessionChange::Terminated),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let metrics = store.store_metrics().await.unwrap();
    assert_eq!(
        totals(&metrics),
        vec![
            ("rdp".into(), SessionStatus::Terminated, 1),
            ("ssh".into(), SessionStatus::Completed, 2),
            ("ssh".into(), SessionStatus::Failed, 1),
        ]
    );
    assert_eq!(active(&metrics), vec![]);
    assert_eq!(metrics.durations.iter().map(|d| d.sessions).sum::<u64>(), 4);
    assert!(metrics.durations.contains(&DurationBucket {
        resource_type: "rdp".into(),
        status: SessionStatus::Terminated,
        bucket: 7,
        sessions: 1,
        duration_ms: 2 * 3_600_000,
    }));
    assert!(metrics.audit_head >= 11, "the registration and ten session changes: {}", metrics.audit_head);

    // Retention prunes the two old sessions: the totals keep them (counters never go down).
    let retention = Retention::new(Some(180 * DAY_MS), None).unwrap();
    assert_eq!(store.prune(&retention, now_ms()).await.unwrap().sessions, 2);
    let after = store.store_metrics().await.unwrap();
    assert_eq!(
        (after.sessions.clone(), after.durations.clone()),
        (metrics.sessions.clone(), metrics.durations.clone())
    );
}

/// Two stores on one database are two replicas: what one writes, the other reports the same way; what each process
/// handled (batches, lost sessions) is its own.
async fn replicas_report_the_same_totals_and_their_own_tallies(db: &TestDb) {
    let store = &db.store;
    store.register_gateway(&Actor::System, "gw-a", "A").await.unwrap();
    let key = store.issue_gateway_key(&Actor::System, "gw-a").await.unwrap();
    let other = Store::connect(&db.url, &db.keys).await.unwrap();
    let gw = other.authenticate_gateway(&key).await.unwrap();
    let t = now_ms() - 10 * 60_000;
    let batch = |id: &str, update: SessionUpdate| vec![GatewayUpdate { update_id: id.into(), update }];
    other.ingest(&gw, &batch("u-1", started("x", t, ResourceType::Ssh))).await.unwrap();
    other.ingest(&gw, &batch("u-1", started("x", t, ResourceType::Ssh))).await.unwrap();
    other.ingest(&gw, &batch("u-2", change("x", t - 1, SessionChange::Completed))).await.unwrap_err();
    assert_eq!(other.heartbeat(&gw, &[]).await.unwrap().blocked.len(), 0);
    // Silent since: the first store's sweeper closes it as lost.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(store.close_lost_sessions(10).await.unwrap(), vec!["x".to_owned()]);

    let here = store.store_metrics().await.unwrap();
    let there = other.store_metrics().await.unwrap();
    assert_eq!((here.sessions.clone(), here.durations.clone()), (there.sessions.clone(), there.durations.clone()));
    assert_eq!(here.audit_head, there.audit_head);
    assert_eq!(totals(&here), vec![("ssh".into(), SessionStatus::Failed, 1)]);
    let tallied = there.tallied;
    assert_eq!(
        (tallied.batches_applied, tallied.batches_refused, tallied.applied, tallied.duplicate, tallied.lost),
        (2, 1, 1, 1, 0)
    );
    assert_eq!((here.tallied.batches_applied, here.tallied.lost), (0, 1));
    let age = there.heartbeat_age_ms.iter().find(|(g, _)| g == "gw-a").and_then(|(_, age)| *age);
    assert!(age.is_some_and(|ms| (0..60_000).contains(&ms)), "{age:?}");
    other.close().await.unwrap();
}

sra_store::on_both_databases!(
    the_totals_follow_every_change_and_outlive_retention,
    replicas_report_the_same_totals_and_their_own_tallies
);
