//! What changed in a view since its changes token, on both backends: changed sessions in the view, those that left it
//! (only if the caller may see them), nothing else; tokens bound to their view; the feed that wakes streams.

use std::collections::BTreeSet;

use sra_domain::{
    Actor, Caller, QueryError, Scope, SessionChange, SessionChanges, SessionQuery, SessionStatus, SessionUpdate,
    ViewChanges,
};
use sra_store::{now_ms, Store, StoreError};

use sra_store::testing::started;

fn change(session_id: &str, at: i64, change: SessionChange) -> SessionUpdate {
    SessionUpdate { session_id: session_id.to_owned(), at, change }
}

fn active_only() -> SessionQuery {
    SessionQuery { statuses: SessionStatus::ACTIVE.iter().copied().collect(), ..SessionQuery::recent() }
}

fn own(login: &str, gateway: &str) -> Caller {
    Caller { login: login.into(), scope: Scope::Gateways(BTreeSet::from([gateway.to_owned()])) }
}

async fn token(store: &Store, caller: &Caller, query: &SessionQuery) -> String {
    store.list_sessions(caller, query).await.unwrap().changes_token.expect("a listing hands out a changes token")
}

/// The changed sessions' IDs in the view and the removed ones, or `None` for "unchanged".
fn ids(changes: &SessionChanges) -> Option<(Vec<&str>, Vec<&str>)> {
    match &changes.changes {
        ViewChanges::Unchanged => None,
        ViewChanges::Changed { sessions, removed } => Some((
            sessions.iter().map(|s| s.session_id.as_str()).collect(),
            removed.iter().map(String::as_str).collect(),
        )),
        ViewChanges::Reset => panic!("unexpected reset"),
    }
}

async fn changes_are_those_of_the_view_under_visibility(store: &Store) {
    for gateway in ["gw-a", "gw-b"] {
        store.register_gateway(&Actor::System, gateway, gateway).await.unwrap();
    }
    let t0 = now_ms() - 60_000;
    store
        .apply_updates(&Actor::System, &[started("a-1", t0, "alice", "gw-a"), started("b-1", t0, "bob", "gw-b")])
        .await
        .unwrap();
    let (admin, carol, bob) = (Caller::admin("root"), own("carol", "gw-a"), Caller::self_only("bob"));
    let query = active_only();
    let tokens =
        [token(store, &admin, &query).await, token(store, &carol, &query).await, token(store, &bob, &query).await];

    // Nothing happened: the same position, and no session read.
    for (caller, token) in [&admin, &carol, &bob].into_iter().zip(&tokens) {
        let answer = store.session_changes(caller, &query, token).await.unwrap();
        assert_eq!((ids(&answer), &answer.token), (None, token), "{caller:?}");
    }

    store
        .apply_updates(
            &Actor::System,
            &[
                change("a-1", t0 + 1_000, SessionChange::Connected),
                change("b-1", t0 + 2_000, SessionChange::Failed { error: "refused".into() }),
                started("a-2", t0 + 3_000, "dave", "gw-a"),
            ],
        )
        .await
        .unwrap();
    let admin_changes = store.session_changes(&admin, &query, &tokens[0]).await.unwrap();
    assert_eq!(ids(&admin_changes), Some((vec!["a-2", "a-1"], vec!["b-1"])), "admin: b-1 ended, so left the view");
    let ViewChanges::Changed { sessions, .. } = &admin_changes.changes else { unreachable!() };
    assert_eq!(sessions[1].status, SessionStatus::Connected, "changed sessions come as they are now");
    // Own on gw-a: bob's session on gw-b is not theirs to know about, not even as "removed".
    let carol_changes = store.session_changes(&carol, &query, &tokens[1]).await.unwrap();
    assert_eq!(ids(&carol_changes), Some((vec!["a-2", "a-1"], vec![])));
    let bob_changes = store.session_changes(&bob, &query, &tokens[2]).await.unwrap();
    assert_eq!(ids(&bob_changes), Some((vec![], vec!["b-1"])));

    // From the new tokens: unchanged; an audit entry that names no session changes no view.
    store.register_gateway(&Actor::System, "gw-c", "gw-c").await.unwrap();
    let again = store.session_changes(&admin, &query, &admin_changes.token).await.unwrap();
    assert_eq!(ids(&again), None);
    assert_ne!(again.token, admin_changes.token, "the position moves on past entries of no session");

    // A termination request is a change (the row shows "terminating").
    store.request_termination(&admin, "a-1", &why(), None).await.unwrap();
    let terminating = store.session_changes(&carol, &query, &carol_changes.token).await.unwrap();
    assert_eq!(ids(&terminating), Some((vec!["a-1"], vec![])));
    let ViewChanges::Changed { sessions, .. } = &terminating.changes else { unreachable!() };
    assert!(sessions[0].terminate_requested_at.is_some());
}

