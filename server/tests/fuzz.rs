//! Fuzzing every parser an outsider reaches, with generated hostile input: API bodies, gateway reports and
//! heartbeats, the console's URL query, page cursors, `next=` after sign-in, and — through the real router on a real
//! SQLite store — every endpoint that reads a body or a query. The rule: nothing panics, nothing answers 5xx, and
//! every refusal is a 4xx that says what was wrong.
//!
//! CI runs a few hundred cases per target. The long run (≥ 1,000,000 cases in total, README "Fuzzing"):
//! `SRA_FUZZ_CASES=150000 cargo test --release -p sra-server --test fuzz` — the parser targets run that many cases
//! each, the router targets a twentieth of it.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};
use sra_api::{
    from_json, Auth, Heartbeat, ListSraAudit, ListSraSessionAudit, ListSraSessions, SessionReport, SessionReports,
    TerminateSraSession, TerminateSraSessions,
};
use sra_domain::{Actor, ClientInterface, NewSession, RawSessionQuery, ResourceType, SessionChange, SessionUpdate};
use sra_store::testing::TestDb;
use sra_store::{now_ms, Store};
use tower::ServiceExt;

/// Cases per parser target (`SRA_FUZZ_CASES`, default 300); router targets run a twentieth, at least 60.
fn cases() -> u32 {
    match std::env::var("SRA_FUZZ_CASES") {
        Err(_) => 300,
        Ok(v) => v.parse().ok().filter(|n| *n > 0).unwrap_or_else(|| panic!("SRA_FUZZ_CASES={v:?}: give 1 or more")),
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// Words the parsers know, and near misses: they steer generated input past the first check.
const TOKENS: &[&str] = &[
    "connecting",
    "connected",
    "failed",
    "completed",
    "terminated",
    "active",
    "ssh",
    "rdp",
    "k8s",
    "postgres",
    "cli",
    "web_portal_cli",
    "desktop_app",
    "start_time",
    "duration",
    "user:asc",
    "-duration",
    "secret_name:desc",
    "user:up",
    "1h",
    "24h",
    "7d",
    "30d",
    "custom",
    "2026-11-28",
    "2026-11-28T09:30:00Z",
    "2026-13-40T99:99:99Z",
    "+05:30",
    "330",
    "-9999999999",
    "gw-a",
    "p-abc",
    "t-abc",
    "g-abc",
    "password",
    "access_key",
    "0",
    "-1",
    "18446744073709551616",
    "1e308",
    "NaN",
    "null",
    "{}",
    "[]",
    "\u{0}",
    "\t",
    "\n",
    "%00",
    "%0A",
    "//evil.example",
    "/\\evil",
    "/sessions",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u{202e}",
    "\u{fffd}",
    "é",
];

fn token() -> impl Strategy<Value = String> {
    prop::sample::select(TOKENS).prop_map(str::to_owned)
}

/// Text a hostile client might send: known words, their combinations, any Unicode, control characters, long runs.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => token(),
        2 => (token(), "[,:\\- \\t\\x00]{0,2}", token()).prop_map(|(a, sep, b)| format!("{a}{sep}{b}")),
        3 => "\\PC{0,24}",
        2 => any::<String>(),
        1 => (any::<char>(), 100..5_000usize).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        hostile_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(hostile_text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A request body: mostly a JSON object over the endpoint's own keys (and others), sometimes any JSON, sometimes
/// bytes that are not JSON at all.
fn json_body(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![6 => prop::sample::select(keys).prop_map(str::to_owned), 1 => hostile_text()];
    prop_oneof![
        8 => prop::collection::btree_map(key, json_value(), 0..10)
            .prop_map(|m| serde_json::to_vec(&Value::Object(m.into_iter().collect())).unwrap_or_default()),
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ]
}

const SESSIONS_KEYS: &[&str] = &[
    "token",
    "uid-token",
    "status-type",
    "resource-type",
    "pagination-token",
    "changes-since",
    "from",
    "to",
    "gateway",
    "user",
    "client-interface",
    "search",
    "sort",
    "page-size",
    "json",
];
const AUTH_KEYS: &[&str] = &["access-type", "access-id", "access-key", "admin-email", "admin-password"];
const AUDIT_KEYS: &[&str] =
    &["token", "session-id", "actor", "from", "to", "page-size", "pagination-token", "after", "limit", "wait"];
const TERMINATE_KEYS: &[&str] =
    &["token", "session-id", "session-ids", "user", "gateway", "reason", "block-for", "dry-run", "id"];
const REPORT_KEYS: &[&str] = &[
    "update-id",
    "session-id",
    "status",
    "at",
    "user",
    "client-interface",
    "resource-type",
    "secret-name",
    "target-name",
    "target-host",
    "access-id",
    "error",
];

const NOW: i64 = 1_795_824_000_000;

fn run(cases: u32, strategy: impl Strategy<Value = Vec<u8>>, check: impl Fn(&[u8])) {
    runner(cases)
        .run(&strategy, |body| {
            check(&body);
            Ok(())
        })
        .unwrap();
}

#[test]
fn api_bodies_parse_or_name_what_is_wrong() {
    run(cases(), json_body(SESSIONS_KEYS), |body| match from_json::<ListSraSessions>(body) {
        Ok(request) => match request.to_query() {
            Ok(raw) => {
                if let Err(e) = raw.parse(NOW) {
                    assert!(!e.to_string().is_empty());
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        },
        Err(e) => assert!(!e.to_string().is_empty()),
    });
    run(cases(), json_body(AUTH_KEYS), |body| {
        if let Ok(auth) = from_json::<Auth>(body) {
            let _ = auth.access_type();
        }
    });
    run(cases(), json_body(AUDIT_KEYS), |body| {
        let _ = from_json::<ListSraAudit>(body);
        let _ = from_json::<ListSraSessionAudit>(body);
        let _ = from_json::<sra_api::StreamSraAudit>(body);
    });
    run(cases(), json_body(TERMINATE_KEYS), |body| {
        if let Ok(one) = from_json::<TerminateSraSession>(body) {
            if let Some(reason) = one.reason {
                let _ = sra_domain::TerminationReason::parse(&reason);
            }
        }
        if let Ok(many) = from_json::<TerminateSraSessions>(body) {
            if let Err(e) = many.target() {
                assert!(!e.to_string().is_empty());
            }
            if let Some(block) = many.block_for {
                if let Err(e) = sra_domain::BlockFor::parse(&block) {
                    assert!(e.to_string().contains("from 1m to 90d"));
                }
            }
        }
        let _ = from_json::<sra_api::LiftSraBlock>(body);
    });
}

#[test]
fn gateway_reports_and_heartbeats_parse_or_name_the_field() {
    let report = json_body(REPORT_KEYS);
    run(cases(), report, |body| {
        if let Ok(report) = from_json::<SessionReport>(body) {
            if let Err(e) = report.to_update("update", "gw-a", NOW) {
                assert!(e.to_string().starts_with("update."), "{e}");
            }
        }
    });
    let batch = prop::collection::vec(json_body(REPORT_KEYS), 0..6).prop_map(|reports| {
        let updates: Vec<Value> = reports.iter().map(|r| serde_json::from_slice(r).unwrap_or(Value::Null)).collect();
        serde_json::to_vec(&serde_json::json!({ "updates": updates })).unwrap()
    });
    run(cases(), batch, |body| {
        if let Ok(batch) = from_json::<SessionReports>(body) {
            for (i, report) in batch.updates.iter().enumerate() {
                let _ = report.to_update(&format!("updates[{i}]"), "gw-a", NOW);
            }
        }
    });
    let heartbeat = prop::collection::vec(hostile_text(), 0..20)
        .prop_map(|live| serde_json::to_vec(&serde_json::json!({ "live": live })).unwrap());
    run(cases(), heartbeat, |body| {
        if let Ok(beat) = from_json::<Heartbeat>(body) {
            let _ = beat.check();
        }
    });
}

#[test]
fn console_urls_parse_or_name_the_parameter() {
    const KEYS: &[&str] = &[
        "range", "from", "to", "tz", "status", "resource", "client", "gateway", "user", "q", "sort", "size", "cursor",
        "open",
    ];
    let key = prop_oneof![6 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => hostile_text()];
    let pairs = prop::collection::vec((key, hostile_text()), 0..12);
    runner(cases())
        .run(&pairs, |pairs| {
            match RawSessionQuery::from_console_url(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                Ok(raw) => {
                    let _ = raw.parse(NOW);
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn next_after_sign_in_never_leaves_the_console() {
    let next = prop_oneof![
        hostile_text(),
        ("/", hostile_text()).prop_map(|(a, b)| format!("{a}{b}")),
        (prop::sample::select(&["/", "//", "/\\", "/\t/", "https://"][..]), hostile_text())
            .prop_map(|(a, b)| format!("{a}{b}")),
    ];
    runner(cases())
        .run(&next, |next| {
            let path = app::auth::safe_next(Some(&next));
            prop_assert!(path.starts_with('/') && !path.starts_with("//"), "{next:?} -> {path:?}");
            prop_assert!(
                !path.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\'),
                "{next:?} -> {path:?}"
            );
            prop_assert!(axum::http::HeaderValue::from_str(&path).is_ok(), "{next:?} -> {path:?}");
            Ok(())
        })
        .unwrap();
}

#[test]
fn time_and_sort_values_parse_or_say_what_is_allowed() {
    runner(cases())
        .run(&hostile_text(), |text| {
            let _ = text.parse::<sra_domain::Sort>();
            let _ = text.parse::<sra_domain::SessionStatus>();
            let _ = text.parse::<sra_domain::ResourceType>();
            let _ = text.parse::<sra_domain::ClientInterface>();
            let _ = sra_domain::parse_rfc3339(&text);
            let _ = sra_domain::parse_tz(&text);
            let _ = sra_domain::console_time(&text, 330);
            Ok(())
        })
        .unwrap();
}

// --- Through the real router -----------------------------------------------------------------------------------

/// A served world: a SQLite store with a gateway, a user with a token, a console sign-in and sessions.
struct World {
    router: Router,
    store: Store,
    token: String,
    cookie: String,
    gateway_key: String,
    cursor: String,
    _site: tempfile::TempDir,
    _db: TestDb,
}

/// One runtime for the world and every request (the store's pool lives on it).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        runtime().block_on(async {
            let db = TestDb::sqlite().await;
            let store = db.store.clone();
            seed(&store).await;
            let principal = sra_store::testing::sign_in(&store, "admin", "fuzz-password-1").await.unwrap();
            let token = store.issue_api_token(&principal, None).await.unwrap().token;
            let cookie = store.open_console_session(&principal).await.unwrap();
            let gateway_key = store.issue_gateway_key(&Actor::System, "gw-a").await.unwrap();
            let site = tempfile::tempdir().unwrap();
            let router = sra_server::router(site.path(), store.clone(), Default::default());
            let caller = store.caller("admin").await.unwrap();
            let query = RawSessionQuery { page_size: Some(2), ..Default::default() }.parse(now_ms()).unwrap();
            let cursor = store.list_sessions(&caller, &query).await.unwrap().next_cursor.unwrap();
            World { router, store: store.clone(), token, cookie, gateway_key, cursor, _site: site, _db: db }
        })
    })
}

async fn seed(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "Gateway A").await.unwrap();
    store.create_user(&Actor::System, "admin", "Admin").await.unwrap();
    store.set_password(&Actor::System, "admin", "fuzz-password-1").await.unwrap();
    let spec = sra_store::RoleSpec { name: "admins".into(), rule: sra_domain::SraRule::All, gateways: vec![] };
    store.create_role(&Actor::System, &spec).await.unwrap();
    store.assign_role(&Actor::System, "admin", "admins").await.unwrap();
    let updates: Vec<_> = (0..5)
        .map(|i| SessionUpdate {
            session_id: format!("s-{i}"),
            at: now_ms() - 60_000 - i,
            change: SessionChange::Started(NewSession {
                user: "admin".into(),
                access_id: None,
                client_interface: ClientInterface::Cli,
                gateway: "gw-a".into(),
                resource_type: ResourceType::Ssh,
                secret_name: "/s".into(),
                target_name: "t".into(),
                target_host: "h".into(),
            }),
        })
        .collect();
    store.apply_updates(&Actor::System, &updates).await.unwrap();
}

/// Sends requests through the router on a runtime of its own and checks every answer: never 5xx; a 4xx says why.
fn serve_all(requests: impl Strategy<Value = Request<Body>>, cases: u32) {
    let world = world();
    runner(cases)
        .run(&requests, |request| {
            let what = format!("{} {}", request.method(), request.uri());
            let (status, body) = runtime().block_on(async {
                let response = world.router.clone().oneshot(request).await.unwrap();
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), 16 << 20).await.unwrap();
                (status, body)
            });
            prop_assert!(!status.is_server_error(), "{what}: {status} {}", String::from_utf8_lossy(&body));
            if status.is_client_error() && status != StatusCode::NOT_FOUND && status != StatusCode::SEE_OTHER {
                prop_assert!(!body.is_empty(), "{what}: {status} with no reason");
            }
            Ok(())
        })
        .unwrap();
}

fn router_cases() -> u32 {
    (cases() / 20).max(60)
}

fn post(path: &'static str, auth: Option<String>, body: Vec<u8>) -> Request<Body> {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(auth) = auth {
        request = request.header(header::AUTHORIZATION, format!("Bearer {auth}"));
    }
    request.body(Body::from(body)).unwrap()
}

#[test]
fn the_user_api_never_fails_on_what_it_is_sent() {
    let world = world();
    let token = world.token.clone();
    let paths = prop::sample::select(
        &[
            "/list-sra-sessions",
            "/list-sra-session-audit",
            "/list-sra-audit",
            "/stream-sra-audit",
            "/terminate-sra-session",
            "/terminate-sra-sessions",
            "/list-sra-blocks",
            "/lift-sra-block",
        ][..],
    );
    let bodies = (json_body(SESSIONS_KEYS), json_body(AUDIT_KEYS), json_body(TERMINATE_KEYS));
    let requests = (paths, any::<bool>(), bodies).prop_map(move |(path, with_token, (sessions, audit, terminate))| {
        let body = match path {
            "/list-sra-sessions" => sessions,
            "/terminate-sra-session" | "/terminate-sra-sessions" | "/lift-sra-block" => terminate,
            // A pull that waits for new entries would wait in every case: it never waits here (the wait itself is
            // parsed by the parser target above).
            "/stream-sra-audit" => match serde_json::from_slice::<Value>(&audit) {
                Ok(Value::Object(mut body)) => {
                    body.insert("wait".into(), 0.into());
                    serde_json::to_vec(&body).unwrap()
                }
                _ => audit,
            },
            _ => audit,
        };
        post(path, with_token.then(|| token.clone()), body)
    });
    serve_all(requests, router_cases());
    // Page cursors: a real one, altered anywhere, is refused with 400 and never trusted.
    let (cursor, token) = (world.cursor.clone(), world.token.clone());
    let altered = (0..cursor.len(), any::<char>()).prop_map(move |(at, c)| {
        let mut text: Vec<char> = cursor.chars().collect();
        text[at] = c;
        let body = serde_json::json!({ "token": token, "page-size": 2, "pagination-token": text.into_iter().collect::<String>() });
        post("/list-sra-sessions", None, serde_json::to_vec(&body).unwrap())
    });
    serve_all(altered, router_cases());
}

#[test]
fn auth_never_fails_on_what_it_is_sent() {
    serve_all(json_body(AUTH_KEYS).prop_map(|body| post("/auth", None, body)), router_cases() / 4 + 10);
}

#[test]
fn the_gateway_api_never_fails_on_what_it_is_sent() {
    let key = world().gateway_key.clone();
    let batch = prop::collection::vec(json_body(REPORT_KEYS), 0..4).prop_map(|reports| {
        let updates: Vec<Value> = reports.iter().map(|r| serde_json::from_slice(r).unwrap_or(Value::Null)).collect();
        serde_json::to_vec(&serde_json::json!({ "updates": updates })).unwrap()
    });
    let heartbeat = prop::collection::vec(hostile_text(), 0..10)
        .prop_map(|live| serde_json::to_vec(&serde_json::json!({ "live": live })).unwrap());
    let requests = (0..3usize, any::<bool>(), json_body(REPORT_KEYS), batch, heartbeat).prop_map(
        move |(which, with_key, one, many, beat)| {
            let auth = with_key.then(|| key.clone());
            match which {
                0 => post("/gateway/session-update", auth, one),
                1 => post("/gateway/session-updates", auth, many),
                _ => post("/gateway/heartbeat", auth, beat),
            }
        },
    );
    serve_all(requests, router_cases());
}

#[test]
fn the_console_never_fails_on_what_it_is_sent() {
    let world = world();
    let cookie = world.cookie.clone();
    const KEYS: &[&str] = &[
        "range", "from", "to", "tz", "status", "resource", "client", "gateway", "user", "q", "sort", "size", "cursor",
        "open",
    ];
    let key = prop_oneof![6 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => hostile_text()];
    let query = prop::collection::vec((key, hostile_text()), 0..8).prop_map(|pairs| {
        pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
    });
    let pages = prop::sample::select(&["/export/sessions.csv", "/export/sessions.json", "/sessions", "/audit"][..]);
    let requests = (pages, query, json_body(SESSIONS_KEYS)).prop_map(move |(page, query, body)| {
        // Half page loads with the URL's query, half server-function calls with a generated body.
        if body.len() % 2 == 0 {
            // A URL longer than the HTTP library builds is refused before any server sees it: keep it below that.
            let mut query = query;
            while query.len() > 16_384 {
                query.pop();
            }
            Request::get(format!("{page}?{query}"))
                .header(header::COOKIE, format!("sra_session={cookie}"))
                .body(Body::empty())
                .unwrap()
        } else {
            // The listing most often; then the terminations, the refresh that asks what changed (with a generated
            // token) and the counts (with a facet, or a word that is none). (The body's length is odd here: its half
            // picks.)
            let query = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
            let facet = ["gateway", "resource_type", "client_interface", "status"][body.len() / 16 % 4];
            let (path, body) = match body.len() / 2 % 7 {
                0 | 1 => ("/api/list_sessions", serde_json::json!({ "query": query })),
                2 => ("/api/preview_terminations", serde_json::json!({ "target": query })),
                3 => ("/api/terminate_sessions", serde_json::json!({ "target": query, "reason": query })),
                4 => (
                    "/api/session_changes",
                    serde_json::json!({ "query": query, "token": String::from_utf8_lossy(&body) }),
                ),
                5 => ("/api/count_statuses", serde_json::json!({ "query": query })),
                _ => ("/api/count_choices", serde_json::json!({ "query": query, "facet": facet })),
            };
            Request::post(path)
                .header(header::HOST, "console.test")
                .header(header::ORIGIN, "http://console.test")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, format!("sra_session={cookie}"))
                .body(Body::from(serde_json::to_vec(&body).unwrap()))
                .unwrap()
        }
    });
    serve_all(requests, router_cases());
}

