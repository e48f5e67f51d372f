//! Gateway ingest on a real SQLite file and a real PostgreSQL database: idempotent update IDs, late reports, refused
//! batches left unapplied, gateways confined to their own sessions, heartbeats, lost sessions, termination requests,
//! concurrent writers — and the audit chain that makes all of it tamper-evident.

use std::collections::BTreeSet;

use sea_orm::ConnectionTrait;
use sra_domain::{
    Actor, Caller, ClientInterface, NewSession, ResourceType, Scope, SessionChange, SessionStatus, SessionUpdate,
};
use sra_store::{now_ms, AuditVerdict, GatewayIdentity, GatewayUpdate, Outcome, Store, StoreError};

async fn gateways(store: &Store) -> (GatewayIdentity, GatewayIdentity) {
    let mut out = Vec::new();
    for name in ["gw-a", "gw-b"] {
        store.register_gateway(&Actor::System, name, &name.to_uppercase()).await.unwrap();
        let key = store.issue_gateway_key(&Actor::System, name).await.unwrap();
        out.push(store.authenticate_gateway(&key).await.unwrap());
    }
    (out.remove(0), out.remove(0))
}

fn start(id: &str, session: &str, gateway: &str, at: i64) -> GatewayUpdate {
    GatewayUpdate {
        update_id: id.into(),
        update: SessionUpdate {
            session_id: session.into(),
            at,
            change: SessionChange::Started(NewSession {
                user: "alice".into(),
                access_id: None,
                client_interface: ClientInterface::Cli,
                gateway: gateway.into(),
                resource_type: ResourceType::Ssh,
                secret_name: "/ssh".into(),
                target_name: "t".into(),
                target_host: "h:22".into(),
            }),
        },
    }
}

fn to(id: &str, session: &str, at: i64, change: SessionChange) -> GatewayUpdate {
    GatewayUpdate { update_id: id.into(), update: SessionUpdate { session_id: session.into(), at, change } }
}

