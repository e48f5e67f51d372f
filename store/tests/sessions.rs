//! The store's write and read paths on both backends: session changes with their audit entries, atomic batches, the
//! state machine, the time window and corrupt rows.

use sea_orm::ConnectionTrait;
use sra_domain::{
    Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionStatus, SessionUpdate, SraRule, DAY_MS,
};
use sra_domain::{Caller, SessionQuery, SessionsPage, TimeWindow, Timeframe};
use sra_store::{now_ms, RoleSpec, Store, StoreError};

/// The 30 days up to `now`, newest first.
fn until(now: i64) -> SessionQuery {
    let window = TimeWindow { from: now - sra_domain::DEFAULT_WINDOW_MS, to: now };
    SessionQuery { timeframe: Timeframe::Fixed(window), ..SessionQuery::recent() }
}

/// The newest `limit` sessions of the last 30 days before `now`, as an administrator sees them.
async fn recent(store: &Store, now: i64, limit: u32) -> Result<SessionsPage, StoreError> {
    let query = SessionQuery { page_size: limit, ..until(now) };
    store.list_sessions(&Caller::admin("admin"), &query).await
}

const GATEWAY: &str = "gw-eu-1";

fn started(session_id: &str, at: i64, user: &str) -> SessionUpdate {
    SessionUpdate {
        session_id: session_id.to_owned(),
        at,
        change: SessionChange::Started(NewSession {
            user: user.to_owned(),
            access_id: Some("p-abc123".to_owned()),
            client_interface: ClientInterface::WebPortalWeb,
            gateway: GATEWAY.to_owned(),
            resource_type: ResourceType::Ssh,
            secret_name: "/prod/ssh/bastion".to_owned(),
            target_name: "bastion".to_owned(),
            target_host: "10.0.0.5:22".to_owned(),
        }),
    }
}

fn change(session_id: &str, at: i64, change: SessionChange) -> SessionUpdate {
    SessionUpdate { session_id: session_id.to_owned(), at, change }
}

async fn with_gateway(store: &Store) {
    store.register_gateway(&Actor::System, GATEWAY, "EU Gateway 1").await.expect("register gateway");
}

async fn audit_count(store: &Store) -> i64 {
    let row = store
        .connection()
        .query_one(sea_orm::Statement::from_string(
            store.connection().get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_log WHERE session_id IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn a_session_lives_and_every_change_is_audited(store: &Store) {
    with_gateway(store).await;
    let t0 = now_ms() - 60_000;
    let gateway = Actor::Gateway(GATEWAY.to_owned());
    store.apply_updates(&gateway, &[started("s-1", t0, "alice")]).await.unwrap();
    store.apply_updates(&gateway, &[change("s-1", t0 + 1_000, SessionChange::Connected)]).await.unwrap();

    let page = recent(store, now_ms(), 50).await.unwrap();
    assert_eq!(page.sessions.len(), 1);
    let s = &page.sessions[0];
    assert_eq!((s.status, s.ended_at, s.user.as_str()), (SessionStatus::Connected, None, "alice"));
    assert_eq!(s.gateway.cluster_display_name, "EU Gateway 1");
    assert!(s.duration_ms(page.as_of) >= 60_000);

    store.apply_updates(&gateway, &[change("s-1", t0 + 30_000, SessionChange::Completed)]).await.unwrap();
    let s = recent(store, now_ms(), 50).await.unwrap().sessions.remove(0);
    assert_eq!((s.status, s.ended_at), (SessionStatus::Completed, Some(t0 + 30_000)));
    assert_eq!(s.duration_ms(now_ms()), 30_000, "an ended session keeps its final duration");

    let audit = store.session_audit("s-1").await.unwrap();
    let actions: Vec<_> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["session.started", "session.connected", "session.completed"]);
    assert!(audit.iter().all(|a| a.actor == "gateway:gw-eu-1"));
    assert_eq!(audit[2].details["from"], "connected");
    assert_eq!(audit[2].details["to"], "completed");
}

async fn a_rejected_batch_leaves_nothing_behind(store: &Store) {
    with_gateway(store).await;
    let t0 = now_ms() - 10_000;
    let batch = [
        started("s-ok", t0, "bob"),
        started("s-bad", t0, "bob"),
        // connecting → completed skips "connected": the whole batch must be refused.
        change("s-bad", t0 + 5, SessionChange::Completed),
    ];
    let err = store.apply_updates(&Actor::System, &batch).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidTransition { session_id, from: SessionStatus::Connecting, to: SessionStatus::Completed } if session_id == "s-bad"),
        "{err}"
    );
    assert_eq!(err.to_string(), "session \"s-bad\" cannot go from connecting to completed");
    assert_eq!(store.session_count().await.unwrap(), 0);
    assert_eq!(audit_count(store).await, 0, "no audit entry without its session change");
}

