//! The HTTP surface through the real router, on a real SQLite file and a real PostgreSQL database: the console page,
//! its server function, the operational endpoints, request IDs and metrics.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use sra_domain::{Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionUpdate};
use sra_store::{now_ms, Store};
use tower::ServiceExt;

const BODY_LIMIT: usize = 4 << 20;

async fn seeded_router(store: &Store) -> (Router, tempfile::TempDir) {
    store.register_gateway(&Actor::System, "gw-test", "Test Gateway").await.unwrap();
    let update = SessionUpdate {
        session_id: "11111111-2222-3333-4444-555555555555".into(),
        at: now_ms() - 90_000,
        change: SessionChange::Started(NewSession {
            user: "alice".into(),
            access_id: None,
            client_interface: ClientInterface::DesktopApp,
            gateway: "gw-test".into(),
            resource_type: ResourceType::Rdp,
            secret_name: "/prod/rdp/jump".into(),
            target_name: "jump".into(),
            target_host: "10.0.0.9:3389".into(),
        }),
    };
    store.apply_updates(&Actor::Gateway("gw-test".into()), &[update]).await.unwrap();
    // No front end is built for these tests: pages render on the server, which is what is checked here.
    let site = tempfile::tempdir().unwrap();
    (sra_server::router(site.path(), store.clone()), site)
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.unwrap();
    (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn get_with_request_id(path: &str, id: &str) -> Request<Body> {
    Request::get(path).header("x-request-id", id).body(Body::empty()).unwrap()
}

async fn the_overview_renders_sessions_from_the_store(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    let (status, headers, html) = send(&router, get("/sessions")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(html.contains("<h1>Sessions Overview</h1>"), "{html}");
    for cell in ["Desktop Application", "alice", "Test Gateway", "rdp", "/prod/rdp/jump", "Connecting", "1m 3"] {
        assert!(html.contains(cell), "{cell:?} missing from the page");
    }
    assert!(html.contains("11111111-2222-3333-4444-555555555555"));
    assert!(html.contains("/pkg/sra.js") && html.contains("/pkg/sra_bg.wasm"), "hydration scripts are linked");
}

async fn the_server_function_answers_with_json(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    let request = Request::post("/api/list_sessions")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: sra_domain::SessionsPage = serde_json::from_str(&body).unwrap();
    assert_eq!(page.sessions.len(), 1);
    assert_eq!(page.sessions[0].gateway.cluster_name, "gw-test");
    assert!(page.as_of >= page.sessions[0].started_at);
}

async fn operations_endpoints_report_health_and_metrics(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    assert_eq!(send(&router, get("/healthz")).await.2, "ok\n");
    assert_eq!(send(&router, get("/readyz")).await.0, StatusCode::OK);

    let (status, headers, _) = send(&router, get("/")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/sessions");
    assert_eq!(send(&router, get("/no-such-page")).await.0, StatusCode::NOT_FOUND);

    // A sane request ID is echoed; an unusable one is replaced.
    let (_, headers, _) = send(&router, get_with_request_id("/healthz", "trace-42")).await;
    assert_eq!(headers["x-request-id"], "trace-42");
    let (_, headers, _) = send(&router, get_with_request_id("/healthz", "a b")).await;
    assert_eq!(headers["x-request-id"].len(), 16);

    send(&router, get("/sessions")).await;
    let (status, headers, text) = send(&router, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    assert!(text.contains("sra_http_requests_total{method=\"GET\",route=\"/sessions\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("sra_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3"), "{text}");
    assert!(text.contains("sra_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"), "{text}");
    assert!(text.contains("sra_http_request_duration_seconds_count{method=\"GET\",route=\"/sessions\"} 1"), "{text}");
    assert!(text.contains("sra_db_pool_max_connections "), "{text}");

    // With the database gone, the process is still alive but no longer ready.
    store.clone().close().await.unwrap();
    assert_eq!(send(&router, get("/healthz")).await.0, StatusCode::OK);
    let (status, _, body) = send(&router, get("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.starts_with("database unreachable"), "{body}");
}

sra_store::on_both_backends!(
    the_overview_renders_sessions_from_the_store,
    the_server_function_answers_with_json,
    operations_endpoints_report_health_and_metrics,
);
