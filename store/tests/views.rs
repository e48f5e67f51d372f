//! Session detail views are audited, on both backends: one entry per reader and session per quarter hour, nothing
//! recorded for a session the reader may not see, listed to administrators only, and never taken for a change.

use sra_domain::{Actor, Caller, SessionQuery, ViewChanges};
use sra_store::testing::{started, Cast};
use sra_store::{now_ms, AuditQuery, Store, StoreError, ViewedThrough, VIEW_ACTION};

/// The view entries an administrator's audit listing holds, oldest first: (actor, session, through).
async fn views(store: &Store) -> Vec<(String, String, String)> {
    let query = AuditQuery { page_size: 100, action: Some(VIEW_ACTION.into()), ..Default::default() };
    let page = store.list_audit(&Caller::admin("root"), &query).await.unwrap();
    page.entries
        .into_iter()
        .rev()
        .map(|e| (e.actor, e.session_id.unwrap_or_default(), e.details["through"].as_str().unwrap_or("?").to_owned()))
        .collect()
}

async fn detail_views_are_audited_once_per_reader_and_shown_to_administrators(store: &Store) {
    Cast::usual("views-password-1", "gw-b").create(store).await;
    let t0 = now_ms() - 60_000;
    store
        .apply_updates(&Actor::System, &[started("a-1", t0, "alice", "gw-a"), started("b-1", t0, "bob", "gw-b")])
        .await
        .unwrap();
    let (admin, olivia, alice) = (
        store.caller("admin").await.unwrap(),
        store.caller("olivia").await.unwrap(),
        store.caller("alice").await.unwrap(),
    );
    let query = SessionQuery::recent();
    let token = store.list_sessions(&olivia, &query).await.unwrap().changes_token.unwrap();

    // Read again and again (a panel open through refreshes): one entry per reader and session.
    for _ in 0..3 {
        store.view_session(&olivia, "b-1", ViewedThrough::Console).await.unwrap();
    }
    store.view_session(&olivia, "b-1", ViewedThrough::Api).await.unwrap();
    store.view_session(&alice, "a-1", ViewedThrough::Api).await.unwrap();
    // A session the reader may not see: not found, nothing recorded.
    let refused = store.view_session(&alice, "b-1", ViewedThrough::Console).await;
    assert!(matches!(refused, Err(StoreError::UnknownSession(_))), "{refused:?}");
    let (session, timeline) = store.view_session(&admin, "b-1", ViewedThrough::Console).await.unwrap();
    assert_eq!(session.session_id, "b-1");
    assert_eq!(
        views(store).await,
        [
            ("user:olivia".to_owned(), "b-1".to_owned(), "console".to_owned()),
            ("user:alice".to_owned(), "a-1".to_owned(), "api".to_owned()),
            ("user:admin".to_owned(), "b-1".to_owned(), "console".to_owned()),
        ]
    );

    // Administrators see who viewed a session in its timeline; its other readers do not.
    let viewers = |timeline: &[sra_store::AuditRecord]| -> Vec<String> {
        timeline.iter().filter(|e| e.action == VIEW_ACTION).map(|e| e.actor.clone()).collect()
    };
    assert_eq!(viewers(&timeline), ["user:olivia", "user:admin"]);
    let (_, seen_by_olivia) = store.view_session(&olivia, "b-1", ViewedThrough::Console).await.unwrap();
    assert!(viewers(&seen_by_olivia).is_empty(), "{seen_by_olivia:?}");
    assert!(seen_by_olivia.iter().any(|e| e.action == "session.started"));
    // Nor in the audit log: Own readers see the session's changes, not its readers.
    let listed = store.list_audit(&olivia, &AuditQuery { page_size: 100, ..Default::default() }).await.unwrap();
    assert!(!listed.entries.is_empty() && listed.entries.iter().all(|e| e.action != VIEW_ACTION), "{listed:?}");

    // A view is not a change: the overview's refresh finds nothing new.
    let changes = store.session_changes(&olivia, &query, &token).await.unwrap();
    assert_eq!(changes.changes, ViewChanges::Unchanged);
}

sra_store::on_both_backends!(detail_views_are_audited_once_per_reader_and_shown_to_administrators);