async fn a_token_serves_only_its_own_view(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "gw-a").await.unwrap();
    let admin = Caller::admin("root");
    let token = token(store, &admin, &active_only()).await;
    let refused = |result: Result<SessionChanges, StoreError>| {
        matches!(result, Err(StoreError::Query(QueryError::InvalidChangesToken)))
    };
    let other_view = SessionQuery { search: Some("x".into()), ..active_only() };
    assert!(refused(store.session_changes(&admin, &other_view, &token).await), "another view");
    assert!(refused(store.session_changes(&Caller::admin("eve"), &active_only(), &token).await), "another caller");
    let (payload, tag) = token.split_once('.').unwrap();
    let altered = format!("{payload}x.{tag}");
    for bad in [altered.as_str(), "", "not a token", &"x".repeat(5_000)] {
        assert!(refused(store.session_changes(&admin, &active_only(), bad).await), "{bad:.40}");
    }
    let message = StoreError::Query(QueryError::InvalidChangesToken).to_string();
    assert!(message.contains("changes token"), "{message}");
}

/// More changes than are worth listing: the view is to be read again.
async fn too_many_changes_ask_for_a_new_reading(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "gw-a").await.unwrap();
    let admin = Caller::admin("root");
    let query = SessionQuery::recent();
    let token = token(store, &admin, &query).await;
    let t0 = now_ms() - 60_000;
    let many: Vec<SessionUpdate> =
        (0..=sra_store::MAX_CHANGES).map(|i| started(&format!("m-{i:05}"), t0, "alice", "gw-a")).collect();
    store.apply_updates(&Actor::System, &many).await.unwrap();
    let answer = store.session_changes(&admin, &query, &token).await.unwrap();
    assert_eq!(answer.changes, ViewChanges::Reset);
    let after = store.session_changes(&admin, &query, &answer.token).await.unwrap();
    assert_eq!(after.changes, ViewChanges::Unchanged, "the reset's token continues from the newest change");
}

/// Every commit that changed something wakes the feed; reads do not.
async fn commits_wake_the_feed(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "gw-a").await.unwrap();
    let mut feed = store.subscribe_changes();
    feed.mark_unchanged();
    store.list_sessions(&Caller::admin("root"), &SessionQuery::recent()).await.unwrap();
    assert!(!feed.has_changed().unwrap(), "a read moved the feed");
    store.apply_updates(&Actor::System, &[started("f-1", now_ms(), "alice", "gw-a")]).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), feed.changed()).await.unwrap().unwrap();
}