async fn final_states_are_final_and_unknowns_are_named(store: &Store) {
    with_gateway(store).await;
    let t0 = now_ms() - 10_000;
    store
        .apply_updates(
            &Actor::System,
            &[started("s-f", t0, "carol"), change("s-f", t0 + 1, SessionChange::Failed { error: "auth".into() })],
        )
        .await
        .unwrap();
    let audited = audit_count(store).await;
    // Late reports of earlier states (connected, started) are acknowledged and change nothing.
    store.apply_updates(&Actor::System, &[change("s-f", t0 + 2, SessionChange::Connected)]).await.unwrap();
    store.apply_updates(&Actor::System, &[started("s-f", t0, "carol")]).await.unwrap();
    assert_eq!(audit_count(store).await, audited, "nothing applied, nothing audited");
    // Another ending is refused: ended states are final.
    let err =
        store.apply_updates(&Actor::System, &[change("s-f", t0 + 3, SessionChange::Completed)]).await.unwrap_err();
    assert_eq!(err.to_string(), "session \"s-f\" cannot go from failed to completed");
    let err = store.apply_updates(&Actor::System, &[change("nope", t0, SessionChange::Connected)]).await;
    assert!(matches!(err, Err(StoreError::UnknownSession(id)) if id == "nope"));
    let mut foreign = started("s-x", t0, "carol");
    if let SessionChange::Started(new) = &mut foreign.change {
        new.gateway = "gw-unknown".into();
    }
    let err = store.apply_updates(&Actor::System, &[foreign]).await.unwrap_err();
    assert_eq!(err.to_string(), "unknown gateway \"gw-unknown\": register it first");

    let s = recent(store, now_ms(), 10).await.unwrap().sessions.remove(0);
    assert_eq!(s.status, SessionStatus::Failed);
    assert_eq!(s.error_message.as_deref(), Some("auth"));
}

async fn the_window_holds_sessions_that_overlap_it(store: &Store) {
    with_gateway(store).await;
    let now = now_ms();
    let updates = [
        // Connected for 40 days: still in today's 30-day view.
        started("old-live", now - 40 * DAY_MS, "dave"),
        change("old-live", now - 40 * DAY_MS + 1_000, SessionChange::Connected),
        // Started 40 days ago, ended 35 days ago: outside.
        started("old-done", now - 40 * DAY_MS, "dave"),
        change("old-done", now - 40 * DAY_MS + 1_000, SessionChange::Connected),
        change("old-done", now - 35 * DAY_MS, SessionChange::Completed),
        // Started 31 days ago, ended 29 days ago: overlaps.
        started("edge", now - 31 * DAY_MS, "dave"),
        change("edge", now - 31 * DAY_MS + 1_000, SessionChange::Connected),
        change("edge", now - 29 * DAY_MS, SessionChange::Terminated),
        started("new", now - DAY_MS, "erin"),
    ];
    store.apply_updates(&Actor::System, &updates).await.unwrap();
    let page = recent(store, now, 50).await.unwrap();
    let ids: Vec<_> = page.sessions.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(ids, ["new", "edge", "old-live"], "newest first, overlap rule");

    let limited = recent(store, now, 2).await.unwrap();
    assert_eq!(limited.sessions.len(), 2);
}

async fn a_corrupt_row_is_reported_not_shown(store: &Store) {
    with_gateway(store).await;
    store.apply_updates(&Actor::System, &[started("s-c", now_ms() - 1_000, "frank")]).await.unwrap();
    store.connection().execute_unprepared("UPDATE sessions SET status = 'bogus'").await.unwrap();
    let err = recent(store, now_ms(), 10).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { column: "status", .. }), "{err}");
    assert!(err.to_string().contains("\"bogus\""), "{err}");
}

