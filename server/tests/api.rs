//! The Akeyless-shaped HTTP API through the real router, on a real SQLite file and a real PostgreSQL database: every
//! key of `POST /list-sra-sessions`, every error, tokens in the body and the header (expired, revoked, unknown), the
//! audit endpoint and the OpenAPI document.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use sra_domain::{
    Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionStatus, SessionUpdate, HOUR_MS,
};
use sra_store::{now_ms, Store};
use tower::ServiceExt;

const PASSWORD: &str = "api-password-1";

/// One session of the test world: id, user, gateway, resource type, client, final status, hours ago it started.
type Spec = (&'static str, &'static str, &'static str, ResourceType, ClientInterface, SessionStatus, i64);

const SESSIONS: &[Spec] = &[
    ("s-01", "alice", "gw-a", ResourceType::Ssh, ClientInterface::Cli, SessionStatus::Connected, 1),
    ("s-02", "alice", "gw-b", ResourceType::Rdp, ClientInterface::DesktopApp, SessionStatus::Connecting, 2),
    ("s-03", "bob", "gw-b", ResourceType::Mysql, ClientInterface::WebPortalWeb, SessionStatus::Connected, 3),
    ("s-04", "bob", "gw-a", ResourceType::Postgres, ClientInterface::WebPortalCli, SessionStatus::Completed, 4),
    ("s-05", "carol", "gw-a", ResourceType::K8s, ClientInterface::Cli, SessionStatus::Failed, 5),
    ("s-06", "carol", "gw-b", ResourceType::Ssh, ClientInterface::Cli, SessionStatus::Terminated, 6),
    ("s-07", "olivia", "gw-a", ResourceType::Mongodb, ClientInterface::WebPortalWeb, SessionStatus::Completed, 7),
    ("s-08", "bob", "gw-b", ResourceType::Eks, ClientInterface::DesktopApp, SessionStatus::Connected, 8),
    ("s-09", "alice", "gw-a", ResourceType::Ssh, ClientInterface::WebPortalCli, SessionStatus::Connected, 9),
    // Outside the default 30 days (ended 40 days ago).
    ("s-10", "alice", "gw-a", ResourceType::Ssh, ClientInterface::Cli, SessionStatus::Completed, 24 * 41),
];

fn updates(spec: &Spec, now: i64) -> Vec<SessionUpdate> {
    let (id, user, gateway, resource, client, status, hours) = *spec;
    let at = now - hours * HOUR_MS;
    let started = SessionChange::Started(NewSession {
        user: user.into(),
        access_id: Some("p-key".into()),
        client_interface: client,
        gateway: gateway.into(),
        resource_type: resource,
        secret_name: format!("/secrets/{resource}/{id}"),
        target_name: format!("target-{id}"),
        target_host: format!("10.0.0.{}:22", hours % 250),
    });
    let mut changes = vec![started];
    match status {
        SessionStatus::Connecting => {}
        SessionStatus::Connected => changes.push(SessionChange::Connected),
        SessionStatus::Completed => changes.extend([SessionChange::Connected, SessionChange::Completed]),
        SessionStatus::Failed => changes.push(SessionChange::Failed { error: "host key mismatch".into() }),
        SessionStatus::Terminated => changes.extend([SessionChange::Connected, SessionChange::Terminated]),
    }
    changes
        .into_iter()
        .enumerate()
        .map(|(i, change)| SessionUpdate { session_id: id.into(), at: at + i as i64 * 60_000, change })
        .collect()
}

async fn world(store: &Store) -> (Router, tempfile::TempDir) {
    sra_store::testing::Cast::usual(PASSWORD, "gw-b").create(store).await;
    let now = now_ms();
    let all: Vec<_> = SESSIONS.iter().flat_map(|s| updates(s, now)).collect();
    store.apply_updates(&Actor::Gateway("test".into()), &all).await.unwrap();
    let site = tempfile::tempdir().unwrap();
    (sra_server::router(site.path(), store.clone(), Default::default()), site)
}

async fn token(store: &Store, login: &str) -> String {
    let principal = sra_store::testing::sign_in(store, login, PASSWORD).await.unwrap();
    store.issue_api_token(&principal, None).await.unwrap().token
}

async fn post(router: &Router, path: &str, body: &str, bearer: Option<&str>) -> (StatusCode, Value) {
    post_as(router, path, body, bearer, "application/json").await
}

async fn post_as(router: &Router, path: &str, body: &str, bearer: Option<&str>, ct: &str) -> (StatusCode, Value) {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, ct);
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    send(router, request.body(Body::from(body.to_owned())).unwrap()).await
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 4 << 20).await.unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {status} {}", String::from_utf8_lossy(&bytes)));
    (status, value)
}

