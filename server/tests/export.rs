//! The overview's export through the real router, on a real SQLite file and a real PostgreSQL database: every page of
//! the view (more than one page of the largest size), the caller's visibility, CSV quoting, JSON in the API's shape,
//! and the errors.

use app::auth::server::CookiePolicy;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use sra_domain::{Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionUpdate, SraRule, MINUTE_MS};
use sra_store::{now_ms, RoleSpec, Store};
use tower::ServiceExt;

/// Sessions in the store: more than two export pages, so the export must follow cursors.
const SESSIONS: usize = 2 * sra_server::export::EXPORT_PAGE as usize + 203;
/// Every third session is alice's.
const ALICES: usize = SESSIONS.div_ceil(3);
/// A secret name a spreadsheet would misread: a formula, a comma, quotes and a line break.
const NASTY_SECRET: &str = "=cmd|' /C calc'!A0, \"quoted\"\nnext line";

async fn seeded(store: &Store) -> (Router, tempfile::TempDir) {
    store.register_gateway(&Actor::System, "gw-a", "Gateway A").await.unwrap();
    let now = now_ms();
    let updates: Vec<SessionUpdate> = (0..SESSIONS)
        .map(|i| SessionUpdate {
            session_id: format!("s-{i:05}"),
            at: now - 10 * MINUTE_MS - i as i64 * 1_000,
            change: SessionChange::Started(NewSession {
                user: if i % 3 == 0 { "alice".into() } else { format!("user-{}", i % 7) },
                access_id: None,
                client_interface: ClientInterface::Cli,
                gateway: "gw-a".into(),
                resource_type: if i % 2 == 0 { ResourceType::Ssh } else { ResourceType::Postgres },
                secret_name: if i == 0 { NASTY_SECRET.into() } else { format!("/prod/secret-{i}") },
                target_name: "target".into(),
                target_host: "10.0.0.1:22".into(),
            }),
        })
        .collect();
    for batch in updates.chunks(500) {
        store.apply_updates(&Actor::Gateway("gw-a".into()), batch).await.unwrap();
    }
    for login in ["alice", "ada"] {
        store.create_user(&Actor::System, login, login).await.unwrap();
        store.set_password(&Actor::System, login, &format!("{login}-password-1")).await.unwrap();
    }
    store
        .create_role(&Actor::System, &RoleSpec { name: "admins".into(), rule: SraRule::All, gateways: vec![] })
        .await
        .unwrap();
    store.assign_role(&Actor::System, "ada", "admins").await.unwrap();
    let site = tempfile::tempdir().unwrap();
    (sra_server::router(site.path(), store.clone(), CookiePolicy::default()), site)
}

async fn cookie(store: &Store, login: &str) -> String {
    let principal = sra_store::testing::sign_in(store, login, &format!("{login}-password-1")).await.unwrap();
    store.open_console_session(&principal).await.unwrap()
}

async fn get(router: &Router, path: &str, token: Option<&str>) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::COOKIE, format!("sra_session={token}"));
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).unwrap())
}

/// Splits CSV text into records of cells (RFC 4180: quoted cells may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => cell.push(c),
        }
    }
    records
}

async fn csv_export_holds_every_page_the_caller_may_see(store: &Store) {
    let (router, _site) = seeded(store).await;
    let ada = cookie(store, "ada").await;
    let (status, headers, text) = get(&router, "/export/sessions.csv?size=25&cursor=ignored", Some(&ada)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"sra-sessions-") && disposition.ends_with(".csv\""));
    let records = parse_csv(&text);
    assert_eq!(records[0][0], "session_id");
    assert_eq!(records.len(), SESSIONS + 1, "a header and every session, across three pages");
    let ids: std::collections::BTreeSet<&str> = records[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), SESSIONS, "no session twice");
    // Newest first, as the overview's default sort.
    assert_eq!(records[1][0], "s-00000");
    assert_eq!(records[SESSIONS][0], format!("s-{:05}", SESSIONS - 1));
    // The formula is defused with a leading quote; commas, quotes and the line break survive inside the cell.
    assert_eq!(records[1][7], format!("'{NASTY_SECRET}"));
    assert_eq!(records[1][1], "connecting");
    assert!(records[1][10].ends_with('Z') && records[1][11].is_empty());
    assert!(records[1][12].parse::<u64>().unwrap() >= 600, "duration in seconds of a session 10 minutes old");

    // A Self user exports only their own sessions; filters narrow it like the overview.
    let alice = cookie(store, "alice").await;
    let (_, _, text) = get(&router, "/export/sessions.csv", Some(&alice)).await;
    let records = parse_csv(&text);
    assert_eq!(records.len() - 1, ALICES);
    assert!(records[1..].iter().all(|r| r[3] == "alice"));
    let (_, _, text) = get(&router, "/export/sessions.csv?resource=ssh&q=alice", Some(&ada)).await;
    let records = parse_csv(&text);
    assert_eq!(records.len() - 1, SESSIONS.div_ceil(6), "alice's ssh sessions: every sixth");
    assert!(records[1..].iter().all(|r| r[3] == "alice" && r[6] == "ssh"));

    // Every export is audited: who, which view, how many rows, and whether all of them were sent.
    let query = sra_store::AuditQuery { action: Some("export.sessions".into()), page_size: 10, ..Default::default() };
    let exports = store.list_audit(&sra_domain::Caller::admin("root"), &query).await.unwrap().entries;
    let seen: Vec<(&str, &serde_json::Value, &serde_json::Value, &serde_json::Value)> = exports
        .iter()
        .map(|e| (e.actor.as_str(), &e.details["view"], &e.details["rows"], &e.details["complete"]))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "user:ada",
                &serde_json::json!("resource=ssh&q=alice"),
                &serde_json::json!(SESSIONS.div_ceil(6)),
                &serde_json::json!(true)
            ),
            ("user:alice", &serde_json::json!(""), &serde_json::json!(ALICES), &serde_json::json!(true)),
            (
                "user:ada",
                &serde_json::json!("size=25&cursor=ignored"),
                &serde_json::json!(SESSIONS),
                &serde_json::json!(true)
            ),
        ]
    );
    assert_eq!(exports[1].summary(), format!("alice exported {ALICES} sessions as CSV (view: the default)"));
}