/// The streams' shared reading answers what each caller's own would, with each caller's own token.
async fn streams_share_readings_and_answer_as_each_callers_own(store: &Store) {
    for gateway in ["gw-a", "gw-b"] {
        store.register_gateway(&Actor::System, gateway, gateway).await.unwrap();
    }
    let query = active_only();
    let callers = [Caller::admin("root"), Caller::admin("ada"), own("carol", "gw-a"), Caller::self_only("bob")];
    let mut tokens = Vec::new();
    for caller in &callers {
        tokens.push(token(store, caller, &query).await);
    }
    let t0 = now_ms() - 60_000;
    store
        .apply_updates(&Actor::System, &[started("a-1", t0, "alice", "gw-a"), started("b-1", t0, "bob", "gw-b")])
        .await
        .unwrap();
    tokio::time::sleep(sra_store::HEAD_REUSE).await;
    for (caller, token) in callers.iter().zip(&tokens) {
        let shared = store.stream_changes(caller, &query, token).await.unwrap().to_session_changes();
        let own_answer = store.session_changes(caller, &query, token).await.unwrap();
        assert_eq!(shared, own_answer, "{caller:?}");
        // The token is the caller's: it serves them next time, and no one else.
        assert_eq!(ids(&store.session_changes(caller, &query, &shared.token).await.unwrap()), None);
    }
    let mut seen = Vec::new();
    for (caller, token) in callers.iter().zip(&tokens) {
        let answer = store.stream_changes(caller, &query, token).await.unwrap().to_session_changes();
        seen.push(ids(&answer).map(|(sessions, _)| sessions.iter().map(|s| s.to_string()).collect::<Vec<_>>()));
    }
    let of = |ids: &[&str]| Some(ids.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(seen, [of(&["b-1", "a-1"]), of(&["b-1", "a-1"]), of(&["a-1"]), of(&["b-1"])]);
}

/// Where memory cannot be sure to fold case as the engine does (text that is not plain ASCII), the database decides:
/// the changes are the listing's sessions, whatever the engine's folding.
async fn a_search_beyond_ascii_is_decided_by_the_database(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "gw-a").await.unwrap();
    let admin = Caller::admin("root");
    let queries: Vec<SessionQuery> = ["ÜNÏ", "ünï", "code", "prod"]
        .into_iter()
        .map(|text| SessionQuery { search: Some(text.to_owned()), ..SessionQuery::recent() })
        .collect();
    let mut tokens = Vec::new();
    for query in &queries {
        tokens.push(token(store, &admin, query).await);
    }
    let t0 = now_ms() - 60_000;
    let mut unicode = started("u-1", t0, "alice", "gw-a");
    if let SessionChange::Started(new) = &mut unicode.change {
        new.target_name = "Ünïcode-db".into();
    }
    store.apply_updates(&Actor::System, &[unicode, started("a-1", t0, "alice", "gw-a")]).await.unwrap();
    for (query, token) in queries.iter().zip(&tokens) {
        let listed: Vec<String> =
            store.list_sessions(&admin, query).await.unwrap().sessions.into_iter().map(|s| s.session_id).collect();
        let answer = store.session_changes(&admin, query, token).await.unwrap();
        let changed = ids(&answer).map(|(sessions, _)| sessions.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(changed.unwrap_or_default(), listed, "{:?}", query.search);
    }
}

/// A refresh from the position a stream was given shares the stream's reading and reads only what came after: the
/// answer is every session changed since, each as it is now.
async fn a_refresh_after_a_streams_reading_reads_only_the_rest(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "gw-a").await.unwrap();
    let (admin, query) = (Caller::admin("root"), SessionQuery::recent());
    let since = token(store, &admin, &query).await;
    let t0 = now_ms() - 60_000;
    store
        .apply_updates(&Actor::System, &[started("a-1", t0, "alice", "gw-a"), started("b-1", t0 + 1, "bob", "gw-a")])
        .await
        .unwrap();
    tokio::time::sleep(sra_store::HEAD_REUSE).await;
    let streamed = store.stream_changes(&admin, &query, &since).await.unwrap().to_session_changes();
    assert_eq!(ids(&streamed), Some((vec!["b-1", "a-1"], vec![])));
    store
        .apply_updates(
            &Actor::System,
            &[change("a-1", t0 + 5, SessionChange::Connected), started("c-1", t0 + 2, "carol", "gw-a")],
        )
        .await
        .unwrap();
    let refreshed = store.session_changes(&admin, &query, &since).await.unwrap();
    assert_eq!(ids(&refreshed), Some((vec!["c-1", "b-1", "a-1"], vec![])));
    let ViewChanges::Changed { sessions, .. } = &refreshed.changes else { unreachable!() };
    let a1 = sessions.iter().find(|s| s.session_id == "a-1").unwrap();
    assert_eq!(a1.status, SessionStatus::Connected, "as it is now, not as the stream read it");
    // And from where the refresh ended, nothing.
    assert_eq!(ids(&store.session_changes(&admin, &query, &refreshed.token).await.unwrap()), None);
}

/// A stream that starts from a listing's token, read just after the newest position the streams share, is not told to
/// start over: the shared position is read again (a browser's stream was reset in a loop, and its grid never settled).
async fn a_position_newer_than_the_shared_one_is_not_a_reset(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "gw-a").await.unwrap();
    let (admin, query) = (Caller::admin("root"), SessionQuery::recent());
    let older = token(store, &admin, &query).await;
    // The streams' shared position is read now...
    assert_eq!(ids(&store.stream_changes(&admin, &query, &older).await.unwrap().to_session_changes()), None);
    // ...a change is committed and a listing reads its token after it, within the shared position's reuse.
    store.apply_updates(&Actor::System, &[started("a-1", now_ms() - 1_000, "alice", "gw-a")]).await.unwrap();
    let newer = token(store, &admin, &query).await;
    let answer = store.stream_changes(&admin, &query, &newer).await.unwrap().to_session_changes();
    assert_eq!(ids(&answer), None, "nothing changed after the listing: not a reset");
}

sra_store::on_both_backends!(
    a_position_newer_than_the_shared_one_is_not_a_reset,
    a_refresh_after_a_streams_reading_reads_only_the_rest,
    a_search_beyond_ascii_is_decided_by_the_database,
    streams_share_readings_and_answer_as_each_callers_own,
    changes_are_those_of_the_view_under_visibility,
    a_token_serves_only_its_own_view,
    too_many_changes_ask_for_a_new_reading,
    commits_wake_the_feed
);

fn why() -> sra_domain::TerminationReason {
    sra_domain::TerminationReason::parse("compromised account").unwrap()
}