/// Lists with `body` (the token added to it) and returns the session IDs, in order, failing on anything but 200.
async fn ids(router: &Router, token: &str, mut body: Value) -> Vec<String> {
    body["token"] = json!(token);
    let (status, answer) = post(router, "/list-sra-sessions", &body.to_string(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}: {answer}");
    answer["sessions"].as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap().to_owned()).collect()
}

fn expected(filter: impl Fn(&Spec) -> bool) -> Vec<String> {
    // SESSIONS is newest first already.
    SESSIONS.iter().filter(|s| s.6 < 24 * 30 && filter(s)).map(|s| s.0.to_owned()).collect()
}

async fn the_default_lists_active_sessions_in_the_akeyless_shape(store: &Store) {
    let (router, _site) = world(store).await;
    let admin = token(store, "admin").await;
    // Exactly what an Akeyless client sends.
    let body = json!({"token": admin, "json": false, "uid-token": null, "status-type": [], "resource-type": []});
    let (status, answer) = post(&router, "/list-sra-sessions", &body.to_string(), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let got: Vec<&str> =
        answer["sessions"].as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap()).collect();
    assert_eq!(got, ["s-01", "s-02", "s-03", "s-08", "s-09"], "active only, newest first");
    assert!(answer.get("next_page").is_none(), "no next page: {answer}");
    assert_eq!(
        answer["allowed_gateways"],
        json!([
            {"cluster_name": "gw-a", "cluster_display_name": "Gateway A"},
            {"cluster_name": "gw-b", "cluster_display_name": "Gateway B"}
        ])
    );
    let first = &answer["sessions"][0];
    let keys: BTreeSet<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    let wanted = [
        "session_id",
        "status",
        "start_time",
        "user_identifier",
        "access_id",
        "client_type",
        "connection_type",
        "target_type",
        "target_name",
        "target_host",
        "secret_name",
        "gateway_info",
        "cluster_unique_id",
    ];
    assert_eq!(keys, wanted.into_iter().collect(), "{first}");
    assert_eq!((first["status"].as_str(), first["client_type"].as_str()), (Some("connected"), Some("cli")));
    assert_eq!((first["target_type"].as_str(), first["connection_type"].as_str()), (Some("ssh"), Some("ssh")));
    assert!(first["start_time"].as_str().unwrap().ends_with('Z'));
    assert!(first["cluster_unique_id"].as_i64().unwrap() > 0);

    // Ended sessions carry an end time, failed ones their error.
    let failed = ids(&router, &admin, json!({"status-type": ["failed"]})).await;
    assert_eq!(failed, ["s-05"]);
    let body = json!({"token": admin, "status-type": ["failed"]}).to_string();
    let (_, answer) = post(&router, "/list-sra-sessions", &body, None).await;
    assert_eq!(answer["sessions"][0]["error_msg"], "host key mismatch");
    assert!(answer["sessions"][0]["end_time"].as_str().is_some());

    // Each caller sees what their roles allow, and the gateways they may see.
    let olivia = token(store, "olivia").await;
    let all = json!({"status-type": ["connecting", "connected", "failed", "completed", "terminated"]});
    assert_eq!(ids(&router, &olivia, all.clone()).await, expected(|s| s.2 == "gw-b" || s.1 == "olivia"));
    let alice = token(store, "alice").await;
    assert_eq!(ids(&router, &alice, all).await, expected(|s| s.1 == "alice"));
    let body = json!({"token": alice}).to_string();
    let (_, answer) = post(&router, "/list-sra-sessions", &body, None).await;
    assert_eq!(answer["allowed_gateways"], json!([]), "Self grants no gateway");
}