async fn count(store: &Store, sql: &str) -> i64 {
    let backend = store.connection().get_database_backend();
    let row = store.connection().query_one(sea_orm::Statement::from_string(backend, sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn session_audits(store: &Store) -> i64 {
    count(store, "SELECT COUNT(*) AS n FROM audit_log WHERE session_id IS NOT NULL").await
}

async fn status(store: &Store, session: &str) -> SessionStatus {
    store.visible_session(&Caller::admin("root"), session).await.unwrap().status
}

async fn retried_updates_are_acknowledged_once(store: &Store) {
    let (a, _) = gateways(store).await;
    let t = now_ms() - 60_000;
    let batch = vec![
        start("u-1", "s-1", "gw-a", t),
        to("u-2", "s-1", t + 1_000, SessionChange::Connected),
        to("u-2", "s-1", t + 1_000, SessionChange::Connected),
    ];
    let outcomes = store.ingest(&a, &batch).await.unwrap();
    assert_eq!(outcomes, [Outcome::Applied, Outcome::Applied, Outcome::Duplicate], "a repeat inside the batch");
    let audited = session_audits(store).await;
    assert_eq!(audited, 2);
    // The gateway did not hear the answer and sends the whole batch again.
    let again = store.ingest(&a, &batch).await.unwrap();
    assert_eq!(again, [Outcome::Duplicate, Outcome::Duplicate, Outcome::Duplicate]);
    assert_eq!(session_audits(store).await, audited, "never applied or audited twice");
    assert_eq!(status(store, "s-1").await, SessionStatus::Connected);
}

async fn late_reports_are_ignored_and_impossible_ones_refuse_the_batch(store: &Store) {
    let (a, _) = gateways(store).await;
    let t = now_ms() - 60_000;
    store
        .ingest(
            &a,
            &[
                start("u-1", "s-1", "gw-a", t),
                to("u-2", "s-1", t + 1, SessionChange::Connected),
                to("u-3", "s-1", t + 2, SessionChange::Completed),
            ],
        )
        .await
        .unwrap();
    // "connected" and "started" delivered after "completed": acknowledged, not applied.
    let late = store
        .ingest(&a, &[to("u-4", "s-1", t + 1, SessionChange::Connected), start("u-5", "s-1", "gw-a", t)])
        .await
        .unwrap();
    assert_eq!(
        late,
        [
            Outcome::Ignored { reason: "late: the session is already completed (reported connected)".into() },
            Outcome::Ignored { reason: "late: the session is already completed (reported connecting)".into() },
        ]
    );
    assert_eq!(status(store, "s-1").await, SessionStatus::Completed);

    // A batch with one impossible step is refused whole: its good updates and its update IDs are not kept.
    let audited = session_audits(store).await;
    let batch = [start("u-6", "s-2", "gw-a", t), to("u-7", "s-1", t + 3, SessionChange::Failed { error: "x".into() })];
    let err = store.ingest(&a, &batch).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "update #2 (\"u-7\") refused: session \"s-1\" cannot go from completed to failed; nothing in this batch was \
         applied"
    );
    assert!(
        matches!(&err, StoreError::UpdateRefused { index: 1, reason, .. } if matches!(**reason, StoreError::InvalidTransition { .. }))
    );
    assert_eq!(session_audits(store).await, audited);
    assert!(matches!(store.visible_session(&Caller::admin("root"), "s-2").await, Err(StoreError::UnknownSession(_))));
    // Fixed and sent again, the good update applies: its ID was not spent by the refused batch.
    assert_eq!(store.ingest(&a, &batch[..1]).await.unwrap(), [Outcome::Applied]);

    let err = store.ingest(&a, &[to("u-8", "nope", t, SessionChange::Connected)]).await.unwrap_err();
    assert!(err.to_string().contains("unknown session \"nope\""), "{err}");
    let err = store.ingest(&a, &[to("u-9", "s-2", t, SessionChange::Completed)]).await.unwrap_err();
    assert!(err.to_string().contains("cannot go from connecting to completed"), "{err}");
}

async fn a_gateway_writes_only_its_own_sessions(store: &Store) {
    let (a, b) = gateways(store).await;
    let t = now_ms() - 60_000;
    store.ingest(&a, &[start("u-1", "s-a", "gw-a", t)]).await.unwrap();
    let err = store.ingest(&b, &[to("u-1", "s-a", t + 1, SessionChange::Terminated)]).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::UpdateRefused { reason, .. } if matches!(**reason, StoreError::ForeignSession { .. })),
        "{err}"
    );
    let err = store.ingest(&b, &[start("u-2", "s-b", "gw-a", t)]).await.unwrap_err();
    assert!(err.to_string().contains("belongs to another gateway than \"gw-b\""), "{err}");
    assert_eq!(status(store, "s-a").await, SessionStatus::Connecting);
    // Update IDs are per gateway: b may use "u-1" too.
    assert_eq!(store.ingest(&b, &[start("u-1", "s-b", "gw-b", t)]).await.unwrap(), [Outcome::Applied]);

    // Keys: a new key replaces the old; an unknown key is refused.
    let old = store.issue_gateway_key(&Actor::System, "gw-a").await.unwrap();
    let new = store.issue_gateway_key(&Actor::System, "gw-a").await.unwrap();
    assert!(new.starts_with("g-") && new != old);
    assert!(matches!(store.authenticate_gateway(&old).await, Err(StoreError::UnknownGatewayKey)));
    assert_eq!(store.authenticate_gateway(&new).await.unwrap(), a);
    let err = store.issue_gateway_key(&Actor::System, "gw-zz").await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownGateway(_)));
}