/// The administration's server functions, called by an administrator (who may run them) with any arguments: never a
/// 5xx, and a refusal says why. (No generated word is the administrator's own login, so the world stays signed in.)
#[test]
fn the_administration_never_fails_on_what_it_is_sent() {
    let cookie = world().cookie.clone();
    const ENDPOINTS: &[&str] = &[
        "/api/admin_directory",
        "/api/admin_create_user",
        "/api/admin_reset_password",
        "/api/admin_set_disabled",
        "/api/admin_assign_role",
        "/api/admin_unassign_role",
        "/api/admin_create_role",
        "/api/admin_set_role_rule",
        "/api/admin_create_api_key",
        "/api/admin_revoke_api_key",
        "/api/admin_register_gateway",
        "/api/admin_rotate_gateway_key",
        "/api/admin_add_destination",
        "/api/admin_remove_destination",
    ];
    const KEYS: &[&str] =
        &["login", "display_name", "disabled", "role", "name", "rule", "gateways", "access_id", "url", "from_now"];
    let requests = (prop::sample::select(ENDPOINTS), json_body(KEYS)).prop_map(move |(path, body)| {
        Request::post(path)
            .header(header::HOST, "console.test")
            .header(header::ORIGIN, "http://console.test")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, format!("sra_session={cookie}"))
            .body(Body::from(body))
            .unwrap()
    });
    serve_all(requests, router_cases());
}