async fn every_filter_key_narrows_the_listing(store: &Store) {
    let (router, _site) = world(store).await;
    let admin = token(store, "admin").await;
    for status in SessionStatus::ALL {
        let got = ids(&router, &admin, json!({"status-type": [status.as_str()]})).await;
        assert_eq!(got, expected(|s| s.5 == *status), "{status}");
    }
    let got = ids(&router, &admin, json!({"status-type": ["failed", "completed"]})).await;
    assert_eq!(got, expected(|s| matches!(s.5, SessionStatus::Failed | SessionStatus::Completed)));
    for resource in [ResourceType::Ssh, ResourceType::Rdp, ResourceType::Mysql, ResourceType::Eks, ResourceType::Gke] {
        let body = json!({"status-type": [], "resource-type": [resource.as_str()]});
        let got = ids(&router, &admin, body).await;
        assert_eq!(got, expected(|s| s.3 == resource && s.5.is_active()), "{resource}");
    }
    let everything = ["connecting", "connected", "failed", "completed", "terminated"];
    let body = json!({"status-type": everything, "resource-type": ["ssh", "k8s"], "client-interface": ["cli"]});
    let got = ids(&router, &admin, body).await;
    assert_eq!(got, expected(|s| matches!(s.3, ResourceType::Ssh | ResourceType::K8s) && s.4 == ClientInterface::Cli));
    let got = ids(&router, &admin, json!({"status-type": everything, "gateway": ["gw-b"]})).await;
    assert_eq!(got, expected(|s| s.2 == "gw-b"));
    let got = ids(&router, &admin, json!({"status-type": everything, "search": "TARGET-S-0"})).await;
    assert_eq!(got, expected(|_| true), "case-insensitive search");
    let got = ids(&router, &admin, json!({"status-type": everything, "search": "mysql"})).await;
    assert_eq!(got, ["s-03"]);
    let got = ids(&router, &admin, json!({"status-type": everything, "sort": "start_time:asc"})).await;
    let mut oldest_first = expected(|_| true);
    oldest_first.reverse();
    assert_eq!(got, oldest_first);
    let got = ids(&router, &admin, json!({"status-type": everything, "sort": "user", "page-size": 3})).await;
    assert_eq!(got, ["s-01", "s-02", "s-09"], "alice's first, ties by session ID");

    // Timeframe: the last 50 days brings back the old session; a window of 5 to 3 hours ago holds those overlapping it.
    let now = now_ms();
    let rfc = sra_domain::format_rfc3339;
    let got = ids(&router, &admin, json!({"status-type": everything, "from": rfc(now - 50 * 24 * HOUR_MS)})).await;
    assert_eq!(got.len(), SESSIONS.len());
    let body =
        json!({"status-type": everything, "from": rfc(now - 5 * HOUR_MS), "to": rfc(now - 3 * HOUR_MS - 30 * 60_000)});
    // s-04 and s-05 started inside it (s-05 ended a minute after its start), s-08 and s-09 are still running; the
    // newer ones started after it and s-06, s-07 ended minutes after starting, before it.
    assert_eq!(ids(&router, &admin, body).await, ["s-04", "s-05", "s-08", "s-09"]);
}

async fn pages_follow_next_page_to_the_end(store: &Store) {
    let (router, _site) = world(store).await;
    let admin = token(store, "admin").await;
    let everything = ["connecting", "connected", "failed", "completed", "terminated"];
    let mut body = json!({"token": admin, "status-type": everything, "page-size": 4});
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        // Later pages are asked for later, as a person paging would: the listing's window stays the first page's.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let (status, answer) = post(&router, "/list-sra-sessions", &body.to_string(), None).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        pages += 1;
        seen.extend(
            answer["sessions"].as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap().to_owned()),
        );
        match answer.get("next_page").and_then(Value::as_str) {
            Some(next) => body["pagination-token"] = json!(next),
            None => break,
        }
    }
    assert_eq!((pages, seen), (3, expected(|_| true)));

    // A token only continues the listing it came from.
    let first = json!({"token": admin, "status-type": everything, "page-size": 4});
    let (_, answer) = post(&router, "/list-sra-sessions", &first.to_string(), None).await;
    let next = answer["next_page"].as_str().unwrap();
    let other = json!({"token": admin, "status-type": ["connected"], "page-size": 4, "pagination-token": next});
    let (status, answer) = post(&router, "/list-sra-sessions", &other.to_string(), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["error"].as_str().unwrap().starts_with("invalid page cursor"), "{answer}");
    let olivia = token(store, "olivia").await;
    let stolen = json!({"token": olivia, "status-type": everything, "page-size": 4, "pagination-token": next});
    let (status, _) = post(&router, "/list-sra-sessions", &stolen.to_string(), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "another caller's token is refused");
}

