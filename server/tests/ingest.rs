//! The gateway ingest API and termination over HTTP, through the real router on a real SQLite file and a real
//! PostgreSQL database — and the gateway simulator driving a served router over real HTTP.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use sra_domain::Actor;
use sra_store::{AuditVerdict, Store};
use tower::ServiceExt;

const PASSWORD: &str = "ingest-password-1";

struct World {
    router: Router,
    key_a: String,
    key_b: String,
    _site: tempfile::TempDir,
}

async fn world(store: &Store) -> World {
    let system = Actor::System;
    sra_store::testing::Cast::usual(PASSWORD, "gw-a").create(store).await;
    let key_a = store.issue_gateway_key(&system, "gw-a").await.unwrap();
    let key_b = store.issue_gateway_key(&system, "gw-b").await.unwrap();
    let site = tempfile::tempdir().unwrap();
    World { router: sra_server::router(site.path(), store.clone(), Default::default()), key_a, key_b, _site: site }
}

async fn post(router: &Router, path: &str, key: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let response = router.clone().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes))))
}

fn time(offset_ms: i64) -> String {
    sra_domain::format_rfc3339(sra_store::now_ms() + offset_ms)
}

fn start(update: &str, session: &str) -> Value {
    json!({
        "update-id": update, "session-id": session, "status": "connecting", "at": time(-60_000),
        "user": "alice", "client-interface": "cli", "resource-type": "ssh", "secret-name": "/prod/ssh/web",
        "target-name": "web-01", "target-host": "10.0.0.1:22"
    })
}

fn status(update: &str, session: &str, status: &str) -> Value {
    let mut report = json!({"update-id": update, "session-id": session, "status": status, "at": time(-1_000)});
    if status == "failed" {
        report["error"] = json!("target unreachable");
    }
    report
}

fn batch(updates: &[Value]) -> String {
    json!({ "updates": updates }).to_string()
}

async fn audit_entries(store: &Store, session: &str) -> Vec<String> {
    store.session_audit(session).await.unwrap().into_iter().map(|e| format!("{} {}", e.actor, e.action)).collect()
}

async fn gateways_report_sessions_once_and_in_order(store: &Store) {
    let w = world(store).await;
    let (code, answer) =
        post(&w.router, "/gateway/session-update", Some(&w.key_a), &start("u1", "s-1").to_string()).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"update_id": "u1", "outcome": "applied"}));

    let reports = [status("u2", "s-1", "connected"), status("u3", "s-1", "completed"), start("u4", "s-2")];
    let (code, answer) = post(&w.router, "/gateway/session-updates", Some(&w.key_a), &batch(&reports)).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    let outcomes: Vec<&str> =
        answer["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["applied", "applied", "applied"]);

    // The same batch again (the gateway never got the answer), plus a late "connected".
    let mut again = reports.to_vec();
    again.push(status("u5", "s-1", "connected"));
    let (code, answer) = post(&w.router, "/gateway/session-updates", Some(&w.key_a), &batch(&again)).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["results"],
        json!([
            {"update_id": "u2", "outcome": "duplicate"},
            {"update_id": "u3", "outcome": "duplicate"},
            {"update_id": "u4", "outcome": "duplicate"},
            {"update_id": "u5", "outcome": "ignored", "reason": "late: the session is already completed (reported connected)"}
        ])
    );
    assert_eq!(
        audit_entries(store, "s-1").await,
        ["gateway:gw-a session.started", "gateway:gw-a session.connected", "gateway:gw-a session.completed"]
    );
}