/// The event streams: any view, any starting token (an altered real one, or generated text) in the URL or in
/// `Last-Event-ID`. A stream that opens must start with its `ready` event; anything else is a 4xx that says why.
#[test]
fn the_event_streams_never_fail_on_what_they_are_sent() {
    let world = world();
    let (cookie, token) = (world.cookie.clone(), world.token.clone());
    let real = runtime().block_on(async {
        let caller = world.store.caller("admin").await.unwrap();
        let query = RawSessionQuery::default().parse(now_ms()).unwrap();
        world.store.current_changes_token(&caller, &query).await.unwrap()
    });
    const KEYS: &[&str] =
        &["range", "from", "to", "tz", "status", "resource", "client", "gateway", "user", "q", "since"];
    let key = prop_oneof![6 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => hostile_text()];
    let query = prop::collection::vec((key, hostile_text()), 0..6).prop_map(|pairs| {
        pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
    });
    let altered = (0..real.len(), any::<char>()).prop_map(move |(at, c)| {
        let mut text: Vec<char> = real.chars().collect();
        text[at] = c;
        text.into_iter().collect::<String>()
    });
    let last_event = prop_oneof![altered, hostile_text()];
    let requests = (any::<bool>(), query, prop::option::of(last_event)).prop_map(move |(console, query, last)| {
        // A URL longer than the HTTP library builds is refused before any server sees it: keep it below that.
        let mut query = query;
        while query.len() > 16_384 {
            query.pop();
        }
        let mut request = if console {
            Request::get(format!("/events/sessions?{query}")).header(header::COOKIE, format!("sra_session={cookie}"))
        } else {
            Request::get(format!("/stream-sra-sessions?{query}"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
        };
        if let Some(last) = last.and_then(|l| axum::http::HeaderValue::from_str(&l).ok()) {
            request = request.header("last-event-id", last);
        }
        request.body(Body::empty()).unwrap()
    });
    runner(router_cases())
        .run(&requests, |request| {
            use futures_util::StreamExt;
            let what = format!("{} {}", request.method(), request.uri());
            let (status, first) = runtime().block_on(async {
                let response = world.router.clone().oneshot(request).await.unwrap();
                let status = response.status();
                let mut body = response.into_body().into_data_stream();
                let first = tokio::time::timeout(std::time::Duration::from_secs(10), body.next()).await;
                (status, first.ok().flatten().and_then(Result::ok).unwrap_or_default())
            });
            let first = String::from_utf8_lossy(&first).into_owned();
            prop_assert!(!status.is_server_error(), "{what}: {status} {first}");
            if status == StatusCode::OK {
                prop_assert!(first.contains("event: ready"), "{what}: {first}");
            } else {
                prop_assert!(status.is_client_error() && !first.trim().is_empty(), "{what}: {status} with no reason");
            }
            Ok(())
        })
        .unwrap();
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