async fn heartbeats_keep_sessions_alive_and_silence_loses_them(store: &Store) {
    let (a, _) = gateways(store).await;
    let t = now_ms() - 60_000;
    let batch: Vec<_> = (0..3).map(|i| start(&format!("u-{i}"), &format!("s-{i}"), "gw-a", t)).collect();
    store.ingest(&a, &batch).await.unwrap();
    store.ingest(&a, &[to("u-9", "s-2", t + 1, SessionChange::Completed)]).await.unwrap_err();
    store
        .ingest(
            &a,
            &[to("u-9", "s-2", t + 1, SessionChange::Connected), to("u-10", "s-2", t + 2, SessionChange::Completed)],
        )
        .await
        .unwrap();
    // Nobody reported anything for a while.
    store
        .connection()
        .execute_unprepared(&format!("UPDATE sessions SET last_seen_at = {}", now_ms() - 600_000))
        .await
        .unwrap();
    let answer = store.heartbeat(&a, &["s-0".into(), "s-2".into(), "s-new".into()]).await.unwrap();
    assert_eq!(
        (answer.unknown, answer.ended, answer.terminate),
        (vec!["s-new".to_owned()], vec!["s-2".to_owned()], vec![])
    );

    let lost = store.close_lost_sessions(300_000).await.unwrap();
    assert_eq!(lost, ["s-1"], "s-0 was in the heartbeat; s-2 had ended");
    let s1 = store.visible_session(&Caller::admin("root"), "s-1").await.unwrap();
    assert_eq!(s1.status, SessionStatus::Failed);
    assert_eq!(s1.error_message.as_deref(), Some("lost: its gateway stopped reporting it (nothing for 5m 00s)"));
    let trail = store.session_audit("s-1").await.unwrap();
    let last = trail.last().unwrap();
    assert_eq!((last.actor.as_str(), last.action.as_str()), ("system", "session.failed"));
    assert_eq!(store.close_lost_sessions(300_000).await.unwrap(), Vec::<String>::new());
}

async fn termination_is_requested_by_whom_may_and_handed_to_the_gateway(store: &Store) {
    let (a, _) = gateways(store).await;
    let t = now_ms() - 60_000;
    store.ingest(&a, &[start("u-1", "s-1", "gw-a", t), start("u-2", "s-2", "gw-a", t)]).await.unwrap();
    store.ingest(&a, &[to("u-3", "s-2", t + 1, SessionChange::Failed { error: "x".into() })]).await.unwrap();

    let own =
        |gateway: &str| Caller { login: "olivia".into(), scope: Scope::Gateways(BTreeSet::from([gateway.to_owned()])) };
    let err = store.request_termination(&Caller::self_only("alice"), "s-1", &why(), None).await.unwrap_err();
    assert_eq!(err.to_string(), "not permitted: terminating session \"s-1\" needs All, or Own on its gateway \"gw-a\"");
    let err = store.request_termination(&own("gw-b"), "s-1", &why(), None).await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownSession(_)), "not visible: not revealed");
    let first = store.request_termination(&own("gw-a"), "s-1", &why(), None).await.unwrap();
    assert!(!first.repeated);
    let again = store.request_termination(&Caller::admin("root"), "s-1", &why(), None).await.unwrap();
    assert!(again.repeated && again.requested_at == first.requested_at);
    let err = store.request_termination(&Caller::admin("root"), "s-2", &why(), None).await.unwrap_err();
    assert_eq!(err.to_string(), "session \"s-2\" has already ended (failed)");
    let requests = store.session_audit("s-1").await.unwrap();
    let actions: Vec<_> = requests.iter().map(|e| (e.actor.as_str(), e.action.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("gateway:gw-a", "session.started"),
            ("user:olivia", "session.terminate_requested"),
            ("user:root", "session.terminate_requested")
        ]
    );
    assert_eq!(
        store.visible_session(&Caller::admin("root"), "s-1").await.unwrap().terminate_requested_at,
        Some(first.requested_at)
    );

    let answer = store.heartbeat(&a, &["s-1".into()]).await.unwrap();
    assert_eq!(answer.terminate, ["s-1"]);
    store.ingest(&a, &[to("u-4", "s-1", now_ms(), SessionChange::Terminated)]).await.unwrap();
    assert_eq!(store.heartbeat(&a, &[]).await.unwrap().terminate, Vec::<String>::new());
}