async fn refused_reports_leave_nothing_behind(store: &Store) {
    let w = world(store).await;
    post(&w.router, "/gateway/session-update", Some(&w.key_a), &start("u1", "s-a").to_string()).await;

    // Breaking the state machine: 409, and the good report in the same batch is not applied either.
    let reports = [start("u2", "s-new"), status("u3", "s-a", "completed")];
    let (code, answer) = post(&w.router, "/gateway/session-updates", Some(&w.key_a), &batch(&reports)).await;
    assert_eq!(code, StatusCode::CONFLICT, "{answer}");
    assert_eq!(
        answer["error"],
        "update #2 (\"u3\") refused: session \"s-a\" cannot go from connecting to completed; nothing in this batch was \
         applied"
    );
    assert!(audit_entries(store, "s-new").await.is_empty());
    let (code, answer) =
        post(&w.router, "/gateway/session-update", Some(&w.key_a), &status("u9", "s-ghost", "connected").to_string())
            .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(answer["error"].as_str().unwrap().contains("unknown session \"s-ghost\""), "{answer}");

    // Another gateway's session: 403, audited.
    let (code, answer) =
        post(&w.router, "/gateway/session-update", Some(&w.key_b), &status("u1", "s-a", "terminated").to_string())
            .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("belongs to another gateway than \"gw-b\""), "{answer}");
    let refused = sra_store::Store::session_audit(store, "s-a").await.unwrap();
    assert_eq!(refused.len(), 1, "nothing applied to s-a");
    let backend = store.connection().get_database_backend();
    let sql = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'gateway.write_refused' AND actor = 'gateway:gw-b'";
    use sea_orm::ConnectionTrait;
    let row = store.connection().query_one(sea_orm::Statement::from_string(backend, sql)).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1);

    // Bad input: named, never applied.
    let future = json!({"update-id": "u", "session-id": "s-f", "status": "connected", "at": time(3_600_000)});
    let cases: Vec<(&str, Option<&str>, String, StatusCode, &str)> = vec![
        (
            "/gateway/session-update",
            None,
            start("u", "s").to_string(),
            StatusCode::UNAUTHORIZED,
            "Authorization: Bearer g-",
        ),
        (
            "/gateway/session-update",
            Some("g-forged"),
            start("u", "s").to_string(),
            StatusCode::UNAUTHORIZED,
            "unknown gateway key",
        ),
        (
            "/gateway/session-update",
            Some(&w.key_a),
            "{\"update-id\": ".into(),
            StatusCode::BAD_REQUEST,
            "not valid JSON",
        ),
        (
            "/gateway/session-update",
            Some(&w.key_a),
            json!({"update-id": "u", "session-id": "s", "status": "connected", "at": time(0), "colour": "red"})
                .to_string(),
            StatusCode::BAD_REQUEST,
            "unknown key colour",
        ),
        (
            "/gateway/session-update",
            Some(&w.key_a),
            json!({"update-id": "u", "session-id": "s", "status": "open", "at": time(0)}).to_string(),
            StatusCode::BAD_REQUEST,
            "\"status\": \"open\" is not allowed; allowed: connecting, connected, failed, completed, terminated",
        ),
        ("/gateway/session-update", Some(&w.key_a), future.to_string(), StatusCode::BAD_REQUEST, "update.at: "),
        (
            "/gateway/session-updates",
            Some(&w.key_a),
            batch(&[
                start("u10", "s-10"),
                json!({"update-id": "u11", "session-id": "s-10", "status": "failed", "at": time(0)}),
            ]),
            StatusCode::BAD_REQUEST,
            "\"updates[1]\": \"error\" is required",
        ),
        (
            "/gateway/session-updates",
            Some(&w.key_a),
            batch(&[]),
            StatusCode::BAD_REQUEST,
            "\"updates\": holds too few entries; allowed: at least 1",
        ),
        (
            "/gateway/session-updates",
            Some(&w.key_a),
            batch(&(0..1_001).map(|i| status(&format!("x{i}"), "s", "connected")).collect::<Vec<_>>()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "the batch holds 1001 updates; allowed: up to 1000",
        ),
        (
            "/gateway/heartbeat",
            Some(&w.key_a),
            json!({"live": vec!["x".repeat(1 << 20); 5]}).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is over 4194304 bytes",
        ),
    ];
    for (path, key, body, expected, message) in cases {
        let (code, answer) = post(&w.router, path, key, &body).await;
        assert_eq!(code, expected, "{path} {}: {answer}", &body[..body.len().min(120)]);
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(message), "{error:?} lacks {message:?}");
    }
    assert!(audit_entries(store, "s-10").await.is_empty());
    assert!(matches!(store.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
}

async fn termination_travels_from_the_user_to_the_gateway_and_back(store: &Store) {
    let w = world(store).await;
    let reports = [start("u1", "s-1"), status("u2", "s-1", "connected"), start("u3", "s-2")];
    post(&w.router, "/gateway/session-updates", Some(&w.key_a), &batch(&reports)).await;
    let token = |login: &'static str| async move {
        let principal = sra_store::testing::sign_in(store, login, PASSWORD).await.unwrap();
        store.issue_api_token(&principal, None).await.unwrap().token
    };
    let terminate = |token: String, session: &'static str| {
        let router = w.router.clone();
        async move {
            let body = json!({"token": token, "session-id": session, "reason": "compromised account"}).to_string();
            post(&router, "/terminate-sra-session", None, &body).await
        }
    };

    // alice sees her session (Self) but may not terminate it; olivia holds Own on gw-a.
    let (code, answer) = terminate(token("alice").await, "s-1").await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"], "not permitted: terminating session \"s-1\" needs All, or Own on its gateway \"gw-a\"");
    let (code, answer) = terminate(token("olivia").await, "s-1").await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!((answer["session_id"].as_str(), answer["repeated"].as_bool()), (Some("s-1"), Some(false)));
    let (code, _) = terminate(token("admin").await, "nope").await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    // Listed as terminating until the gateway reports the end.
    let admin = token("admin").await;
    let list = json!({"token": admin}).to_string();
    let (_, page) = post(&w.router, "/list-sra-sessions", None, &list).await;
    let s1 = page["sessions"].as_array().unwrap().iter().find(|s| s["session_id"] == "s-1").unwrap().clone();
    assert!(s1["termination_requested_at"].as_str().unwrap().ends_with('Z'), "{s1}");

    let (code, beat) =
        post(&w.router, "/gateway/heartbeat", Some(&w.key_a), &json!({"live": ["s-1", "s-2", "s-x"]}).to_string())
            .await;
    assert_eq!(code, StatusCode::OK, "{beat}");
    assert_eq!(beat, json!({"terminate": ["s-1"], "unknown": ["s-x"], "ended": [], "blocked": []}));
    let (_, beat_b) = post(&w.router, "/gateway/heartbeat", Some(&w.key_b), &json!({"live": []}).to_string()).await;
    assert_eq!(beat_b["terminate"], json!([]), "only the session's own gateway is told");

    post(&w.router, "/gateway/session-update", Some(&w.key_a), &status("u4", "s-1", "terminated").to_string()).await;
    let (code, answer) = terminate(admin, "s-1").await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(answer["error"], "session \"s-1\" has already ended (terminated)");
    assert_eq!(
        audit_entries(store, "s-1").await,
        [
            "gateway:gw-a session.started",
            "gateway:gw-a session.connected",
            "user:olivia session.terminate_requested",
            "gateway:gw-a session.terminated"
        ]
    );
}

