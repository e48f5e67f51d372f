//! The authorization matrix: every endpoint and server function × every kind of caller, expected answers from one
//! table. Run on SQLite and PostgreSQL. Each row sends exactly the credential it names — the caller's console sign-in
//! cookie or their API bearer token (expired, revoked and disabled ones included) — so rows can prove that the API
//! refuses cookies (no cross-site requests) and the console refuses bearer tokens.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use sea_orm::ConnectionTrait;
use sra_domain::{Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionUpdate, SraRule};
use sra_store::{now_ms, Store};
use tower::ServiceExt;

const HOST: &str = "console.test";
const PASSWORD: &str = "matrix-password-1";

/// The kinds of caller, in the order of the table's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    SelfUser,
    OwnUser,
    Admin,
    Disabled,
    Expired,
    /// Signed out (console) / token revoked (API).
    Revoked,
}

const WHO: [Who; 7] =
    [Who::Anonymous, Who::SelfUser, Who::OwnUser, Who::Admin, Who::Disabled, Who::Expired, Who::Revoked];

/// The credential a row sends: only that one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Cookie,
    Bearer,
}

use Via::{Bearer, Cookie};

/// What a caller gets back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Status(u16),
    /// 200 with exactly these sessions (by user@gateway).
    Sessions(&'static [&'static str]),
    /// 200, naming this signed-in login (or nobody).
    User(Option<&'static str>),
    /// 200, an event stream that starts with its `ready` event.
    Stream,
    /// 200, exactly these choice counts (choice, sessions).
    Choices(&'static [(&'static str, u64)]),
}

use Expect::{Choices, Sessions, Status, Stream, User};

const ALL_SESSIONS: &[&str] = &["alice@gw-a", "bob@gw-b", "carol@gw-a", "olivia@gw-a"];

/// An administration page: the login page first for anyone not signed in, 404 for anyone but an administrator.
const ADMIN_PAGE: [Expect; 7] =
    [Status(303), Status(404), Status(404), Status(200), Status(303), Status(303), Status(303)];

/// An administration server function: `status` for the administrator, 404 for other signed-in users, 401 for the rest.
const fn admin_call(status: u16) -> [Expect; 7] {
    [Status(401), Status(404), Status(404), Status(status), Status(401), Status(401), Status(401)]
}