async fn roles_and_users_register(store: &Store) {
    with_gateway(store).await;
    store.create_user(&Actor::System, "alice", "Alice").await.unwrap();
    let spec = RoleSpec { name: "eu-ops".into(), rule: SraRule::Own, gateways: vec![GATEWAY.into()] };
    store.create_role(&Actor::System, &spec).await.unwrap();
    store.assign_role(&Actor::System, "alice", "eu-ops").await.unwrap();
    let err = store.assign_role(&Actor::System, "nobody", "eu-ops").await.unwrap_err();
    assert_eq!(err.to_string(), "unknown user \"nobody\"");
    let bad = RoleSpec { name: "x".into(), rule: SraRule::Own, gateways: vec!["gw-nope".into()] };
    assert!(matches!(store.create_role(&Actor::System, &bad).await, Err(StoreError::UnknownGateway(_))));
    // Registering a gateway again with the same name is not an error, and keeps its id.
    let a = store.register_gateway(&Actor::System, GATEWAY, "EU Gateway 1").await.unwrap();
    let b = store.register_gateway(&Actor::System, GATEWAY, "EU Gateway One").await.unwrap();
    assert_eq!(a, b);
}

sra_store::on_both_backends!(
    a_session_lives_and_every_change_is_audited,
    a_rejected_batch_leaves_nothing_behind,
    final_states_are_final_and_unknowns_are_named,
    the_window_holds_sessions_that_overlap_it,
    a_corrupt_row_is_reported_not_shown,
    roles_and_users_register,
);

mod cached_counts {
    use super::*;

    /// Cached counts are reused within their time to live even after a write; the exact counts see the write.
    async fn cached_counts_are_reused_briefly(store: &Store) {
        with_gateway(store).await;
        let now = now_ms();
        store.apply_updates(&Actor::System, &[started("c-1", now - 1_000, "gina")]).await.unwrap();
        let admin = Caller::admin("admin");
        let query = until(now);
        let first = store.status_counts_cached(&admin, &query).await.unwrap();
        assert_eq!(first.connecting, 1);
        store.apply_updates(&Actor::System, &[started("c-2", now - 500, "gina")]).await.unwrap();
        assert_eq!(store.status_counts_cached(&admin, &query).await.unwrap(), first, "reused");
        assert_eq!(store.status_counts(&admin, &query).await.unwrap().connecting, 2, "exact");
        let other_caller = Caller::self_only("gina");
        assert_eq!(store.status_counts_cached(&other_caller, &query).await.unwrap().connecting, 2, "keyed by caller");
    }

    /// Choice counts are cached the same way, apart for each filter, and a choice of the counted filter does not
    /// change its own counts (each choice is counted as if alone) while the other filters do.
    async fn choice_counts_are_cached_per_filter(store: &Store) {
        use sra_domain::Facet;
        with_gateway(store).await;
        let now = now_ms();
        store.apply_updates(&Actor::System, &[started("f-1", now - 1_000, "gina")]).await.unwrap();
        let admin = Caller::admin("admin");
        let query = until(now);
        let by_type = store.choice_counts_cached(&admin, &query, Facet::ResourceType).await.unwrap();
        assert_eq!(by_type.get("ssh"), Some(&1), "{by_type:?}");
        let by_gateway = store.choice_counts_cached(&admin, &query, Facet::Gateway).await.unwrap();
        assert_eq!(by_gateway.get(GATEWAY), Some(&1), "{by_gateway:?}");
        store.apply_updates(&Actor::System, &[started("f-2", now - 500, "gina")]).await.unwrap();
        let rdp_only = SessionQuery { resource_types: [ResourceType::Rdp].into(), ..query.clone() };
        assert_eq!(
            store.choice_counts_cached(&admin, &rdp_only, Facet::ResourceType).await.unwrap(),
            by_type,
            "reused"
        );
        assert_eq!(store.choice_counts(&admin, &rdp_only, Facet::ResourceType).await.unwrap().get("ssh"), Some(&2));
        assert_eq!(store.choice_counts(&admin, &rdp_only, Facet::Gateway).await.unwrap().get(GATEWAY), None);
        let desktop = SessionQuery { client_interfaces: [ClientInterface::DesktopApp].into(), ..query.clone() };
        assert!(store.choice_counts(&admin, &desktop, Facet::ResourceType).await.unwrap().is_empty());
    }