sra_store::on_both_backends!(
    gateways_report_sessions_once_and_in_order,
    refused_reports_leave_nothing_behind,
    termination_travels_from_the_user_to_the_gateway_and_back,
);

mod simulated {
    use super::*;

    /// The simulator drives a served router over real HTTP: its history lands, its live traffic flows, it heartbeats,
    /// it ends a session an administrator asks to terminate, and from its next heartbeat opens no session for the
    /// user that termination blocked on that gateway.
    async fn the_simulator_reports_through_the_api(store: &Store) {
        let w = world(store).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = w.router.clone().into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });

        let keys = [w.key_a.clone(), w.key_b.clone()];
        let stop = Arc::new(AtomicBool::new(false));
        let (url_for_sim, stop_for_sim) = (url.clone(), stop.clone());
        let simulator = tokio::task::spawn_blocking(move || {
            let clients: Vec<_> = keys.iter().map(|k| sra_simulator::GatewayClient::new(&url_for_sim, k)).collect();
            let mut traffic = sra_simulator::Traffic::new(&["gw-a", "gw-b"], &["alice", "bob"], 42);
            let history = traffic.history(100, 6, sra_simulator::now_ms());
            for (client, reports) in clients.iter().zip(&history) {
                let answer = client.report(reports).unwrap();
                assert!(answer.results.iter().all(|r| r.outcome == "applied"));
            }
            let pace = sra_simulator::Pace {
                between_changes: Duration::from_millis(50),
                heartbeat_every: Duration::from_millis(100),
                floor: 6,
            };
            sra_simulator::run(&clients, &mut traffic, pace, &stop_for_sim, &|line| panic!("{line}"));
            traffic.live.iter().map(|l| l.ids()).collect::<Vec<_>>()
        });
        // The simulator reports its history first: wait for it, with a deadline rather than a guessed pause.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while store.session_count().await.unwrap() < 100 {
            assert!(std::time::Instant::now() < deadline, "the simulator's history did not arrive within 30 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Ask for one live session to be terminated; the simulator hears it in a heartbeat.
        let admin = sra_domain::Caller::admin("admin");
        let live = store
            .list_sessions(
                &admin,
                &sra_domain::RawSessionQuery { statuses: vec!["connected".into()], ..Default::default() }
                    .parse(sra_store::now_ms())
                    .unwrap(),
            )
            .await
            .unwrap();
        // The simulator keeps ending sessions on its own: ask for the first one still active when asked, and keep its
        // user off its gateway for half an hour.
        let block = sra_domain::BlockFor::parse("30m").unwrap();
        let mut target = None;
        let mut blocked = None;
        for session in &live.sessions {
            match store.request_termination_and_block(&admin, &session.session_id, &why(), Some(block)).await {
                Ok((_, placed)) => {
                    target = Some(session.session_id.clone());
                    blocked = placed;
                    break;
                }
                Err(sra_store::StoreError::SessionEnded { .. }) => continue,
                Err(e) => panic!("{e}"),
            }
        }
        let target = target.expect("a live session to terminate");
        let mut ended = false;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if store.visible_session(&admin, &target).await.unwrap().status == sra_domain::SessionStatus::Terminated {
                ended = true;
                break;
            }
        }
        assert!(ended, "the simulator ended {target} after the request");

        // The block reaches the gateway in its next heartbeat answer (every 100 ms here); from then on the simulator
        // opens no session for that user there, while traffic goes on everywhere else.
        let blocked = blocked.expect("the termination placed a block");
        let placed = sra_store::now_ms();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let heard = loop {
            let gateways = store.list_gateway_details().await.unwrap();
            let beat = gateways.iter().find(|g| g.name == blocked.gateway).and_then(|g| g.last_heartbeat_at);
            if beat.is_some_and(|at| at > placed) {
                break sra_store::now_ms();
            }
            assert!(std::time::Instant::now() < deadline, "no heartbeat from {} after the block", blocked.gateway);
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.store(true, Ordering::Relaxed);
        let still_live = simulator.await.unwrap();
        let started_since = |users: Vec<String>, gateways: Vec<String>| {
            let query = sra_domain::RawSessionQuery {
                from: Some(heard),
                users,
                gateways,
                page_size: Some(500),
                ..Default::default()
            };
            let query = query.parse(sra_store::now_ms()).unwrap();
            let admin = admin.clone();
            // The timeframe holds sessions active in it: keep those that started in it.
            async move {
                let sessions = store.list_sessions(&admin, &query).await.unwrap().sessions;
                sessions.into_iter().filter(|s| s.started_at > heard).collect::<Vec<_>>()
            }
        };
        let broke_the_block = started_since(vec![blocked.user.clone()], vec![blocked.gateway.clone()]).await;
        assert!(
            broke_the_block.is_empty(),
            "{} started on {} while blocked: {:?}",
            blocked.user,
            blocked.gateway,
            broke_the_block.iter().map(|s| (&s.session_id, s.started_at)).collect::<Vec<_>>()
        );
        let others = started_since(vec![], vec![]).await;
        assert!(others.len() >= 5, "traffic went on elsewhere meanwhile: {} sessions started", others.len());
        let key = if blocked.gateway == "gw-a" { &w.key_a } else { &w.key_b };
        let answer = store.heartbeat(&store.authenticate_gateway(key).await.unwrap(), &[]).await.unwrap();
        assert_eq!(answer.blocked.iter().map(|(user, _)| user.as_str()).collect::<Vec<_>>(), [blocked.user.as_str()]);
        assert!(!still_live.iter().flatten().any(|id| *id == target));
        assert!(matches!(store.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
    }

    sra_store::on_both_backends!(the_simulator_reports_through_the_api);
}

fn why() -> sra_domain::TerminationReason {
    sra_domain::TerminationReason::parse("compromised account").unwrap()
}