/// Endpoint and body → expected answer for Anonymous, Self (alice), Own (olivia: gw-b), Admin, Disabled, Expired and
/// Revoked callers.
const MATRIX: &[(&str, &str, &str, Via, [Expect; 7])] = &[
    (
        "GET",
        "/sessions",
        "",
        Cookie,
        [Status(303), Status(200), Status(200), Status(200), Status(303), Status(303), Status(303)],
    ),
    (
        "POST",
        "/api/list_sessions",
        "{}",
        Cookie,
        [
            Status(401),
            Sessions(&["alice@gw-a"]),
            Sessions(&["bob@gw-b", "olivia@gw-a"]),
            Sessions(ALL_SESSIONS),
            Status(401),
            Status(401),
            Status(401),
        ],
    ),
    (
        "POST",
        "/api/current_user",
        "{}",
        Cookie,
        [
            User(None),
            User(Some("alice")),
            User(Some("olivia")),
            User(Some("admin")),
            User(None),
            User(None),
            User(None),
        ],
    ),
    (
        "POST",
        "/api/session_detail",
        r#"{"session_id": "s-0"}"#,
        Cookie,
        [Status(401), Status(200), Status(404), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/api/audit_entries",
        "{}",
        Cookie,
        [Status(401), Status(200), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "GET",
        "/audit",
        "",
        Cookie,
        [Status(303), Status(200), Status(200), Status(200), Status(303), Status(303), Status(303)],
    ),
    // Not visible to Own on gw-b: the page says so, with 404.
    (
        "GET",
        "/sessions/s-0",
        "",
        Cookie,
        [Status(303), Status(200), Status(404), Status(200), Status(303), Status(303), Status(303)],
    ),
    (
        "POST",
        "/list-sra-sessions",
        "{}",
        Bearer,
        [
            Status(401),
            Sessions(&["alice@gw-a"]),
            Sessions(&["bob@gw-b", "olivia@gw-a"]),
            Sessions(ALL_SESSIONS),
            Status(401),
            Status(401),
            Status(401),
        ],
    ),
    (
        "POST",
        "/list-sra-session-audit",
        r#"{"session-id": "s-0"}"#,
        Bearer,
        [Status(401), Status(200), Status(404), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/list-sra-session-audit",
        r#"{"session-id": "s-1"}"#,
        Bearer,
        [Status(401), Status(404), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/terminate-sra-session",
        r#"{"session-id": "s-0", "reason": "matrix"}"#,
        Bearer,
        [Status(401), Status(403), Status(404), Status(200), Status(401), Status(401), Status(401)],
    ),
    // The credential is checked before the body: a missing reason is only told to a caller who may ask.
    (
        "POST",
        "/terminate-sra-session",
        r#"{"session-id": "s-0"}"#,
        Bearer,
        [Status(401), Status(400), Status(400), Status(400), Status(401), Status(401), Status(401)],
    ),
    // Sessions selected but not the caller's to terminate are skipped in a 200 answer, never revealed.
    (
        "POST",
        "/terminate-sra-sessions",
        r#"{"user": "alice", "reason": "matrix", "dry-run": true}"#,
        Bearer,
        [Status(401), Status(200), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/terminate-sra-sessions",
        r#"{"gateway": "gw-b", "reason": "matrix"}"#,
        Bearer,
        [Status(401), Status(200), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/terminate-sra-sessions",
        r#"{"user": "alice", "gateway": "gw-b", "reason": "matrix"}"#,
        Bearer,
        [Status(401), Status(400), Status(400), Status(400), Status(401), Status(401), Status(401)],
    ),
    // Blocks: listed to those who may terminate on the gateway (and the blocked user); lifting a block that is not
    // there (or not the caller's to see) says so, in the same words for every caller who may ask.
    (
        "POST",
        "/list-sra-blocks",
        "{}",
        Bearer,
        [Status(401), Status(200), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/lift-sra-block",
        r#"{"id": 999999}"#,
        Bearer,
        [Status(401), Status(404), Status(404), Status(404), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/api/list_blocks",
        "{}",
        Cookie,
        [Status(401), Status(200), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/api/lift_block",
        r#"{"id": 999999}"#,
        Cookie,
        [Status(401), Status(404), Status(404), Status(404), Status(401), Status(401), Status(401)],
    ),
    (
        "GET",
        "/blocks",
        "",
        Cookie,
        [Status(303), Status(200), Status(200), Status(200), Status(303), Status(303), Status(303)],
    ),
    (
        "POST",
        "/terminate-sra-sessions",
        r#"{"user": "alice", "reason": "matrix", "block-for": "1w"}"#,
        Bearer,
        [Status(401), Status(400), Status(400), Status(400), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/api/preview_terminations",
        r#"{"target": {"user": "alice"}}"#,
        Cookie,
        [Status(401), Status(200), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/api/terminate_sessions",
        r#"{"target": {"sessions": ["s-0"]}, "reason": "matrix"}"#,
        Cookie,
        [Status(401), Status(200), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    (
        "POST",
        "/api/terminate_sessions",
        r#"{"target": {"sessions": ["s-0"]}, "reason": " "}"#,
        Cookie,
        [Status(401), Status(400), Status(400), Status(400), Status(401), Status(401), Status(401)],
    ),
    // Users' tokens are not gateway keys.
    ("POST", "/gateway/heartbeat", r#"{"live": []}"#, Bearer, [Status(401); 7]),
    ("GET", "/login", "", Cookie, [Status(200); 7]),
    ("GET", "/healthz", "", Bearer, [Status(200); 7]),
    ("GET", "/readyz", "", Bearer, [Status(200); 7]),
    ("GET", "/metrics", "", Bearer, [Status(200); 7]),
    ("GET", "/openapi.json", "", Bearer, [Status(200); 7]),
    (
        "GET",
        "/export/sessions.csv",
        "",
        Cookie,
        [Status(303), Status(200), Status(200), Status(200), Status(303), Status(303), Status(303)],
    ),
    (
        "POST",
        "/api/count_statuses",
        "{}",
        Cookie,
        [Status(401), Status(200), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    // The counts of the gateway filter's choices follow the listing's visibility: each caller counts what they see.
    (
        "POST",
        "/api/count_choices",
        r#"{"facet": "gateway"}"#,
        Cookie,
        [
            Status(401),
            Choices(&[("gw-a", 1)]),
            Choices(&[("gw-a", 1), ("gw-b", 1)]),
            Choices(&[("gw-a", 3), ("gw-b", 1)]),
            Status(401),
            Status(401),
            Status(401),
        ],
    ),
    (
        "POST",
        "/api/count_choices",
        r#"{"query": {"gateways": ["gw-b"]}, "facet": "client_interface"}"#,
        Cookie,
        [
            Status(401),
            Choices(&[]),
            Choices(&[("cli", 1)]),
            Choices(&[("cli", 1)]),
            Status(401),
            Status(401),
            Status(401),
        ],
    ),
    // Arguments are read before the caller: a filter that is none is refused, naming it, to anyone.
    ("POST", "/api/count_choices", r#"{"facet": "owner"}"#, Cookie, [Status(400); 7]),
    // A refresh asking what changed: a made-up token is a bad request, for whoever may ask at all.
    (
        "POST",
        "/api/session_changes",
        r#"{"query": {}, "token": "made-up"}"#,
        Cookie,
        [Status(401), Status(400), Status(400), Status(400), Status(401), Status(401), Status(401)],
    ),
    (
        "GET",
        "/events/sessions",
        "",
        Cookie,
        [Status(401), Stream, Stream, Stream, Status(401), Status(401), Status(401)],
    ),
    (
        "GET",
        "/stream-sra-sessions?status=connecting",
        "",
        Bearer,
        [Status(401), Stream, Stream, Stream, Status(401), Status(401), Status(401)],
    ),
    (
        "GET",
        "/stream-sra-sessions?status=paused",
        "",
        Bearer,
        [Status(401), Status(400), Status(400), Status(400), Status(401), Status(401), Status(401)],
    ),
    // Administration: pages and server functions for administrators only; signed-in others are told there is no such
    // page (404), as for any page that does not exist. The administrator's calls run in this order, each on what the
    // row before it made.
    ("GET", "/admin/users", "", Cookie, ADMIN_PAGE),
    ("GET", "/admin/roles", "", Cookie, ADMIN_PAGE),
    ("GET", "/admin/keys", "", Cookie, ADMIN_PAGE),
    ("GET", "/admin/gateways", "", Cookie, ADMIN_PAGE),
    ("GET", "/admin/destinations", "", Cookie, ADMIN_PAGE),
    ("POST", "/api/admin_directory", "{}", Cookie, admin_call(200)),
    ("POST", "/api/admin_create_user", r#"{"login": "matrix-new", "display_name": ""}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_create_user", r#"{"login": "matrix-new", "display_name": ""}"#, Cookie, admin_call(409)),
    ("POST", "/api/admin_create_user", r#"{"login": "bad name!", "display_name": ""}"#, Cookie, admin_call(400)),
    ("POST", "/api/admin_reset_password", r#"{"login": "matrix-new"}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_assign_role", r#"{"login": "matrix-new", "role": "own-b"}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_unassign_role", r#"{"login": "matrix-new", "role": "own-b"}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_set_disabled", r#"{"login": "matrix-new", "disabled": true}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_set_disabled", r#"{"login": "admin", "disabled": true}"#, Cookie, admin_call(400)),
    (
        "POST",
        "/api/admin_create_role",
        r#"{"name": "matrix-role", "rule": "own", "gateways": ["gw-a"]}"#,
        Cookie,
        admin_call(200),
    ),
    (
        "POST",
        "/api/admin_set_role_rule",
        r#"{"name": "matrix-role", "rule": "none", "gateways": ["gw-a"]}"#,
        Cookie,
        admin_call(400),
    ),
    ("POST", "/api/admin_set_role_rule", r#"{"name": "matrix-role", "rule": "all"}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_create_api_key", r#"{"login": "alice"}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_revoke_api_key", r#"{"access_id": "p-nope"}"#, Cookie, admin_call(400)),
    ("POST", "/api/admin_register_gateway", r#"{"name": "gw-matrix", "display_name": ""}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_rotate_gateway_key", r#"{"name": "gw-matrix"}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_rotate_gateway_key", r#"{"name": "gw-nope"}"#, Cookie, admin_call(400)),
    (
        "POST",
        "/api/admin_add_destination",
        r#"{"name": "siem", "url": "https://siem.test/hook", "from_now": true}"#,
        Cookie,
        admin_call(200),
    ),
    (
        "POST",
        "/api/admin_add_destination",
        r#"{"name": "siem", "url": "https://siem.test/hook", "from_now": true}"#,
        Cookie,
        admin_call(409),
    ),
    (
        "POST",
        "/api/admin_add_destination",
        r#"{"name": "bad", "url": "ftp://x", "from_now": false}"#,
        Cookie,
        admin_call(400),
    ),
    ("POST", "/api/admin_remove_destination", r#"{"name": "siem"}"#, Cookie, admin_call(200)),
    ("POST", "/api/admin_remove_destination", r#"{"name": "siem"}"#, Cookie, admin_call(400)),
    // The other credential is refused everywhere: the API takes no cookies (a page elsewhere could make the browser
    // send them), the console no bearer tokens.
    ("POST", "/list-sra-sessions", "{}", Cookie, [Status(401); 7]),
    ("POST", "/terminate-sra-session", r#"{"session-id": "s-0", "reason": "x"}"#, Cookie, [Status(401); 7]),
    ("POST", "/list-sra-audit", "{}", Cookie, [Status(401); 7]),
    ("POST", "/stream-sra-audit", r#"{"wait": 0}"#, Cookie, [Status(401); 7]),
    (
        "POST",
        "/stream-sra-audit",
        r#"{"wait": 0}"#,
        Bearer,
        [Status(401), Status(200), Status(200), Status(200), Status(401), Status(401), Status(401)],
    ),
    ("POST", "/api/list_sessions", "{}", Bearer, [Status(401); 7]),
    ("POST", "/terminate-sra-sessions", r#"{"user": "alice", "reason": "x"}"#, Cookie, [Status(401); 7]),
    ("POST", "/api/terminate_sessions", r#"{"target": {"user": "alice"}, "reason": "x"}"#, Bearer, [Status(401); 7]),
    ("POST", "/api/preview_terminations", r#"{"target": {"user": "alice"}}"#, Bearer, [Status(401); 7]),
    ("POST", "/list-sra-blocks", "{}", Cookie, [Status(401); 7]),
    ("POST", "/lift-sra-block", r#"{"id": 1}"#, Cookie, [Status(401); 7]),
    ("POST", "/api/list_blocks", "{}", Bearer, [Status(401); 7]),
    ("POST", "/api/lift_block", r#"{"id": 1}"#, Bearer, [Status(401); 7]),
    ("POST", "/api/admin_directory", "{}", Bearer, [Status(401); 7]),
    ("POST", "/api/admin_create_user", r#"{"login": "x", "display_name": ""}"#, Bearer, [Status(401); 7]),
    ("GET", "/admin/users", "", Bearer, [Status(303); 7]),
    ("GET", "/sessions", "", Bearer, [Status(303); 7]),
    ("GET", "/export/sessions.csv", "", Bearer, [Status(303); 7]),
    ("GET", "/events/sessions", "", Bearer, [Status(401); 7]),
    ("POST", "/api/session_changes", r#"{"query": {}, "token": "made-up"}"#, Bearer, [Status(401); 7]),
    ("POST", "/api/count_statuses", "{}", Bearer, [Status(401); 7]),
    ("POST", "/api/count_choices", r#"{"facet": "gateway"}"#, Bearer, [Status(401); 7]),
    ("GET", "/stream-sra-sessions", "", Cookie, [Status(401); 7]),
];

async fn world(store: &Store) -> Router {
    let system = Actor::System;
    // dora is an admin too: disabling her must take everything away.
    sra_store::testing::Cast {
        gateways: vec![("gw-a", "gw-a"), ("gw-b", "gw-b")],
        users: vec!["alice", "olivia", "admin", "dora", "eve", "rob"],
        password: PASSWORD,
        roles: vec![("own-b", SraRule::Own, vec!["gw-b"]), ("admins", SraRule::All, vec![])],
        holders: vec![("olivia", "own-b"), ("admin", "admins"), ("dora", "admins")],
    }
    .create(store)
    .await;
    let updates: Vec<_> = ALL_SESSIONS
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (user, gateway) = s.split_once('@').unwrap();
            SessionUpdate {
                session_id: format!("s-{i}"),
                at: now_ms() - 60_000,
                change: SessionChange::Started(NewSession {
                    user: user.into(),
                    access_id: None,
                    client_interface: ClientInterface::Cli,
                    gateway: gateway.into(),
                    resource_type: ResourceType::Ssh,
                    secret_name: "/s".into(),
                    target_name: "t".into(),
                    target_host: "h".into(),
                }),
            }
        })
        .collect();
    store.apply_updates(&system, &updates).await.unwrap();
    let site = tempfile::tempdir().unwrap();
    sra_server::router(site.path(), store.clone(), Default::default())
}

/// A caller's credentials: a console sign-in cookie and an API bearer token.
struct Credentials {
    cookie: String,
    token: String,
}

async fn credentials_for(store: &Store, who: Who) -> Option<Credentials> {
    let login = match who {
        Who::Anonymous => return None,
        Who::SelfUser => "alice",
        Who::OwnUser => "olivia",
        Who::Admin => "admin",
        Who::Disabled => "dora",
        Who::Expired => "eve",
        Who::Revoked => "rob",
    };
    let principal = sra_store::testing::sign_in(store, login, PASSWORD).await.unwrap();
    let cookie = store.open_console_session(&principal).await.unwrap();
    let token = store.issue_api_token(&principal, None).await.unwrap().token;
    match who {
        Who::Disabled => store.set_disabled(&Actor::System, "dora", true).await.unwrap(),
        Who::Expired => {
            for table in ["console_sessions", "api_tokens"] {
                let sql =
                    format!("UPDATE {table} SET expires_at = {} WHERE user_id = {}", now_ms() - 1, principal.user_id);
                store.connection().execute_unprepared(&sql).await.unwrap();
            }
        }
        Who::Revoked => {
            store.close_console_session(&cookie).await.unwrap();
            store.revoke_api_token(&token).await.unwrap();
        }
        _ => {}
    }
    Some(Credentials { cookie, token })
}

async fn every_endpoint_answers_every_caller_as_the_table_says(store: &Store) {
    let router = world(store).await;
    let mut credentials = Vec::new();
    for who in WHO {
        credentials.push(credentials_for(store, who).await);
    }
    for (method, path, body, send, expected) in MATRIX {
        for ((who, credentials), expect) in WHO.iter().zip(&credentials).zip(expected) {
            let mut request = Request::builder()
                .method(*method)
                .uri(*path)
                .header(header::HOST, HOST)
                .header(header::ORIGIN, format!("http://{HOST}"))
                .header(header::CONTENT_TYPE, "application/json");
            match (credentials, send) {
                (Some(Credentials { cookie, .. }), Cookie) => {
                    request = request.header(header::COOKIE, format!("sra_session={cookie}"));
                }
                (Some(Credentials { token, .. }), Bearer) => {
                    request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
                }
                (None, _) => {}
            }
            let response = router.clone().oneshot(request.body(Body::from(*body)).unwrap()).await.unwrap();
            let status = response.status();
            if *expect == Stream {
                // A stream does not end: its first event is enough.
                use futures_util::StreamExt;
                let context = format!("{method} {path} with {send:?} as {who:?}: {status}");
                assert_eq!(status, StatusCode::OK, "{context}");
                let first = response.into_body().into_data_stream().next().await.unwrap().unwrap();
                assert!(String::from_utf8_lossy(&first).contains("event: ready"), "{context}");
                continue;
            }
            let bytes = axum::body::to_bytes(response.into_body(), 4 << 20).await.unwrap();
            let text = String::from_utf8_lossy(&bytes);
            let context = format!("{method} {path} with {send:?} as {who:?}: {status} {text}");
            match expect {
                Status(code) => assert_eq!(status, StatusCode::from_u16(*code).unwrap(), "{context}"),
                Sessions(expected) => {
                    assert_eq!(status, StatusCode::OK, "{context}");
                    let mut got: Vec<String> = if path.starts_with("/api/") {
                        let page: sra_domain::SessionsPage = serde_json::from_str(&text).unwrap();
                        page.sessions.iter().map(|s| format!("{}@{}", s.user, s.gateway.cluster_name)).collect()
                    } else {
                        let page: sra_api::ListSraSessionsOutput = serde_json::from_str(&text).unwrap();
                        let name =
                            |s: &sra_api::SraSession| format!("{}@{}", s.user_identifier, s.gateway_info.cluster_name);
                        page.sessions.iter().map(name).collect()
                    };
                    got.sort();
                    assert_eq!(got, *expected, "{context}");
                }
                Stream => unreachable!("answered above"),
                Choices(expected) => {
                    assert_eq!(status, StatusCode::OK, "{context}");
                    let got: sra_domain::ChoiceCounts = serde_json::from_str(&text).unwrap();
                    let expected: sra_domain::ChoiceCounts =
                        expected.iter().map(|(choice, n)| ((*choice).to_owned(), *n)).collect();
                    assert_eq!(got, expected, "{context}");
                }
                User(expected) => {
                    assert_eq!(status, StatusCode::OK, "{context}");
                    let user: Option<app::auth::SignedIn> = serde_json::from_str(&text).unwrap();
                    assert_eq!(user.map(|u| u.login).as_deref(), *expected, "{context}");
                }
            }
        }
    }
}

sra_store::on_both_backends!(every_endpoint_answers_every_caller_as_the_table_says);