    sra_store::on_both_backends!(cached_counts_are_reused_briefly, choice_counts_are_cached_per_filter);
}

mod cursors {
    use super::*;
    use sra_domain::QueryError;

    /// A cursor only continues the listing it came from: edited, foreign-caller or changed-query cursors are refused.
    async fn cursors_are_tamper_proof_and_bound_to_their_listing(store: &Store) {
        with_gateway(store).await;
        let now = now_ms();
        let updates: Vec<_> = (0..5).map(|i| started(&format!("k-{i}"), now - 10_000 + i, "hank")).collect();
        store.apply_updates(&Actor::System, &updates).await.unwrap();
        let admin = Caller::admin("admin");
        let query = SessionQuery { page_size: 2, ..until(now) };
        let first = store.list_sessions(&admin, &query).await.unwrap();
        let cursor = first.next_cursor.clone().expect("more pages");
        let refused = |result: Result<SessionsPage, StoreError>| {
            matches!(result, Err(StoreError::Query(QueryError::InvalidCursor)))
        };

        let mut edited = cursor.clone();
        edited.replace_range(3..4, if &cursor[3..4] == "A" { "B" } else { "A" });
        let with = |cursor: &str| SessionQuery { cursor: Some(cursor.to_owned()), ..query.clone() };
        assert!(refused(store.list_sessions(&admin, &with(&edited)).await), "edited");
        assert!(refused(store.list_sessions(&Caller::admin("root"), &with(&cursor)).await), "another caller");
        let other_query = SessionQuery { search: Some("k-".into()), ..with(&cursor) };
        assert!(refused(store.list_sessions(&admin, &other_query).await), "another query");
        let second = store.list_sessions(&admin, &with(&cursor)).await.unwrap();
        assert_eq!(second.sessions.len(), 2);
        let message = StoreError::Query(QueryError::InvalidCursor).to_string();
        assert!(message.starts_with("invalid page cursor"), "{message}");
    }

    sra_store::on_both_backends!(cursors_are_tamper_proof_and_bound_to_their_listing);
}

mod timeframes {
    use super::*;

    /// "The last 30 days" is fixed when its first page is read: later pages, asked for later with the same query (as
    /// API clients do with only a pagination token), continue that same window.
    async fn open_ended_timeframes_page_through_one_window(store: &Store) {
        with_gateway(store).await;
        let now = now_ms();
        let updates: Vec<_> = (0..5).map(|i| started(&format!("r-{i}"), now - 10_000 + i, "ivy")).collect();
        store.apply_updates(&Actor::System, &updates).await.unwrap();
        let admin = Caller::admin("admin");
        let query = SessionQuery { page_size: 3, ..SessionQuery::recent() };
        let first = store.list_sessions(&admin, &query).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        // Started after the first page was read: outside this listing's window.
        store.apply_updates(&Actor::System, &[started("r-late", now_ms(), "ivy")]).await.unwrap();
        let next = SessionQuery { cursor: first.next_cursor.clone(), ..query.clone() };
        let second = store.list_sessions(&admin, &next).await.expect("the cursor is accepted later");
        assert_eq!(second.as_of, first.as_of);
        let seen: Vec<_> = first.sessions.iter().chain(&second.sessions).map(|s| s.session_id.as_str()).collect();
        assert_eq!(seen, ["r-4", "r-3", "r-2", "r-1", "r-0"]);
        assert_eq!(second.next_cursor, None);
    }

    sra_store::on_both_backends!(open_ended_timeframes_page_through_one_window);
}

mod single_session {
    use super::*;
    use sra_domain::Scope;
    use std::collections::BTreeSet;

