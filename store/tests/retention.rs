//! Retention on both backends: ended sessions and audit entries past their ages are pruned in batches; listings,
//! pages, counts and searches agree afterwards; active sessions stay; the pruned chain still verifies from its signed
//! anchor (with checkpoints taken before), while deleting more or forging the anchor is found; changes tokens from
//! before ask for a new reading.

use sea_orm::ConnectionTrait;
use sra_domain::{
    Actor, Caller, SessionChange, SessionQuery, SessionStatus, SessionUpdate, TimeWindow, Timeframe, ViewChanges,
    DAY_MS,
};
use sra_store::{now_ms, AuditVerdict, Retention, Store};

fn started(session_id: &str, at: i64) -> SessionUpdate {
    sra_store::testing::started(session_id, at, "alice", "gw-a")
}

fn change(session_id: &str, at: i64, change: SessionChange) -> SessionUpdate {
    SessionUpdate { session_id: session_id.into(), at, change }
}

/// Every status over the last year, page by page (`size` a page): the IDs listed, and the counts.
async fn everything(store: &Store, search: Option<&str>, size: u32) -> (Vec<String>, u64) {
    let now = now_ms();
    let query = SessionQuery {
        timeframe: Timeframe::Fixed(TimeWindow { from: now - 365 * DAY_MS, to: now }),
        search: search.map(str::to_owned),
        page_size: size,
        ..SessionQuery::recent()
    };
    let admin = Caller::admin("root");
    let mut ids = Vec::new();
    let mut page_query = query.clone();
    loop {
        let page = store.list_sessions(&admin, &page_query).await.unwrap();
        ids.extend(page.sessions.into_iter().map(|s| s.session_id));
        match page.next_cursor {
            Some(cursor) => page_query.cursor = Some(cursor),
            None => break,
        }
    }
    let counts = store.status_counts(&admin, &query).await.unwrap();
    let total = SessionStatus::ALL.iter().map(|s| counts.get(*s)).sum();
    (ids, total)
}

/// The gateway's registration happened today; the test's history starts 200 days ago. Its entry is dated back, and the
/// chain hashed again (as only the key's holder could), so the chain begins with the old entries as in a real store.
async fn backdate_administration(store: &Store, at: i64) {
    let sql = format!("UPDATE audit_log SET at = {} WHERE session_id IS NULL", at - 1_000);
    store.connection().execute_unprepared(&sql).await.unwrap();
    sra_store::testing::rehash_chain_with_the_key(store).await;
}

/// The column `v` of every row `sql` answers, as text.
async fn texts(store: &Store, sql: &str) -> Vec<String> {
    let db = store.connection();
    let rows = db.query_all(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "v").unwrap()).collect()
}