/// `changes-since`: a refresh that asks what changed in its view since the listing's `changes_token`.
async fn a_refresh_asks_only_what_changed_since_its_token(store: &Store) {
    let (router, _site) = world(store).await;
    let admin = token(store, "admin").await;
    let view = json!({"token": admin, "gateway": "gw-a"});
    let (status, listed) = post(&router, "/list-sra-sessions", &view.to_string(), None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let since = listed["changes_token"].as_str().expect("a listing carries its changes token").to_owned();
    let ask = |since: &str| {
        let mut body = view.clone();
        body["changes-since"] = json!(since);
        body.to_string()
    };
    let (status, answer) = post(&router, "/list-sra-sessions", &ask(&since), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["changes"], "unchanged");
    assert_eq!((answer["sessions"].clone(), answer["removed_session_ids"].clone()), (json!([]), json!([])));

    // s-01 (gw-a, connected) ends: it leaves the active view; s-03 (gw-b) ends: another view's; s-11 starts on gw-a.
    let now = now_ms();
    let gateway = Actor::Gateway("test".into());
    let started =
        updates(&("s-11", "dave", "gw-a", ResourceType::Ssh, ClientInterface::Cli, SessionStatus::Connecting, 0), now);
    store.apply_updates(&gateway, &started).await.unwrap();
    for id in ["s-01", "s-03"] {
        let done = SessionUpdate { session_id: id.into(), at: now, change: SessionChange::Completed };
        store.apply_updates(&gateway, &[done]).await.unwrap();
    }
    let (status, answer) = post(&router, "/list-sra-sessions", &ask(&since), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["changes"], "changed");
    assert_eq!(answer["sessions"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(
        (answer["sessions"][0]["session_id"].clone(), answer["sessions"][0]["status"].clone()),
        (json!("s-11"), json!("connecting"))
    );
    // s-01 left the view; s-03 never was in it, but the caller may see it and cannot be told it apart.
    assert_eq!(answer["removed_session_ids"], json!(["s-01", "s-03"]));
    let next = answer["changes_token"].as_str().unwrap();
    let (_, answer) = post(&router, "/list-sra-sessions", &ask(next), None).await;
    assert_eq!(answer["changes"], "unchanged");

    // A token of another view, an altered one, or with a page cursor: 400, naming the problem.
    let mut other = view.clone();
    other["gateway"] = json!("gw-b");
    other["changes-since"] = json!(since);
    let mut altered = since.clone();
    altered.insert(3, 'x');
    let mut paged = serde_json::from_str::<Value>(&ask(&since)).unwrap();
    paged["pagination-token"] = json!("c");
    for (body, says) in [
        (other.to_string(), "invalid changes token"),
        (ask(&altered), "invalid changes token"),
        (paged.to_string(), "were both sent; send one"),
    ] {
        let (status, answer) = post(&router, "/list-sra-sessions", &body, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
    }
}

async fn tokens_come_in_the_body_or_the_header_and_bad_ones_are_refused(store: &Store) {
    let (router, _site) = world(store).await;
    let admin = token(store, "admin").await;
    let (status, _) = post(&router, "/list-sra-sessions", "{}", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "Authorization: Bearer");
    let body = json!({"token": admin}).to_string();
    assert_eq!(post(&router, "/list-sra-sessions", &body, Some(&admin)).await.0, StatusCode::OK, "both, equal");

    let expired = token(store, "olivia").await;
    // Expire every token issued so far (olivia's and admin's), then issue the others.
    let sql = format!("UPDATE api_tokens SET expires_at = {}", now_ms() - 1);
    store.connection().execute_unprepared(&sql).await.unwrap();
    let admin = token(store, "admin").await;
    let revoked = token(store, "admin").await;
    store.revoke_api_token(&revoked).await.unwrap();
    let disabled = token(store, "alice").await;
    store.set_disabled(&Actor::System, "alice", true).await.unwrap();

    let cases: Vec<(String, Option<String>, StatusCode, &str)> = vec![
        ("{}".into(), None, StatusCode::UNAUTHORIZED, "no token: get one from /auth"),
        (json!({"token": ""}).to_string(), None, StatusCode::UNAUTHORIZED, "no token"),
        (json!({"uid-token": "u-1"}).to_string(), None, StatusCode::UNAUTHORIZED, "\"uid-token\" is not supported"),
        (json!({"token": expired}).to_string(), None, StatusCode::UNAUTHORIZED, "the token expired at "),
        ("{}".into(), Some(expired.clone()), StatusCode::UNAUTHORIZED, "the token expired at "),
        (json!({"token": revoked}).to_string(), None, StatusCode::UNAUTHORIZED, "the token was revoked"),
        (json!({"token": "t-forged"}).to_string(), None, StatusCode::UNAUTHORIZED, "never issued by this server"),
        // Disabling a user ends their tokens.
        (json!({"token": disabled}).to_string(), None, StatusCode::UNAUTHORIZED, "the token was revoked"),
        (json!({"token": admin}).to_string(), Some(revoked.clone()), StatusCode::UNAUTHORIZED, "two different tokens"),
    ];
    for (body, bearer, expected, message) in cases {
        let (status, answer) = post(&router, "/list-sra-sessions", &body, bearer.as_deref()).await;
        assert_eq!(status, expected, "{body} {bearer:?}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(message), "{body}: {answer}");
    }
    let request = Request::post("/list-sra-sessions")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Basic {admin}"))
        .body(Body::from("{}"))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
}

async fn bad_input_is_named_with_what_is_allowed(store: &Store) {
    let (router, _site) = world(store).await;
    let admin = token(store, "admin").await;
    let with_token = |mut body: Value| {
        body["token"] = json!(admin);
        body.to_string()
    };
    let cases: Vec<(String, &str, StatusCode, &str)> = vec![
        (
            with_token(json!({"status-type": ["active"]})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"status-type[0]\": \"active\" is not allowed; allowed: connecting, connected, failed, completed, terminated",
        ),
        (
            with_token(json!({"resource-type": ["ssh", "telnet"]})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"resource-type[1]\": \"telnet\" is not allowed; allowed: ssh, rdp, mysql",
        ),
        (
            with_token(json!({"client-interface": ["mobile"]})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "allowed: web_portal_cli, web_portal_web, cli, desktop_app",
        ),
        (
            with_token(json!({"from": "last week"})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"from\": \"last week\" is not a time; allowed: RFC 3339",
        ),
        (
            with_token(json!({"from": "2026-11-02", "to": "2026-11-01"})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "the timeframe starts after it ends (from 2026-11-02T00:00:00.000Z > to 2026-11-01T00:00:00.000Z)",
        ),
        (
            with_token(json!({"page-size": 0})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"page-size\": 0 is too small; allowed: 1 or more",
        ),
        (
            with_token(json!({"page-size": -1})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"page-size\": -1 is too small; allowed: 1 or more",
        ),
        (
            with_token(json!({"sort": "colour"})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"sort\": \"colour\" is not allowed; allowed: start_time, -start_time, start_time:asc",
        ),
        (
            with_token(json!({"status-type": ["connected", 1]})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"status-type[1]\": 1 has the wrong type; allowed: string",
        ),
        (
            with_token(json!({"pagination-token": "garbage"})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid page cursor",
        ),
        (
            with_token(json!({"search": "x".repeat(201)})),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"search\": is 201 characters long; allowed: up to 200",
        ),
        ("{\"token\": ".into(), "application/json", StatusCode::BAD_REQUEST, "the body is not valid JSON"),
        ("[]".into(), "application/json", StatusCode::BAD_REQUEST, "the body must be a JSON object, not an array"),
        (with_token(json!({})), "text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE, "send application/json"),
        (
            with_token(json!({"search": "x".repeat(70_000)})),
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is over 65536 bytes",
        ),
    ];
    for (body, content_type, expected, message) in cases {
        let (status, answer) = post_as(&router, "/list-sra-sessions", &body, None, content_type).await;
        assert_eq!(status, expected, "{}: {answer}", &body[..body.len().min(200)]);
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(message), "{error:?} lacks {message:?}");
    }
    for path in ["/list-sra-sessions", "/auth", "/list-sra-session-audit"] {
        let (status, answer) = send(&router, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(answer["error"], "this endpoint takes POST with a JSON body");
    }
}

async fn a_visible_sessions_audit_trail_is_listed(store: &Store) {
    let (router, _site) = world(store).await;
    let alice = token(store, "alice").await;
    let (status, answer) = post(&router, "/list-sra-session-audit", r#"{"session-id": "s-09"}"#, Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["session_id"], "s-09");
    let actions: Vec<&str> =
        answer["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["session.started", "session.connected"]);
    assert_eq!(answer["entries"][0]["actor"], "gateway:test");
    assert!(answer["entries"][0]["time"].as_str().unwrap().ends_with('Z'));
    let cases = [
        (r#"{"session-id": "s-03"}"#, StatusCode::NOT_FOUND, "unknown session \"s-03\""),
        (r#"{"session-id": "nope"}"#, StatusCode::NOT_FOUND, "unknown session \"nope\""),
        (r#"{"session-id": " "}"#, StatusCode::BAD_REQUEST, "\"session-id\": \" \" is not allowed; allowed: one line"),
        ("{}", StatusCode::BAD_REQUEST, "\"session-id\" is required"),
    ];
    for (body, expected, message) in cases {
        let (status, answer) = post(&router, "/list-sra-session-audit", body, Some(&alice)).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(message), "{body}: {answer}");
    }
}

async fn audit_is_listed_by_actor_and_time_under_visibility(store: &Store) {
    let (router, _site) = world(store).await;
    let alice = token(store, "alice").await;
    let admin = token(store, "admin").await;
    let list = |token: &str, body: Value| {
        let mut body = body;
        body["token"] = json!(token);
        let router = router.clone();
        async move { post(&router, "/list-sra-audit", &body.to_string(), None).await }
    };
    let (code, answer) = list(&alice, json!({})).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    let sessions: BTreeSet<&str> =
        answer["entries"].as_array().unwrap().iter().map(|e| e["session_id"].as_str().unwrap()).collect();
    assert_eq!(sessions, ["s-01", "s-02", "s-09", "s-10"].into_iter().collect(), "alice's sessions only");
    let (_, answer) = list(&admin, json!({"actor": "system", "page-size": 500})).await;
    assert!(answer["entries"].as_array().unwrap().iter().any(|e| e["action"] == "user.created"), "admin entries");
    let (_, first) = list(&admin, json!({"page-size": 3})).await;
    let next = first["next_page"].as_str().unwrap();
    let (_, second) = list(&admin, json!({"page-size": 3, "pagination-token": next})).await;
    assert!(second["entries"][0]["id"].as_i64() < first["entries"][2]["id"].as_i64(), "newest first, no repeats");
    let recent = sra_domain::format_rfc3339(now_ms() - 90 * 60_000);
    let (_, answer) = list(&admin, json!({"actor": "gateway:test", "from": recent})).await;
    let actions: BTreeSet<&str> =
        answer["entries"].as_array().unwrap().iter().map(|e| e["session_id"].as_str().unwrap()).collect();
    assert_eq!(actions, ["s-01"].into_iter().collect(), "started within the last 90 minutes");
    for (body, message) in [
        (json!({"from": "soon"}), "\"from\": \"soon\" is not a time; allowed: RFC 3339"),
        (json!({"page-size": 501}), "\"page-size\": 501 is too large; allowed: up to 500"),
        (json!({"pagination-token": "x"}), "\"pagination-token\": \"x\" is not allowed; allowed: an audit entry's id"),
        (json!({"from": "2026-11-02", "to": "2026-11-01"}), "the timeframe starts after it ends"),
    ] {
        let (code, answer) = list(&admin, body.clone()).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer["error"].as_str().unwrap().contains(message), "{answer}");
    }
}

/// `POST /stream-sra-audit` with `body`: the status and the NDJSON lines (or the error body as one line).
async fn pull(router: &Router, body: Value) -> (StatusCode, Vec<Value>) {
    let request = Request::post("/stream-sra-audit")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let ndjson = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/x-ndjson");
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20).await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(ndjson || status != StatusCode::OK, "{text}");
    (status, text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect())
}

/// A SIEM pulls the audit log from a position: oldest first, each entry linked to its predecessor in the chain,
/// nothing again and nothing missed from one pull to the next; with nothing new it waits, and what arrives meanwhile
/// is answered; a user's pull holds their sessions' entries only, still with the chain's links.
async fn a_siem_pulls_the_audit_log_with_its_chain(store: &Store) {
    let (router, _site) = world(store).await;
    let admin = token(store, "admin").await;
    let alice = token(store, "alice").await;
    let (status, all) = pull(&router, json!({"token": admin, "limit": 500, "wait": 0})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(all.len() > 20, "{}", all.len());
    let hash_of: std::collections::BTreeMap<i64, String> =
        all.iter().map(|e| (e["id"].as_i64().unwrap(), e["hash"].as_str().unwrap().to_owned())).collect();
    for pair in all.windows(2) {
        assert!(pair[0]["id"].as_i64() < pair[1]["id"].as_i64(), "oldest first");
        assert_eq!(pair[1]["previous_hash"], pair[0]["hash"], "chained: {}", pair[1]);
    }
    assert_eq!(all[0]["previous_hash"].as_str().unwrap().len(), 64, "the chain's start: {}", all[0]);
    assert!(all.iter().all(|e| e["summary"].is_string() && e["time"].is_string() && e["action"].is_string()));

    // In pages: the same entries, each once.
    let mut paged = Vec::new();
    let mut after = None::<i64>;
    loop {
        let (_, page) = pull(&router, json!({"token": admin, "limit": 7, "wait": 0, "after": after})).await;
        let Some(last) = page.last() else { break };
        after = last["id"].as_i64();
        paged.extend(page);
    }
    assert_eq!(paged, all);

    // Nothing new: after waiting, an empty answer. Something new while waiting: it is answered.
    let last = after.unwrap();
    let (status, none) = pull(&router, json!({"token": admin, "after": last, "wait": 1})).await;
    assert_eq!((status, none.len()), (StatusCode::OK, 0));
    let waiting = tokio::spawn({
        let router = router.clone();
        let admin = admin.clone();
        async move { pull(&router, json!({"token": admin, "after": last, "wait": 20})).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let spec = ("s-new", "alice", "gw-a", ResourceType::Ssh, ClientInterface::Cli, SessionStatus::Connecting, 0);
    store.apply_updates(&Actor::Gateway("test".into()), &updates(&spec, now_ms())).await.unwrap();
    let (status, new) = waiting.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(
        (new[0]["session_id"].as_str(), new[0]["previous_hash"].as_str()),
        (Some("s-new"), Some(hash_of[&last].as_str()))
    );

    // Alice: her sessions' entries only, each linked to its true predecessor (which she may not see).
    let (_, hers) = pull(&router, json!({"token": alice, "limit": 500, "wait": 0})).await;
    let sessions: BTreeSet<&str> = hers.iter().map(|e| e["session_id"].as_str().unwrap()).collect();
    assert_eq!(sessions, ["s-01", "s-02", "s-09", "s-10", "s-new"].into_iter().collect());
    for entry in hers.iter().filter(|e| e["session_id"] != "s-new") {
        let id = entry["id"].as_i64().unwrap();
        let before = hash_of.range(..id).next_back().map(|(_, h)| h.as_str());
        assert_eq!(entry["previous_hash"].as_str(), before, "{entry}");
        assert_eq!(entry["hash"].as_str(), Some(hash_of[&id].as_str()));
    }

    for (body, code, message) in [
        (json!({"token": admin, "limit": 0}), 400, "\"limit\": 0 is too small; allowed: 1 or more"),
        (json!({"token": admin, "limit": 501}), 400, "\"limit\": 501 is too large; allowed: up to 500"),
        (json!({"token": admin, "wait": 31}), 400, "\"wait\": 31 is too large; allowed: up to 30"),
        (json!({"token": admin, "after": -1}), 400, "\"after\": -1 is too small; allowed: 0 or more"),
        (json!({"token": admin, "wait": 0.0, "limit": 2.0}), 200, ""),
        (json!({"token": admin, "after": "x"}), 400, "after"),
        (json!({"wait": 0}), 401, ""),
    ] {
        let (status, answer) = pull(&router, body.clone()).await;
        assert_eq!(status.as_u16(), code, "{body}: {answer:?}");
        if code != 200 {
            assert!(answer[0]["error"].as_str().unwrap().contains(message), "{body}: {answer:?}");
        }
    }
}

async fn the_openapi_document_describes_the_api(store: &Store) {
    let (router, _site) = world(store).await;
    let (status, doc) = send(&router, Request::get("/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    for path in [
        "/auth",
        "/list-sra-sessions",
        "/list-sra-session-audit",
        "/list-sra-audit",
        "/stream-sra-audit",
        "/terminate-sra-session",
        "/terminate-sra-sessions",
        "/list-sra-blocks",
        "/lift-sra-block",
        "/gateway/session-update",
        "/gateway/session-updates",
        "/gateway/heartbeat",
    ] {
        assert!(doc["paths"][path]["post"].is_object(), "{path} missing");
    }
    let request = &doc["components"]["schemas"]["ListSraSessions"]["properties"];
    for key in ["token", "status-type", "resource-type", "pagination-token", "from", "to", "gateway", "page-size"] {
        assert!(request[key].is_object(), "request key {key} missing: {request}");
    }
    let session = &doc["components"]["schemas"]["SraSession"]["properties"];
    for key in ["session_id", "status", "start_time", "end_time", "client_type", "gateway_info", "cluster_unique_id"] {
        assert!(session[key].is_object(), "session key {key} missing: {session}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["userToken"]["scheme"], "bearer");
    assert_eq!(doc["components"]["securitySchemes"]["gatewayKey"]["scheme"], "bearer");
    assert_eq!(doc["paths"]["/gateway/heartbeat"]["post"]["security"], json!([{"gatewayKey": []}]));
    assert_eq!(doc["paths"]["/list-sra-sessions"]["post"]["security"], json!([{"userToken": []}]));
    // Exact: allowed values from the enums, ranges, required keys, one string or an array.
    let statuses = &request["status-type"]["oneOf"];
    assert_eq!(statuses[0]["enum"], json!(["connecting", "connected", "failed", "completed", "terminated", ""]));
    assert_eq!(statuses[1]["type"], "array");
    assert_eq!(request["page-size"]["oneOf"][0], json!({"type": "integer", "minimum": 1, "maximum": 500}));
    assert!(request["sort"]["oneOf"][0]["enum"].as_array().unwrap().contains(&json!("-duration")));
    assert_eq!(doc["components"]["schemas"]["TerminateSraSession"]["required"], json!(["session-id", "reason"]));
    assert_eq!(doc["servers"][0]["url"], "/");
    let listed = &doc["paths"]["/list-sra-sessions"]["post"]["responses"]["200"]["links"];
    assert_eq!(listed["terminate"]["operationId"], "terminate_sra_session");
    for status in ["405", "413", "415", "503"] {
        assert!(doc["paths"]["/auth"]["post"]["responses"][status].is_object(), "{status}");
    }
    let responses = &doc["paths"]["/list-sra-sessions"]["post"]["responses"];
    assert!(responses["401"].is_object() && responses["400"].is_object(), "{responses}");
}

sra_store::on_both_backends!(
    the_default_lists_active_sessions_in_the_akeyless_shape,
    every_filter_key_narrows_the_listing,
    pages_follow_next_page_to_the_end,
    a_refresh_asks_only_what_changed_since_its_token,
    tokens_come_in_the_body_or_the_header_and_bad_ones_are_refused,
    bad_input_is_named_with_what_is_allowed,
    a_visible_sessions_audit_trail_is_listed,
    audit_is_listed_by_actor_and_time_under_visibility,
    a_siem_pulls_the_audit_log_with_its_chain,
    the_openapi_document_describes_the_api,
);