async fn concurrent_writers_each_land_once_on_one_chain(store: &Store) {
    let (a, b) = gateways(store).await;
    let t = now_ms() - 60_000;
    let mut tasks = Vec::new();
    for writer in 0..6 {
        let store = store.clone();
        let gateway = if writer % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            for round in 0..10 {
                let session = format!("w{writer}-r{round}");
                let batch = vec![
                    start(&format!("{session}-1"), &session, &gateway.name, t),
                    to(&format!("{session}-2"), &session, t + 1, SessionChange::Connected),
                ];
                store.ingest(&gateway, &batch).await.unwrap();
                // Every batch is retried once, as after a lost answer.
                assert_eq!(store.ingest(&gateway, &batch).await.unwrap(), [Outcome::Duplicate, Outcome::Duplicate]);
                store.record(&Actor::System, "test.noise", serde_json::json!({"writer": writer})).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(session_audits(store).await, 6 * 10 * 2);
    assert_eq!(count(store, "SELECT COUNT(*) AS n FROM sessions WHERE status = 'connected'").await, 60);
    assert!(matches!(store.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
}

async fn audit_is_listed_under_the_sessions_visibility(store: &Store) {
    let (a, b) = gateways(store).await;
    let t = now_ms() - 60_000;
    store.ingest(&a, &[start("u-1", "s-a", "gw-a", t)]).await.unwrap();
    let mut bob_on_b = start("u-2", "s-b", "gw-b", t + 1);
    if let SessionChange::Started(new) = &mut bob_on_b.update.change {
        new.user = "bob".into();
    }
    store.ingest(&b, &[bob_on_b, to("u-3", "s-b", t + 2, SessionChange::Connected)]).await.unwrap();
    let page = |caller: Caller, query: sra_store::AuditQuery| async move {
        store.list_audit(&caller, &sra_store::AuditQuery { page_size: 100, ..query }).await.unwrap()
    };
    let all = page(Caller::admin("root"), Default::default()).await;
    assert!(all.entries.iter().any(|e| e.action == "gateway.registered"), "administrative entries for All");
    assert!(all.entries.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let own_b = Caller { login: "olivia".into(), scope: Scope::Gateways(BTreeSet::from(["gw-b".to_owned()])) };
    let seen: Vec<_> = page(own_b, Default::default())
        .await
        .entries
        .iter()
        .map(|e| (e.session_id.clone().unwrap(), e.action.clone()))
        .collect();
    assert_eq!(
        seen,
        [("s-b".to_owned(), "session.connected".to_owned()), ("s-b".to_owned(), "session.started".to_owned())]
    );
    let alice = page(Caller::self_only("alice"), Default::default()).await;
    assert_eq!(alice.entries.iter().map(|e| e.session_id.as_deref().unwrap()).collect::<Vec<_>>(), ["s-a"]);
    let by_actor =
        page(Caller::admin("root"), sra_store::AuditQuery { actor: Some("gateway:gw-b".into()), ..Default::default() })
            .await;
    assert_eq!(by_actor.entries.len(), 2);
    let by_time =
        page(Caller::admin("root"), sra_store::AuditQuery { from: Some(t + 1), to: Some(t + 1), ..Default::default() })
            .await;
    assert_eq!(by_time.entries.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["session.started"]);
    // By action, or by a family of actions; what is not an action is named.
    let action = |action: &str| sra_store::AuditQuery { action: Some(action.into()), ..Default::default() };
    let connected = page(Caller::admin("root"), action("session.connected")).await;
    assert_eq!(connected.entries.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["session.connected"]);
    let sessions = page(Caller::admin("root"), action("session.*")).await;
    assert!(sessions.entries.len() >= 3 && sessions.entries.iter().all(|e| e.action.starts_with("session.")));
    assert!(sessions.entries.len() < all.entries.len(), "administrative entries are not session changes");
    assert!(page(Caller::admin("root"), action("gateway.*"))
        .await
        .entries
        .iter()
        .all(|e| e.action.starts_with("gateway.")));
    let bad = sra_store::AuditQuery { page_size: 10, ..action("session.%") };
    let err = store.list_audit(&Caller::admin("root"), &bad).await.unwrap_err();
    assert!(err.to_string().starts_with("\"action\": \"session.%\" is not an action"), "{err}");
    // Pages of 2 follow each other without gaps or repeats.
    let mut ids = Vec::new();
    let mut before = None;
    loop {
        let query = sra_store::AuditQuery { page_size: 2, before_id: before, ..Default::default() };
        let p = store.list_audit(&Caller::admin("root"), &query).await.unwrap();
        ids.extend(p.entries.iter().map(|e| e.id));
        match p.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(ids, all.entries.iter().map(|e| e.id).collect::<Vec<_>>());
    let err = store
        .list_audit(&Caller::admin("root"), &sra_store::AuditQuery { page_size: 0, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "page size 0 is out of range; allowed: 1 to 500");
}

/// Ingest, termination requests and the lost-session sweeper racing on the same sessions: whatever order they land
/// in, every session ends up in one final state reached by allowed steps, each step audited once, the stored status is
/// the audit trail's last, and the chain is intact.
async fn ingest_termination_and_the_sweeper_race_without_corrupting_anything(store: &Store) {
    let (a, _) = gateways(store).await;
    const N: usize = 40;
    let t0 = now_ms() - 60_000;
    let starts: Vec<_> = (0..N).map(|i| start(&format!("start-{i}"), &format!("r-{i}"), "gw-a", t0)).collect();
    store.ingest(&a, &starts).await.unwrap();
    let admin = Caller::admin("root");

    let gateway = {
        let (store, a) = (store.clone(), a.clone());
        tokio::spawn(async move {
            for i in 0..N {
                let session = format!("r-{i}");
                let steps = [
                    to(&format!("c-{i}"), &session, t0 + 1_000, SessionChange::Connected),
                    if i % 2 == 0 {
                        to(&format!("e-{i}"), &session, t0 + 2_000, SessionChange::Completed)
                    } else {
                        to(&format!("e-{i}"), &session, t0 + 2_000, SessionChange::Terminated)
                    },
                ];
                for step in steps {
                    // A step the sweeper or an earlier report made impossible is refused or ignored, never half-applied.
                    match store.ingest(&a, std::slice::from_ref(&step)).await {
                        Ok(_) | Err(StoreError::UpdateRefused { .. }) => {}
                        Err(e) => panic!("ingest failed: {e}"),
                    }
                }
            }
        })
    };
    let terminator = {
        let (store, admin) = (store.clone(), admin.clone());
        tokio::spawn(async move {
            for i in (0..N).rev() {
                match store.request_termination(&admin, &format!("r-{i}"), &why(), None).await {
                    Ok(_) | Err(StoreError::SessionEnded { .. }) => {}
                    Err(e) => panic!("termination failed: {e}"),
                }
            }
        })
    };
    let sweeper = {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                // Silent for 0 ms: every active session is "lost" — the harshest race with the gateway's reports.
                store.close_lost_sessions(0).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    for task in [gateway, terminator, sweeper] {
        task.await.unwrap();
    }
    store.close_lost_sessions(0).await.unwrap();

    for i in 0..N {
        let session = format!("r-{i}");
        let stored = status(store, &session).await;
        assert!(!stored.is_active(), "{session} still {stored}");
        let trail = store.session_audit(&session).await.unwrap();
        let changes: Vec<(String, String)> = trail
            .iter()
            .filter_map(|e| {
                Some((e.details.get("from")?.as_str()?.to_owned(), e.details.get("to")?.as_str()?.to_owned()))
            })
            .collect();
        let mut state = SessionStatus::Connecting;
        for (from, to) in &changes {
            assert_eq!(from, state.as_str(), "{session}: {changes:?}");
            let next: SessionStatus = to.parse().unwrap();
            assert!(state.is_active(), "{session}: a step after the end: {changes:?}");
            state = next;
        }
        assert_eq!(state, stored, "{session}: the stored status is the trail's last");
    }
    assert!(matches!(store.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
}

fn start_as(id: &str, session: &str, user: &str, gateway: &str, at: i64) -> GatewayUpdate {
    let mut update = start(id, session, gateway, at);
    if let SessionChange::Started(new) = &mut update.update.change {
        new.user = user.into();
    }
    update
}

async fn bulk_termination_selects_by_user_or_gateway_and_skips_what_it_may_not(store: &Store) {
    use sra_domain::{Skip, TerminationReason, TerminationTarget};
    let (a, b) = gateways(store).await;
    let t = now_ms() - 60_000;
    store
        .ingest(&a, &[start_as("1", "a-1", "alice", "gw-a", t), start_as("2", "a-3", "alice", "gw-a", t)])
        .await
        .unwrap();
    store.ingest(&a, &[start_as("3", "b-1", "bob", "gw-a", t + 1)]).await.unwrap();
    store.ingest(&b, &[start_as("4", "a-2", "alice", "gw-b", t + 2)]).await.unwrap();
    store.ingest(&a, &[to("5", "a-3", t + 3, SessionChange::Failed { error: "x".into() })]).await.unwrap();
    let olivia = Caller { login: "olivia".into(), scope: Scope::Gateways(BTreeSet::from(["gw-a".to_owned()])) };
    let ids = |t: &sra_domain::Terminations| t.requested.iter().map(|r| r.session_id.clone()).collect::<Vec<_>>();

    // A user's active sessions that olivia may see (those on gw-a); alice's on gw-b is not hers to see at all.
    let preview = store.preview_terminations(&olivia, &TerminationTarget::User("alice".into()), None).await.unwrap();
    assert_eq!((ids(&preview), preview.skipped.len()), (vec!["a-1".to_owned()], 0));
    // alice sees both of her sessions but may terminate neither: each is listed as skipped, with why.
    let (alice, alices) = (Caller::self_only("alice"), TerminationTarget::User("alice".into()));
    let own = store.preview_terminations(&alice, &alices, None).await.unwrap();
    assert!(own.requested.is_empty());
    assert_eq!(
        own.skipped.iter().map(|s| (s.session_id.as_str(), &s.why)).collect::<Vec<_>>(),
        [
            ("a-2", &Skip::NotPermitted { gateway: "gw-b".into() }),
            ("a-1", &Skip::NotPermitted { gateway: "gw-a".into() })
        ]
    );
    // Named sessions keep the request's order; an ended one, an unknown one and one not visible are skipped.
    let named = ["a-1", "a-3", "zz", "a-2", "a-1"].map(str::to_owned).to_vec();
    let preview = store.preview_terminations(&olivia, &TerminationTarget::Sessions(named), None).await.unwrap();
    assert_eq!(ids(&preview), ["a-1"]);
    assert_eq!(
        preview.skipped.iter().map(|s| (s.session_id.as_str(), &s.why)).collect::<Vec<_>>(),
        [("a-3", &Skip::Ended { status: SessionStatus::Failed }), ("zz", &Skip::NotFound), ("a-2", &Skip::NotFound)]
    );
    let before = session_audits(store).await;
    assert_eq!(before, 5, "a preview writes nothing");

    let why = TerminationReason::parse("gateway host compromised").unwrap();
    let done = store.terminate_sessions(&olivia, &TerminationTarget::Gateway("gw-a".into()), &why, None).await.unwrap();
    assert_eq!(ids(&done), ["b-1", "a-1"], "newest first");
    assert!(done.requested.iter().all(|r| !r.repeated) && done.skipped.is_empty());
    let b1 = store.visible_session(&Caller::admin("root"), "b-1").await.unwrap();
    assert_eq!(
        (b1.terminate_requested_by.as_deref(), b1.termination_reason.as_deref()),
        (Some("olivia"), Some("gateway host compromised"))
    );
    let entry = store.session_audit("b-1").await.unwrap().pop().unwrap();
    assert_eq!((entry.actor.as_str(), entry.action.as_str()), ("user:olivia", "session.terminate_requested"));
    assert_eq!(entry.details["reason"], "gateway host compromised");
    assert_eq!(entry.details["selected_by"], serde_json::json!({"gateway": "gw-a"}));
    assert_eq!(session_audits(store).await, before + 2);

    // Again, by someone else for another reason: audited, but the first request's time, requester and reason stay.
    let other = TerminationReason::parse("second thoughts").unwrap();
    let (root, bobs) = (Caller::admin("root"), TerminationTarget::User("bob".into()));
    let again = store.terminate_sessions(&root, &bobs, &other, None).await.unwrap();
    assert_eq!(again.requested.len(), 1);
    assert!(again.requested[0].repeated && again.requested[0].requested_at == done.requested[0].requested_at);
    let b1 = store.visible_session(&Caller::admin("root"), "b-1").await.unwrap();
    assert_eq!(b1.termination_reason.as_deref(), Some("gateway host compromised"));
    assert_eq!(store.session_audit("b-1").await.unwrap().pop().unwrap().details["reason"], "second thoughts");
    let mut told = store.heartbeat(&a, &[]).await.unwrap().terminate;
    told.sort();
    assert_eq!(told, ["a-1", "b-1"]);

    // Bounded: nothing named, too many named, or a selection bigger than one request may hold.
    let err = store.terminate_sessions(&olivia, &TerminationTarget::Sessions(vec![]), &why, None).await.unwrap_err();
    assert_eq!(err.to_string(), "\"session-ids\": name at least one session");
    let many: Vec<String> = (0..501).map(|i| format!("m-{i}")).collect();
    let err = store.preview_terminations(&olivia, &TerminationTarget::Sessions(many), None).await.unwrap_err();
    assert_eq!(err.to_string(), "\"session-ids\": 501 sessions named; at most 500 per request");
    let crowd: Vec<GatewayUpdate> =
        (0..501).map(|i| start_as(&format!("c{i}"), &format!("c-{i}"), "carol", "gw-b", t)).collect();
    for chunk in crowd.chunks(250) {
        store.ingest(&b, chunk).await.unwrap();
    }
    let err = store.preview_terminations(&root, &TerminationTarget::User("carol".into()), None).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "user"), "{err}");
    assert!(err.to_string().contains("more than 500 active sessions"), "{err}");
    assert!(matches!(store.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
}

async fn a_block_placed_with_a_termination_reaches_the_gateway_until_it_ends_or_is_lifted(store: &Store) {
    use sra_domain::{BlockFor, TerminationReason, TerminationTarget};
    let (a, b) = gateways(store).await;
    let t = now_ms() - 60_000;
    store
        .ingest(&a, &[start_as("1", "m-1", "mallory", "gw-a", t), start_as("2", "m-2", "mallory", "gw-a", t)])
        .await
        .unwrap();
    store.ingest(&b, &[start_as("3", "m-3", "mallory", "gw-b", t)]).await.unwrap();
    let olivia = Caller { login: "olivia".into(), scope: Scope::Gateways(BTreeSet::from(["gw-a".to_owned()])) };
    let why = TerminationReason::parse("credential stuffing").unwrap();
    let day = BlockFor::parse("24h").unwrap();

    // A preview says who would be blocked where, and places nothing.
    let target = TerminationTarget::User("mallory".into());
    let preview = store.preview_terminations(&olivia, &target, Some(day)).await.unwrap();
    assert_eq!(
        preview.blocked.iter().map(|b| (b.user.as_str(), b.gateway.as_str())).collect::<Vec<_>>(),
        [("mallory", "gw-a")]
    );
    assert!(store.heartbeat(&a, &[]).await.unwrap().blocked.is_empty());

    // Olivia (Own on gw-a) blocks mallory there: once, however many of his sessions ended; not on gw-b.
    let done = store.terminate_sessions(&olivia, &target, &why, Some(day)).await.unwrap();
    assert_eq!(done.requested.len(), 2);
    assert_eq!(done.blocked.len(), 1);
    let until = done.blocked[0].until;
    assert!((until - now_ms() - 24 * 3_600_000).abs() < 60_000);
    assert_eq!(store.heartbeat(&a, &[]).await.unwrap().blocked, [("mallory".to_owned(), until)]);
    assert!(store.heartbeat(&b, &[]).await.unwrap().blocked.is_empty(), "gw-b is not olivia's");
    let listed = store.list_blocks(&olivia).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].blocked_by.as_str(), listed[0].reason.as_str()), ("olivia", "credential stuffing"));
    assert_eq!(store.list_blocks(&Caller::self_only("mallory")).await.unwrap().len(), 1, "his own block");
    assert!(store.list_blocks(&Caller::self_only("alice")).await.unwrap().is_empty());

    // A shorter block later does not shorten it; a longer one extends it.
    store.ingest(&a, &[start_as("4", "m-4", "mallory", "gw-a", t + 5)]).await.unwrap();
    let hour = BlockFor::parse("1h").unwrap();
    store.request_termination(&olivia, "m-4", &why, Some(hour)).await.unwrap();
    assert_eq!(store.heartbeat(&a, &[]).await.unwrap().blocked, [("mallory".to_owned(), until)]);
    assert_eq!(store.list_blocks(&olivia).await.unwrap().len(), 1);

    // Lifting: not by mallory himself, not by someone who cannot see it; by olivia, audited.
    let id = listed[0].id;
    let err = store.lift_block(&Caller::self_only("mallory"), id).await.unwrap_err();
    assert!(matches!(err, StoreError::NotPermitted(_)), "{err}");
    let err = store.lift_block(&Caller::self_only("alice"), id).await.unwrap_err();
    assert!(err.to_string().contains(&format!("no live block #{id}")), "{err}");
    store.lift_block(&olivia, id).await.unwrap();
    assert!(store.heartbeat(&a, &[]).await.unwrap().blocked.is_empty());
    assert!(store.lift_block(&olivia, id).await.is_err(), "already lifted");
    let query = sra_store::AuditQuery { action: Some("user.*".into()), page_size: 10, ..Default::default() };
    let entries = store.list_audit(&Caller::admin("root"), &query).await.unwrap().entries;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.unblocked", "user.blocked"], "the shorter block changed nothing and is not recorded");
    assert_eq!(entries[1].details["reason"], "credential stuffing");
    assert!(matches!(store.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
}

sra_store::on_both_backends!(
    ingest_termination_and_the_sweeper_race_without_corrupting_anything,
    audit_is_listed_under_the_sessions_visibility,
    retried_updates_are_acknowledged_once,
    late_reports_are_ignored_and_impossible_ones_refuse_the_batch,
    a_gateway_writes_only_its_own_sessions,
    heartbeats_keep_sessions_alive_and_silence_loses_them,
    termination_is_requested_by_whom_may_and_handed_to_the_gateway,
    bulk_termination_selects_by_user_or_gateway_and_skips_what_it_may_not,
    a_block_placed_with_a_termination_reaches_the_gateway_until_it_ends_or_is_lifted,
    concurrent_writers_each_land_once_on_one_chain,
);

fn why() -> sra_domain::TerminationReason {
    sra_domain::TerminationReason::parse("compromised account").unwrap()
}