async fn pruning_keeps_listings_counts_and_the_chain_whole(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "Gateway A").await.unwrap();
    let now = now_ms();
    let old = now - 200 * DAY_MS;
    let gateway = Actor::Gateway("gw-a".into());
    // Old and ended (pruned), old and still connected (kept: never pruned while active), recent and ended (kept).
    let mut updates = Vec::new();
    for i in 0..7 {
        let id = format!("old-{i}");
        updates.push(started(&id, old + i));
        updates.push(change(&id, old + 60_000 + i, SessionChange::Connected));
        updates.push(change(&id, old + 120_000 + i, SessionChange::Completed));
    }
    updates.push(started("old-active", old));
    updates.push(change("old-active", old + 1_000, SessionChange::Connected));
    store.apply_updates(&gateway, &updates).await.unwrap();
    store.apply_updates(&gateway, &[started("new-1", now - DAY_MS)]).await.unwrap();
    store
        .apply_updates(&gateway, &[change("new-1", now - DAY_MS + 1_000, SessionChange::Failed { error: "x".into() })])
        .await
        .unwrap();
    backdate_administration(store, old).await;
    let checkpoint_before = store.checkpoint().await.unwrap().unwrap();

    let (before, total_before) = everything(store, None, 3).await;
    assert_eq!((before.len(), total_before), (9, 9));
    let admin = Caller::admin("root");
    let token = store.list_sessions(&admin, &SessionQuery::recent()).await.unwrap().changes_token.unwrap();
    let entries_before = match store.verify_audit().await.unwrap() {
        AuditVerdict::Intact { entries, .. } => entries,
        other => panic!("{other:?}"),
    };

    // Sessions kept 180 days, audit entries 190: the old sessions and their (older) entries go.
    let retention = Retention::new(Some(180 * DAY_MS), Some(190 * DAY_MS)).unwrap();
    let pruned = store.prune(&retention, now).await.unwrap();
    assert_eq!(pruned.sessions, 7);
    assert_eq!(pruned.audit_entries, 1 + 7 * 3 + 2, "the registration, the old sessions' entries and old-active's");

    let (after, total_after) = everything(store, None, 2).await;
    assert_eq!(after, ["new-1", "old-active"], "pages hold what remains, in order");
    assert_eq!(total_after, 2, "the counts' roll-up gave the pruned sessions back");
    let (found, found_total) = everything(store, Some("target-old-3"), 50).await;
    assert_eq!((found, found_total), (vec![], 0), "the search index lost them too");

    // The chain verifies from its anchor, with the checkpoint taken before pruning; and counts every entry ever.
    let checkpoints = [checkpoint_before];
    match store.verify_audit_with(&checkpoints).await.unwrap() {
        AuditVerdict::Intact { entries, checkpoints } => {
            // The two pruning runs wrote an entry each.
            assert_eq!((entries, checkpoints), (entries_before + 2, 1));
        }
        other => panic!("{other:?}"),
    }
    let actions = texts(store, "SELECT action AS v FROM audit_log WHERE action LIKE '%.pruned' ORDER BY id").await;
    assert_eq!(actions, ["sessions.pruned", "audit.pruned"]);
    // A token from before the pruning: read the view again.
    let changes = store.session_changes(&admin, &SessionQuery::recent(), &token).await.unwrap();
    assert_eq!(changes.changes, ViewChanges::Reset);
    // Nothing more to prune: nothing happens, nothing is audited.
    assert_eq!(store.prune(&retention, now).await.unwrap(), sra_store::Pruned::default());

    // Deleting the first entry kept breaks the chain at the next one.
    let first = texts(store, "SELECT CAST(MIN(id) AS TEXT) AS v FROM audit_log").await.remove(0);
    let db = store.connection();
    db.execute_unprepared(&format!("DELETE FROM audit_log WHERE id = {first}")).await.unwrap();
    assert!(matches!(store.verify_audit().await.unwrap(), AuditVerdict::Broken { .. }));
}

async fn a_forged_anchor_is_found(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "Gateway A").await.unwrap();
    let now = now_ms();
    let gateway = Actor::Gateway("gw-a".into());
    let old = now - 200 * DAY_MS;
    store
        .apply_updates(
            &gateway,
            &[started("o-1", old), change("o-1", old + 1, SessionChange::Failed { error: "x".into() })],
        )
        .await
        .unwrap();
    store.apply_updates(&gateway, &[started("n-1", now - 1_000)]).await.unwrap();
    backdate_administration(store, old).await;
    let retention = Retention::new(Some(100 * DAY_MS), Some(100 * DAY_MS)).unwrap();
    store.prune(&retention, now).await.unwrap();
    assert!(matches!(store.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
    // Whoever writes to the database but lacks the key claims fewer entries were pruned: the signature no longer holds.
    store
        .connection()
        .execute_unprepared(
            "UPDATE settings SET value = REPLACE(value, '\"entries\":', '\"entries\":1') WHERE name = 'audit_anchor'",
        )
        .await
        .unwrap();
    match store.verify_audit().await.unwrap() {
        AuditVerdict::Broken { reason, .. } => assert!(reason.contains("anchor"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

sra_store::on_both_backends!(pruning_keeps_listings_counts_and_the_chain_whole, a_forged_anchor_is_found);