async fn json_export_is_an_array_of_api_sessions(store: &Store) {
    let (router, _site) = seeded(store).await;
    let ada = cookie(store, "ada").await;
    let (status, headers, text) = get(&router, "/export/sessions.json?sort=session_id%3Aasc", Some(&ada)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let sessions: Vec<sra_api::SraSession> = serde_json::from_str(&text).unwrap();
    assert_eq!(sessions.len(), SESSIONS);
    assert_eq!(sessions[0].session_id, "s-00000");
    assert_eq!(sessions[0].secret_name, NASTY_SECRET, "JSON keeps every value as it is");
    assert!(sessions.windows(2).all(|w| w[0].session_id < w[1].session_id));

    // An empty view is an empty array, not an error.
    let (status, _, text) = get(&router, "/export/sessions.json?q=nobody-at-all", Some(&ada)).await;
    assert_eq!((status, text.trim()), (StatusCode::OK, "[\n]"));

    // Compressed for a browser that accepts it, to the end of the stream (the compressor polls past the end).
    let request = Request::get("/export/sessions.csv")
        .header(header::COOKIE, format!("sra_session={ada}"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let compressed = axum::body::to_bytes(response.into_body(), 64 << 20).await.unwrap();
    assert!(compressed.len() > 100, "the whole export, compressed");
}

async fn bad_views_and_strangers_get_clear_answers(store: &Store) {
    let (router, _site) = seeded(store).await;
    let (status, headers, _) = get(&router, "/export/sessions.csv?status=failed", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out: to the login page, then back");
    assert_eq!(headers[header::LOCATION], "/login?next=/export/sessions.csv%3Fstatus%3Dfailed");
    let ada = cookie(store, "ada").await;
    for (path, message) in [
        ("/export/sessions.csv?status=active", "unknown status \"active\"; allowed: connecting"),
        ("/export/sessions.json?size=lots", "URL parameter \"size\": \"lots\" is not a number"),
        ("/export/sessions.csv?range=custom&from=yesterday", "URL parameter \"from\""),
        ("/export/sessions.csv?range=custom&from=2026-11-01T08%3A00&tz=9999", "URL parameter \"tz\""),
        ("/export/sessions.csv?sort=colour", "unknown sort field \"colour\""),
    ] {
        let (status, _, text) = get(&router, path, Some(&ada)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {text}");
        assert!(text.contains(message), "{path}: {text}");
    }
}

/// After retention pruned old ended sessions, an export of a year holds exactly what is left: the recent ones and the
/// old one still active, never a pruned one.
async fn an_export_after_pruning_holds_what_is_left(store: &Store) {
    let (router, _site) = seeded(store).await;
    let now = now_ms();
    let old = now - 200 * sra_domain::DAY_MS;
    let gateway = Actor::Gateway("gw-a".into());
    let started = |id: &str| sra_store::testing::started(id, old, "alice", "gw-a");
    let ended = |id: &str| SessionUpdate {
        session_id: id.into(),
        at: old + MINUTE_MS,
        change: SessionChange::Failed { error: "refused".into() },
    };
    store.apply_updates(&gateway, &[started("old-ended"), started("old-active")]).await.unwrap();
    store.apply_updates(&gateway, &[ended("old-ended")]).await.unwrap();
    let retention = sra_store::Retention::new(Some(180 * sra_domain::DAY_MS), None).unwrap();
    let pruned = store.prune(&retention, now).await.unwrap();
    assert_eq!(pruned.sessions, 1, "{pruned:?}");

    let from = &sra_domain::format_rfc3339(now - 365 * sra_domain::DAY_MS)[..16];
    let statuses = "status=connecting&status=connected&status=failed&status=completed&status=terminated";
    let path = format!("/export/sessions.csv?range=custom&from={from}&{statuses}");
    let (status, _, text) = get(&router, &path, Some(&cookie(store, "ada").await)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let records = parse_csv(&text);
    let ids: std::collections::BTreeSet<&str> = records[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(records.len() - 1, SESSIONS + 1, "every recent session and the old active one");
    assert!(ids.contains("old-active") && !ids.contains("old-ended"));
}

sra_store::on_both_backends!(
    an_export_after_pruning_holds_what_is_left,
    csv_export_holds_every_page_the_caller_may_see,
    json_export_is_an_array_of_api_sessions,
    bad_views_and_strangers_get_clear_answers,
);