    /// One session and its audit are shown under the listing's rule; to anyone else the session does not exist.
    async fn one_session_is_shown_only_to_whom_may_see_it(store: &Store) {
        with_gateway(store).await;
        store.register_gateway(&Actor::System, "gw-us-1", "US Gateway 1").await.unwrap();
        store.apply_updates(&Actor::System, &[started("v-1", now_ms() - 1_000, "alice")]).await.unwrap();
        let own = |gateway: &str| Caller {
            login: "olivia".into(),
            scope: Scope::Gateways(BTreeSet::from([gateway.to_owned()])),
        };
        for (caller, visible) in [
            (Caller::admin("root"), true),
            (Caller::self_only("alice"), true),
            (own(GATEWAY), true),
            (own("gw-us-1"), false),
            (Caller::self_only("bob"), false),
        ] {
            let session = store.visible_session(&caller, "v-1").await;
            let audit = store.audit_of_visible_session(&caller, "v-1").await;
            if visible {
                let session = session.unwrap();
                assert_eq!((session.access_id.as_deref(), session.user.as_str()), (Some("p-abc123"), "alice"));
                assert_eq!(audit.unwrap().len(), 1, "{caller:?}");
            } else {
                assert!(matches!(session, Err(StoreError::UnknownSession(ref id)) if id == "v-1"), "{caller:?}");
                assert!(matches!(audit, Err(StoreError::UnknownSession(_))), "{caller:?}");
            }
        }
        let missing = store.visible_session(&Caller::admin("root"), "nope").await;
        assert!(matches!(missing, Err(StoreError::UnknownSession(_))));
    }

    sra_store::on_both_backends!(one_session_is_shown_only_to_whom_may_see_it);
}

mod search {
    use super::*;

    fn with_secret(session_id: &str, at: i64, secret: &str) -> SessionUpdate {
        let mut update = started(session_id, at, "hana");
        if let SessionChange::Started(new) = &mut update.change {
            new.secret_name = secret.to_owned();
        }
        update
    }

    /// The sessions an administrator finds with `text`, newest first (the counts must agree).
    async fn found(store: &Store, text: &str) -> Vec<String> {
        let admin = Caller::admin("root");
        let query = SessionQuery { search: Some(text.into()), ..until(now_ms()) };
        let page = store.list_sessions(&admin, &query).await.unwrap();
        let counts = store.status_counts(&admin, &query).await.unwrap();
        let ids: Vec<String> = page.sessions.into_iter().map(|s| s.session_id).collect();
        assert_eq!(counts.connecting as usize, ids.len(), "{text}: counts agree with the listing");
        ids
    }

    /// A search finds its text as a substring, whether the trigram index answers it (few candidates) or the listing
    /// walks (many); the index's candidates are checked, so holding every trigram of the text is not enough; a change
    /// of a searched column is found at once; an edited-away text is not.
    async fn a_search_finds_substrings_by_index_or_walk(store: &Store) {
        with_gateway(store).await;
        let now = now_ms();
        let updates = [
            with_secret("q-1", now - 3_000, "/ops/abc-bcd"),
            with_secret("q-2", now - 2_000, "/ops/xabcdx"),
            with_secret("q-3", now - 1_000, "/ops/ABCD"),
        ];
        store.apply_updates(&Actor::System, &updates).await.unwrap();
        for limit in [0, 1, 5_000] {
            let mut store = store.clone();
            store.set_search_candidate_limit(limit);
            assert_eq!(found(&store, "abcd").await, ["q-3", "q-2"], "limit {limit}");
            assert_eq!(found(&store, "c-b").await, ["q-1"], "limit {limit}");
            assert_eq!(found(&store, "zzz").await, Vec::<String>::new(), "limit {limit}");
        }
        store
            .connection()
            .execute_unprepared("UPDATE sessions SET target_name = 'abcd-box' WHERE session_id = 'q-1'")
            .await
            .unwrap();
        store
            .connection()
            .execute_unprepared("UPDATE sessions SET secret_name = '/ops/none' WHERE session_id = 'q-2'")
            .await
            .unwrap();
        assert_eq!(found(store, "abcd").await, ["q-3", "q-1"], "the index follows updates");
    }

    sra_store::on_both_backends!(a_search_finds_substrings_by_index_or_walk);
}
